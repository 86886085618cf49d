"""``inception``: pytorch-fid's FID InceptionV3 (pool3, 2048-d) and its logits, for FID and IS.

The network is pytorch-fid's own ``InceptionV3`` (the TensorFlow FID graph ported to
PyTorch): resizing to 299 x 299 is its bilinear ``F.interpolate`` and inputs are scaled
to [-1, 1] by it, so features equal pytorch-fid's for the same weights. Logits are
pool3 @ fc.weight^T without the bias, as torch-fidelity computes them for IS.

Weights resolve in this order:
1. an explicit path: ``--inception-weights PATH`` or the GANBENCH_INCEPTION_WEIGHTS variable;
2. pytorch-fid's file in torch's hub cache (``torch.hub.get_dir()/checkpoints``);
3. pytorch-fid's download (into that cache).
"""

from __future__ import annotations

import os
import re
import socket
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from ganbench.dataset import Dataset
from ganbench.features.inception_command import WEIGHTS_ENV, WeightsError, named_weights
from ganbench.fingerprint import file_sha256 as sha256_of
from ganbench.hookspecs import hookimpl
from ganbench.images import as_unit_nchw
from ganbench.metric import FeatureExtractor
from ganbench.progress import progress as progress_bar
from ganbench.torchfiles import TorchFileError, load_torch_file

DOWNLOAD_TIMEOUT_S = 10.0
BATCH_SIZE = 50  # pytorch-fid's default; features do not depend on it


def weights_url() -> str:
    from pytorch_fid.inception import FID_WEIGHTS_URL

    return FID_WEIGHTS_URL


def published_prefix() -> str:
    """The first hex digits of the sha256 of pytorch-fid's weights file, which its name carries (torch.hub's
    convention: pt_inception-2015-12-05-6726825d.pth)."""
    found = re.search(r"-([a-f0-9]+)\.", os.path.basename(weights_url()))
    return found.group(1) if found else ""


def hub_cache_path() -> Path:
    """Where pytorch-fid (through torch.hub) keeps the FID Inception weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights_url())


def resolve_weights(explicit: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The weights file to use: explicit path, then the environment, then the hub cache, then download."""
    chosen = explicit or os.environ.get(WEIGHTS_ENV)
    if chosen:
        return named_weights(chosen, "--inception-weights" if explicit else WEIGHTS_ENV)
    cached = hub_cache_path()
    if cached.is_file():
        return _published(cached)
    if download:
        try:
            _download(weights_url(), cached)
            return cached
        except (OSError, RuntimeError) as exc:  # RuntimeError: torch.hub's "invalid hash value"
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise WeightsError(
                f"no Inception weights and the download failed ({reason}); pass --inception-weights PATH, "
                f"set {WEIGHTS_ENV}, or put pytorch-fid's file at {cached}"
            ) from None
    raise WeightsError(
        f"no Inception weights; pass --inception-weights PATH, set {WEIGHTS_ENV}, or put pytorch-fid's file at {cached}"
    )


def _published(path: Path) -> Path:
    """``path`` (in torch's hub cache, under pytorch-fid's name), or WeightsError if it is not pytorch-fid's file:
    runs scored with it are recorded as scored with pytorch-fid's weights (``InceptionExtractor.identity``)."""
    prefix = published_prefix()
    if not sha256_of(path).startswith(prefix):
        raise WeightsError(
            f"{path} is not pytorch-fid's weights file: its sha256 does not begin with {prefix}, as its name says; "
            "delete it (it is downloaded again) or pass --inception-weights PATH"
        )
    return path


def _download(url: str, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:  # torch.hub checks the file's sha256 against the prefix in its name
        torch.hub.download_url_to_file(url, str(dst), hash_prefix=published_prefix() or None, progress=True)
    finally:
        socket.setdefaulttimeout(previous)


WEIGHTS_FIX = "download them again or pass another --inception-weights"


def check_head(path: Path) -> None:
    """WeightsError if ``path`` cannot be read or does not start as a torch weights file: nothing else is read."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise WeightsError(f"cannot read Inception weights {path} ({exc.strerror or exc}); {WEIGHTS_FIX}") from None
    if not (head.startswith(b"PK") or head[:1] == b"\x80"):  # torch.save's zip, or its older pickle
        raise WeightsError(f"{path} is not a torch weights file (it does not start as torch.save's do); {WEIGHTS_FIX}")


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in ``path``; a clear error if it is truncated, corrupt or not Inception's."""
    fix = WEIGHTS_FIX
    check_head(path)
    try:
        state = load_torch_file(path)
    except (TorchFileError, OSError) as exc:
        why = f"it {exc}" if isinstance(exc, TorchFileError) else exc.strerror or str(exc)
        raise WeightsError(f"cannot read Inception weights {path} ({why}); {fix}") from None
    not_fid = f"{path} does not hold FID Inception weights (pytorch-fid's pt_inception-2015-12-05)"
    if not isinstance(state, dict) or "fc.weight" not in state or "Mixed_7c.branch_pool.conv.weight" not in state:
        raise WeightsError(not_fid)
    if why := _not_fid_inception(state):
        raise WeightsError(f"{not_fid}: {why}; {fix}")
    return state


def _not_fid_inception(state: dict[str, Any]) -> str | None:
    """Why ``state`` does not load into pytorch-fid's network (torch's first complaint), or None. Checked on the
    meta device, where loading copies nothing: torchvision's ImageNet Inception-v3 has the names tested above
    and trained, then failed (pass 80)."""
    floats = (torch.float32, torch.float64, torch.float16)
    for key, value in state.items():  # what loading would copy without a word: the network would compute NaN, or
        if not isinstance(value, torch.Tensor):  # in integers (FID 0.000, pass 81), or fail after training
            return f"{key} is no tensor"
        if value.is_meta:
            return f"{key} is a meta tensor, which holds no values"
        if not key.endswith("num_batches_tracked") and value.dtype not in floats:
            return f"{key} holds {str(value.dtype).removeprefix('torch.')} values, not float32"
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return f"{key} holds NaN or infinite values"
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")  # "copying into a meta parameter is a no-op", once per tensor
            FIDInception(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        problems = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()] or [str(exc)]
        first = problems[0]
        return first if len(first) <= 160 else first[:157] + "..."
    return None


class FIDInception(torch.nn.Module):
    """pytorch-fid's InceptionV3 (pool3 block) built with a given state dict, plus its fc weight for logits."""

    def __init__(self, state_dict: dict[str, torch.Tensor]) -> None:
        super().__init__()
        import pytorch_fid.inception as pf

        # pytorch-fid fetches its weights inside the constructor; hand it ours instead of a URL.
        with mock.patch.object(pf, "load_state_dict_from_url", lambda *args, **kwargs: state_dict):
            self.model = pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
        self.register_buffer("fc_weight", state_dict["fc.weight"].float().clone())
        self.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(pool3 features (N, 2048), logits (N, 1008)) of float images in [0, 1], NCHW."""
        pool = self.model(images)[0].flatten(1)
        return pool, pool @ self.fc_weight.T


def inception_features(
    images: Any,
    weights: str | os.PathLike | None = None,
    batch_size: int = BATCH_SIZE,
    device: str | torch.device | None = None,
    progress: bool | None = False,
) -> dict[str, Any]:
    """pool3 features and logits (float32) of ``images`` (uint8 or [0, 1] floats, NCHW or NHWC), with provenance.

    ``device`` None: CUDA when available. ``progress`` None: a progress bar on terminals only.
    """
    path = resolve_weights(weights)
    device = torch.device(device or default_device())
    # channels-last convolutions are markedly faster on CPUs (oneDNN) and no slower on GPUs;
    # the values equal pytorch-fid's contiguous ones to float32 rounding
    model = FIDInception(load_weights(path)).to(device, memory_format=torch.channels_last)
    x = as_unit_nchw(images)
    pools, logits = [], []
    batches = range(0, len(x), batch_size)
    bar = progress_bar(len(x), enabled=progress, unit="img", desc="Inception features")
    with bar:
        for start in batches:
            pool, logit = model(x[start : start + batch_size].to(device, memory_format=torch.channels_last))
            pools.append(pool.cpu())
            logits.append(logit.cpu())
            bar.update(len(pool))
    return {
        "pool3": torch.cat(pools),
        "logits": torch.cat(logits),
        "weights": str(path),
        "weights_sha256": sha256_of(path),
        "batch_size": batch_size,
        "device": str(device),
    }


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


_recent: dict[tuple, dict[str, Any]] = {}


def _features_of(samples: torch.Tensor) -> dict[str, Any]:
    """One Inception pass serves both extractors: results for the last two tensors (real, fake) are kept."""
    key = (id(samples), samples.data_ptr(), tuple(samples.shape), os.environ.get(WEIGHTS_ENV))
    if key not in _recent:
        if len(_recent) >= 2:
            del _recent[next(iter(_recent))]
        _recent[key] = inception_features(samples, progress=None)
    return _recent[key]


class InceptionExtractor(FeatureExtractor):
    output: str = "pool3"
    caches_reference = True

    def extract(self, samples: torch.Tensor, dataset: Dataset | None = None) -> torch.Tensor:
        return _features_of(samples)[self.output]

    def check(self, dataset: Dataset | None = None) -> None:
        load_weights(resolve_weights())  # whole: a truncated file, or another network's, failed after training

    def fingerprint(self, dataset: Dataset | None = None) -> dict[str, Any]:
        return {"weights_sha256": sha256_of(resolve_weights())}

    def identity(self) -> dict[str, Any]:
        """pytorch-fid's file (whose sha256 is checked as it is read) by its name, whichever way it was found;
        other weights by their sha256."""
        published = os.path.basename(weights_url())
        chosen = os.environ.get(WEIGHTS_ENV)
        if not chosen:
            return {"weights": published}
        digest = sha256_of(named_weights(chosen, WEIGHTS_ENV))
        return {"weights": published if digest.startswith(published_prefix()) else f"sha256 {digest}"}

    def provenance(self, dataset: Dataset | None = None) -> dict[str, Any]:
        return {
            **self.fingerprint(dataset),
            "output": self.output,
            "batch_size": BATCH_SIZE,
            "device": default_device(),
            "resize": "pytorch-fid's bilinear resize to 299 x 299",
        }


class InceptionLogits(InceptionExtractor):
    output: str = "logits"
    caches_reference = False  # only generated samples' logits are used (Inception Score)
    is_space = False


@hookimpl
def register_feature_extractors(register):
    register(InceptionExtractor("inception", description="pytorch-fid's FID InceptionV3, pool3 (2048-d)"))
    register(InceptionLogits("inception-logits", description="FID InceptionV3 logits (1008 classes, no bias)"))

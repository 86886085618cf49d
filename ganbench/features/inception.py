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

import hashlib
import os
import pickle
import socket
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import torch
from tqdm.auto import tqdm

from ganbench.errors import GanbenchError
from ganbench.features.images import as_unit_nchw
from ganbench.hookspecs import hookimpl
from ganbench.metric import FeatureExtractor

WEIGHTS_ENV = "GANBENCH_INCEPTION_WEIGHTS"
DOWNLOAD_TIMEOUT_S = 10.0


class WeightsError(GanbenchError):
    """Inception weights that cannot be found, fetched or read."""


def weights_url() -> str:
    from pytorch_fid.inception import FID_WEIGHTS_URL

    return FID_WEIGHTS_URL


def hub_cache_path() -> Path:
    """Where pytorch-fid (through torch.hub) keeps the FID Inception weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights_url())


def resolve_weights(explicit: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The weights file to use: explicit path, then the environment, then the hub cache, then download."""
    chosen = explicit or os.environ.get(WEIGHTS_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            source = "--inception-weights" if explicit else WEIGHTS_ENV
            raise WeightsError(f"Inception weights {path} (from {source}) do not exist; fix the path")
        return path
    cached = hub_cache_path()
    if cached.is_file():
        return cached
    if download:
        try:
            _download(weights_url(), cached)
            return cached
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise WeightsError(
                f"no Inception weights and the download failed ({reason}); pass --inception-weights PATH, "
                f"set {WEIGHTS_ENV}, or put pytorch-fid's file at {cached}"
            ) from None
    raise WeightsError(
        f"no Inception weights; pass --inception-weights PATH, set {WEIGHTS_ENV}, or put pytorch-fid's file at {cached}"
    )


def _download(url: str, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        torch.hub.download_url_to_file(url, str(dst), progress=True)
    finally:
        socket.setdefaulttimeout(previous)


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in ``path``; a clear error if it is truncated, corrupt or not Inception's."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        fix = "download them again or pass another --inception-weights"
        raise WeightsError(f"Inception weights {path} are corrupt or truncated ({first}); {fix}") from None
    if not isinstance(state, dict) or "fc.weight" not in state or "Mixed_7c.branch_pool.conv.weight" not in state:
        raise WeightsError(f"{path} does not hold FID Inception weights (pytorch-fid's pt_inception-2015-12-05)")
    return state


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    batch_size: int = 50,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> dict[str, Any]:
    """pool3 features and logits of ``images`` (uint8 or [0, 1] floats, NCHW or NHWC), with provenance."""
    path = resolve_weights(weights)
    model = FIDInception(load_weights(path)).to(device)
    x = as_unit_nchw(images)
    pools, logits = [], []
    for start in tqdm(range(0, len(x), batch_size), disable=not progress, unit="batch", desc="Inception features"):
        pool, logit = model(x[start : start + batch_size].to(device))
        pools.append(pool.cpu())
        logits.append(logit.cpu())
    return {
        "pool3": torch.cat(pools).double(),
        "logits": torch.cat(logits).double(),
        "weights": str(path),
        "weights_sha256": sha256_of(path),
        "batch_size": batch_size,
        "device": str(device),
    }


_last: dict[str, Any] = {}


def _features_of(samples: torch.Tensor) -> dict[str, Any]:
    """One Inception pass serves both extractors: the last result is kept for the same tensor."""
    key = (id(samples), samples.data_ptr(), tuple(samples.shape), os.environ.get(WEIGHTS_ENV))
    if _last.get("key") != key:
        _last.clear()
        _last.update(key=key, result=inception_features(samples, progress=len(samples) > 500))
    return _last["result"]


class InceptionExtractor(FeatureExtractor):
    output: str = "pool3"

    def extract(self, samples: torch.Tensor) -> torch.Tensor:
        return _features_of(samples)[self.output]


class InceptionLogits(InceptionExtractor):
    output: str = "logits"


@hookimpl
def register_feature_extractors(register):
    register(InceptionExtractor("inception", description="pytorch-fid's FID InceptionV3, pool3 (2048-d)"))
    register(InceptionLogits("inception-logits", description="FID InceptionV3 logits (1008 classes, no bias)"))

"""Statistics of the real data in one feature space, computed once and kept on disk.

Real features, their mean and covariance (FID) and their k-NN radii (PR/DC) cost minutes
with Inception and never change for a given dataset, so they are cached under
``cache_dir()/reference``. An entry is keyed by everything that changes it: dataset,
split, sample count, a sha256 of the samples themselves, the extractor and its
fingerprint (the weights' sha256) and the ganbench version. Entries are written
atomically and carry a sha256 of their arrays; one that does not load, or does not match
its key or its checksum, is recomputed and rewritten, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbench.arrays import NPY_ERRORS
from ganbench.atomic import write_atomic
from ganbench.errors import one_line
from ganbench.gaussian import gaussian_statistics
from ganbench.neighbours import knn_radii
from ganbench.paths import cache_dir, check_entry_is_a_file, warn_cache_unwritable

log = logging.getLogger("ganbench")
_said: set[str] = set()
"""Cache entries already warned of in this process."""


def tensor_sha256(x: torch.Tensor) -> str:
    """Digest of a tensor's dtype, shape and values: the identity of a set of real samples."""
    digest = hashlib.sha256(f"{x.dtype} {tuple(x.shape)}".encode())
    flat = x.detach().cpu().contiguous().reshape(-1)
    for chunk in flat.split(1 << 24):
        digest.update(chunk.numpy().tobytes())
    return digest.hexdigest()


class ReferenceStats:
    """Real features in one space and what metrics derive from them, each computed at most once.

    ``folder`` None keeps everything in memory (cheap extractors such as ``raw``).
    """

    def __init__(self, key: dict[str, Any], compute_features: Callable[[], torch.Tensor], folder: Path | None) -> None:
        self.key = key
        self.folder = folder
        self._compute_features = compute_features
        self._entries: dict[str, dict[str, np.ndarray]] = {}

    @classmethod
    def cached(cls, key: dict[str, Any], compute_features: Callable[[], torch.Tensor]) -> ReferenceStats:
        """Stats kept in the on-disk cache folder for ``key``."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{key.get('dataset', 'data')}-{key.get('extractor', 'features')}")
        return cls(key, compute_features, cache_dir() / "reference" / f"{name}-{_key_sha256(key)[:16]}")

    @property
    def features(self) -> torch.Tensor:
        """The real samples' features (N, d)."""
        entry = self._entry("features", lambda: {"features": self._compute_features()})
        return torch.from_numpy(entry["features"])

    def gaussian(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of the features, float64 (FID)."""
        entry = self._entry(
            "gaussian", lambda: dict(zip(("mean", "cov"), gaussian_statistics(self.features), strict=True))
        )
        return entry["mean"], entry["cov"]

    def radii(self, k: int) -> torch.Tensor:
        """Each real row's distance to its k-th nearest other row (PR/DC)."""
        return torch.from_numpy(self._entry(f"radii-k{k}", lambda: {"radii": knn_radii(self.features, k)})["radii"])

    def copied(self) -> ReferenceStats:
        """These statistics, handing out copies (to a third-party metric): changed in place, the cached ones stay."""
        return _Copies(self)

    def _entry(self, name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, np.ndarray]:
        if name not in self._entries:
            arrays = self._load(name) if self.folder else None
            if arrays is None:
                arrays = {k: _numpy(v) for k, v in compute().items()}
                if self.folder:
                    self._save(name, arrays)
            self._entries[name] = arrays
        return self._entries[name]

    def _path(self, name: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{name}.npz"

    def _load(self, name: str) -> dict[str, np.ndarray] | None:
        path = self._path(name)
        if not path.exists():
            return None
        try:
            check_entry_is_a_file(path)  # opening a FIFO would wait for a writer forever
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["__meta__"]))
                arrays = {k: stored[k] for k in stored.files if k != "__meta__"}
            if meta != {"key": json.loads(json.dumps(self.key)), "sha256": _arrays_sha256(arrays)}:
                raise ValueError("its key or checksum does not match its contents")
            return arrays
        except NPY_ERRORS as exc:
            reason = "not an .npz of arrays (or damaged)" if "pickle" in str(exc) else one_line(exc)[:120]
            if str(path) not in _said:  # each reference row reads the entry: say it once
                _said.add(str(path))
                log.warning("reference cache entry %s is unreadable (%s); recomputing it", path, reason)
            return None

    def _save(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        meta = json.dumps({"key": self.key, "sha256": _arrays_sha256(arrays)}, sort_keys=True)
        buffer = io.BytesIO()
        np.savez(buffer, __meta__=np.array(meta), **arrays)
        try:
            self._path(name).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self._path(name), lambda f: f.write(buffer.getbuffer()))
        except OSError as exc:  # a read-only cache costs time, not results
            warn_cache_unwritable(self._path(name), exc)


class _Copies(ReferenceStats):
    """``ReferenceStats.copied``: the same entries (computed once, for every metric), handed out as copies."""

    def __init__(self, stats: ReferenceStats) -> None:
        self.key, self.folder, self._stats = stats.key, stats.folder, stats

    @property
    def features(self) -> torch.Tensor:
        return self._stats.features.clone()

    def gaussian(self) -> tuple[np.ndarray, np.ndarray]:
        mean, cov = self._stats.gaussian()
        return mean.copy(), cov.copy()

    def radii(self, k: int) -> torch.Tensor:
        return self._stats.radii(k).clone()

    def copied(self) -> ReferenceStats:
        return self


def _key_sha256(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name} {a.dtype.str} {a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)

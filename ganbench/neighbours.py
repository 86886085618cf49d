"""Exact k-nearest-neighbour radii of feature rows, at float32 speed: the shared math of
precision/recall/density/coverage and of the reference-statistics cache.

The radius of a point is the distance to its k-th nearest neighbour other than itself
(as in the ``prdc`` package). Squared distances come from float32 matrix products of
blocks (|x|^2 + |y|^2 - 2 x.y, on data centred first so that the cancellation is small);
memory grows with the block, not with N x N, and the within-set products are computed for
one triangle only. Every float32 value carries an error bound, and so does every radius
taken from them; callers decide in float32 only where the bounds cannot change the
outcome, and ask for float64 values (``Radii.exact``, ``exact_sq_distances``) where they
can. The bound is the probabilistic one of Higham & Mary (2019) for dot products,
8 sqrt(d) u (|x|^2 + |y|^2), exceeded with probability below 1e-13 per distance; the
worst case, d u, is ~10^2 times looser and would send thousands of pairs down the float64
path for nothing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch

from ganbench.arrays import FeatureError, feature_pair

BLOCK_BYTES = 128 * 2**20
EXACT_BYTES = 32 * 2**20
EXTRA_CANDIDATES = 8  # float32 neighbour candidates kept beyond k + 1, for exact radii
BYTES_PER_ENTRY = 8  # per block entry: a float32 distance and two masks
UNIT_ROUNDOFF = 2.0**-24
CHUNK = 4096


class Points:
    """Feature rows twice: as given (for float64 distances) and as a (centred) float32 copy."""

    def __init__(self, rows: torch.Tensor, center: torch.Tensor | None = None) -> None:
        self.exact = rows
        if center is None and rows.dtype == torch.float32:
            self.fast = rows
        else:
            self.fast = torch.empty(rows.shape, dtype=torch.float32)
            for s in range(0, len(rows), CHUNK):
                block = rows[s : s + CHUNK].double()
                self.fast[s : s + CHUNK] = block - center if center is not None else block
        self.sq = torch.linalg.vector_norm(self.fast, dim=1).double().square()  # float32 norms: in the bound
        self.sq32 = self.sq.float()
        # |float32 d2 - d2| <= slope * (|x|^2 + |y|^2): the dot product and the two squared norms
        # (probabilistic bound 8 sqrt(d) u each, or the worst case d u where that is tighter), the
        # rounding of the copy and the additions, twice over
        d = rows.shape[1]
        self.slope = 2 * (min(d, 8 * math.sqrt(d)) + 8) * UNIT_ROUNDOFF
        self.bound32 = (self.sq * self.slope).float()

    def __len__(self) -> int:
        return len(self.exact)


def points_pair(real: torch.Tensor, fake: torch.Tensor) -> tuple[Points, Points]:
    """Both sets with one shared centre (the real mean); not centred when float32 data are near zero already."""
    center = real.mean(0).double()  # any centre is exact (distances do not move); this one only needs to be close
    if real.dtype == fake.dtype == torch.float32:
        plain = Points(real)
        if center.square().sum() < plain.sq.mean() / 16:
            return plain, Points(fake)
    return Points(real, center), Points(fake, center)


def fast_sq_distances(a: Points, rows: slice, b: Points, cols: slice = slice(None)) -> torch.Tensor:
    """float32 squared distances from ``a[rows]`` to ``b[cols]`` (error within slope * (|x|^2 + |y|^2))."""
    return torch.addmm(b.sq32[None, cols], a.fast[rows], b.fast[cols].T, alpha=-2.0).add_(a.sq32[rows, None])


def exact_sq_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """sum((a - b)^2) over the last axis, in float64, for broadcastable row stacks."""
    return (a.double() - b.double()).square_().sum(-1)


def in_chunks(n: int, bytes_each: int, part: Callable[[slice], torch.Tensor]) -> torch.Tensor:
    """``part`` of items 0..n, concatenated, computed a chunk of at most EXACT_BYTES of temporaries at a time."""
    step = max(1, EXACT_BYTES // bytes_each)
    parts = [part(slice(s, s + step)) for s in range(0, n, step)]
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.float64)


class Radii:
    """Squared k-NN radii of a point set: float32 estimates with bounds, made exact on demand.

    ``approx`` and ``error`` bound each radius^2 (|approx - exact| <= error); ``exact(i)``
    computes the float64 radii of the rows ``i`` from their float32 neighbour candidates.
    """

    def __init__(self, points: Points, k: int, values: torch.Tensor, columns: torch.Tensor) -> None:
        self.points, self.k, self.values, self.columns = points, k, values, columns
        self.approx = values[:, k].double()
        # the k-th smallest of values each within slope * (|x_i|^2 + |x_j|^2) of the truth
        self.error = points.slope * (points.sq + points.sq.max())
        self.known = torch.full((len(points),), math.nan, dtype=torch.float64)

    def interval(self, index: slice | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """float32 (low, high) with low <= radius^2 <= high, widened for the rounding to float32."""
        approx, error = self.approx[index], self.error[index]
        slack = error + 4 * UNIT_ROUNDOFF * approx.abs() + 1e-30
        return (approx - slack).float(), (approx + slack).float()

    @classmethod
    def given(cls, radii: Any, n: int) -> Radii:
        """Radii known exactly (from the reference cache)."""
        known = torch.as_tensor(radii, dtype=torch.float64)
        if known.shape != (n,):
            raise FeatureError(f"real_radii has shape {tuple(known.shape)}, expected ({n},)")
        if not bool(torch.isfinite(known).all()) or bool((known < 0).any()):
            raise FeatureError("real_radii must be finite distances >= 0")
        self = cls.__new__(cls)
        self.approx, self.error, self.known = known.square(), torch.zeros(n, dtype=torch.float64), known
        return self

    def exact(self, rows: torch.Tensor) -> torch.Tensor:
        """float64 radii (distances, as ``prdc`` compares them) of ``rows``, computed once each."""
        todo = rows[torch.isnan(self.known[rows])].unique()
        if len(todo):
            self.known[todo] = self._compute(todo).sqrt()
        return self.known[rows]

    def _compute(self, rows: torch.Tensor) -> torch.Tensor:
        p, m = self.points, self.columns.shape[1]
        exact = in_chunks(
            len(rows),
            8 * m * p.exact.shape[1],
            lambda c: exact_sq_distances(p.exact[rows[c], None, :], p.exact[self.columns[rows[c]]]),
        )
        radii = exact.sort(1).values[:, self.k]
        if m < len(p):  # could a point outside the candidates be nearer than the k-th candidate?
            lowest_unseen = self.values[rows, -1].double() - self.error[rows]
            for r in torch.nonzero(lowest_unseen < radii).flatten().tolist():
                radii[r] = _row_exact(p.exact, int(rows[r])).kthvalue(self.k + 1).values
        return radii


def _row_exact(x: torch.Tensor, i: int) -> torch.Tensor:
    return in_chunks(len(x), 8 * x.shape[1], lambda c: exact_sq_distances(x[c], x[i]))


def knn(p: Points, k: int, block_bytes: int = BLOCK_BYTES) -> Radii:
    """Each row's k-NN radius (its own distance, 0, counts as the first), from one triangle of blocks."""
    n = len(p)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:  # k = 0: density NaN; -1: precision 1
        raise FeatureError(f"k must be a whole number of neighbours >= 1, not {k!r}")
    k = int(k)  # numpy's integers too
    if k >= n:
        raise FeatureError(f"k = {k} nearest neighbours need more than {k} samples, got {n}")
    m = min(n, k + 1 + EXTRA_CANDIDATES)
    values = torch.full((n, m), math.inf, dtype=torch.float32)
    columns = torch.zeros((n, m), dtype=torch.long)
    side = max(m, int(math.sqrt(block_bytes / BYTES_PER_ENTRY)))
    for i in range(0, n, side):
        rows = slice(i, min(n, i + side))
        for j in range(i, n, side):
            cols = slice(j, min(n, j + side))
            d2 = fast_sq_distances(p, rows, p, cols)
            _merge(values, columns, rows, d2, j, m)
            if j != i:
                _merge(values, columns, cols, d2.T, i, m)
    return Radii(p, k, values, columns)


def _merge(values: torch.Tensor, columns: torch.Tensor, rows: slice, d2: torch.Tensor, offset: int, m: int) -> None:
    """Keep the m smallest of each row's values so far and of ``d2`` (whose column 0 is ``offset``)."""
    v, c = d2.topk(min(m, d2.shape[1]), dim=1, largest=False)
    v, c = torch.cat([values[rows], v], 1), torch.cat([columns[rows], c + offset], 1)
    v, order = v.topk(m, dim=1, largest=False, sorted=True)
    values[rows], columns[rows] = v, c.gather(1, order)


def knn_radii(x: Any, k: int, block_bytes: int = BLOCK_BYTES) -> torch.Tensor:
    """Exact distance from each row of ``x`` to its k-th nearest other row (float64)."""
    rows, _ = feature_pair(x, x, dtype=None)
    return knn(points_pair(rows, rows)[0], k, block_bytes).exact(torch.arange(len(rows)))

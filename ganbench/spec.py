"""RunSpec and Budget: everything that decides a run's result, and the run id it hashes to.

A spec stores the *resolved* options of its variant, dataset and network (defaults with
the user's overrides applied), so the run id changes when anything that changes the
result changes, a plugin's defaults included. Canonical JSON (sorted keys, no spaces) is
what gets hashed and what spec.json holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ganbench.errors import BudgetError, OptionError
from ganbench.options import options_of, with_options

EVAL_SEED = 2_147_483_647
"""Evaluation draws its noise from this fixed seed, never from the run's."""
MAX_EVAL_SAMPLES = 1_000_000
"""More generated samples than this is a typo, not a protocol (FID uses 50,000 at most)."""


@dataclass(frozen=True)
class Budget:
    """When training stops: after ``steps`` generator updates or ``max_seconds`` of training."""

    steps: int
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, numbers.Integral) or self.steps <= 0:
            raise BudgetError(f"steps must be a positive integer, not {self.steps!r}; e.g. --steps 2000")
        if self.max_seconds is not None and (
            isinstance(self.max_seconds, bool)
            or not isinstance(self.max_seconds, numbers.Real)
            or not 0 < self.max_seconds < math.inf
        ):
            raise BudgetError(
                f"max_seconds must be a positive finite number, not {self.max_seconds!r}; e.g. --max-seconds 600"
            )


@dataclass(frozen=True)
class EvalSettings:
    """How a finished run is scored."""

    n_samples: int = 2500
    seed: int = EVAL_SEED
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """One training run, fully determined. Build it with ``RunSpec.create``."""

    variant: str
    dataset: str
    network: str
    seed: int
    budget: Budget
    variant_options: Mapping[str, Any] = field(default_factory=dict)
    dataset_options: Mapping[str, Any] = field(default_factory=dict)
    network_options: Mapping[str, Any] = field(default_factory=dict)
    eval: EvalSettings = field(default_factory=EvalSettings)

    @classmethod
    def create(
        cls,
        variant: str,
        dataset: str,
        *,
        network: str | None = None,
        seed: int = 0,
        steps: int = 10_000,
        max_seconds: float | None = None,
        overrides: Mapping[str, Any] | None = None,
        metrics: tuple[str, ...] | None = None,
        eval_samples: int = 2500,
    ) -> RunSpec:
        """Resolve names through the registries and apply overrides.

        Override keys: ``lr_d`` (variant), ``dataset.sigma``, ``network.width``.
        """
        from ganbench.plugins import registries

        regs = registries()
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise OptionError(f"seed must be a non-negative integer, not {seed!r}")
        if (
            isinstance(eval_samples, bool)
            or not isinstance(eval_samples, numbers.Integral)
            or not 2 <= eval_samples <= MAX_EVAL_SAMPLES
        ):
            raise OptionError(
                f"eval_samples must be an integer from 2 to {MAX_EVAL_SAMPLES:,}, not {eval_samples!r}; "
                "e.g. --eval-samples 10000"
            )
        budget = Budget(steps, max_seconds)
        groups = split_overrides(overrides or {})
        v = with_options(regs.variants.get(variant), groups["variant"], f"variant {variant!r}")
        d = with_options(regs.datasets.get(dataset), groups["dataset"], f"dataset {dataset!r}")
        network = network or d.default_network
        n = with_options(regs.networks.get(network), groups["network"], f"network {network!r}")
        chosen = tuple(metrics) if metrics else d.metrics
        for name in chosen:
            metric = regs.metrics.get(name)
            if not metric.applies_to(d):
                raise OptionError(f"metric {name!r} does not apply to dataset {dataset!r}; drop it from --metrics")
        return cls(
            variant=variant,
            dataset=dataset,
            network=network,
            seed=int(seed),
            budget=budget,
            variant_options=options_of(v),
            dataset_options=options_of(d),
            network_options=options_of(n),
            eval=EvalSettings(n_samples=int(eval_samples), metrics=chosen),
        )

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        data = dict(data)
        data["budget"] = Budget(**data["budget"])
        ev = dict(data.get("eval", {}))
        ev["metrics"] = tuple(ev.get("metrics", ()))
        data["eval"] = EvalSettings(**ev)
        return cls(**data)

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def run_id(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical JSON."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    @property
    def dirname(self) -> str:
        """A readable, unique folder name for this run."""
        return f"{self.dataset}__{self.variant}__seed{self.seed}__{self.run_id}"


def split_overrides(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"lr_d": 1, "dataset.sigma": 2}`` -> ``{"variant": {"lr_d": 1}, "dataset": {"sigma": 2}, ...}``."""
    groups: dict[str, dict[str, Any]] = {"variant": {}, "dataset": {}, "network": {}}
    for key, value in overrides.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in ("dataset", "network", "variant"):
            groups[prefix][rest] = value
        elif dot:
            raise OptionError(f"unknown option group in {key!r}; use KEY, dataset.KEY or network.KEY")
        else:
            groups["variant"][key] = value
    return groups


def parse_set(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["lr_d=1e-4", "dataset.sigma=0.1"]`` -> a dict; the values stay strings until checked."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise OptionError(f"--set takes KEY=VALUE, not {item!r}; e.g. --set lr_d=1e-4")
        out[key.strip()] = value.strip()
    return out

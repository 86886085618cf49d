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
    """How a run is scored: at the end, and every ``every`` steps when set (a curve in history.csv)."""

    n_samples: int = 2500
    seed: int = EVAL_SEED
    metrics: tuple[str, ...] = ()
    every: int | None = None


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
        eval_samples: int | None = None,
        eval_every: int | None = None,
        shared_metrics: bool = False,
    ) -> RunSpec:
        """Resolve names through the registries, apply overrides, and check that the parts fit.

        Override keys: ``lr_d`` (variant), ``dataset.sigma``, ``network.width``. A dataset
        name no plugin registered may be claimed by a plugin's ``resolve_dataset`` hook (a
        path to a user's images). ``eval_samples`` defaults to the dataset's.
        ``shared_metrics``: ``metrics`` serve several variants, some of them class-conditional,
        so an unconditional variant leaves out the metrics that need labels (else they are an error).
        """
        from ganbench.plugins import registries
        from ganbench.selection import select_metrics, without_conditional

        regs = registries()
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise OptionError(f"seed must be a non-negative integer, not {seed!r}")
        budget = Budget(steps, max_seconds)
        groups = split_overrides(overrides or {})
        v = with_options(regs.variants.get(variant), groups["variant"], f"variant {variant!r}")
        dataset, claimed = resolve_dataset_name(dataset)
        d = with_options(regs.datasets.get(dataset), {**claimed, **groups["dataset"]}, f"dataset {dataset!r}")
        if v.conditional and not d.n_classes:
            raise OptionError(
                f"variant {variant!r} is class-conditional but dataset {dataset!r} has no labels; "
                "pick a labelled dataset or an unconditional variant"
            )
        if v.conditional and v.pack > 1:
            raise OptionError(f"variant {variant!r} is class-conditional and packs samples; set --set pack=1")
        network = network or d.default_network
        n = with_options(regs.networks.get(network), groups["network"], f"network {network!r}")
        reason = n.check(tuple(d.shape), v.pack, d.n_classes if v.conditional else 0, v.conditioning)
        if reason:
            shape = "x".join(map(str, d.shape))
            raise OptionError(f"network {network!r} cannot be built for dataset {dataset!r} ({shape}): {reason}")
        chosen = tuple(metrics) if metrics else d.metrics + (d.conditional_metrics if v.conditional else ())
        if metrics and shared_metrics and not v.conditional:
            chosen = without_conditional(d, chosen)
            if not chosen:
                raise OptionError(
                    f"every metric named needs a class-conditional variant, so unconditional {variant!r} would "
                    "be scored on nothing; name a metric that applies to it too (e.g. fid)"
                )
        select_metrics(d, chosen, conditional=v.conditional)
        n_eval = d.eval_samples if eval_samples is None else eval_samples
        if isinstance(n_eval, bool) or not isinstance(n_eval, numbers.Integral) or not 2 <= n_eval <= MAX_EVAL_SAMPLES:
            raise OptionError(
                f"eval_samples must be an integer from 2 to {MAX_EVAL_SAMPLES:,}, not {n_eval!r}; "
                "e.g. --eval-samples 10000"
            )
        if eval_every is not None and (
            isinstance(eval_every, bool) or not isinstance(eval_every, numbers.Integral) or eval_every < 1
        ):
            raise OptionError(f"eval_every must be a positive integer (steps), not {eval_every!r}")
        return cls(
            variant=variant,
            dataset=dataset,
            network=network,
            seed=int(seed),
            budget=budget,
            variant_options=options_of(v),
            dataset_options=options_of(d),
            network_options=options_of(n),
            eval=EvalSettings(
                n_samples=int(n_eval), metrics=chosen, every=None if eval_every is None else int(eval_every)
            ),
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


def resolve_dataset_name(name: str) -> tuple[str, dict[str, Any]]:
    """(registered dataset, options it needs): the name itself, or what a plugin's resolve_dataset claims."""
    from ganbench.errors import UnknownNameError
    from ganbench.plugins import call_hook, registries

    datasets = registries().datasets
    if name in datasets:
        return name, {}
    claimed = call_hook("resolve_dataset", name=name)
    if claimed:
        return claimed[0], dict(claimed[1])
    if "/" in name or name.endswith((".npz", ".npy")):
        raise OptionError(f"dataset {name!r} is neither a registered dataset nor an existing folder or .npz file")
    raise UnknownNameError("dataset", name, datasets.names())


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


MAX_SEEDS = 1_000_000
"""More seeds than this in one range is a typo (0-99999999), refused before a list is built."""


def parse_seeds(text: str, what: str = "--seed") -> list[int]:
    """``"0"``, ``"0,1,2"``, ``"0-4"`` or a mix -> distinct seeds in order; OptionError for anything else."""
    seeds: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        lo, dash, hi = item.partition("-")
        try:
            if dash and lo:
                first, last = int(lo), int(hi)
                if last < first:
                    raise OptionError(f"{what} {item} is an empty range; write LOW-HIGH with LOW <= HIGH, e.g. 0-4")
                if last - first >= MAX_SEEDS:
                    raise OptionError(f"{what} {item} holds {last - first + 1:,} seeds; at most {MAX_SEEDS:,} a range")
                seeds += range(first, last + 1)
            else:
                seeds.append(int(item))
        except ValueError:
            raise OptionError(f"{what} takes integers or ranges like 0-4, not {item!r}") from None
    return list(dict.fromkeys(seeds))


def parse_set(items: tuple[str, ...] | list[str], flag: str = "--set", example: str = "lr_d=1e-4") -> dict[str, str]:
    """``["lr_d=1e-4", "dataset.sigma=0.1"]`` -> a dict; the values stay strings until checked."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise OptionError(f"{flag} takes KEY=VALUE, not {item!r}; e.g. {flag} {example}")
        out[key.strip()] = value.strip()
    return out

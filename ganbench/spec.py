"""RunSpec and Budget: everything that decides a run's result, and the run id it hashes to.

A spec stores the *resolved* options of its variant, dataset and network (defaults with
the user's overrides applied: ``ganbench.resolve.create_spec``), so the run id changes when
anything that changes the result changes, a plugin's defaults included. Canonical JSON
(sorted keys, no spaces) is what gets hashed and what spec.json holds. This module knows
no registry: it is data, parsed and hashed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ganbench.errors import BudgetError, OptionError, short_repr
from ganbench.options import plain_number, whole_if_integral

EVAL_SEED = 2_147_483_647
"""Evaluation draws its noise from this fixed seed, never from the run's."""
MAX_EVAL_SAMPLES = 1_000_000
"""More generated samples than this is a typo, not a protocol (FID uses 50,000 at most)."""


MAX_STEPS = 10**9
"""More generator updates than this is a typo (years of training), refused before it starts."""
MIN_SECONDS, MAX_SECONDS = 0.01, 1e9
"""A time budget outside these (10 ms, ~31 years) is a typo: shorter cannot time one step, longer never ends."""


@dataclass(frozen=True)
class Budget:
    """When training stops: after ``steps`` generator updates or ``max_seconds`` of training."""

    steps: int
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", whole_if_integral(self.steps))  # 2000.0, as an int option takes 8.0
        if isinstance(self.steps, bool) or not isinstance(self.steps, numbers.Integral) or self.steps <= 0:
            raise BudgetError(f"steps must be a positive integer, not {self.steps!r}; e.g. --steps 2000")
        if self.steps > MAX_STEPS:
            shown = f"{self.steps:,}" if self.steps < 10**30 else short_repr(self.steps)  # 1e300: a few characters
            raise BudgetError(f"steps must be at most {MAX_STEPS:,}, not {shown}; e.g. --steps 2000")
        if self.max_seconds is not None and (
            isinstance(self.max_seconds, bool)
            or not isinstance(self.max_seconds, numbers.Real)
            or not MIN_SECONDS <= self.max_seconds <= MAX_SECONDS
        ):
            raise BudgetError(
                f"max_seconds must be a positive finite number of seconds from {MIN_SECONDS} to {MAX_SECONDS:.0e}, "
                f"not {short_repr(self.max_seconds)}; e.g. --max-seconds 600"
            )
        object.__setattr__(self, "steps", int(self.steps))  # numpy's integers, say, are not JSON
        if self.max_seconds is not None:
            object.__setattr__(self, "max_seconds", float(self.max_seconds))


MAX_TRUNCATION = 8.0
"""Beyond 8 standard deviations a truncated normal is the normal, to float32's precision."""


@dataclass(frozen=True)
class EvalSettings:
    """How a run is scored: at the end, and every ``every`` steps when set (a curve in history.csv)."""

    n_samples: int = 2500
    seed: int = EVAL_SEED
    metrics: tuple[str, ...] = ()
    every: int | None = None
    truncation: float | None = None
    """The truncation trick (Brock et al. 2019): scored samples draw z from N(0, 1) truncated to
    [-truncation, truncation]; None: the prior G was trained on. Part of the spec only when set."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", whole_if_integral(self.every))
        every = self.every
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= MAX_STEPS):
            raise OptionError(  # as the trainer takes it: a spec it refuses would fail every run after it starts
                f"eval_every (--eval-every) must be a whole number of steps from 1 to {MAX_STEPS:,} (e.g. 1000), "
                f"or left out, not {every!r}"
            )
        t = self.truncation
        if t is None:
            return
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 < t <= MAX_TRUNCATION:
            raise OptionError(
                f"truncation must be a number of standard deviations above 0 and at most {MAX_TRUNCATION:g}, "
                f"not {t!r}; e.g. --truncation 1.0 (BigGAN's trick), or leave it out"
            )
        object.__setattr__(self, "truncation", float(t))


@dataclass(frozen=True)
class RunSpec:
    """One training run, fully determined. Build it with ``ganbench.resolve.create_spec``."""

    variant: str
    dataset: str
    network: str
    seed: int
    budget: Budget
    variant_options: Mapping[str, Any] = field(default_factory=dict)
    dataset_options: Mapping[str, Any] = field(default_factory=dict)
    network_options: Mapping[str, Any] = field(default_factory=dict)
    eval: EvalSettings = field(default_factory=EvalSettings)
    code: Mapping[str, str] = field(default_factory=dict)
    """What computes the result, per part (variant, network, dataset): the providing distribution, its
    version and a sha256 of the code (``ganbench.fingerprint``). Records made before it was kept: {}."""

    def to_dict(self) -> dict[str, Any]:
        data = json.loads(json.dumps(dataclasses.asdict(self)))
        if data["eval"]["truncation"] is None:  # specs (and run ids) of untruncated runs are as they were
            del data["eval"]["truncation"]
        return data

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
        return run_id_of(self.to_dict())

    @property
    def dirname(self) -> str:
        """A readable, unique folder name for this run."""
        return f"{self.dataset}__{self.variant}__seed{self.seed}__{self.run_id}"


RUN_FOLDER = re.compile(r".+__.+__seed\d+__[0-9a-f]{16}")
"""The names ``RunSpec.dirname`` gives run folders."""


def run_id_of(spec: Mapping[str, Any]) -> str:
    """The run id of a spec (as ``RunSpec.to_dict`` gives it, or a record holds it): the first 16 hex digits of
    the SHA-256 of its canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def split_overrides(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"lr_d": 1, "dataset.sigma": 2}`` -> ``{"variant": {"lr_d": 1}, "dataset": {"sigma": 2}, ...}``."""
    groups: dict[str, dict[str, Any]] = {"variant": {}, "dataset": {}, "network": {}}
    spelled: dict[tuple[str, str], str] = {}
    for key, value in overrides.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix not in ("dataset", "network", "variant"):
            raise OptionError(f"unknown option group in {key!r}; use KEY, dataset.KEY or network.KEY")
        group, name = (prefix, rest) if dot else ("variant", key)
        if (group, name) in spelled:
            raise OptionError(f"option {key!r} is set twice (also as {spelled[group, name]!r}); keep one")
        spelled[group, name] = key
        groups[group][name] = value
    return groups


SEED_LIMIT = 2**63
"""Seeds are below it: torch's seed range (an int64)."""

MAX_SEEDS = 1_000_000
"""More seeds than this, in one range or in all, is a typo (0-99999999), refused before a list is built."""


def seeds_text(seeds: Iterable[int]) -> str:
    """Seeds as ``parse_seeds`` reads them, runs of consecutive ones as ranges: [0, 1, 2, 5] is "0-2, 5" (seeds 0
    and 5 were said "0-5", six seeds)."""
    runs: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if runs and seed == runs[-1][1] + 1:
            runs[-1][1] = seed
        else:
            runs.append([seed, seed])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def parse_seeds(text: str, what: str = "--seed") -> list[int]:
    """``"0"``, ``"0,1,2"``, ``"0-4"`` or a mix -> distinct seeds in order; OptionError for anything else."""
    seeds: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        lo, dash, hi = item.partition("-")
        try:
            if not plain_number(item):  # "1_0" or "١" read by int() as 10 and 1
                raise ValueError
            if dash and lo:
                first, last = int(lo), int(hi)
                if last < first:
                    raise OptionError(f"{what} {item} is an empty range; write LOW-HIGH with LOW <= HIGH, e.g. 0-4")
                if last - first >= MAX_SEEDS:
                    raise OptionError(f"{what} {item} holds {last - first + 1:,} seeds; at most {MAX_SEEDS:,} a range")
                if len(seeds) + last - first >= MAX_SEEDS:  # ranges repeated: counted before they are listed
                    raise OptionError(f"{what} holds more than {MAX_SEEDS:,} seeds in all; name fewer")
                seeds += range(first, last + 1)
            else:
                seeds.append(int(item))
        except ValueError:
            given = f"an empty item in {text!r}" if not item else repr(item)
            raise OptionError(f"{what} takes integers or ranges like 0-4, not {given}") from None
    return list(dict.fromkeys(seeds))


def parse_set(items: tuple[str, ...] | list[str], flag: str = "--set", example: str = "lr_d=1e-4") -> dict[str, str]:
    """``["lr_d=1e-4", "dataset.sigma=0.1"]`` -> a dict; the values stay strings until checked."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise OptionError(f"{flag} takes KEY=VALUE, not {item!r}; e.g. {flag} {example}")
        if key.strip() in out and out[key.strip()] != value.strip():
            raise OptionError(
                f"{flag} {key.strip()} is given twice ({out[key.strip()]!r} and {value.strip()!r}); keep one"
            )
        out[key.strip()] = value.strip()
    return out

"""Typed options of plugins: the scalar fields of a frozen dataclass, overridable by name.

Variants, datasets and networks are frozen dataclasses; their int/float/bool/str/tuple
fields are the options a user may change with ``--set key=value``. Values arrive as
Python objects (API) or strings (CLI); both are checked against the field's type here,
once, so every plugin gets the same messages.

Ranges are declared where an option is defined, with ``option(default, gt=0)``, and are
checked by ``validate_options`` whenever such an object is made (the base classes call it
from ``__post_init__``, the registry at registration): a third-party plugin's options get
the same checks as the built-ins'. Every float option must be finite and, unless 0, within
float32's normal range (1.2e-38 to 3.4e38 in size): training computes in float32, where a
value such as 1e-320 or 1e300 becomes 0 or inf and the run would mean nothing.
"""

from __future__ import annotations

import dataclasses
import decimal
import math
import numbers
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ganbench.errors import OptionError, short_repr

T = TypeVar("T")

_SCALARS = (bool, int, float, str)
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
NAME = re.compile(r"^[a-z][a-z0-9]*([._-][a-z0-9]+)*$")
"""What a registered plugin object may be called: lower-case letters and digits, joined by '-', '_' or '.'."""
MAX_NAME = 100
"""The longest name: a run folder (dataset__variant__seedS__id) must fit a file system's 255 bytes."""


def is_name(value: Any) -> bool:
    """Whether ``value`` may name a registered plugin object (see ``NAME`` and ``MAX_NAME``)."""
    return isinstance(value, str) and len(value) <= MAX_NAME and bool(NAME.match(value))


FLOAT32_TINY = 1.1754943508222875e-38
FLOAT32_MAX = 3.4028234663852886e38
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Bounds:
    """The range of a numeric option (of each value, for a tuple option)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def holds(self, value: float) -> bool:
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def describe(self) -> str:
        def shown(bound: float) -> str:  # an integer whole (2^63 - 1 read 9.22337e+18, which is not it)
            return str(bound) if isinstance(bound, int) else f"{bound:g}"

        low = f">= {shown(self.ge)}" if self.ge is not None else f"> {shown(self.gt)}" if self.gt is not None else ""
        high = f"<= {shown(self.le)}" if self.le is not None else f"< {shown(self.lt)}" if self.lt is not None else ""
        return " and ".join(p for p in (low, high) if p) or "any number"


def option(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A dataclass field that is a ``--set`` option whose value must lie in the given range."""
    return dataclasses.field(default=default, metadata={"bounds": Bounds(ge, gt, le, lt)})


def validate_options(obj: Any) -> None:
    """OptionError unless every option of ``obj`` has its type, is finite and lies in its declared range.

    The error names the object (``variant 'wgan-gp'``), the option and the rule; its ``hint`` names the
    ``--set`` key that changes it (left out where a plugin's own default is wrong: no ``--set`` reaches it).
    """
    what, _ = _label(obj)
    bounds_of = {f.name: f.metadata.get("bounds", Bounds()) for f in dataclasses.fields(obj)}
    for key, typ in option_types(obj).items():
        value = getattr(obj, key)
        label = f"{what} option {key!r}"
        try:
            checked = coerce(value, typ, label)
        except OptionError as exc:  # the type's rule, with the flag that sets it as the range's has
            raise OptionError(exc.message, hint=_set_hint(obj, key)) from None
        if checked is not value:  # "3" or 3.0 for an int: kept as the type it declares, as --set keeps it
            object.__setattr__(obj, key, checked)
        problem = _out_of_range(checked, bounds_of[key])
        if problem:
            raise OptionError(f"{label} must be {problem}", hint=_set_hint(obj, key))


def _out_of_range(value: Any, bounds: Bounds) -> str | None:
    """What an option's value (each value, for a tuple) must be and is not ("> 0, not -1"), or None."""
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            continue
        if isinstance(item, float) and not math.isfinite(item):
            return f"a finite number, not {item!r}"
        huge = isinstance(item, int) and item.bit_length() >= 100  # past 4,300 digits, no text at all
        shown = f"a number of {item.bit_length()} bits" if huge else cli_text(value)
        if not bounds.holds(item):  # the declared range first: it says more than int64's
            return f"{bounds.describe()}, not {shown}"
        if isinstance(item, int) and not INT64_MIN <= item <= INT64_MAX:  # records are strict JSON of int64s
            return f"within int64 ({INT64_MIN} to {INT64_MAX}), which records hold, not {shown}"
        if isinstance(item, float) and item != 0 and not FLOAT32_TINY <= abs(item) <= FLOAT32_MAX:
            zero = "0 or " if bounds.holds(0.0) else ""
            return f"{zero}between 1.2e-38 and 3.4e38 in size (float32, where training computes), not {item!r}"
    return None


def _set_hint(obj: Any, key: str) -> str:
    """How a user sets option ``key`` of ``obj``: `` (--set dataset.sigma=VALUE)``, or its kind's own flag."""
    flag = getattr(type(obj), "option_flag", f"--set {_label(obj)[1]}")
    return f" ({flag}{key}=VALUE)"


def _label(obj: Any) -> tuple[str, str]:
    """("variant 'wgan-gp'", "") or ("dataset 'ring8'", "dataset.") for messages."""
    kind = getattr(type(obj), "kind", type(obj).__name__.lower())
    prefix = "" if kind == "variant" else f"{kind}."
    return f"{kind} {getattr(obj, 'name', '?')!r}", prefix


def cli_text(value: Any) -> str:
    """A value as ``--set`` takes it: ``0.5,0.9`` for a tuple, ``0.0001`` for a float."""
    if isinstance(value, (tuple, list)):
        return ",".join(cli_text(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def option_types(obj: Any) -> dict[str, Any]:
    """Overridable fields of a dataclass instance -> their types (``name`` is never one)."""
    hints = typing.get_type_hints(type(obj))
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(obj)
        if f.name != "name" and f.metadata.get("option", True) and _is_option_type(hints[f.name])
    }


def options_of(obj: Any) -> dict[str, Any]:
    """Current option values, JSON-ready (tuples become lists)."""
    return {k: _jsonable(getattr(obj, k)) for k in option_types(obj)}


def with_options(obj: T, overrides: Mapping[str, Any], what: str) -> T:
    """A copy of ``obj`` with ``overrides`` applied; unknown keys and bad values raise OptionError."""
    if not overrides:
        return obj
    types = option_types(obj)
    changes = {}
    for key, value in overrides.items():
        if key not in types:
            known = f"its options are: {', '.join(sorted(types))}" if types else "it has no options"
            raise OptionError(f"{what} has no option {key!r}; {known}")
        try:
            changes[key] = coerce(value, types[key], f"{what} option {key!r}")
        except OptionError as exc:
            raise OptionError(exc.message, hint=_set_hint(obj, key)) from None
    return dataclasses.replace(obj, **changes)


def whole_if_integral(value: Any) -> Any:
    """``value`` as an int where it is a float that holds a whole number (``2000.0``, ``np.float64(1)``), as an int
    option takes 8.0; anything else as it is, for the check that follows to take or refuse."""
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, numbers.Integral)
        and math.isfinite(value)
        and float(value).is_integer()
    ):
        return int(value)
    return value


def plain_bool(value: Any) -> Any:
    """``value`` as a bool where it is numpy's (``np.True_``), as a bool option takes it; anything else as it is."""
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    return value


def coerce(value: Any, typ: Any, label: str) -> Any:
    """Convert ``value`` (object or CLI string) to ``typ`` or raise OptionError naming ``label``."""
    origin = typing.get_origin(typ)
    if origin is Literal:
        return _choose(value, typing.get_args(typ), label)
    if origin is tuple:
        return _coerce_tuple(value, typing.get_args(typ), label)
    if _is_optional(typ):
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null"}):
            return None
        return coerce(value, _optional_inner(typ), label)
    if isinstance(value, str) and typ is not str:
        return _no_negative_zero(_parse(value, typ, label))
    if typ in (int, float, bool) and type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()  # np.float32(1e-4), np.bool_ from a script: the Python value it holds
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # 10**400: past every float, as --set reads it; the option's own check says so
            return math.inf if value > 0 else -math.inf
    if typ is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise OptionError(f"{label} must be {typ.__name__}, not {short_repr(value)}")
    return _no_negative_zero(value)


def _no_negative_zero(value: Any) -> Any:
    """0.0 for -0.0, which computes as 0.0 does and was another run id and table row (pass 80)."""
    return 0.0 if isinstance(value, float) and value == 0.0 else value


def _choose(value: Any, choices: tuple, label: str) -> Any:
    """The one of ``choices`` that ``value`` is: the choice itself (1 for 1.0, so run ids agree), matched by value
    for numbers (``--set level=2e-7`` and ``2e-07`` alike), never a bool for a number nor a number for a bool."""
    matches = [c for c in choices if _is_choice(value, c)]
    listed = ", ".join(c if isinstance(c, str) else repr(c) for c in choices)
    if len(matches) > 1:  # Literal[1, True] and --set level=1
        raise OptionError(
            f"{label}: {value!r} could be any of {', '.join(map(repr, matches))}, which the command line cannot "
            "tell apart; pass the value itself through the Python API"
        )
    if not matches:
        raise OptionError(f"{label} must be one of {listed}, not {value!r}")
    return matches[0]


def _is_choice(value: Any, choice: Any) -> bool:
    """Whether ``value`` (an object, or text as ``--set`` gives it) means ``choice``."""
    if isinstance(value, str) and not isinstance(choice, str):
        value = _parsed_as(value, choice)
    if choice is None or isinstance(choice, bool) or isinstance(value, bool):
        return value is choice
    if isinstance(choice, (int, float)):
        return isinstance(value, numbers.Real) and value == choice
    return value == choice


def _parsed_as(text: str, choice: Any) -> Any:
    """``text`` read as the type of ``choice`` ("none" for None), or ``text`` itself where it does not read so."""
    if choice is None:
        return None if text.strip().lower() in {"none", "null"} else text
    try:
        return _parse(text, type(choice), "")
    except OptionError:
        pass
    if type(choice) is int:  # "2.0" or "1e20" for the whole number it is, exactly (no float rounds it to one)
        try:
            number = decimal.Decimal(text.strip())
        except decimal.InvalidOperation:
            return text
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return text


def _parse(text: str, typ: type, label: str) -> Any:
    try:
        if typ in (int, float) and not plain_number(text):
            raise ValueError
        if typ is bool:
            low = text.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError
        if typ is int:
            return int(text)
        if typ is float:
            return float(text)
    except ValueError:  # a whole number of thousands of digits too, past Python's text-to-int limit
        if typ is int and re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):  # ASCII's: "١" is refused below (pass 83)
            raise OptionError(f"{label} must be a usable int, not one of {len(text.strip()):,} digits") from None
    raise OptionError(f"{label} must be {typ.__name__}, not {short_repr(text)}")


def plain_number(text: str) -> bool:
    """Whether ``text`` is a number as written in ASCII, without Python's digit-group underscores: int() and float()
    also read "1_0" as 10 and "１０" or "١٠" (other scripts' digits) as 10, which a typo may make."""
    return text.isascii() and "_" not in text


def list_items(text: str) -> list[str]:
    """A list option as ``--set`` reads it: "0.5,0.9", "(0.5, 0.9)" and "[0.5,0.9]" are ["0.5", "0.9"]."""
    return [v.strip() for v in text.strip("()[] ").split(",") if v.strip()]


def _coerce_tuple(value: Any, args: tuple, label: str) -> tuple:
    if isinstance(value, str):
        value = list_items(value)
    if not isinstance(value, (list, tuple)):
        raise OptionError(f"{label} must be a comma-separated list, not {value!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        args = (args[0],) * len(value)
    if len(value) != len(args):
        raise OptionError(f"{label} needs {len(args)} values, got {len(value)}")
    return tuple(coerce(v.strip() if isinstance(v, str) else v, t, label) for v, t in zip(value, args, strict=True))


def _is_optional(typ: Any) -> bool:
    args = typing.get_args(typ)
    return typing.get_origin(typ) in (typing.Union, _union_type()) and type(None) in args


def _optional_inner(typ: Any) -> Any:
    return next(a for a in typing.get_args(typ) if a is not type(None))


def _union_type() -> Any:
    import types

    return types.UnionType


def _is_option_type(typ: Any) -> bool:
    origin = typing.get_origin(typ)
    if typ in _SCALARS or origin is Literal:
        return True
    if origin is tuple:
        return all(a in _SCALARS or a is Ellipsis for a in typing.get_args(typ))
    if _is_optional(typ):
        return _is_option_type(_optional_inner(typ))
    return False


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def check_overrides_and_metrics(overrides: Any, metrics: Any, example: str = "{'lr_d': 1e-4}") -> None:
    """OptionError unless ``overrides`` is None or a mapping of names (``example`` shows one that works where they
    are given), and ``metrics`` None or a list of names."""
    if overrides is not None and (not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides)):
        raise OptionError(f"overrides must map option names to values, e.g. {example}, not {overrides!r}")
    nested = next((k for k, v in (overrides or {}).items() if isinstance(v, Mapping)), None)
    if nested is not None:  # a suite's [set] network = {width = 8}: in Python, one key per option
        inner = next(iter(overrides[nested]), "width")
        raise OptionError(
            f"overrides[{nested!r}] is {short_repr(overrides[nested])}; name each option with its group, "
            f"e.g. {{{f'{nested}.{inner}'!r}: ...}}"
        )
    if metrics is not None and (
        not isinstance(metrics, list | tuple) or not all(isinstance(m, str) and m.strip() for m in metrics)
    ):
        raise OptionError(f"metrics must be a list of metric names, e.g. ['fid', 'kid'], not {metrics!r}")

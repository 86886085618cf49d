"""What of a value a loss reads (a global, a default, a closure's cell) is part of its fingerprint.

Every value a function names is one of three kinds (pass 83 settled it: passes 80-82 each found another kind that
was silently left out, so a changed computation kept its run id):

- followed: code (``torch.tanh`` too), constants (numpy's too), a tensor or array, and of containers and objects
  what of them is so: a dict's, list's, set's, an enum member's, a dataclass's, a namespace's, an ``nn.Module``'s
  (its parameters, buffers and submodules too), and any other object's state (its ``__dict__``, or what pickling
  keeps of it);
- left out on purpose: arrays inside containers (the memos a process fills as it runs) and what only writes
  (loggers, streams, locks, threads, progress bars, TensorBoard writers): they never decide a result;
- refused: an object whose state nothing can read (a generator, a ``ContextVar``): one line, since a run id that
  cannot see it could hand a changed computation the old record.
"""

from __future__ import annotations

import argparse
import copyreg
import dataclasses
import enum
import functools
import inspect
import io
import logging
import operator
import sys
import threading
import types
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

CODE_OR_CONSTANT = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
    np.ufunc,
    operator.itemgetter,
    operator.attrgetter,
    operator.methodcaller,
    type,
    types.ModuleType,
    functools.partial,
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    np.generic,
)
"""Values kept as they are: code (``torch.tanh`` too) and constants (``np.float32(2)`` too)."""
MAX_DEPTH = 12
"""How deep values are followed (a closure's object's attribute's ...); deeper ones are left out."""

_WRITES_ONLY = (
    logging.Logger,
    logging.LoggerAdapter,
    logging.Handler,
    io.IOBase,
    threading.Thread,
    threading.Event,
    threading.Condition,
    threading.Semaphore,
    type(threading.Lock()),
    type(threading.RLock()),
)
_WRITES_ONLY_LIBRARIES = ("logging", "torch.utils.tensorboard", "tensorboardX", "wandb", "tqdm", "rich", "mlflow")
"""What a loss may hold that only records or guards what it does: its state (a logger's caches, a writer's
timestamped folder) is another in every process, and never decides a result."""


class Unreadable(Exception):
    """A value whose state nothing can read (it cannot be pickled, and keeps no ``__dict__``)."""


def kept(value: Any, where: Callable[[], str]) -> Any:
    """What of ``value`` a fingerprint follows (``DROPPED`` for nothing), or GanbenchError naming ``where()`` (the
    function and global) when it is an object whose state cannot be read."""
    try:
        return stable(value)
    except Unreadable as unreadable:
        from ganbench.errors import GanbenchError

        raise GanbenchError(
            f"{where()} is {unreadable}, whose state a run id cannot follow, so a change to it would be handed the "
            "old record; keep what the loss reads in its options (or in constants, a dict or a dataclass)"
        ) from None


def stable(value: Any, depth: int = 0, inside: frozenset[int] = frozenset()) -> Any:
    """What of a value is part of a fingerprint, or ``DROPPED``; raises Unreadable for an object named directly
    (``depth`` 0) whose state cannot be read; deeper ones are left out."""
    if depth > MAX_DEPTH or id(value) in inside:  # a container holding itself is followed once (pass 82: 4^12)
        return DROPPED
    if isinstance(value, CODE_OR_CONSTANT):
        return value
    if isinstance(value, np.ndarray) or is_tensor(value):  # named directly; inside a container, a memo's
        return value if depth == 0 else DROPPED
    within = inside | {id(value)}

    def follow(x: Any) -> Any:
        return stable(x, depth + 1, within)

    if isinstance(value, dict):
        pairs = {k: follow(v) for k, v in value.items() if follow(k) is not DROPPED}
        return {k: v for k, v in pairs.items() if v is not DROPPED}
    if isinstance(value, (tuple, list)):
        items = [x for x in map(follow, value) if x is not DROPPED]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, (set, frozenset)):  # of what is hashable as kept
        items = [x for x in map(follow, value) if x is not DROPPED]
        return frozenset(items) if all(isinstance(x, Hashable) for x in items) else DROPPED
    if isinstance(value, enum.Enum):  # its class: its methods decide what a member computes
        return (type(value), value.name, follow(value.value))
    if isinstance(value, np.dtype) or type(value).__module__ == "torch" and type(value).__name__ in ("dtype", "device"):
        return f"{type(value).__name__}:{value}"
    if isinstance(value, types.MethodType):  # a bound method: its function, and what of its object is kept
        return ("method", value.__func__, follow(value.__self__))
    if type(value).__module__ == "functools" and callable(value):  # lru_cache's, cache's: the function they wrap
        return (qualname(type(value)), follow(inspect.getattr_static(value, "__wrapped__", None)))
    if _writes_only(value):
        return DROPPED
    if _is_module(value):
        return (type(value), _module_state(value, follow))
    state = _state(value)
    if state is None:
        if depth == 0:
            raise Unreadable(f"a {qualname(type(value))} object")
        return DROPPED
    return (type(value), _object_state(state, follow))


DROPPED = object()


def _writes_only(value: Any) -> bool:
    module = type(value).__module__ or ""
    return isinstance(value, _WRITES_ONLY) or any(
        module == name or module.startswith(name + ".") for name in _WRITES_ONLY_LIBRARIES
    )


def _is_module(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def _module_state(module: Any, follow: Callable[[Any], Any]) -> dict[str, Any]:
    """An ``nn.Module``'s settings (``negative_slope``, ``training``), parameters, buffers, submodules and hooks;
    not its hooks' handle numbers, which count every hook the process ever made."""
    own = vars(module)
    state = {k: follow(v) for k, v in own.items() if not k.startswith("_")}
    state |= {f"tensor {k}": v for part in ("_parameters", "_buffers") for k, v in own.get(part, {}).items()}
    state |= {f"module {k}": follow(v) for k, v in own.get("_modules", {}).items()}
    hooks = {k: [follow(h) for h in v.values()] for k, v in own.items() if k.endswith("hooks") and isinstance(v, dict)}
    state |= {k: v for k, v in hooks.items() if v}
    return {k: v for k, v in state.items() if v is not DROPPED}


def _object_state(state: Any, follow: Callable[[Any], Any]) -> Any:
    """An object's state as kept: a tensor or array it holds by name counts (a distribution's ``scale``), as an
    ``nn.Module``'s parameters do; inside its containers, as anywhere, they are memos."""
    if not isinstance(state, dict):
        return follow(state)
    pairs = {k: v if isinstance(v, np.ndarray) or is_tensor(v) else follow(v) for k, v in state.items()}
    return {k: v for k, v in pairs.items() if v is not DROPPED}


def _state(value: Any) -> Any:
    """An object's state: a dataclass's fields, its ``__dict__`` (without ``functools.cached_property`` values),
    or what pickling keeps (``random.Random``'s generator, ``re.Pattern``'s text); None when none can be read."""
    if dataclasses.is_dataclass(value) or isinstance(value, (types.SimpleNamespace, argparse.Namespace)):
        return declared_state(value)
    cls = type(value)
    pickled_by_its_dict = (
        cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and getattr(cls, "__getstate__", None) is object.__getstate__
    )
    if pickled_by_its_dict and cls not in copyreg.dispatch_table:
        state = declared_state(value)
        if state is not None:
            return state
    try:
        reducer = copyreg.dispatch_table.get(cls)
        reduced = reducer(value) if reducer is not None else value.__reduce_ex__(4)
    except Exception:  # noqa: BLE001 - what cannot be pickled cannot be read
        return None
    if not isinstance(reduced, tuple) or len(reduced) < 2:
        return None
    args, rest = reduced[1], list(reduced[2:5]) + [None] * (5 - len(reduced))
    return {"args": args, "state": rest[0], "items": list(rest[1] or ()), "pairs": dict(rest[2] or ())}


def declared_state(thing: Any) -> dict[str, Any] | None:
    """An instance's attributes without what it caches as it is used (``functools.cached_property``
    values: a dataset's loaded samples), or None when it keeps no ``__dict__``. A dataclass's state is
    its fields."""
    if dataclasses.is_dataclass(thing):
        return {f.name: getattr(thing, f.name, None) for f in dataclasses.fields(thing)}
    state = getattr(thing, "__dict__", None)
    if not isinstance(state, dict):
        return None
    cached = {
        name for cls in type(thing).__mro__ for name, v in vars(cls).items() if isinstance(v, functools.cached_property)
    }
    return {k: v for k, v in state.items() if k not in cached}


def qualname(cls: type | types.FunctionType) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def is_tensor(thing: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(thing, torch.Tensor)

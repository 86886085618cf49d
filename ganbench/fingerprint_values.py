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
import collections
import collections.abc
import contextlib
import copyreg
import dataclasses
import enum
import functools
import inspect
import io
import itertools
import logging
import operator
import os
import pkgutil
import re
import sys
import threading
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ganbench import installed

CODE = (
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
    types.CodeType,  # a ForwardRef's, a generated function's: the hasher reads it as code
)
"""Values kept as they are, which the hasher reads as code (``torch.tanh`` too)."""
CONSTANTS = (type(None), type(...), type(NotImplemented), bool, int, float, complex, str, bytes)
"""Constants, kept as they are when of exactly these types (a subclass's methods are code too)."""
MAX_DEPTH = 48
"""How deeply nested a value a loss reads may be; deeper is refused, never cut off silently (pass 83: a setting five
namespaces deep kept its run id when changed)."""

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
_WEAK = (weakref.ref, weakref.WeakKeyDictionary, weakref.WeakValueDictionary, weakref.WeakSet)
_WRITES_ONLY_LIBRARIES = ("logging", "torch.utils.tensorboard", "tensorboardX", "wandb", "tqdm", "rich", "mlflow")
"""What a loss may hold that only records or guards what it does: its state (a logger's caches, a writer's
timestamped folder) is another in every process, and never decides a result."""
_COMPILERS = ("torch._dynamo",)
"""torch.compile's machinery a compiled function's wrapper holds: counters of the process; what it compiles is
followed as the function it wraps (pass 86)."""


class Unreadable(Exception):
    """A value whose state nothing can read (it cannot be pickled, keeps no ``__dict__``, and its repr holds an
    address), or nested deeper than ``MAX_DEPTH``."""


class ReadsByName(Unreadable):
    """A value that reads other values by a name known only at run time (``os.environ``, ``eval``)."""


class Unordered(tuple):
    """A set's kept items: the hasher sorts their bytes (their order follows PYTHONHASHSEED)."""


def kept(value: Any, where: Callable[[], str]) -> Any:
    """What of ``value`` a fingerprint follows (``DROPPED`` for nothing), or GanbenchError naming ``where()`` (the
    function and global) when it cannot be read."""
    from ganbench.errors import GanbenchError

    try:
        return stable(value)
    except ReadsByName as reader:
        why = f"is {reader}, which reads values by a name known only at run time"
    except Unreadable as unreadable:
        why = f"is {unreadable}, whose state a run id cannot follow"
    except RecursionError:
        why = f"is nested deeper than Python can follow (over {MAX_DEPTH} levels)"
    except Exception as error:  # noqa: BLE001 - a hostile __dict__, __hash__ or __reduce__: said, not a traceback
        why = f"could not be read ({type(error).__name__}: {error})".replace("\n", " ")
    raise GanbenchError(
        f"{where()} {why}, so a change to it would be handed the old record; keep what the loss reads in its "
        "options (or in constants, a dict or a dataclass)"
    )


def stable(
    value: Any, depth: int = 0, inside: frozenset[int] = frozenset(), direct: bool = True, pickled: bool = False
) -> Any:
    """What of a value is part of a fingerprint, or ``DROPPED``; raises Unreadable for an object whose state cannot
    be read, wherever it is (pass 84: a generator inside a dict was left out). Arrays and tensors count named
    directly (``direct``: a global, a default, an object's attribute) or inside what pickling keeps of an object
    (``pickled``: a RandomState's key); inside containers they are a memo's."""
    if depth > MAX_DEPTH:
        raise Unreadable(f"nested more than {MAX_DEPTH} levels deep")
    if id(value) in inside:  # a container holding itself is followed once (pass 82: 4^12)
        return DROPPED
    if is_a_reader(value):  # held as a default, in a closure, a dict or a partial (pass 87: only names were refused)
        raise ReadsByName(reader_name(value))
    if isinstance(value, _WEAK) or _is_hook_handle(value):  # a weak reference is a memo's: it never holds what it
        return DROPPED  # refers to (pass 87); a hook's handle counts the hooks a process made (the hook is followed)
    if isinstance(value, typing.ForwardRef):  # an annotation's text; its code and cached value are Python's
        return ("annotation", value.__forward_arg__)
    if isinstance(value, enum.Enum):  # its class: its methods decide what a member computes (a str mixin's too)
        return (type(value), value.name, stable(value.value, depth + 1, inside | {id(value)}, pickled=pickled))
    if isinstance(value, types.BuiltinMethodType) and not isinstance(
        value.__self__, (types.ModuleType, type, type(None))
    ):
        owner = value.__self__
        if is_a_reader(owner):  # sys.modules.get
            raise ReadsByName(f"{reader_name(owner)}.{value.__name__}")
        return _method(value, owner, lambda: value.__name__, lambda: stable(owner, depth + 1, inside))
    if isinstance(value, np.ufunc) and value.__name__.endswith(" (vectorized)"):  # np.frompyfunc's: its Python
        raise Unreadable(f"a numpy ufunc made of a Python function ({value.__name__})")  # function is out of reach
    if type(value) in CONSTANTS or isinstance(value, (np.generic, *CODE)):
        return value
    if isinstance(value, np.ndarray) or is_tensor(value):
        return value if direct or pickled else DROPPED
    within = inside | {id(value)}

    def follow(x: Any, named: bool = False) -> Any:
        return stable(x, depth + 1, within, named, pickled)

    if isinstance(value, functools.partial):
        return ("partial", follow(value.func), tuple(follow(a, True) for a in value.args), follow_items(value.keywords))
    if isinstance(value, types.MappingProxyType):
        return (type(value), follow(dict(value)))
    if isinstance(value, (collections.abc.KeysView, collections.abc.ValuesView, collections.abc.ItemsView)):
        return (type(value), Unordered(follow(x) for x in value))  # a set's order: PYTHONHASHSEED's (pass 84)
    if isinstance(value, (dict, list, tuple, set, frozenset, int, float, complex, str, bytes)):
        return _builtin_kind(value, follow)
    if isinstance(value, np.dtype) or type(value).__module__ == "torch" and type(value).__name__ in ("dtype", "device"):
        return f"{type(value).__name__}:{value}"
    if isinstance(value, types.MethodType):  # a bound method: its function, and what of its object is kept
        owner = value.__self__
        if is_a_reader(owner):  # os.environ.get
            raise ReadsByName(f"{reader_name(owner)}.{value.__func__.__name__}")
        return _method(value.__func__, owner, lambda: value.__func__.__qualname__, lambda: follow(owner, True))
    if type(value).__module__ == "functools" and callable(value):  # lru_cache's, cache's: the function they wrap
        wrapped = inspect.getattr_static(value, "__wrapped__", None)
        if wrapped is None:  # cmp_to_key's: its function is out of reach (pass 89)
            raise Unreadable(f"a {qualname(type(value))} object")
        return (qualname(type(value)), follow(wrapped))
    if library := _held_by_its_library(value):  # numpy's dispatchers (np.clip), torch's objects (torch.channels_last)
        return ("library", library, _global_name(library, value))
    if _writes_only(value) or _module_name(type(value)).startswith(_COMPILERS):
        return DROPPED
    if isinstance(value, contextlib._GeneratorContextManagerBase):  # @contextmanager's: what makes it again, not
        return ("context manager", follow(value.func), follow(value.args, True), follow(value.kwds))  # its generator
    if type(value).__name__ == "OptimizedModule" and hasattr(value, "_orig_mod"):  # torch.compile's: what it
        return ("compiled", follow(value._orig_mod, True))  # compiles, not dynamo's per-process state (pass 86)
    if (compiled := _compiled(value)) is not None:  # TorchScript: its code, weights and constants (pass 85)
        return compiled
    if _is_module(value):
        return (type(value), _module_state(value, follow))
    if isinstance(value, np.lib.npyio.NpzFile):  # np.load of an .npz: its arrays, each named (pass 97: its lazy
        return ("npz", {name: follow(value[name], True) for name in value.files})  # attribute bag was unreadable)
    return _object(value, follow, lambda x: stable(x, depth + 1, within, True, True))


def follow_items(mapping: dict[str, Any]) -> dict[str, Any]:
    """A partial's keywords as a function's defaults are: each named directly."""
    return without_dropped({k: stable(v) for k, v in mapping.items()})


DROPPED = object()


def without_dropped(kept_values: dict[Any, Any]) -> dict[Any, Any]:
    """``kept_values`` without the entries ``stable`` left out."""
    return {k: v for k, v in kept_values.items() if v is not DROPPED}


def _method(function: Any, owner: Any, name: Callable[[], str], owner_kept: Callable[[], Any]) -> Any:
    """A bound method: its function and what of its object is kept (``Random(0).random``'s generator, pass 84), or
    of an object an installed library holds as a global (``random.gauss``) that library's name and version."""
    if library := _held_by_its_library(owner):
        return ("library", library, name())
    return ("method", function if isinstance(function, types.FunctionType) else name(), type(owner), owner_kept())


def _is_hook_handle(value: Any) -> bool:
    kind = type(value)
    return kind.__name__ == "RemovableHandle" and _module_name(kind) == "torch.utils.hooks"


def _builtin_kind(value: Any, follow: Callable[..., Any]) -> Any:
    """A dict, list, tuple, set or a number or text of a subclass: its items as kept, and for a subclass its class
    (its methods: a dict's ``__missing__``, a namedtuple's properties, a float's ``__mul__``), its attributes and a
    defaultdict's factory (pass 83: each kept its run id when they changed)."""
    if isinstance(value, dict):
        items: Any = without_dropped(  # a namespace's builtins (runpy's, exec's) are Python's (pass 88)
            {k: follow(v) for k, v in value.items() if k != "__builtins__" and follow(k) is not DROPPED}
        )
    elif isinstance(value, (tuple, list)):
        items = [x for x in map(follow, value) if x is not DROPPED]
        items = tuple(items) if type(value) is tuple else items
    elif isinstance(value, (set, frozenset)):
        items = Unordered(x for x in map(follow, value) if x is not DROPPED)
    else:
        items = next(kind for kind in (int, float, complex, str, bytes) if isinstance(value, kind))(value)
    if type(value) in (dict, list, tuple, set, frozenset):
        return items
    extra = {k: follow(v) for k, v in (getattr(value, "__dict__", None) or {}).items()}
    factory = follow(value.default_factory) if isinstance(value, collections.defaultdict) else None
    return (type(value), items, factory, without_dropped(extra))


def _object(value: Any, follow: Callable[..., Any], follow_all: Callable[[Any], Any]) -> Any:
    """An object as its type and state: its ``__dict__``'s values named directly, what pickling keeps of it whole
    (a generator's key array too); else its repr when that holds no address; else Unreadable."""
    state = _state(value)
    if isinstance(state, _Pickled):
        return (type(value), without_dropped({k: follow_all(v) for k, v in state.items()}))
    if state is not None:
        return (type(value), without_dropped({k: follow(v, True) for k, v in state.items()}))
    text = repr(value)
    if not ADDRESS.search(text):  # torch.finfo(...), a C object that says what it is
        return ("repr", type(value), text)
    raise Unreadable(f"a {qualname(type(value))} object")  # inside a container too (pass 84: a dict's generator)


class _Pickled(dict):
    """What pickling keeps of an object: all of it counts, arrays inside too."""


ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
"""A memory address in a repr: another in every process."""


def _module_name(value: Any) -> str:
    name = getattr(value, "__module__", None)
    return name if isinstance(name, str) else ""


def _held_by_its_library(value: Any) -> types.ModuleType | None:
    """The installed library whose module global ``value`` is (the module it or its type names): its code, known by
    the library's name and version (``np.clip``, ``random.gauss``'s generator); None for anything else."""
    for name in sorted({_module_name(value), _module_name(type(value))} - {""}):
        module = sys.modules.get(name)
        if module is not None and not is_local(module) and _global_name(module, value):
            return module
    return None


def _global_name(module: types.ModuleType, value: Any) -> str:
    """The name under which ``module`` holds ``value``, or ""."""
    return next((name for name, held in vars(module).items() if held is value), "")


def _writes_only(value: Any) -> bool:
    module = _module_name(type(value))
    return isinstance(value, _WRITES_ONLY) or any(
        module == name or module.startswith(name + ".") for name in _WRITES_ONLY_LIBRARIES
    )


def _compiled(value: Any) -> Any:
    """A TorchScript function or module as what decides what it computes: its code (its submodules' too), its
    weights and the constants of its graph (a frozen module's weights are constants there; a traced module's
    settings are constants in its code); None for anything else (pass 85: traced and frozen modules kept their run id
    when their weights changed, scripted helpers were refused)."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, (torch.jit.ScriptFunction, torch.jit.ScriptModule)):
        return None
    if isinstance(value, torch.jit.ScriptFunction):  # inlined: the constants of what it calls too (pass 87)
        return ("script", _unmangled(value.code), _graph_constants(value.inlined_graph))
    code = {}
    for name, module in value.named_modules():
        with contextlib.suppress(RuntimeError, AttributeError):  # a submodule without forward
            code[name] = _unmangled(module.code)
    try:
        graph = value.inlined_graph
    except (RuntimeError, AttributeError):
        graph = None
    weights = {k: v for k, v in value.state_dict().items()}
    modes = {name: _training(module) for name, module in value.named_modules()}  # dropout on or off (pass 86)
    constants = _graph_constants(graph) if graph else []
    return ("script module", type(value).__name__, code, weights, modes, constants)


def _training(module: Any) -> Any:
    """A TorchScript module's train/eval mode (a scripted Sequential's submodules keep it in their C++ object)."""
    c_module = getattr(module, "_c", None)
    if c_module is not None and c_module.hasattr("training"):
        return c_module.getattr("training")
    return getattr(module, "training", None)


def _graph_constants(graph: Any) -> list[Any]:
    """The constants a TorchScript graph holds: tensors as tensors, the rest as their node's text."""
    found: list[Any] = []
    for node in graph.nodes():
        if node.kind() == "prim::Constant" and node.hasAttribute("value"):
            found.append(node.t("value") if node.kindOf("value") == "t" else _unmangled(_SOURCE.sub("", str(node))))
        for block in node.blocks():
            found.extend(_graph_constants(block))
    return found


_SOURCE = re.compile(r" # [^\n]*:\d+:\d+$", re.MULTILINE)
"""Where in which file a TorchScript node was written: the same code elsewhere is the same (pass 87: a clone at
another path had another run id)."""


_MANGLED = re.compile(r"___torch_mangle_\d+\.")
"""What TorchScript adds to a name it compiles again in one process (a notebook cell run twice)."""


def _unmangled(text: str) -> str:
    return _MANGLED.sub("", text).strip()


def _is_module(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def _module_state(module: Any, follow: Callable[..., Any]) -> dict[str, Any]:
    """An ``nn.Module``'s attributes (``negative_slope``, ``training``, a ``self._scale`` or a tensor set in its
    ``__init__``: pass 87, private ones and plain tensors were left out), parameters, buffers, submodules and hooks;
    not the bookkeeping every module keeps (its hooks' handle numbers count every hook the process ever made)."""
    own = vars(module)
    bookkeeping = _module_bookkeeping()
    state = {k: follow(v, True) for k, v in own.items() if k not in bookkeeping}
    state |= {f"tensor {k}": v for part in ("_parameters", "_buffers") for k, v in own.get(part, {}).items()}
    state |= {f"module {k}": follow(v) for k, v in own.get("_modules", {}).items()}
    hooks = {k: [follow(h) for h in v.values()] for k, v in own.items() if k.endswith("hooks") and isinstance(v, dict)}
    state |= {k: v for k, v in hooks.items() if v}
    return without_dropped(state)


@functools.cache
def _module_bookkeeping() -> frozenset[str]:
    """The attributes every ``nn.Module`` has but ``training``: its parts' tables, hooks and their flags."""
    return frozenset(vars(sys.modules["torch"].nn.Module())) - {"training"}


def _state(value: Any) -> Any:
    """An object's state: a dataclass's fields, its ``__dict__`` (without ``functools.cached_property`` values),
    or what pickling keeps (``random.Random``'s generator, ``re.Pattern``'s text); None when none can be read."""
    if dataclasses.is_dataclass(value) or isinstance(value, (types.SimpleNamespace, argparse.Namespace)):
        return declared_state(value)
    if (made_of := state_without_addresses(value)) is not None:
        return made_of
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
    items, pairs = (list(itertools.islice(rest[i] or (), _MAX_ITEMS + 1)) for i in (1, 2))
    if len(items) > _MAX_ITEMS or len(pairs) > _MAX_ITEMS:  # an iterator that never ends (pass 84: all memory)
        return None
    return _Pickled(args=args, state=rest[0], items=items, pairs=dict(pairs))


_MAX_ITEMS = 10_000_000


def declared_state(thing: Any) -> dict[str, Any] | None:
    """An instance's attributes without what it caches as it is used (``functools.cached_property``
    values: a dataset's loaded samples), or None when it keeps neither ``__dict__`` nor fields. A dataclass's
    state is its fields and its other public attributes (pass 87: one set from an ``InitVar`` in
    ``__post_init__``, or later, was left out); a private one beside its fields is its memo (a dataset's read
    images)."""
    state = getattr(thing, "__dict__", None)
    if dataclasses.is_dataclass(thing):
        fields = {f.name: getattr(thing, f.name, None) for f in dataclasses.fields(thing)}
        extra = _uncached(thing, state) if isinstance(state, dict) else {}
        return fields | {k: v for k, v in extra.items() if k not in fields and not k.startswith("_")}
    if not isinstance(state, dict):
        return None
    return _uncached(thing, state)


_ADDRESSES_PICKLED = {"scipy.spatial._ckdtree.cKDTree": ("data", "leafsize", "boxsize", "indices")}
"""Types whose pickled state holds memory addresses (a k-d tree's node buffer: pass 93, an id per process), by the
attributes that make them instead."""


def state_without_addresses(thing: Any) -> dict[str, Any] | None:
    """The attributes that make an object of a type in ``_ADDRESSES_PICKLED`` (or a subclass), else None."""
    for cls in type(thing).__mro__:
        names = _ADDRESSES_PICKLED.get(f"{_module_name(cls)}.{cls.__qualname__}")
        if names is not None:
            return {name: getattr(thing, name, None) for name in names}
    return None


def _uncached(thing: Any, state: dict[str, Any]) -> dict[str, Any]:
    cached = {name for cls in type(thing).__mro__ for name, v in vars(cls).items() if _caches(v)}
    if _module_name(type(thing)).startswith("torch.") and "autocast" in type(thing).__name__:
        cached |= {k for k in state if k.startswith("prev")}  # what its last __enter__ found (pass 88)
    return {k: v for k, v in state.items() if k not in cached}


def _caches(attribute: Any) -> bool:
    """Whether a class attribute computes an instance's value on first use and keeps it in the instance's
    ``__dict__``: ``functools.cached_property``, torch.distributions' ``lazy_property`` (pass 84: a Categorical's
    logits moved the run id after the loss's first call) - a descriptor with ``__get__`` only, not a function."""
    kind = type(attribute)
    return (
        isinstance(attribute, functools.cached_property)
        or hasattr(kind, "__get__")
        and not hasattr(kind, "__set__")
        and not isinstance(attribute, (types.FunctionType, staticmethod, classmethod, *CODE))
    )


def is_a_reader(value: Any) -> bool:
    """Whether ``value`` reads other values by a name known only at run time, or is the command line (a stable's
    every value asks: one lookup by id)."""
    held = _readers().get(id(value))
    return held is not None and held[0] is value or value is sys.argv or value is sys.orig_argv


def reader_name(value: Any) -> str:
    """How a reader is named in a refusal (the command line's lists are looked up now: a program may set new ones)."""
    if value is sys.orig_argv:
        return "sys.orig_argv"
    held = _readers().get(id(value))
    return held[1] if held is not None and held[0] is value else "sys.argv"


@functools.cache
def _readers() -> dict[int, tuple[Any, str]]:
    """The values that read other values by a name known only at run time, whatever a module calls them (pass 86:
    `import os as _os; _os.environ`, `ENV = os.environ`, `builtins.eval` kept the run id), by id, each held here
    with its name (so that its id stays its own)."""
    import builtins
    import importlib

    readers = (
        (os.environ, "os.environ"),
        (os.getenv, "os.getenv"),
        (builtins.eval, "eval"),
        (builtins.exec, "exec"),
        (builtins.globals, "globals"),
        (builtins.__import__, "__import__"),
        (importlib.import_module, "importlib.import_module"),
        (sys.modules, "sys.modules"),
        (sys._getframe, "sys._getframe"),
        (inspect.currentframe, "inspect.currentframe"),
        (os.environb, "os.environb"),
        (os.getenvb, "os.getenvb"),
        (sys.modules["posix" if os.name == "posix" else "nt"].environ, "posix.environ"),
        (os.path.expandvars, "os.path.expandvars"),  # pass 97
        (pkgutil.resolve_name, "pkgutil.resolve_name"),  # imports by name, as import_module
    )
    return {id(reader): (reader, name) for reader, name in readers}


def qualname(cls: type | types.FunctionType) -> str:
    """``module.Name``, once: some types' qualified names already hold their module (pass 85: torch.jit.torch.jit)."""
    module, name = str(cls.__module__), cls.__qualname__
    return name if name.startswith(f"{module}.") else f"{module}.{name}"


def is_tensor(thing: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(thing, torch.Tensor)


def is_local(module: types.ModuleType) -> bool:
    """Whether a module's code is outside the installed libraries, or an installed ganbench plugin's (its sources are
    then what identify it, its objects' and its modules' values are followed: pass 95, a plugin's own settings
    object, a registry of the user's functions, a submodule's constant kept the run id when installed)."""
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", ())), None)
    if where is None:
        return module.__name__ not in sys.builtin_module_names
    return _outside(str(where), installed.roots()) or installed.is_plugin(module.__name__)


@functools.lru_cache(maxsize=4096)
def _outside(where: str, roots: tuple[str, ...]) -> bool:
    """Whether ``where`` is in none of ``roots`` (a realpath each module, not each of its functions met)."""
    real = os.path.realpath(where)
    return not any(real.startswith(root + os.sep) for root in roots)

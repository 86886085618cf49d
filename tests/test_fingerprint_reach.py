"""What a loss reaches through a network's attributes, a class's methods, a library's wrappers, a dataclass or a
module it holds is part of its run id, and what reads by run-time names is refused wherever it is held (pass 87:
each pair below was one run id for two computations); what it draws from Python's and numpy's random numbers is
seeded, so one run id is one result."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
import torch

import ganbench
from ganbench.errors import GanbenchError
from ganbench.fingerprint import fingerprint
from ganbench.harness import run_spec

from .test_spec import _notebook_fingerprint, _value_fingerprint, assert_alike_in_every_process

NETWORK_PRIVATE = """import torch
class Scale(torch.nn.Module):
    def __init__(self, s):
        super().__init__()
        self._s = s
    def forward(self, x):
        return self._s * x
M = Scale(%s)
def g_loss(d):
    return M(d)
"""
NETWORK_TENSOR = NETWORK_PRIVATE.replace("self._s = s", "self.s = torch.tensor([s])").replace("self._s", "self.s")
DATACLASS_EXTRA = """import dataclasses
@dataclasses.dataclass
class Cfg:
    scale: float = 1.0
CFG = Cfg()
CFG.boost = %s
def g_loss(d):
    return CFG.scale * CFG.boost * d
"""
INIT_VAR = """import dataclasses
@dataclasses.dataclass
class Cfg:
    temp: dataclasses.InitVar[float]
    def __post_init__(self, temp):
        self.inv_temp = 1 / temp
CFG = Cfg(%s)
def g_loss(d):
    return CFG.inv_temp * d
"""
VMAP = """import torch
def f(a, b):
    return a * b
V = torch.vmap(f, in_dims=%s)
def g_loss(d):
    return V(d, d)
"""
GRAD = """from torch.func import grad
def f(a, b):
    return (a * b).sum()
DF = grad(f, argnums=%s)
def g_loss(d):
    return DF(d, 2 * d)
"""
AUTOCAST = """import torch
@torch.autocast("cpu", enabled=%s)
def h(x):
    return x
def g_loss(d):
    return h(d)
"""
CONTEXT_MANAGER = """import contextlib
@contextlib.contextmanager
def scaled(s):
    yield s
@scaled(%s)
def h(x):
    return x
def g_loss(d):
    return h(d)
"""
HOOK_HANDLE = """import torch
torch.manual_seed(0)
NET = torch.nn.Linear(1, 1)
NET.handle = NET.register_forward_hook(lambda m, i, o: o * %s)
def g_loss(d):
    return NET(d)
"""
METACLASS = """class Meta(type):
    def factor(cls):
        return %s
class Loss(metaclass=Meta):
    def __call__(self, d):
        return type(self).factor() * d
g_loss = Loss()
"""


MADE_DATACLASS = """
import dataclasses
SCALE = %s
Loss = dataclasses.make_dataclass("Loss", [], namespace={"__call__": lambda self, d: SCALE * d})
g_loss = Loss()
"""
"""Pass 97: a class a library's factory makes has that library's module ("types"): its methods were not followed."""
MADE_NEW_CLASS = """
import types
def _call(self, d):
    return %s * d
Loss = types.new_class("Loss", (), exec_body=lambda ns: ns.update(__call__=_call))
g_loss = Loss()
"""
NAMED_BY_STRING = """
import types
consts = types.ModuleType("fp97_consts")
consts.SCALE = %s
def g_loss(d):
    return getattr(consts, "SCALE") * d
"""
HELD_IN_A_DICT = """
import types
MODS = {"c": types.ModuleType("fp97_held")}
MODS["c"].SCALE = %s
def g_loss(d):
    return MODS["c"].SCALE * d
"""
"""Pass 97: a module's value read by getattr with a string, or of a module held in a dict, was not followed."""
HELD_AND_NAMED = """
import types
_consts = types.ModuleType("fp99_named")
_consts.SCALE, _consts.OTHER = %s, 1.0
class Holder:
    def __init__(self):
        self.m = _consts
    def __call__(self, d):
        return self.m.SCALE * d
HOLDER = Holder()
def g_loss(d):
    return HOLDER(d) * _consts.OTHER
"""
"""Pass 99: a module the loss names (reading OTHER) and an object holds (reading SCALE): only OTHER counted."""
HELD_IN_A_CLOSURE_OF_ITS_OWN = """
import types
_consts = types.ModuleType("fp99_closure")
def _make(k):
    return lambda d: k * d
_consts.scaled = _make(%s)
class Holder:
    def __init__(self, m):
        self.cfg = m
    def __call__(self, d):
        return self.cfg.scaled(d)
g_loss = Holder(_consts)
"""
"""Pass 99: a held module's value that lives in a function it made at import was left out."""
SPELLED_PATH = """
import operator, types
pkg = types.ModuleType("fp98_pkg")
pkg.consts = types.ModuleType("fp98_pkg.consts")
pkg.consts.SCALE = %s
ATTR = "SCALE"
def g_loss(d):
    return operator.attrgetter("consts." + ATTR)(pkg) * d
"""
"""Pass 98: a module's value read by a path that strings spell (a constant, a global) was not followed."""
MADE_OF_VALUES = """
import types
Cfg = types.new_class("Cfg", (), exec_body=lambda ns: ns.update(scale=%s))
def g_loss(d):
    return Cfg.scale * d
"""
"""Pass 98: a class a library's factory makes of values only (no function of yours) counted as the library's."""
HELD_BY_AN_OBJECT = """
import types
class Loss:
    def __init__(self, cfg):
        self.cfg = cfg
    def __call__(self, d):
        return self.cfg.SCALE * d
_consts = types.ModuleType("fp98_object")
_consts.SCALE = %s
g_loss = Loss(_consts)
"""
"""Pass 98: a module of the user's held, not named (an object's attribute, a list's item): its values count."""
HELD_IN_NESTED_LISTS = """
import types
_consts = types.ModuleType("fp98_lists")
_consts.SCALE = %s
MODS = [[_consts]]
def g_loss(d):
    return MODS[0][0].SCALE * d
"""
NPZ_LOADED = """
import io
import numpy as np
_made = io.BytesIO()
np.savez(_made, w=np.full(3, %s))
_made.seek(0)
WEIGHTS = np.load(_made)
def g_loss(d):
    return float(WEIGHTS["w"].sum()) * d
"""
"""Pass 97: an .npz loaded into a global was refused as unreadable (its lazy attribute bag)."""


@pytest.mark.parametrize(
    "code, one, two",
    [
        (NETWORK_PRIVATE, "1.0", "50.0"),
        (NETWORK_TENSOR, "1.0", "50.0"),
        (DATACLASS_EXTRA, "1.0", "50.0"),
        (INIT_VAR, "0.5", "2.0"),
        (VMAP, "(0, 0)", "(0, None)"),
        (GRAD, "0", "1"),
        (AUTOCAST, "True", "False"),
        (CONTEXT_MANAGER, "1.0", "5.0"),
        (METACLASS, "0", "5.0"),
        (HOOK_HANDLE, "2", "3"),
        (MADE_DATACLASS, "1.0", "50.0"),
        (MADE_NEW_CLASS, "1.0", "50.0"),
        (NAMED_BY_STRING, "1.0", "50.0"),
        (HELD_IN_A_DICT, "1.0", "50.0"),
        (NPZ_LOADED, "1.0", "50.0"),
        (HELD_BY_AN_OBJECT, "1.0", "50.0"),
        (HELD_IN_NESTED_LISTS, "1.0", "50.0"),
        (MADE_OF_VALUES, "1.0", "50.0"),
        (SPELLED_PATH, "1.0", "50.0"),
        (HELD_AND_NAMED, "1.0", "50.0"),
        (HELD_IN_A_CLOSURE_OF_ITS_OWN, "1.0", "50.0"),
    ],
    ids=["network-private", "network-tensor", "dataclass-extra", "init-var", "vmap", "grad", "autocast",
         "contextmanager", "metaclass", "hook-handle", "make-dataclass", "new-class", "getattr-string",
         "held-in-a-dict", "npz-loaded", "held-by-an-object", "held-in-nested-lists",
         "made-of-values", "spelled-path", "held-and-named", "held-value-in-its-closure"],
)  # fmt: skip
def test_what_a_loss_reaches_through_objects_and_wrappers_is_part_of_its_fingerprint(code, one, two, monkeypatch):
    assert _session_fingerprint(code % one, monkeypatch) == _session_fingerprint(code % one, monkeypatch)
    assert _session_fingerprint(code % one, monkeypatch) != _session_fingerprint(code % two, monkeypatch)


def _session_fingerprint(code: str, monkeypatch) -> str:
    """The fingerprint of g_loss of a module without a file that ``code`` makes (a dataclass needs its module)."""
    module = types.ModuleType("fp87_session")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(code, vars(module))  # noqa: S102 - code without a file
    return fingerprint("p", "1", (module.g_loss,))


@pytest.mark.parametrize(
    "code, said",
    [
        ("import os\ndef g_loss(d, env=os.environ):\n    return float(env.get('S', '1')) * d", "os.environ"),
        ("import os\ngetenv = os.environ.get\ndef g_loss(d):\n    return float(getenv('S', '1')) * d", "os.environ"),
        (
            "import os, functools\nS = functools.partial(os.getenv, 'S')\ndef g_loss(d):\n    return float(S()) * d",
            "os.getenv",
        ),
        ("import os\nC = {'env': os.environ}\ndef g_loss(d):\n    return float(C['env']['S']) * d", "os.environ"),
        (
            "import os\ndef make(env):\n    def g_loss(d):\n        return float(env['S']) * d\n    return g_loss\n"
            "g_loss = make(os.environ)",
            "os.environ",
        ),
        ("import sys\ndef g_loss(d):\n    return (2.0 if '--hard' in sys.argv else 1.0) * d", "sys.argv"),
        ("import sys\nARGS = sys.argv\ndef g_loss(d):\n    return (2.0 if '--hard' in ARGS else 1.0) * d", "sys.argv"),
        (
            "import os\nclass Loss:\n    def __call__(self, d):\n        return float(os.environ['S']) * d\n"
            "g_loss = Loss()",
            "os.environ",
        ),
        ("import os\ndef g_loss(d):\n    return float(os.environb.get(b'S', b'1')) * d", "os.environb"),  # pass 88
        ("import os\ndef g_loss(d):\n    return float(os.getenvb(b'S', b'1')) * d", "os.getenvb"),
        ("import posix\ndef g_loss(d):\n    return float(posix.environ.get(b'S', b'1')) * d", "posix.environ"),
        ("import sys\ndef g_loss(d):\n    return (2.0 if '--hard' in sys.orig_argv else 1.0) * d", "sys.orig_argv"),
        ("import torch\ndef g_loss(d):\n    return torch.ops.aten.sigmoid(d)", "torch.ops"),  # pass 89
        *(
            (
                f"import os, sys, inspect, operator, pkgutil\nfrom os.path import expandvars as xv\nKEY = 'environ'\n"
                "from functools import reduce as R\n"
                f"def g_loss(d):\n    return float({read}) * d",
                said,
            )
            for read, said in (
                ("getattr(os, 'environ')['S']", "'environ'"),  # pass 97: spelled as strings, or read of any object
                ("vars(os)['environ']['S']", "'environ'"),
                ("os.__dict__['environ']['S']", "'environ'"),
                ("operator.attrgetter('environ')(os)['S']", "'environ'"),
                ("pkgutil.resolve_name('os:environ')['S']", "pkgutil.resolve_name"),
                ("inspect.getattr_static(os, 'environ')['S']", "'environ'"),
                ("os.path.expandvars('${S}')", "expandvars"),
                ("getattr(sys, 'modules')['os'].environ['S']", "environ"),
                ("getattr(os, KEY)['S']", "'environ'"),  # pass 98: a global, a default, a tuple holding the name
                ("(lambda key='environ': getattr(os, key))()['S']", "'environ'"),
                ("__import__('functools').reduce(getattr, ('environ',), os)['S']", "__import__"),
                ("xv('${S}')", "os.path.expandvars"),
                ("R(getattr, ('environ',), os)['S']", "'environ'"),  # pass 99: a tuple constant
            )
        ),
    ],
    ids=[
        "default",
        "bound-method",
        "partial",
        "dict",
        "closure",
        "argv",
        "argv-global",
        "method",
        "environb",
        "getenvb",
        "posix-environ",
        "orig-argv",
        "torch-ops",
        *(f"spelled-{n}" for n in ("getattr", "vars", "dict", "attrgetter", "resolve", "static", "expandvars")),
        *(f"spelled-{n}" for n in ("modules", "global", "default", "reduce", "alias", "tuple")),
    ],
)
def test_a_reader_by_run_time_name_is_refused_wherever_the_loss_holds_it(code, said):
    with pytest.raises(GanbenchError, match="reads values by a name known only at run time") as refused:
        _notebook_fingerprint(code)
    assert said in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "body",
    [
        "return {'environ': 1.0, 'argv': 2.0}['environ'] * d",
        "print('argv', float(d.mean()))\n    return d",
        "'Takes no settings from os.environ.'\n    return d",
        "name = 'getenv'\n    return CFG.scale * d",
        "return CFG.environ * d",
    ],
    ids=["dict-key", "log-label", "docstring", "local-name", "field"],
)
def test_a_loss_that_only_says_environ_is_not_refused(body, monkeypatch):
    """Pass 98: the strings pass 97 refused as spellings of a reader were refused in a dict's key, a log label, a
    docstring, a field named so."""
    code = "import dataclasses\n@dataclasses.dataclass\nclass Cfg:\n    scale: float = 1.0\n    environ: float = 1.0\n"
    assert _session_fingerprint(code + f"CFG = Cfg()\ndef g_loss(d):\n    {body}\n", monkeypatch)


@pytest.mark.parametrize(
    "code",
    [
        "import abc\nclass Base(abc.ABC):\n    @abc.abstractmethod\n    def __call__(self, d): ...\n"
        "class Loss(Base):\n    def __call__(self, d):\n        return d\nBase.register(int)\ng_loss = Loss()\n",
        "import typing\n@typing.runtime_checkable\nclass P(typing.Protocol):\n    def __call__(self, d): ...\n"
        "class Loss:\n    def __call__(self, d):\n        return d\nisinstance(Loss(), P)\ng_loss = Loss()\n",
        "from __future__ import annotations\nimport typing\nclass Cfg(typing.NamedTuple):\n    scale: float = 1.0\n"
        "def g_loss(d):\n    return Cfg().scale * d\n",
        "import weakref\n_memo = weakref.WeakKeyDictionary()\nclass K: pass\nKEEP = [K(), K()]\n"
        "def g_loss(d):\n    _memo.setdefault(g_loss, 1.0)\n    return d\n",
    ],
    ids=["abc", "protocol", "forward-ref", "weak-memo"],
)
def test_ordinary_classes_and_weak_memos_are_followed_not_refused(code):
    """Pass 87: an abc.ABC's registry, a NamedTuple's ForwardRefs and a WeakKeyDictionary memo were refused."""
    scope: dict = {"__name__": "notebook"}
    exec(code, scope)  # noqa: S102 - code without a file
    before = fingerprint("p", "1", (scope["g_loss"],))
    for k in scope.get("KEEP", ()):
        scope["_memo"][k] = 2.0  # the memo fills as the loss runs
    scope["g_loss"](1.0) if "_memo" not in scope else scope["_memo"].setdefault(scope["g_loss"], 1.0)
    assert fingerprint("p", "1", (scope["g_loss"],)) == before


def _file_module(tmp_path: Path, monkeypatch, name: str, code: str, folder: str = "") -> object:
    where = tmp_path / folder if folder else tmp_path
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{name}.py").write_text(textwrap.dedent(code))
    monkeypatch.syspath_prepend(str(where))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)


def test_a_class_in_a_file_counts_what_its_methods_read_and_methods_set_at_run_time(tmp_path, monkeypatch):
    """Pass 87: a file class counted its source and class values only: a global SCALE its __call__ read, set by the
    session, and a method replaced at run time kept the run id; os.environ in a method was not refused."""
    module = _file_module(
        tmp_path,
        monkeypatch,
        "fp87_class",
        """
        SCALE = 1.0
        class Loss:
            def factor(self):
                return 1.0
            def __call__(self, d):
                return SCALE * self.factor() * d
        g_loss = Loss()
        """,
    )
    first = fingerprint("p", "1", (module.g_loss,))
    monkeypatch.setattr(module, "SCALE", 50.0)
    second = fingerprint("p", "1", (module.g_loss,))
    monkeypatch.setattr(module.Loss, "factor", lambda self: 50.0)
    assert len({first, second, fingerprint("p", "1", (module.g_loss,))}) == 3
    reader = _file_module(
        tmp_path,
        monkeypatch,
        "fp87_reader",
        "import os\nclass Loss:\n    def __call__(self, d):\n        return float(os.environ['S']) * d\n"
        "g_loss = Loss()\n",
    )
    with pytest.raises(GanbenchError, match=r"Loss.__call__ \(fp87_reader.py\) reads values by a name known only"):
        fingerprint("p", "1", (reader.g_loss,))


def test_wrapping_a_builtin_loss_does_not_lend_it_ganbench_s_exemption(tmp_path, monkeypatch):
    """Pass 87: functools.wraps copies __module__ = ganbench.variants.gan onto the wrapper, whose os.environ read then
    went unrefused (ganbench's own code may find plugins by name)."""
    module = _file_module(
        tmp_path,
        monkeypatch,
        "fp87_wraps",
        """
        import functools, os
        from ganbench.variants.gan import g_loss_nonsaturating
        @functools.wraps(g_loss_nonsaturating)
        def g_loss(d_fake):
            return float(os.environ.get("SCALE", "1")) * g_loss_nonsaturating(d_fake)
        """,
    )
    with pytest.raises(GanbenchError, match=r"reads values by a name known only at run time \(os.environ\)"):
        fingerprint("p", "1", (module.g_loss,))


def test_a_local_module_held_by_a_default_counts_what_the_session_sets_on_it(tmp_path, monkeypatch):
    consts = _file_module(tmp_path, monkeypatch, "fp87_consts", "SCALE = 1.0\n")
    module = _file_module(
        tmp_path,
        monkeypatch,
        "fp87_held",
        "import fp87_consts\ndef g_loss(d, c=fp87_consts):\n    return c.SCALE * d\n",
    )
    first = fingerprint("p", "1", (module.g_loss,))
    monkeypatch.setattr(consts, "SCALE", 50.0)
    assert fingerprint("p", "1", (module.g_loss,)) != first


SCRIPTED = """
import os
import torch
SCALE = float(os.environ.get("FP87_S", "1"))
def _helper(x):
    return x * SCALE
helper = torch.jit.trace(_helper, torch.ones(1))
@torch.jit.script
def scaled(x: torch.Tensor) -> torch.Tensor:
    return helper(x) + 2.5
def g_loss(d):
    return scaled(d)
"""


def test_a_scripted_function_counts_what_it_calls_and_not_where_its_file_is(tmp_path):
    """Pass 87: a scripted function's traced callee's constant kept the run id (its graph, not the inlined one,
    was read); the same file in another folder had another id (nodes carry their file's path)."""
    script = "import sys, warnings\nwarnings.simplefilter('ignore')\nsys.path.insert(0, sys.argv[1])\n"
    script += "import fp87_script\nfrom ganbench.fingerprint import fingerprint\n"
    script += "print(fingerprint('p', '1', (fp87_script.g_loss,)))\n"
    ids = []
    for folder, scale in (("a", "1"), ("b", "1"), ("c", "3")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "fp87_script.py").write_text(SCRIPTED)
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / folder)], capture_output=True, text=True, timeout=300,
            env={**os.environ, "FP87_S": scale},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        ids.append(done.stdout)
    assert ids[0] == ids[1] != ids[2]


def test_a_notebook_attrs_class_is_fingerprinted_alike_in_every_process():
    """Pass 87: attrs writes hash() of a text into a frozen class's __hash__: another id under every hash seed."""
    pytest.importorskip("attrs")
    code = "import attrs\n@attrs.frozen\nclass Cfg:\n    scale: float = 1.0\nCFG = Cfg()\n"
    code += "def g_loss(d):\n    return CFG.scale * d\n"
    assert_alike_in_every_process(code)


RANDOM_LOSS = """
import random
import numpy as np
import torch.nn.functional as F
import ganbench


def g_loss(d_fake):
    return (1.0 + random.random() + float(np.random.rand())) * F.softplus(-d_fake).mean()


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("fp87-random", g_loss=g_loss))
"""


def test_a_loss_drawing_from_python_s_and_numpy_s_random_numbers_gives_one_result_per_run_id(
    fresh_plugins, tmp_path, monkeypatch
):
    """Pass 87: only torch was seeded; a loss's `random.random()` label noise gave two results under one run id.
    The caller's own random numbers go on as if no run came between (pass 88: torch's moved when a run trained)."""
    import random

    import numpy as np

    plugin = _file_module(tmp_path, monkeypatch, "fp87_random", RANDOM_LOSS)
    fresh_plugins.register_plugin(plugin, name="fp87-random")
    spec = ganbench.create_spec("fp87-random", "ring8", steps=5, metrics=("modes",), overrides={"batch_size": 8})
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    expected = random.random(), float(np.random.rand()), float(torch.rand(1))
    metrics = []
    for out in ("one", "two"):
        random.seed(7)
        np.random.seed(7)
        random.random()  # another state each time the run starts
        run_spec(spec, str(tmp_path / out), progress=False)
        metrics.append(json.loads((tmp_path / out / spec.dirname / "metrics.json").read_text()))
    assert metrics[0] == metrics[1]
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    run_spec(spec, str(tmp_path / "three"), progress=False)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected


@pytest.mark.parametrize(
    "change, said",
    [
        (
            lambda mp: mp.setattr(torch, "get_default_dtype", lambda: torch.float64),
            "torch's default dtype is torch.float64",
        ),
        (lambda mp: mp.setattr(torch, "get_default_device", lambda: torch.device("meta")), "default device is meta"),
        (
            lambda mp: mp.setattr(torch.nn.modules.module, "_global_forward_hooks", {0: lambda m, i, o: o * 0.5}),
            "hooks for every torch module or optimizer are registered in this process (_global_forward_hooks",
        ),
    ],
    ids=["dtype", "device", "global-hook"],
)
def test_process_wide_torch_settings_are_refused_in_one_line_before_any_file(tmp_path, monkeypatch, change, said):
    """Pass 87: after torch.set_default_dtype(torch.float64) a run was a dtype traceback with half its folder
    written; pass 88: a global forward hook halving every Linear kept the run id, and the meta device was a
    traceback."""
    spec = ganbench.create_spec("nsgan", "ring8", steps=5)
    change(monkeypatch)
    with pytest.raises(GanbenchError, match=re.escape(said)) as refused:
        run_spec(spec, str(tmp_path / "out"), progress=False)
    assert "\n" not in str(refused.value) and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "code, said",
    [
        (
            "import numpy as np\nclip = np.frompyfunc(lambda v: min(v, 0.5), 1, 1)\ndef g_loss(d):\n    return clip(d)",
            "a numpy ufunc made of a Python function",
        ),
        (
            "import functools\nKEY = functools.cmp_to_key(lambda a, b: a - b * 0.5)\n"
            "def g_loss(d):\n    return sorted(d, key=KEY)",
            "functools.KeyWrapper",
        ),
    ],
    ids=["frompyfunc", "cmp-to-key"],
)
def test_a_python_function_hidden_in_a_c_wrapper_is_refused(code, said):
    """Pass 89: np.frompyfunc's ufunc and cmp_to_key's key were code by name: the function inside, its constants
    and globals were left out (one id for clip at 0.5 and 3.0); numpy's and scipy's own ufuncs are code still."""
    with pytest.raises(GanbenchError, match=re.escape(said)):
        _notebook_fingerprint(code)
    scipy_special = pytest.importorskip("scipy.special")
    _value_fingerprint(scipy_special.expit), _value_fingerprint(np.logaddexp)


@pytest.mark.parametrize(
    "mode, said",
    [
        (lambda: torch.autocast("cpu", dtype=torch.bfloat16), "torch.autocast('cpu')"),
        (torch.no_grad, "gradients off"),
        (lambda: torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t), "saved_tensors_hooks"),
        (lambda: _ScaledLinear(), "a torch mode (tests.test_fingerprint_reach._ScaledLinear)"),
        (lambda: _ScaledAddmm(), "a torch mode (tests.test_fingerprint_reach._ScaledAddmm)"),
        (torch.nn.utils.parametrize.cached, "torch.nn.utils.parametrize.cached()"),
    ],
    ids=["autocast", "no-grad", "saved-tensors-hooks", "function-mode", "dispatch-mode", "parametrize-cached"],
)
def test_a_run_inside_a_torch_mode_is_refused_in_one_line(tmp_path, mode, said):
    """Pass 89: a run inside `with torch.autocast("cpu", dtype=torch.bfloat16)` trained in bfloat16 under the float32
    run's id (a later float32 run was handed its record); under torch.no_grad() it was a traceback. Pass 90: a
    TorchFunctionMode or TorchDispatchMode scaling every linear layer kept the id; inside parametrize.cached() the
    run was a traceback with half a folder written."""
    spec = ganbench.create_spec("nsgan", "ring8", steps=5)
    with mode(), pytest.raises(GanbenchError, match=re.escape(said)) as refused:
        run_spec(spec, str(tmp_path / "out"), progress=False)
    assert "\n" not in str(refused.value) and not (tmp_path / "out").exists()


class _ScaledLinear(torch.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        return out * 1.5 if func is torch.nn.functional.linear else out


class _ScaledAddmm(torch.utils._python_dispatch.TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        return out * 1.5 if func is torch.ops.aten.addmm.default else out


def test_a_run_inside_torch_device_cpu_trains(tmp_path):
    """``with torch.device("cpu")`` is a torch function mode too, one that changes nothing a run computes."""
    spec = ganbench.create_spec("nsgan", "ring8", steps=2, metrics=("modes",), eval_samples=100)
    with torch.device("cpu"):
        assert run_spec(spec, str(tmp_path / "out"), progress=False).status == "completed"


def test_a_module_first_imported_inside_a_loss_counts_by_its_sources(tmp_path, monkeypatch):
    """Pass 90: ``from helpers import penalty`` inside a loss, helpers not imported yet: an edit of helpers.py kept
    the run id, and the edited code's run was handed the old code's record. It is found without being imported."""
    (tmp_path / "fp90_helpers.py").write_text("LAMBDA = 0.0\n")
    monkeypatch.delitem(sys.modules, "fp90_helpers", raising=False)
    lazy = "def g_loss(d):\n    from fp90_helpers import LAMBDA\n    return LAMBDA * d\n"
    module = _file_module(tmp_path, monkeypatch, "fp90_lazy", lazy)
    first = fingerprint("p", "1", (module.g_loss,))
    assert "fp90_helpers" not in sys.modules
    assert fingerprint("p", "1", (module.g_loss,)) == first
    (tmp_path / "fp90_helpers.py").write_text("LAMBDA = 100.0\n")
    assert fingerprint("p", "1", (module.g_loss,)) != first


@pytest.mark.parametrize(
    "body",
    ["from .helpers import penalty\n    return penalty(d)", "from . import helpers\n    return helpers.penalty(d)"],
    ids=["from-dot-module", "from-dot-import-module"],
)
def test_a_relative_import_inside_a_loss_counts_what_the_session_sets(tmp_path, monkeypatch, body):
    """Pass 90: of ``from .helpers import penalty`` inside a loss, a value the session set on helpers kept the run id
    (the absolute spelling counted it)."""
    package = tmp_path / "fp90pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("LAMBDA = 0.0\ndef penalty(d):\n    return LAMBDA * d\n")
    (package / "losses.py").write_text(f"def g_loss(d):\n    {body}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("fp90pkg", "fp90pkg.helpers", "fp90pkg.losses"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    losses, helpers = importlib.import_module("fp90pkg.losses"), importlib.import_module("fp90pkg.helpers")
    first = fingerprint("p", "1", (losses.g_loss,))
    monkeypatch.setattr(helpers, "LAMBDA", 100.0)
    assert fingerprint("p", "1", (losses.g_loss,)) != first


EXTENSION = """#include <Python.h>
static PyObject *scale(PyObject *self, PyObject *x) { return PyNumber_Multiply(x, PyFloat_FromDouble(%s)); }
static PyMethodDef methods[] = {{"scale", scale, METH_O, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fp90fast", "", -1, methods};  /* not its file's */
PyMODINIT_FUNC PyInit_fp90ext(void) { return PyModule_Create(&module); }
"""
EXTENSION_LOSS = """import importlib.util, sys
from fp90ext import scale
spec = importlib.util.spec_from_file_location("fp90ext", sys.argv[1])
beside = importlib.util.module_from_spec(spec)  # as torch's cpp_extension.load does: not in sys.modules
spec.loader.exec_module(beside)
def g_loss(d):
    return scale(d)
def d_loss(d_real, d_fake):
    return beside.scale(d_real)
from ganbench.fingerprint import fingerprint
print(fingerprint("p", "1", (g_loss,)), fingerprint("p", "1", (d_loss,)), sep="\\n")
"""


def test_a_local_c_extension_counts_by_its_built_file(tmp_path):
    """Pass 90: a local extension's functions (StyleGAN2's ops built by torch's cpp_extension.load, an extension built
    in place) counted by name alone, so a rebuilt one kept the run id; pass 91: so did one whose module's name is
    not its file's. Each process below sees one build."""
    import shutil
    import sysconfig

    compiler = shutil.which(sysconfig.get_config_var("CC").split()[0] or "cc")
    if compiler is None:
        pytest.skip("no C compiler here to build a Python extension with")
    built = tmp_path / f"fp90ext{sysconfig.get_config_var('EXT_SUFFIX')}"
    (tmp_path / "loss.py").write_text(EXTENSION_LOSS)

    def ids_with(factor: str) -> list[str]:
        (tmp_path / "fp90ext.c").write_text(EXTENSION % factor)
        include = sysconfig.get_paths()["include"]
        build = [compiler, "-shared", "-fPIC", f"-I{include}", "fp90ext.c", "-o", built.name]
        subprocess.run(build, cwd=tmp_path, check=True)
        ids = subprocess.run(
            [sys.executable, "loss.py", str(built)], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return ids.stdout.splitlines()

    one, three = ids_with("1.0"), ids_with("3.0")
    assert one[0] != three[0] and one[1] != three[1]


def test_a_global_optimizer_hook_is_refused_in_one_line(tmp_path):
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    spec = ganbench.create_spec("nsgan", "ring8", steps=5)
    handle = register_optimizer_step_pre_hook(lambda optimizer, args, kwargs: None)
    try:
        with pytest.raises(GanbenchError, match=r"registered in this process \(_global_optimizer_pre_hooks"):
            run_spec(spec, str(tmp_path / "out"), progress=False)
    finally:
        handle.remove()


def test_a_base_class_in_a_file_counts_what_its_methods_read(tmp_path, monkeypatch):
    """Pass 88: a network subclassing a base of the same file whose forward read a global K kept the run id when a
    session set K, or set a value or a method on the base."""
    module = _file_module(
        tmp_path,
        monkeypatch,
        "fp88_base",
        """
        import torch
        K = 1.0
        class Base(torch.nn.Module):
            SCALE = 1.0
            def forward(self, x):
                return x * K * self.SCALE
        class Child(Base):
            pass
        C = Child()
        def g_loss(d):
            return -C(d).mean()
        """,
    )
    ids = [fingerprint("p", "1", (module.g_loss,))]
    monkeypatch.setattr(module, "K", 5.0)
    ids.append(fingerprint("p", "1", (module.g_loss,)))
    monkeypatch.setattr(module.Base, "SCALE", 5.0)
    ids.append(fingerprint("p", "1", (module.g_loss,)))
    monkeypatch.setattr(module.Base, "forward", lambda self, x: x)
    assert len({*ids, fingerprint("p", "1", (module.g_loss,))}) == 4


def test_what_wrappers_note_as_they_run_and_a_namespace_s_builtins_keep_the_id(monkeypatch):
    """Pass 88: torch.utils.checkpoint's dynamo mark and an autocast's entry state, set at the first call, gave the
    loss another id after it; a namespace from exec or runpy was refused for holding Python's builtins (__import__)."""
    code = """import torch
from torch.utils.checkpoint import checkpoint
def h(x):
    return x * 2
H = torch.autocast("cpu", dtype=torch.bfloat16, enabled=False)(h)
NS = {}
exec("def f(d):\\n    return d", NS)
def g_loss(d):
    return checkpoint(H, d, use_reentrant=False) + NS["f"](d)
"""
    module = types.ModuleType("fp88_wrappers")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(code, vars(module))  # noqa: S102 - code without a file
    before = fingerprint("p", "1", (module.g_loss,))
    module.g_loss(torch.ones(2, requires_grad=True))
    assert fingerprint("p", "1", (module.g_loss,)) == before


def _dist_info(site: Path, name: str, version: str, top: str, *lines: str, encoding: str = "utf-8") -> None:
    """An installed distribution's metadata, as pip writes it (METADATA, top_level.txt), ``lines`` added."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    head = [f"Metadata-Version: 2.1\nName: {name}\n" if name else "Metadata-Version: 2.1\n", f"Version: {version}\n"]
    (info / "METADATA").write_bytes("".join([*head, *(f"{line}\n" for line in lines)]).encode(encoding))
    (info / "top_level.txt").write_text(f"{top}\n")


def _upgrade(site: Path, old: str, new: str) -> None:
    """A hand-made distribution's dist-info moved to another version, as pip replaces it: ``old`` and ``new`` are
    its folder's names without ``.dist-info`` (``name-1.0``)."""
    (site / f"{old}.dist-info").rename(site / f"{new}.dist-info")
    metadata = site / f"{new}.dist-info" / "METADATA"
    metadata.write_text(re.sub("Version: .*", f"Version: {new.rpartition('-')[2]}", metadata.read_text()))


def _printed_json(script: str, path: str) -> dict[str, str]:
    """What a fresh Python process running ``script`` with ``path`` as PYTHONPATH prints, as JSON."""
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)


def _printed_fingerprints(module: str, path: str) -> dict[str, str]:
    """The fingerprint of each function ``g_*`` of ``module``, as a fresh Python process with ``path`` as PYTHONPATH
    prints them."""
    script = f"import json, {module}\nfrom ganbench.fingerprint import fingerprint\nprint(json.dumps({{k: "
    script += f"fingerprint('p', '1', (getattr({module}, k),)) for k in dir({module}) if k.startswith('g_')}}))\n"
    return _printed_json(script, path)


INSTALLED_IDS = """
import functools, json, sys
import fp92cv, fp92loose, fp92pc
from ganbench.fingerprint import fingerprint
def local(d):
    return fp92loose.K * fp92cv.K * d
print(json.dumps({k: fingerprint("p", "1", (v,)) for k, v in
      {"local": local, "property": fp92pc.P(), "wrapped": fp92pc.W(), "plain": fp92pc.g}.items()}))
"""
INSTALLED_PLUGIN = """
import functools
import fp92nx
class P:
    @property
    def k(self):
        return fp92nx.K
class W:
    @functools.wraps(lambda d: d)
    def __call__(self, d):
        return fp92nx.K * d
def g(d):
    return d
"""


def test_installed_metadata_of_every_kind_counts_or_is_left_out_without_a_traceback(tmp_path):
    """Pass 92: one distribution with Latin-1 metadata, or none of its name, anywhere on the path was a traceback of
    every run id that looked distributions up; a module in site-packages that no distribution holds counted as
    Python's, so an edit of it kept the id; of two distributions holding one package (opencv-python and -contrib,
    one over the other) the first listed counted; a plugin's extras and other platforms' requirements counted (an
    optional package installed moved its id); an installed class's property and wrapped method did not count
    the library they read."""
    site = tmp_path / "site-packages"
    _dist_info(site, "fp92-junk", "1.0", "fp92junk", "Author: Jos\xe9", encoding="latin-1")
    _dist_info(site, "", "1.0", "fp92noname")
    _dist_info(site, "fp92-cva", "1.0", "fp92cv")
    _dist_info(site, "fp92-nx", "1.0", "fp92nx")
    _dist_info(site, "fp92-pc", "1.0", "fp92pc", "Requires-Dist: fp92-opt; extra == 'viz'",
               "Requires-Dist: fp92-win; sys_platform == 'win32'")  # fmt: skip
    for module, text in (("fp92cv", "K = 1.0\n"), ("fp92nx", "K = 1.0\n"), ("fp92pc", INSTALLED_PLUGIN)):
        (site / module).mkdir()
        (site / module / "__init__.py").write_text(text)
    (site / "fp92loose.py").write_text("K = 0.0\n")

    def ids() -> dict[str, str]:
        return _printed_json(INSTALLED_IDS, os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))

    first = ids()
    assert ids() == first
    (site / "fp92loose.py").write_text("K = 100.0\n")
    loose = ids()
    assert loose["local"] != first["local"] and loose["plain"] == first["plain"]
    _dist_info(site, "fp92-cvb", "2.0", "fp92cv")  # installed over fp92-cva
    both = ids()
    assert both["local"] != loose["local"]
    for optional in ("fp92-opt", "fp92-win"):
        _dist_info(site, optional, "1.0", optional.replace("-", ""))
    assert ids() == both
    _upgrade(site, "fp92_nx-1.0", "fp92_nx-2.0")
    upgraded = ids()
    assert upgraded["property"] != both["property"] and upgraded["wrapped"] != both["wrapped"]
    assert upgraded["plain"] == both["plain"] and upgraded["local"] == both["local"]


def test_every_distribution_that_holds_what_runs_counts_where_python_loads_it_from(tmp_path):
    """Pass 93: each of these kept a run id when the code that runs changed (a stale record): a fork installed over
    a package a distribution is named after (tb-nightly over tensorboard's folder); a leftover egg-info beside pip's
    dist-info (its old version was read); a copy no distribution holds that shadows an installed one (counted as the
    shadowed distribution); a requirement's extra (``helper[fast]``); an editable requirement and a user's module an
    installed plugin reads (by version, or not at all); the versions of what ganbench requires in a built-in's id
    (torch's upgrade kept every built-in's id); a venv's installed functions counted as Python's (their folder's
    parent is a root too). An installed plugin's loss reading ``os.environ`` is refused as a local one is; a
    distribution whose entry points cannot be read is named, not "reinstall torch"."""
    site, shadow, src = tmp_path / "site-packages", tmp_path / "shadow" / "site-packages", tmp_path / "src"
    for folder, text in (
        (site / "fp93a", "K = 1.0\ndef g(d):\n    return K * d\n"),
        (site / "fp93v", "K = 1.0\ndef g(d):\n    return K * d\n"),
        (site / "fp93s", "K = 1.0\ndef g(d):\n    return K * d\n"),
        (shadow / "fp93s", "K = 2.0\ndef g(d):\n    return K * d\n"),
        (site / "fp93ctl", "def g(d):\n    return d\n"),
        (src / "fp93e", "K = 1.0\n"),
        (site / "fp93x", "def g(d):\n    return d\n"),
        (site / "fp93u", "import fp93user\ndef g(d):\n    return fp93user.K * d\n"),
        (site / "fp93p", INSTALLED_PLUGIN_93),
    ):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
    (site / "fp93p" / "helpers.py").write_text("import fp93e\ndef scale():\n    return fp93e.K\n")
    (src / "fp93user.py").write_text("K = 1.0\n")
    _dist_info(site, "fp93a", "1.0", "fp93a")
    (site / "fp93a-1.0.dist-info" / "RECORD").write_text("fp93a/__init__.py,,\n")  # named after what it holds
    _dist_info(site, "fp93a-nightly", "2.0", "fp93a")
    _dist_info(site, "fp93v", "2.0", "fp93v")
    (site / "fp93v-0.9-py3.11.egg-info").mkdir()
    (site / "fp93v-0.9-py3.11.egg-info" / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: fp93v\nVersion: 0.9\n")
    _dist_info(site, "fp93s", "1.0", "fp93s")
    _dist_info(site, "fp93ctl", "1.0", "fp93ctl")
    _dist_info(site, "fp93h", "1.0", "fp93h", "Requires-Dist: fp93f; extra == 'fast'")
    _dist_info(site, "fp93f", "1.0", "fp93f")
    _dist_info(site, "fp93e", "1.0", "fp93e")
    (site / "fp93e-1.0.dist-info" / "direct_url.json").write_text(
        json.dumps({"url": src.as_uri(), "dir_info": {"editable": True}})
    )
    _dist_info(site, "fp93x", "1.0", "fp93x", "Requires-Dist: fp93h[fast]")
    _dist_info(site, "fp93u", "1.0", "fp93u")
    _dist_info(site, "fp93p", "1.0", "fp93p", "Requires-Dist: fp93e")
    (site / "fp93p-1.0.dist-info" / "entry_points.txt").write_text("[ganbench]\nfp93p = fp93p\n")
    path = os.pathsep.join([str(shadow), str(site), str(src), os.environ.get("PYTHONPATH", "")])

    def ids() -> dict[str, str]:
        return _printed_json(INSTALLED_IDS_93, path)

    first = ids()
    assert first["refused"].startswith("g_env (__init__.py) reads values by a name known only at run time"), first
    assert first["venv"].startswith("library torch "), first["venv"]
    assert ids() == first
    upgrades = (("fp93a_nightly-2.0", "fp93a_nightly-3.0"), ("fp93v-2.0", "fp93v-3.0"), ("fp93f-1.0", "fp93f-2.0"))
    for old, new in upgrades:  # each key's code reaches one of these changes, no other
        _upgrade(site, old, new)
    (shadow / "fp93s" / "__init__.py").write_text("K = 3.0\ndef g(d):\n    return K * d\n")
    (src / "fp93e" / "__init__.py").write_text("K = 5.0\n")
    (src / "fp93user.py").write_text("K = 5.0\n")
    _dist_info(site, "scipy", "0.0.1", "fp93nothing")  # found before the real scipy: another version of it
    changed = ids()
    assert changed["control"] == first["control"]
    for key in ("fork", "egg", "shadow", "extra", "editable", "user", "builtin"):
        assert changed[key] != first[key], key
    (site / "fp93junk-1.0.dist-info").mkdir()
    (site / "fp93junk-1.0.dist-info" / "entry_points.txt").write_text("[ganbench]\nnoequals\n")
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "ganbench"), "list"], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": path}, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 2 and "Traceback" not in listed.stderr, listed.stderr
    assert "the entry points of " in listed.stderr and "fp93junk-1.0.dist-info" in listed.stderr, listed.stderr


PRINTED_WITH_ITS_REFUSAL = """
try:
    fingerprint("p", "1", (refused,))
    found["refused"] = ""
except GanbenchError as error:
    found["refused"] = str(error)
print(json.dumps(found))
"""
"""The end of a script that prints the fingerprints it ``found`` and why the function ``refused`` was refused."""
INSTALLED_PLUGIN_93 = """
import os
from fp93p import helpers
def g_edit(d):
    return helpers.scale() * d
def g_env(d):
    return float(os.environ.get("FP93", "1")) * d
"""
INSTALLED_IDS_93 = (
    """
import json
import torch.nn.functional
import fp93a, fp93ctl, fp93p, fp93s, fp93u, fp93v, fp93x
from ganbench.errors import GanbenchError
from ganbench.fingerprint import _Hasher, fingerprint
from ganbench.resolve import create_spec
found = {k: fingerprint("p", "1", (v,)) for k, v in {"fork": fp93a.g, "egg": fp93v.g, "shadow": fp93s.g,
         "control": fp93ctl.g, "extra": fp93x.g, "editable": fp93p.g_edit, "user": fp93u.g}.items()}
found["builtin"] = create_spec("nsgan", "ring8", network="mlp", steps=5).code["variant"]
found["venv"] = _Hasher().bytes_of(torch.nn.functional.dropout)[:40].decode("latin-1")
refused = fp93p.g_env
"""
    + PRINTED_WITH_ITS_REFUSAL
)


def test_a_distribution_upgraded_in_a_running_session_is_read_again(tmp_path, monkeypatch):
    """Pass 93: `pip install -U` in a running session, then `importlib.reload`, and the run was handed the old
    version's record: what the distributions' metadata said was remembered for the whole process."""
    from ganbench import installed

    site = tmp_path / "site-packages"
    _dist_info(site, "fp93r", "1.0", "fp93r")
    (site / "fp93r").mkdir()
    (site / "fp93r" / "__init__.py").write_text("K = 1.0\n")
    monkeypatch.syspath_prepend(str(site))
    assert installed.holders_version("fp93r", str(site / "fp93r")) == "fp93r 1.0"
    _upgrade(site, "fp93r-1.0", "fp93r-2.0")
    assert installed.holders_version("fp93r", str(site / "fp93r")) == "fp93r 2.0"


def test_an_installed_plugin_s_helpers_are_followed_as_a_local_plugin_s(tmp_path):
    """Pass 94: an installed plugin's loss calling its own helper kept its run id when the helper read os.environ (not
    refused), a user's module, or a library upgraded beside a leftover egg-info of an older version earlier on the
    path; an unowned part of a namespace imported in a loss's body counted as the namespace's one distribution; an
    editable plugin named otherwise than its package (hatchling's: no top_level.txt) counted none of its
    requirements. Pass 95: an object of the plugin's own class and its submodule's constant were a library's state."""
    site, old, src, project = (tmp_path / name for name in ("site-packages", "old", "src", "project"))
    for folder, text in (
        (site / "fp94p", INSTALLED_HELPERS_94),
        (site / "fp94lib", "K = 1.0\n"),
        (site / "fp94ns" / "other", "K = 1.0\n"),
        (site / "fp94ns" / "gan", "K = 1.0\n"),
        (src / "fp94local", "def g(d):\n    from fp94ns.gan import K\n    return K * d\n"),
        (project / "fp94ed", "def g(d):\n    return d\n"),
    ):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
    (src / "fp94user.py").write_text("K = 1.0\n")
    (site / "fp94p" / "consts.py").write_text("K = 1.0\n")
    _dist_info(site, "fp94p", "1.0", "fp94p", "Requires-Dist: fp94lib")
    (site / "fp94p-1.0.dist-info" / "entry_points.txt").write_text("[ganbench]\nfp94p = fp94p\n")
    _dist_info(site, "fp94lib", "1.0", "fp94lib")
    (old / "fp94lib.egg-info").mkdir(parents=True)  # `setup.py develop` of an old checkout, on the path first
    (old / "fp94lib.egg-info" / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: fp94lib\nVersion: 0.9\n")
    _dist_info(site, "fp94ns-other", "1.0", "fp94ns")
    (site / "fp94ns_other-1.0.dist-info" / "RECORD").write_text("fp94ns/other/__init__.py,,\n")
    _dist_info(site, "fp94-editable", "1.0", "fp94ed", "Requires-Dist: fp94dep")
    (site / "fp94_editable-1.0.dist-info" / "top_level.txt").unlink()
    (site / "fp94_editable-1.0.dist-info" / "direct_url.json").write_text(
        json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}})
    )
    _dist_info(site, "fp94dep", "1.0", "fp94dep")
    path = os.pathsep.join([str(old), str(site), str(src), str(project), os.environ.get("PYTHONPATH", "")])

    def ids() -> dict[str, str]:
        return _printed_json(INSTALLED_IDS_94, path)

    first = ids()
    assert first["refused"].startswith("_scale (__init__.py) reads values by a name known only at run time"), first
    assert first["consts set"] != first["consts"]  # a plugin's own module's value (pass 95)
    (src / "fp94user.py").write_text("K = 5.0\n")
    for old_name, new_name in (("fp94lib-1.0", "fp94lib-2.0"), ("fp94dep-1.0", "fp94dep-2.0")):
        _upgrade(site, old_name, new_name)
    (site / "fp94lib" / "__init__.py").write_text("K = 5.0\n")
    (site / "fp94ns" / "gan" / "__init__.py").write_text("K = 5.0\n")
    changed = ids()
    for key in ("user", "library", "namespace", "editable", "settings"):  # settings: its object, made of the user's
        assert changed[key] != first[key], key  # module as it loaded (pass 95)


INSTALLED_HELPERS_94 = """
import os
import fp94lib
import fp94user
from fp94p import consts
class Settings:
    def __init__(self, k):
        self.k = k
SETTINGS = Settings(fp94user.K)
def g_settings(d):
    return SETTINGS.k * d
def g_consts(d):
    return consts.K * d
def _scale():
    return float(os.environ.get("FP94", "1"))
def _user():
    return fp94user.K
def _lib():
    return fp94lib.K
def g_env(d):
    return _scale() * d
def g_user(d):
    return _user() * d
def g_lib(d):
    return _lib() * d
"""
INSTALLED_IDS_94 = (
    """
import json
import fp94ed, fp94local, fp94p
from ganbench.errors import GanbenchError
from ganbench.fingerprint import fingerprint
found = {k: fingerprint("p", "1", (v,)) for k, v in {"user": fp94p.g_user, "library": fp94p.g_lib,
         "namespace": fp94local.g, "editable": fp94ed.g, "settings": fp94p.g_settings}.items()}
found["consts"] = fingerprint("p", "1", (fp94p.g_consts,))
fp94p.consts.K = 5.0  # set in a session
found["consts set"] = fingerprint("p", "1", (fp94p.g_consts,))
refused = fp94p.g_env
"""
    + PRINTED_WITH_ITS_REFUSAL
)


@pytest.mark.parametrize("inner", ["", "tools"], ids=["one-deep", "two-deep"])
def test_a_library_sharing_a_namespace_with_a_plugin_counts_as_a_library(tmp_path, inner):
    """Pass 96: a plain library's part of a namespace package (``fp97ns.utils``) beside an installed plugin's part
    (``fp97ns.gan``) was taken for plugin code, so a loss calling its function that reads os.environ was refused
    (pass 97: ``fp97ns.tools.utils`` beside ``fp97ns.tools.gan`` still was); the plugin's own part is still followed
    as a plugin's."""
    site = tmp_path / "site-packages"
    package = ".".join(["fp97ns", inner] if inner else ["fp97ns"])
    library = "import os\ndef scale():\n    return float(os.environ.get('FP97', '1'))\n"
    for part, text in (("gan", NAMESPACE_PLUGIN_96 % package), ("utils", library)):
        folder = site.joinpath(*package.split("."), part)
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
        _dist_info(site, f"fp97ns-{part}", "1.0", "fp97ns")
        info = site / f"fp97ns_{part}-1.0.dist-info"
        (info / "RECORD").write_text(f"{folder.relative_to(site).as_posix()}/__init__.py,,\n{info.name}/METADATA,,\n")
    (site / "fp97ns_gan-1.0.dist-info" / "entry_points.txt").write_text(f"[ganbench]\nfp97 = {package}.gan\n")
    script = f"import json\nfrom {package} import gan\nfrom ganbench.errors import GanbenchError\n"
    script += "from ganbench.fingerprint import fingerprint\nfound = {'library': fingerprint('p', '1', (gan.g,))}\n"
    script += "refused = gan.g_env\n" + PRINTED_WITH_ITS_REFUSAL
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    first = _printed_json(script, path)
    assert first["refused"].startswith("g_env (__init__.py) reads values by a name known only at run time"), first
    _upgrade(site, "fp97ns_utils-1.0", "fp97ns_utils-2.0")
    assert _printed_json(script, path)["library"] != first["library"]  # the library's version counts


NAMESPACE_PLUGIN_96 = """
import os
from %s import utils
def g(d):
    return utils.scale() * d
def g_env(d):
    return float(os.environ.get("FP97", "1")) * d
"""


def test_what_installed_libraries_require_counts_where_python_loads_it_from(tmp_path):
    """Pass 97: an installed library's requirement kept the run id when edited where Python loads it from: an
    editable install without top_level.txt (hatchling's, flit's: a .pth naming its folder), a working copy ahead of
    the installed one on the path, the editable requirement of a namespace part's library; and a package shipped
    without sources (.pyc only), one in a zip imported in a loss's body, a value five modules deep."""
    site, project, work, src = (tmp_path / name for name in ("site-packages", "project", "work", "src"))
    uses = "from . import core\ndef apply(d):\n    return core.apply(d)\n"
    for folder, text in (
        (site / "fp98lib", uses),
        (site / "fp98ns" / "util", uses),
        (site / "fp98m", "K = 1.0\n"),
        (project / "fp98h", "K = 1.0\n"),
        (work / "fp98m", "K = 1.0\n"),
        (src / "fp98deep", "from . import a\n"),
        (src / "fp98deep" / "a", "from . import b\n"),
        (src / "fp98deep" / "a" / "b", "from . import c\n"),
        (src / "fp98deep" / "a" / "b" / "c", "from . import d\n"),
        (src / "fp98deep" / "a" / "b" / "c" / "d", READ_AS_IT_LOADS),
    ):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
    (site / "fp98lib" / "core.py").write_text("import fp98h, fp98m\ndef apply(d):\n    return fp98h.K * fp98m.K * d\n")
    (site / "fp98ns" / "util" / "core.py").write_text("import fp98h\ndef apply(d):\n    return fp98h.K * d\n")
    _dist_info(site, "fp98lib", "1.0", "fp98lib", "Requires-Dist: fp98h", "Requires-Dist: fp98m")
    _dist_info(site, "fp98ns-util", "1.0", "fp98ns", "Requires-Dist: fp98h")
    (site / "fp98ns_util-1.0.dist-info" / "RECORD").write_text("fp98ns/util/__init__.py,,\nfp98ns/util/core.py,,\n")
    _dist_info(site, "fp98m", "1.0", "fp98m")
    _dist_info(site, "fp98h", "1.0", "fp98h")
    (site / "fp98h-1.0.dist-info" / "top_level.txt").unlink()
    (site / "fp98h-1.0.dist-info" / "direct_url.json").write_text(
        json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}})
    )
    (site / "fp98pyc").mkdir()
    (site / "fp98pyc" / "__init__.py").write_text("K = 1.0\n")
    (src / "fp98local.py").write_text(LOCAL_USES_97)

    def build(scale: str) -> None:
        import py_compile
        import zipfile

        for path in (project / "fp98h", work / "fp98m"):
            (path / "__init__.py").write_text(f"K = {scale}\n")
        (src / "fp98deep" / "a" / "b" / "c" / "d" / "k.json").write_text(scale)  # data: the sources stay
        (site / "fp98pyc" / "__init__.py").write_text(f"K = {scale}\n")
        py_compile.compile(str(site / "fp98pyc" / "__init__.py"), cfile=str(site / "fp98pyc" / "__init__.pyc"))
        (site / "fp98pyc" / "__init__.py").unlink()
        with zipfile.ZipFile(tmp_path / "fp98zb.zip", "w") as made:
            made.writestr("fp98zb/__init__.py", f"K = {scale}\n")

    path = os.pathsep.join([str(work), str(site), str(project), str(src), str(tmp_path / "fp98zb.zip")])
    path += os.pathsep + os.environ.get("PYTHONPATH", "")
    build("1.0")
    first = _printed_fingerprints("fp98local", path)
    build("50.0")
    changed = _printed_fingerprints("fp98local", path)
    assert set(first) == {"g_deep", "g_lib", "g_namespace", "g_sourceless", "g_zip"}
    for key in first:
        assert changed[key] != first[key], key


def test_a_copy_of_a_requirement_no_distribution_holds_counts_by_its_contents(tmp_path):
    """Pass 98: an installed library's requirement kept the run id when Python loads a copy no distribution holds: a
    zip ahead on the path, a working copy of one not installed at all, an editable install (no top_level.txt) the
    library imports in a function's body, an editable namespace part; a zip in site-packages no distribution holds."""
    site, work, lazy, split = (tmp_path / name for name in ("site-packages", "work", "lazy", "split"))
    for folder, text in (
        (site / "fp99lib", "from . import core\ndef apply(d):\n    return core.apply(d)\n"),
        (site / "fp99z", "K = 1.0\n"),
        (site / "fp99cn" / "util", "from fp99cn import helper\ndef apply(d):\n    return helper.K * d\n"),
        (work / "fp99u", "K = 1.0\n"),
        (lazy / "src" / "fp99lazy", "K = 1.0\n"),
        (split / "fp99cn" / "helper", "K = 1.0\n"),
    ):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
    (site / "fp99lib" / "core.py").write_text(
        "import fp99z, fp99u\ndef apply(d):\n    import fp99lazy\n    return fp99z.K * fp99u.K * fp99lazy.K * d\n"
    )
    _dist_info(site, "fp99lib", "1.0", "fp99lib", *(f"Requires-Dist: {n}" for n in ("fp99z", "fp99u", "fp99lazy")))
    _dist_info(site, "fp99z", "1.0", "fp99z")
    _dist_info(site, "fp99cn-util", "1.0", "fp99cn", "Requires-Dist: fp99cn-helper")
    (site / "fp99cn_util-1.0.dist-info" / "RECORD").write_text("fp99cn/util/__init__.py,,\n")
    for name, project in (("fp99lazy", lazy), ("fp99cn-helper", split)):
        _dist_info(site, name, "1.0", "")
        info = site / f"{name.replace('-', '_')}-1.0.dist-info"
        (info / "top_level.txt").unlink()  # hatchling's: a .pth names the folder
        (info / "direct_url.json").write_text(json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}}))
    (work / "fp99local.py").write_text(LOCAL_USES_98)

    def build(scale: str) -> None:
        import zipfile

        for folder in (work / "fp99u", lazy / "src" / "fp99lazy", split / "fp99cn" / "helper"):
            (folder / "__init__.py").write_text(f"K = {scale}\n")
        for archive, package in ((tmp_path / "fp99z.zip", "fp99z"), (site / "fp99sp.zip", "fp99sp")):
            with zipfile.ZipFile(archive, "w") as made:
                made.writestr(f"{package}/__init__.py", f"K = {scale}\n")

    folders = [tmp_path / "fp99z.zip", work, site, site / "fp99sp.zip", lazy / "src", split]
    path = os.pathsep.join([*map(str, folders), os.environ.get("PYTHONPATH", "")])
    build("1.0")
    first = _printed_fingerprints("fp99local", path)
    build("50.0")
    changed = _printed_fingerprints("fp99local", path)
    assert set(first) == {"g_copies", "g_namespace", "g_zip"}
    assert [key for key in first if changed[key] == first[key]] == []


LOCAL_USES_98 = """
import fp99lib, fp99sp
from fp99cn import util
def g_copies(d):
    return fp99lib.apply(d)
def g_zip(d):
    return fp99sp.K * d
def g_namespace(d):
    return util.apply(d)
"""
READ_AS_IT_LOADS = "import json, os\nK = json.load(open(os.path.join(os.path.dirname(__file__), 'k.json')))\n"
LOCAL_USES_97 = """
import fp98deep, fp98lib, fp98pyc
from fp98ns import util
def g_lib(d):
    return fp98lib.apply(d)
def g_namespace(d):
    return util.apply(d)
def g_sourceless(d):
    return fp98pyc.K * d
def g_zip(d):
    import fp98zb
    return fp98zb.K * d
def g_deep(d):
    return fp98deep.a.b.c.d.K * d
"""


def test_a_held_module_s_values_that_no_code_reads_keep_the_run_id(tmp_path):
    """Pass 99: a module of the user's held by an object counted every value it held, so one it computed at import
    and no code reads (time.time()) gave the same code another run id in every process."""
    (tmp_path / "fp99vary.py").write_text("import time\nSTARTED = time.time()\nSCALE = 1.0\n")
    (tmp_path / "fp99loss.py").write_text(
        "import fp99vary\nclass Holder:\n    def __init__(self, m):\n        self.cfg = m\n"
        "    def __call__(self, d):\n        return self.cfg.SCALE * d\ng_loss = Holder(fp99vary)\n"
    )
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    assert _printed_fingerprints("fp99loss", path) == _printed_fingerprints("fp99loss", path)


def test_a_package_imported_from_a_zip_counts_by_the_archive(tmp_path):
    """Pass 96: a plugin in a zip (a zipped egg, a .whl on the path) had no sources to list, so a rebuild of it at the
    same version kept its run id."""
    import zipfile

    def archive(scale: str) -> str:
        path = tmp_path / f"fp96z-{scale}.zip"
        with zipfile.ZipFile(path, "w") as made:
            made.writestr("fp96z/__init__.py", "def g_zip(d):\n    from .helpers import K\n    return K * d\n")
            made.writestr("fp96z/helpers.py", f"K = {scale}\n")
        return str(path)

    path = os.environ.get("PYTHONPATH", "")
    one, two = (_printed_fingerprints("fp96z", os.pathsep.join([archive(s), path]))["g_zip"] for s in ("1.0", "900.0"))
    assert one != two

"""RunSpec, Budget and typed `--set` overrides."""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import torch

import ganbench
from ganbench.errors import BudgetError, GanbenchError, OptionError, UnknownNameError
from ganbench.options import with_options
from ganbench.spec import parse_set


def test_run_id_is_stable_and_depends_on_everything_that_changes_the_result():
    base = ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=100)
    assert base.run_id == ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=100).run_id
    others = [
        ganbench.create_spec("wgan-gp", "grid25", seed=1, steps=100),
        ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=101),
        ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=100, overrides={"gp_lambda": 5}),
        ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=100, overrides={"network.width": 64}),
        ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=100, overrides={"dataset.sigma": 0.1}),
        ganbench.create_spec("wgan-gp", "grid25", seed=0, steps=100, network="pacgan-mlp"),
        ganbench.create_spec("wgan-gp", "ring8", seed=0, steps=100),
        ganbench.create_spec("wgan", "grid25", seed=0, steps=100),
    ]
    assert len({s.run_id for s in others} | {base.run_id}) == len(others) + 1


def test_the_order_metrics_are_named_in_is_not_another_run():
    """Pass 77: `-m modes,frechet,prdc` and `-m frechet,modes,prdc` were two run ids, two trainings and two rows of
    one computation. The dataset's own metrics keep its order; others follow by name."""
    orders = (["modes", "frechet", "prdc"], ["prdc", "frechet", "modes"], ["frechet", "modes", "prdc", "modes"])
    specs = [ganbench.create_spec("nsgan", "ring8", steps=10, metrics=m) for m in orders]
    assert {s.run_id for s in specs} == {ganbench.create_spec("nsgan", "ring8", steps=10).run_id}
    assert specs[1].eval.metrics == ("modes", "frechet", "prdc")
    mixed = [ganbench.create_spec("nsgan", "ring8", steps=10, metrics=m) for m in (["kid", "modes"], ["modes", "kid"])]
    assert mixed[0].run_id == mixed[1].run_id and mixed[0].eval.metrics == ("modes", "kid")
    outputs = [("class_accuracy", "fid_classifier"), ("fid_classifier", "class_accuracy")]  # fid's, class-accuracy's
    images = [ganbench.create_spec("cgan", "digits", steps=10, metrics=list(m)) for m in outputs]
    assert images[0].run_id == images[1].run_id and images[0].eval.metrics == ("fid", "class-accuracy")


def test_a_metric_named_by_its_outputs_is_the_same_run():
    """Pass 78: `-m prdc`, `-m precision_raw,recall_raw,density_raw,coverage_raw` and `-m prdc,precision_raw` compute
    the same four outputs, and were three run ids, three trainings and three rows."""
    spellings = (["prdc"], ["precision_raw", "recall_raw", "density_raw", "coverage_raw"], ["prdc", "precision_raw"])
    specs = [ganbench.create_spec("nsgan", "ring8", steps=10, metrics=m) for m in spellings]
    assert {s.run_id for s in specs} == {specs[0].run_id} and specs[1].eval.metrics == ("prdc",)
    assert ganbench.create_spec("nsgan", "ring8", steps=10, metrics=["modes", "frechet", "prdc"]).run_id == (
        ganbench.create_spec("nsgan", "ring8", steps=10).run_id
    )


def test_spec_round_trips_through_json():
    spec = ganbench.create_spec("pacgan3", "ring8", seed=4, steps=7, max_seconds=3.5, overrides={"lr_d": "1e-3"})
    again = ganbench.RunSpec.from_dict(spec.to_dict())
    assert again == spec and again.run_id == spec.run_id


def test_overrides_are_type_checked_and_recorded():
    spec = ganbench.create_spec(
        "wgan-gp",
        "grid25",
        steps=10,
        overrides={"lr_d": "1e-3", "n_critic": "3", "betas": "0.0,0.99", "spectral_norm": "true"},
    )
    assert spec.variant_options["lr_d"] == 1e-3
    assert spec.variant_options["n_critic"] == 3
    assert spec.variant_options["betas"] == [0.0, 0.99]
    assert spec.variant_options["spectral_norm"] is True


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"lr": "1e-3"}, "has no option 'lr'"),
        ({"n_critic": "2.5"}, "must be int"),
        ({"spectral_norm": "maybe"}, "must be bool"),
        ({"betas": "0.5"}, "needs 2 values"),
        ({"optimizer": "sgd"}, "must be one of adam, rmsprop"),
        ({"network.widht": "3"}, "network 'mlp' has no option 'widht'"),
        ({"dataset.sigma": "wide"}, "must be float"),
        ({"n_critic": 0}, "must be >= 1 and <= 1000, not 0"),
        ({"betas": "0.5,1.5"}, "must be >= 0 and < 1"),
        ({"lr_d": "inf"}, "must be a finite number"),
        ({"gp_lambda": "nan"}, "must be a finite number"),
        ({"gp_lambda": -10}, "must be >= 0"),
        ({"network.width": 0}, "network 'mlp' option 'width' must be >= 1"),
        ({"dataset.sigma": 0}, "dataset 'grid25' option 'sigma' must be > 0"),
        ({"optim.lr": 1}, "unknown option group"),
    ],
)
def test_bad_overrides_name_the_problem(overrides, fragment):
    with pytest.raises(OptionError, match=fragment.replace("(", r"\(")):
        ganbench.create_spec("wgan-gp", "grid25", steps=10, overrides=overrides)


@pytest.mark.parametrize("steps", [0, -5, 2.5, "10", True])
def test_budget_steps_must_be_a_positive_integer(steps):
    with pytest.raises(BudgetError, match="positive integer"):
        ganbench.Budget(steps)


@pytest.mark.parametrize("seconds", [0, -1.0, "5", math.inf, math.nan])
def test_budget_seconds_must_be_positive_and_finite(seconds):
    with pytest.raises(BudgetError, match="positive finite number"):
        ganbench.Budget(10, seconds)


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean wgan-gp"):
        ganbench.create_spec("wgan_gp", "grid25", steps=1)
    with pytest.raises(UnknownNameError, match="unknown dataset 'grid52'.*grid25"):
        ganbench.create_spec("wgan", "grid52", steps=1)
    with pytest.raises(UnknownNameError, match="unknown network"):
        ganbench.create_spec("wgan", "grid25", network="mpl", steps=1)
    with pytest.raises(UnknownNameError, match="unknown metric 'mode'"):
        ganbench.create_spec("wgan", "grid25", metrics=("mode",), steps=1)


def test_parse_set_keeps_values_as_text():
    assert parse_set(["lr_d=1e-4", " dataset.sigma = 0.1 "]) == {"lr_d": "1e-4", "dataset.sigma": "0.1"}
    with pytest.raises(OptionError, match="KEY=VALUE"):
        parse_set(["lr_d"])


def test_variants_are_frozen_dataclasses_that_replace_makes_new_ones():
    nsgan = ganbench.get_variant("nsgan")
    mine = dataclasses.replace(nsgan, name="mine", lr_d=1e-4)
    assert mine.lr_d == 1e-4 and mine.d_loss is nsgan.d_loss and nsgan.name == "nsgan"
    with pytest.raises(dataclasses.FrozenInstanceError):
        nsgan.lr_d = 1.0
    assert with_options(nsgan, {"lr_g": 3}, "v").lr_g == 3.0


PROBE = """
import ganbench
import torch.nn.functional as F


def d_loss(d_real, d_fake):
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def g_loss(d_fake):
    return {g_loss}


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("probe-v", d_loss=d_loss, g_loss=g_loss))
"""


def test_a_variant_whose_code_changed_gets_a_new_run_id_and_trains_again(fresh_plugins, tmp_path, monkeypatch):
    """The same plugin module, edited between two runs from the minimax loss to the non-saturating one:
    the second run must not be handed the first one's record."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "probe_plugin.py"
    module.write_text(PROBE.format(g_loss="-F.softplus(d_fake).mean()"))
    plugin = importlib.import_module("probe_plugin")
    fresh_plugins.register_plugin(plugin, name="probe")
    options = dict(variant="probe-v", dataset="ring8", network="mlp", steps=5, out=tmp_path / "out")
    first = ganbench.run(**options)
    fresh_plugins.unregister_plugin("probe")
    module.write_text(PROBE.format(g_loss="F.softplus(-d_fake).mean()"))  # the plugin, upgraded
    plugin = importlib.reload(sys.modules["probe_plugin"])
    fresh_plugins.register_plugin(plugin, name="probe")
    second = ganbench.run(**options)
    assert second.run_id != first.run_id and second.spec["code"]["variant"] != first.spec["code"]["variant"]
    assert second.spec["code"]["network"] == first.spec["code"]["network"]
    assert len(list((tmp_path / "out").glob("*/record.json"))) == 2
    table = ganbench.load_results(tmp_path / "out")
    assert sorted(table["setting"].str.startswith("code.variant=")) == [True, True]  # two rows, told apart


def test_a_loss_made_with_partial_is_fingerprinted_by_its_function_and_arguments():
    import functools

    from ganbench.fingerprint import fingerprint
    from ganbench.variants.gan import d_loss_bce, g_loss_nonsaturating

    def scaled(d_fake, scale):
        return scale * g_loss_nonsaturating(d_fake)

    one, two = (fingerprint("p", "1", (d_loss_bce, functools.partial(scaled, scale=s))) for s in (1.0, 2.0))
    assert one != two  # the bound argument is part of the code
    assert one != fingerprint("p", "1", (d_loss_bce, g_loss_nonsaturating))
    assert fingerprint("p", "1", (d_loss_bce,)) != fingerprint("p", "2", (d_loss_bce,))  # the version counts


def test_two_functions_or_classes_of_one_file_are_not_one_code():
    """A file's code is its sources, and which of its functions or classes is meant (pass 57: a plugin choosing
    the minimax or the non-saturating loss of one unchanged file got one run id for both)."""
    from ganbench.fingerprint import fingerprint
    from ganbench.variants.gan import d_loss_bce, g_loss_minimax, g_loss_nonsaturating

    minimax, nonsaturating = (fingerprint("p", "1", (d_loss_bce, g)) for g in (g_loss_minimax, g_loss_nonsaturating))
    assert minimax != nonsaturating
    assert fingerprint("p", "1", (_Weight(1.0),)) != fingerprint("p", "1", (_OtherWeight(1.0),))
    assert fingerprint("p", "1", (_Weight(1.0),)) == fingerprint("p", "1", (_Weight(1.0),))
    assert fingerprint("p", "1", (_ONE_LOSS,)) != fingerprint("p", "1", (_TWICE_THE_LOSS,))  # pass 58: "<lambda>"


def _code_of(variant_code: str) -> tuple[str, str]:
    """The fingerprint of a variant whose g_loss is made at run time (as in a notebook cell)."""
    from ganbench.fingerprint import fingerprint
    from ganbench.variants.gan import d_loss_bce

    scope: dict = {}
    exec("import torch.nn.functional as F\n" + variant_code, scope)  # noqa: S102 - code without a file
    return fingerprint("p", "1", (d_loss_bce, scope["g_loss"])), fingerprint("p", "1", (scope["g_loss"],))


@pytest.mark.parametrize(
    "one, two",
    [
        (
            "def g_loss(d_fake, s=1.0):\n    return s * F.softplus(-d_fake).mean()",
            "def g_loss(d_fake, s=2.0):\n    return s * F.softplus(-d_fake).mean()",
        ),
        (
            "def make(s):\n    def g_loss(d_fake):\n        return s * F.softplus(-d_fake).mean()\n    return g_loss\n"
            "g_loss = make(1.0)",
            "def make(s):\n    def g_loss(d_fake):\n        return s * F.softplus(-d_fake).mean()\n    return g_loss\n"
            "g_loss = make(2.0)",
        ),
        (
            "def helper(x):\n    return F.softplus(x)\ndef g_loss(d_fake):\n    return helper(-d_fake).mean()",
            "def helper(x):\n    return F.softplus(-x)\ndef g_loss(d_fake):\n    return helper(-d_fake).mean()",
        ),
        (
            "SCALE = 1.0\ndef g_loss(d_fake):\n    return SCALE * F.softplus(-d_fake).mean()",
            "SCALE = 3.0\ndef g_loss(d_fake):\n    return SCALE * F.softplus(-d_fake).mean()",
        ),
        (  # pass 80: globals that are containers, numpy numbers, builtins or plain objects were not followed
            "W = {'scale': 1.0}\ndef g_loss(d_fake):\n    return W['scale'] * F.softplus(-d_fake).mean()",
            "W = {'scale': 50.0}\ndef g_loss(d_fake):\n    return W['scale'] * F.softplus(-d_fake).mean()",
        ),
        (
            "import numpy as np\nS = np.float32(1)\ndef g_loss(d_fake):\n    return S * F.softplus(-d_fake).mean()",
            "import numpy as np\nS = np.float32(2)\ndef g_loss(d_fake):\n    return S * F.softplus(-d_fake).mean()",
        ),
        (
            "import torch\nACT = torch.sigmoid\ndef g_loss(d_fake):\n    return ACT(-d_fake).mean()",
            "import torch\nACT = torch.tanh\ndef g_loss(d_fake):\n    return ACT(-d_fake).mean()",
        ),
        (
            "from types import SimpleNamespace as N\nC = N(s=[1.0])\ndef g_loss(d_fake):\n    return C.s[0] * d_fake",
            "from types import SimpleNamespace as N\nC = N(s=[2.0])\ndef g_loss(d_fake):\n    return C.s[0] * d_fake",
        ),
        (
            "import torch\nM = torch.ones(2)\ndef g_loss(d_fake):\n    return (M * d_fake).mean()",
            "import torch\nM = torch.ones(2) * 2\ndef g_loss(d_fake):\n    return (M * d_fake).mean()",
        ),
        (  # pass 81: methods of a class without a file but __init__, and settings objects, were left out
            "class L:\n    def __call__(self, d):\n        return d.mean()\ng_loss = L()",
            "class L:\n    def __call__(self, d):\n        return 2 * d.mean()\ng_loss = L()",
        ),
        (
            "class L:\n    @staticmethod\n    def f(d):\n        return d\n    def __call__(self, d):\n"
            "        return self.f(d)\ng_loss = L()",
            "class L:\n    @staticmethod\n    def f(d):\n        return -d\n    def __call__(self, d):\n"
            "        return self.f(d)\ng_loss = L()",
        ),
        (
            "import argparse\nA = argparse.Namespace(s=1.0)\ndef g_loss(d_fake):\n    return A.s * d_fake",
            "import argparse\nA = argparse.Namespace(s=2.0)\ndef g_loss(d_fake):\n    return A.s * d_fake",
        ),
        (
            "import numpy as np\nD = {'s': 1.0, 'w': np.ones(2)}\ndef g_loss(d_fake):\n    return D['s'] * d_fake",
            "import numpy as np\nD = {'s': 2.0, 'w': np.ones(2)}\ndef g_loss(d_fake):\n    return D['s'] * d_fake",
        ),
        (
            "import functools\n@functools.cache\ndef h(x):\n    return x\ndef g_loss(d):\n    return h(1) * d",
            "import functools\n@functools.cache\ndef h(x):\n    return 2 * x\ndef g_loss(d):\n    return h(1) * d",
        ),
    ],
    ids=[
        "default-argument",
        "closure-value",
        "helper-function",
        "global-value",
        "dict",
        "numpy",
        "builtin",
        "namespace",
        "tensor",
        "call-method",
        "staticmethod",
        "argparse",
        "dict-with-array",
        "cached-helper",
    ],
)
def test_code_without_a_file_is_fingerprinted_with_its_defaults_closures_and_globals(one, two):
    assert _code_of(one) == _code_of(one)
    assert _code_of(one)[0] != _code_of(two)[0]


@pytest.mark.parametrize(
    "one, two",
    [  # pass 82: each pair was one id for two computations
        ("import numpy as np\nACT = np.tanh", "import numpy as np\nACT = np.exp"),
        ("import torch\nACT = torch.Tensor.relu", "import torch\nACT = torch.Tensor.sigmoid"),
        (
            "from operator import itemgetter\nACT = itemgetter(0)",
            "from operator import itemgetter\nACT = itemgetter(1)",
        ),
        (
            "class C:\n    def f(self, x):\n        return x * 2\nACT = C().f",
            "class C:\n    def f(self, x):\n        return x + 2\nACT = C().f",
        ),
        (
            "import enum\nclass E(enum.Enum):\n    A = 1\n    def __call__(self, x):\n        return x * 2\nACT = E.A",
            "import enum\nclass E(enum.Enum):\n    A = 1\n    def __call__(self, x):\n        return x + 2\nACT = E.A",
        ),
        ("import numpy as np\nACT = np.dtype('float32')", "import numpy as np\nACT = np.dtype('float16')"),
    ],
    ids=[
        "ufunc",
        "method-descriptor",
        "itemgetter",
        "bound-method",
        "enum-member-class",
        "numpy-dtype",
    ],
)
def test_what_a_loss_calls_through_a_global_is_part_of_its_fingerprint(one, two):
    from ganbench.fingerprint import fingerprint

    def of(code: str) -> str:
        scope: dict = {"__name__": "notebook"}
        exec(code + "\ndef g_loss(d):\n    return ACT(d)\n", scope)  # noqa: S102 - code without a file
        return fingerprint("p", "1", (scope["g_loss"],))

    assert of(one) == of(one) != of(two)


def test_files_no_import_can_load_are_not_a_packages_code(fresh_plugins, tmp_path, monkeypatch):
    """Pass 82: Emacs's lock file (a dangling link .#helpers.py) in a plugin package broke every run with a
    traceback; Jupyter's .ipynb_checkpoints copy of a module changed the run id of unchanged code."""
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / "fp_probe_lock"
    package.mkdir()
    (package / "__init__.py").write_text(PACKAGE.format(name="fp_probe_lock").replace("pkg-v", "lock-v"))
    (package / "helpers.py").write_text(HELPERS.format(scale="1.0"))
    fresh_plugins.register_plugin(importlib.import_module("fp_probe_lock"), name="lock")
    first = ganbench.create_spec("lock-v", "ring8", steps=5).run_id
    (package / ".#helpers.py").symlink_to("user@host.123:1700000000")
    (package / ".ipynb_checkpoints").mkdir()
    (package / ".ipynb_checkpoints" / "helpers-checkpoint.py").write_text(HELPERS.format(scale="5.0"))
    assert ganbench.create_spec("lock-v", "ring8", steps=5).run_id == first


def test_a_loss_object_a_factory_makes_is_fingerprinted_with_its_methods_closures():
    """Pass 82: a class made by a call was known by its file and name, so make(2.0) and make(1000.0) were one id."""
    from ganbench.fingerprint import fingerprint

    def make(scale: float):
        class GLoss:
            def __call__(self, d_fake):
                return scale * d_fake.mean()

        return GLoss()

    two, three = (fingerprint("p", "1", (make(s),)) for s in (2.0, 3.0))
    assert fingerprint("p", "1", (make(2.0),)) == two != three


GLOBALS_OF_ANY_KIND = [
    "{(0, 1), (2, 3)}",
    "torch.tensor(1.0, dtype=torch.bfloat16)",
    "torch.tensor([1.0, 2.0]).to_sparse()",
    "torch.ones(2, device='meta')",
    "Cfg()",
    "np.array(['real', 'fake'], dtype=object)",
    "scipy.spatial.cKDTree(np.arange(20.0).reshape(10, 2))",  # pass 93: its nodes pickle as pointers
    "[]",
]


def test_a_global_of_any_kind_is_fingerprinted_without_a_traceback_and_alike_in_every_process():
    """Pass 82: a set of tuples, a bfloat16, sparse or meta tensor, an object whose __getattr__ raises KeyError were
    tracebacks; an object array's bytes are pointers (another id in every process); a list holding itself 4 times
    took 4^12 steps; a k-d tree's pickled nodes hold addresses (pass 93). All in one process per hash seed (each
    process imports torch: seconds)."""
    import os
    import subprocess

    script = "from ganbench.fingerprint import fingerprint\n"
    for value in GLOBALS_OF_ANY_KIND:
        code = "import numpy as np\nimport scipy.spatial\nimport torch\n"
        code += "class Cfg:\n    def __getattr__(self, k):\n        return {}[k]\n"
        code += f"V = {value}\n" + ("V.extend([V] * 4)\n" if value == "[]" else "")
        code += "def g_loss(d):\n    return V and d\n"
        script += f"scope = {{'__name__': 'nb'}}\nexec({code!r}, scope)\n"
        script += "print(fingerprint('p', '1', (scope['g_loss'],)))\n"
    prints = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=60,
        )
        for seed in ("1", "2")
    ]  # fmt: skip
    assert prints[0].returncode == 0, prints[0].stderr
    lines = prints[0].stdout.splitlines()
    assert len(lines) == len(GLOBALS_OF_ANY_KIND) and all(line.startswith("p 1 ") for line in lines), lines
    assert len(set(lines)) == len(lines), "two globals of different values gave one fingerprint"
    assert prints[1].stdout == prints[0].stdout, (prints[0].stdout, prints[1].stdout, prints[1].stderr)


def _global_fingerprint(code: str) -> str:
    """The fingerprint of a notebook's g_loss that reads the global V the code sets."""
    return _notebook_fingerprint(code + "\ndef g_loss(d):\n    return V and d\n")


@pytest.mark.parametrize(
    "one, two",
    [  # pass 83: objects other than settings objects were left out, so a changed one kept its run id
        (
            "class Cfg:\n    def __init__(self, s):\n        self.s = s\nV = Cfg(1.0)",
            "class Cfg:\n    def __init__(self, s):\n        self.s = s\nV = Cfg(2.0)",
        ),
        ("import torch\nV = torch.nn.LeakyReLU(0.2)", "import torch\nV = torch.nn.LeakyReLU(0.1)"),
        ("import torch\nV = torch.nn.BCEWithLogitsLoss()", "import torch\nV = torch.nn.MSELoss()"),
        (
            "import torch\nV = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(1))",
            "import torch\nV = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(1) * 2)",
        ),
        (
            "import torch\ntorch.manual_seed(0)\nV = torch.nn.Sequential(torch.nn.Linear(2, 2))",
            "import torch\ntorch.manual_seed(1)\nV = torch.nn.Sequential(torch.nn.Linear(2, 2))",
        ),
        (
            "import torch\nV = torch.distributions.Normal(0.0, 1.0)",
            "import torch\nV = torch.distributions.Normal(0.0, 2.0)",
        ),
        ("import random\nV = random.Random(0)", "import random\nV = random.Random(1)"),
        ("import re\nV = re.compile('a+')", "import re\nV = re.compile('b+')"),
        (
            "class S:\n    __slots__ = ('s',)\nV = S()\nV.s = 1.0",
            "class S:\n    __slots__ = ('s',)\nV = S()\nV.s = 2.0",
        ),
        ("import fractions\nV = fractions.Fraction(1, 2)", "import fractions\nV = fractions.Fraction(1, 3)"),
    ],
    ids=["plain-object", "module-setting", "module-class", "module-buffer", "module-weights", "distribution",
         "random", "regex", "slots", "fraction"],
)  # fmt: skip
def test_an_object_a_loss_reads_is_part_of_its_fingerprint(one, two):
    assert _global_fingerprint(one) == _global_fingerprint(one) != _global_fingerprint(two)


@pytest.mark.parametrize(
    "code, one, two",
    [  # pass 83: each pair was one run id for two computations
        ("import numpy as np\nV = np.random.RandomState(%s)", "0", "1"),
        ("import torch\nV = torch.Generator().manual_seed(0)%s", "", "\ntorch.rand(9, generator=V)"),
        ("import numpy as np\nV = np.random.Generator(np.random.MT19937(%s))", "0", "1"),
        ("import numpy as np\nV = np.polynomial.Polynomial([%s])", "1.0", "2.0"),
        ("import numpy as np\nV = np.ma.masked_array([1.0, 2.0], mask=[0, %s])", "0", "1"),
        ("from types import SimpleNamespace as S\nV = S(a=S(b=S(c=S(d=S(e=S(f=%s))))))", "1.0", "2.0"),
        ("V = " + "{'a': " * 14 + "%s" + "}" * 14, "1.0", "2.0"),
        ("import collections\nV = collections.defaultdict(%s)", "lambda: 1.0", "lambda: 3.0"),
        ("import collections\nV = collections.defaultdict(%s)", "float", "int"),
        ("class D(dict):\n    def __missing__(self, k):\n        return %s\nV = D()", "1.0", "2.0"),
        (
            "import collections\nclass T(collections.namedtuple('T', 'w')):\n    @property\n    def v(self):\n"
            "        return self.w * %s\nV = T(1.0)",
            "2",
            "3",
        ),
        ("class F(float):\n    def __mul__(self, o):\n        return %s * o\nV = F(1.0)", "2.0", "3.0"),
        ("import enum\nclass E(str, enum.Enum):\n    A = 'a'\n    def w(self):\n        return %s\nV = E.A", "1", "2"),
        ("class L(list):\n    pass\nV = L()\nV.w = %s", "1.0", "2.0"),
        ("class Term:\n    def __init__(self, w):\n        self.w = w\nV = {Term(%s)}", "1.0", "2.0"),
        ("import types\nV = types.MappingProxyType({'w': %s})", "1.0", "2.0"),
        ("V = %s", "...", "None"),
        ("import torch\nV = torch.%s", "channels_last", "contiguous_format"),
        ("import torch\nV = torch.finfo(torch.%s)", "float32", "float16"),
        ("import numpy as np\nV = np.%s", "clip", "linalg.norm"),
    ],
    ids=["randomstate", "torch-generator", "numpy-generator", "polynomial", "masked-array", "six-deep",
         "dicts-14-deep", "defaultdict-lambda", "defaultdict-type", "dict-subclass", "namedtuple-subclass",
         "float-subclass", "str-enum", "list-subclass-attribute", "set-of-objects", "mappingproxy", "ellipsis",
         "memory-format", "finfo", "numpy-dispatcher"],
)  # fmt: skip
def test_a_value_a_loss_reads_counts_whatever_holds_it_and_however_deep(code, one, two):
    assert _global_fingerprint(code % one) == _global_fingerprint(code % one) != _global_fingerprint(code % two)


def test_a_constant_six_helpers_down_is_part_of_the_fingerprint():
    """Pass 83: the hasher cut values off 12 levels down (two a function), so h0's constant kept g_loss's run id."""
    from ganbench.fingerprint import fingerprint

    def of(scale: str) -> str:
        code = f"def h0(x):\n    return x * {scale}\n"
        code += "".join(f"def h{i}(x):\n    return h{i - 1}(x)\n" for i in range(1, 9))
        scope: dict = {"__name__": "notebook"}
        exec(code + "def g_loss(d):\n    return h8(d)\n", scope)  # noqa: S102 - code without a file
        return fingerprint("p", "1", (scope["g_loss"],))

    assert of("1.0") == of("1.0") != of("2.0")


def test_values_nested_beyond_what_a_fingerprint_follows_are_refused_in_one_line():
    with pytest.raises(GanbenchError, match="nested more than") as refused:
        _global_fingerprint("V = " + "[" * 200 + "]" * 200)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "code, said",
    [
        ("class C:\n    @property\n    def __dict__(self):\n        raise ValueError('x')\nV = C()", "(ValueError: x)"),
        ("class C:\n    pass\nC.__module__ = 5\nV = C()", None),
        (
            "class K:\n    def __hash__(self):\n        return 1\nk = K()\nV = {k: 1.0}\nK.__hash__ = lambda s: 1 / 0",
            "(ZeroDivisionError",
        ),
    ],
    ids=["dict-raises", "module-not-text", "hash-raises"],
)  # fmt: skip
def test_a_hostile_object_is_one_line_or_followed_never_a_traceback(code, said):
    if said is None:
        assert _global_fingerprint(code).startswith("p 1 ")
        return
    with pytest.raises(GanbenchError, match=re.escape(said)) as refused:
        _global_fingerprint(code)
    assert "\n" not in str(refused.value)


def test_an_installed_librarys_code_counts_by_name_and_version_not_its_state():
    """Pass 83: `from copy import deepcopy` was followed into the standard library's state (a regex built from a set:
    another id for each PYTHONHASHSEED), `re.sub` into re's cache of compiled patterns (another id once any regex
    was compiled), `random.gauss` into the global generator's state (another id in every process)."""
    import os
    import subprocess

    code = "from copy import deepcopy\nfrom re import sub\nfrom random import gauss\nimport numpy as np\n"
    code += "V = (deepcopy, sub, gauss, np.random.rand)\n"
    script = "import re, random\nfrom tests.test_spec import _global_fingerprint\n"
    script += f"before = _global_fingerprint({code!r})\nre.compile('fp-probe-[0-9]+'); random.random()\n"
    script += f"assert _global_fingerprint({code!r}) == before\nprint(before)\n"
    prints = {
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed}, cwd=Path(__file__).parent.parent,
        ).stdout
        for seed in ("1", "2")
    }  # fmt: skip
    assert len(prints) == 1 and next(iter(prints)).startswith("p 1 "), prints


def _notebook_fingerprint(code: str, loss: str = "g_loss") -> str:
    """The fingerprint of the notebook function or object ``loss`` that ``code`` defines."""
    from ganbench.fingerprint import fingerprint

    scope: dict = {"__name__": "notebook"}
    exec(code, scope)  # noqa: S102 - code without a file
    return fingerprint("p", "1", (scope[loss],))


@pytest.mark.parametrize(
    "code, one, two",
    [  # pass 84: each pair was one run id for two computations
        ("def g_loss(d):\n    return g_loss.scale * d\ng_loss.scale = %s", "1.0", "5.0"),
        ("import random\ndraw = random.Random(%s).random\ndef g_loss(d):\n    return draw() * d", "0", "1"),
        (
            "import functools\n@functools.singledispatch\ndef scale(x):\n    return x\n@scale.register(float)\n"
            "def _(x):\n    return %s * x\ndef g_loss(d):\n    return scale(1.5) * d",
            "1.0",
            "5.0",
        ),
        ("class Loss:\n    def __init__(self):\n        self.s = %s\n    def __call__(self, d):\n        return d\n"
         "g_loss = Loss()", "1.0", "5.0"),
        ("class Loss:\n    def __init__(self):\n        self.s = %s\n    def f(self, d):\n        return d\n"
         "g_loss = Loss().f", "1.0", "5.0"),
    ],
    ids=["function-attribute", "builtin-bound-method", "singledispatch", "loss-object", "loss-bound-method"],
)  # fmt: skip
def test_what_a_loss_holds_by_attribute_or_registry_is_part_of_its_fingerprint(code, one, two):
    assert _notebook_fingerprint(code % one) == _notebook_fingerprint(code % one) != _notebook_fingerprint(code % two)


def test_a_module_a_loss_imports_in_its_body_is_part_of_its_fingerprint(tmp_path, monkeypatch):
    """Pass 84: `import helpers` inside the loss was not followed: a session's changed SCALE kept the run id."""
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fp84_helpers.py").write_text("SCALE = 1.0\n")
    helpers = importlib.import_module("fp84_helpers")
    code = "def g_loss(d):\n    import fp84_helpers\n    return fp84_helpers.SCALE * d\n"
    code += "def d_loss(r, f):\n    from fp84_helpers import SCALE\n    return SCALE * r\n"
    before = [_notebook_fingerprint(code, loss) for loss in ("g_loss", "d_loss")]
    helpers.SCALE = 1e6
    after = [_notebook_fingerprint(code, loss) for loss in ("g_loss", "d_loss")]
    assert before[0] != after[0] and before[1] != after[1]


@pytest.mark.parametrize(
    "code, loss, said",
    [  # pass 84: each was left out silently, so a change kept the run id
        ("CFG = {'scales': (x for x in [1.0])}\ndef g_loss(d):\n    return next(CFG['scales']) * d", "g_loss",
         "the global CFG that g_loss (notebook) reads is a builtins.generator object"),
        ("class Cfg:\n    S = (x for x in [1.0])\ndef g_loss(d):\n    return next(Cfg.S) * d", "g_loss",
         "the attribute S of class notebook.Cfg is a builtins.generator object"),
        ("class Cfg:\n    S = " + "[" * 50 + "1.0" + "]" * 50 + "\ndef g_loss(d):\n    return Cfg.S and d", "g_loss",
         "nested more than 48 levels deep"),
        ("nxt = (x for x in [1.0]).send\ndef g_loss(d):\n    return nxt(None) * d", "g_loss", "builtins.generator"),
        ("class Loss:\n    def __init__(self):\n        self.s = (x for x in [1.0])\n    def __call__(self, d):\n"
         "        return d\ng_loss = Loss()", "g_loss", "builtins.generator"),
        ("class H:\n    @property\n    def __dict__(self):\n        raise RuntimeError('boom')\n"
         "class Cfg:\n    O = H()\ndef g_loss(d):\n    return Cfg.O and d", "g_loss", "(RuntimeError: boom)"),
        ("class H:\n    @property\n    def __dict__(self):\n        raise RuntimeError('boom')\n"
         "class Loss:\n    def __call__(self, d):\n        return d\ng_loss = Loss()\ng_loss.h = H()", "g_loss",
         "(RuntimeError: boom)"),
    ],
    ids=["generator-in-dict", "class-attribute-generator", "class-attribute-deep", "generator-send",
         "loss-object-generator", "hostile-class-attribute", "hostile-loss-attribute"],
)  # fmt: skip
def test_what_a_loss_reads_that_cannot_be_read_is_refused_wherever_it_is(code, loss, said):
    with pytest.raises(GanbenchError, match=re.escape(said)) as refused:
        _notebook_fingerprint(code, loss)
    assert "\n" not in str(refused.value)


def test_a_cache_python_or_torch_fills_on_first_use_keeps_the_run_id():
    """Pass 84: copyreg's __slotnames__ (a session's first run and its reruns had two ids), a Flag's composite members,
    torch.distributions' lazy attributes and a loss object's memo moved the id after the loss's first call."""
    import copy
    import logging

    code = "import enum, logging, torch\nclass S:\n    __slots__ = ('alpha',)\nOBJ = S()\nOBJ.alpha = 1.0\n"
    code += "class Mode(enum.Flag):\n    SOFT = 1\n    SCALE = 2\n"
    code += "CAT = torch.distributions.Categorical(probs=torch.tensor([0.5, 0.5]))\n"
    code += "def g_loss(d):\n    return (Mode.SOFT | Mode.SCALE) and OBJ.alpha * CAT.logits.sum() * d\n"
    code += (
        "class Loss:\n    def __init__(self):\n        self.memo = {}\n        self.log = logging.getLogger('fp84')\n"
    )
    code += "    def __call__(self, d):\n        return self.memo.setdefault('w', torch.ones(())) * d\nLOSS = Loss()\n"
    scope: dict = {"__name__": "notebook"}
    exec(code, scope)  # noqa: S102 - code without a file
    from ganbench.fingerprint import fingerprint

    losses = (scope["g_loss"], scope["LOSS"], scope["LOSS"].__call__)
    before = [fingerprint("p", "1", (loss,)) for loss in losses]
    copy.deepcopy(scope["OBJ"]), scope["g_loss"](torch.ones(())), scope["LOSS"](torch.ones(()))
    logging.getLogger("fp84.new").isEnabledFor(logging.INFO)
    assert [fingerprint("p", "1", (loss,)) for loss in losses] == before


def test_odd_values_are_fingerprinted_alike_in_every_process_without_a_traceback():
    """Pass 84: slots given as a set and a dict's keys view followed the hash seed; an int of 20,000 bits was a
    ValueError; a loss object holding a progress bar had an id per process; @contextmanager as a decorator was
    refused."""
    import os
    import subprocess

    code = "import contextlib, io, tqdm\nclass S:\n    __slots__ = {'alpha', 'beta', 'gamma'}\n"
    code += "KEYS = dict.fromkeys({'a', 'b', 'c', 'd'}).keys()\nBIG = 2 ** 20000 + 1\n"
    code += "@contextlib.contextmanager\ndef quiet():\n    yield\n"
    code += "class Loss:\n    def __init__(self):\n        self.bar = tqdm.tqdm(total=3, file=io.StringIO())\n"
    code += "    def __call__(self, d):\n        return d\nLOSS = Loss()\n"
    code += "@quiet()\ndef g_loss(d):\n    return S and KEYS and BIG and LOSS(d)\n"
    script = "from ganbench.fingerprint import fingerprint\nscope = {'__name__': 'nb'}\n"
    script += f"exec({code!r}, scope)\nprint(fingerprint('p', '1', (scope['g_loss'], scope['LOSS'])))\n"
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in ("1", "2", "3")
    ]  # fmt: skip
    assert len({run.stdout for run in runs}) == 1 and runs[0].stdout.startswith("p 1 "), [r.stderr for r in runs]


@pytest.mark.parametrize(
    "body, spelled",
    [
        ("return globals()['SCALE'] * d", "(globals)"),
        ("return eval('SCALE') * d", "(eval)"),
        ("import importlib\n    return importlib.import_module('math').pi * d", "(importlib.import_module)"),
        ("import os\n    return float(os.environ.get('SCALE', '1')) * d", "(os.environ)"),
        ("import sys\n    return getattr(sys.modules[__name__], 'SCALE') * d", "(sys.modules)"),
        ("from os import getenv\n    return float(getenv('SCALE', '1')) * d", "(os.getenv)"),
        ("import os as _os\n    return float(_os.environ.get('SCALE', '1')) * d", "(_os.environ)"),  # pass 86
        ("import builtins\n    return builtins.eval('SCALE') * d", "(builtins.eval)"),
        ("import sys\n    return sys._getframe().f_globals['SCALE'] * d", "(sys._getframe)"),
        ("return g_loss.__globals__['SCALE'] * d", "(g_loss.__globals__)"),
        ("return ENV.get('SCALE', 1) * d", "(ENV, os.environ)"),
    ],
)
def test_a_loss_that_reads_values_by_a_name_known_at_run_time_is_refused_in_one_line(body, spelled):
    """Pass 85: globals()["SCALE"], eval, importlib.import_module, os.environ and sys.modules lookups kept the run id
    when what they read changed (the old record was handed out)."""
    code = f"import os\nSCALE = 1.0\nENV = os.environ\ndef g_loss(d):\n    {body}\n"
    with pytest.raises(GanbenchError, match=re.escape(f"reads values by a name known only at run time {spelled}")):
        _notebook_fingerprint(code)


def test_names_like_the_readers_that_are_not_them_are_not_refused():
    """Pass 86: a parameter named eval, a local named environ were refused as the builtin and os.environ."""
    for code in (
        "def g_loss(d, eval=False):\n    return d.mean() if eval else -d.mean()\n",
        "def g_loss(d):\n    environ = {'a': 1}\n    return environ['a'] * d\n",
        "import os.path\ndef g_loss(d):\n    return os.path.expanduser('~') and d\n",  # the standard library's code
    ):
        assert _notebook_fingerprint(code).startswith("p 1 ")


def test_compiled_quantized_and_frozen_standard_library_code_is_fingerprinted_alike_in_every_process():
    """Pass 86: torch.compile's wrappers carry process counters (an id per process); os and posixpath are frozen into
    Python (no file: hashed as a notebook's code, another id under -X frozen_modules=off); a quantized tensor's scale
    and a negative view's sign were left out."""
    code = "import torch, os.path\ntorch.manual_seed(0)\n@torch.compile(backend='eager')\ndef h(x):\n    return x * 2\n"
    code += "M = torch.compile(torch.nn.Linear(1, 1), backend='eager')\n"
    code += "def g_loss(d):\n    return h(d) + M(d) + len(os.path.join('a', 'b'))\n"
    assert_alike_in_every_process(code, (("1", ()), ("2", ()), ("1", ("-X", "frozen_modules=off"))))

    one = torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.quint8)
    assert _value_fingerprint(one) != _value_fingerprint(
        torch.quantize_per_tensor(2 * torch.ones(2), 0.2, 0, torch.quint8)
    )
    assert _value_fingerprint(torch.tensor([1 + 2j]).imag) != _value_fingerprint(torch.tensor([1 + 2j]).conj().imag)


def _value_fingerprint(value: Any) -> str:
    """The fingerprint of a notebook's g_loss that reads the global V, ``value``."""
    from ganbench.fingerprint import fingerprint

    scope = {"__name__": "notebook", "V": value}
    exec("def g_loss(d):\n    return V and d\n", scope)  # noqa: S102 - code without a file
    return fingerprint("p", "1", (scope["g_loss"],))


def test_torchscript_and_lazy_or_nested_tensors_are_fingerprinted_by_what_they_compute(tmp_path, monkeypatch):
    """Pass 85: a traced module's settings and weights and a frozen module's weights kept the run id when changed; a
    scripted helper was refused; a nested tensor or a lazy module's parameter was a RuntimeError."""
    import importlib
    import warnings

    def linear(weight: float) -> torch.nn.Linear:
        layer = torch.nn.Linear(1, 1, bias=False)
        torch.nn.init.constant_(layer.weight, weight)
        return layer.eval()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation
        traced = [torch.jit.trace(torch.nn.Softplus(beta=b), torch.zeros(2)) for b in (1.0, 50.0)]
        traced_linear = [torch.jit.trace(linear(w), torch.zeros(1, 1)) for w in (1.0, 2.0)]
        frozen = [torch.jit.freeze(torch.jit.script(linear(w))) for w in (1.0, 2.0)]
        monkeypatch.syspath_prepend(str(tmp_path))
        for scale in ("2.0", "3.0"):
            (tmp_path / f"fp85_scripted_{scale[0]}.py").write_text(
                "import torch\n@torch.jit.script\ndef sp(x: torch.Tensor) -> torch.Tensor:\n"
                f"    return torch.nn.functional.softplus(-x).mean() * {scale}\n"
            )
        scripted = [importlib.import_module(f"fp85_scripted_{n}").sp for n in ("2", "3")]
        dropout = torch.jit.script(torch.nn.Sequential(torch.nn.Dropout(0.5)))
    for pair in (traced, traced_linear, frozen, scripted):
        assert _value_fingerprint(pair[0]) == _value_fingerprint(pair[0]) != _value_fingerprint(pair[1])
    training = _value_fingerprint(dropout)
    assert _value_fingerprint(dropout.eval()) != training  # pass 86: its dropout off, the same id
    nested = torch.nested.nested_tensor([torch.ones(1), torch.ones(2)])
    assert _value_fingerprint(nested) != _value_fingerprint(
        torch.nested.nested_tensor([torch.ones(1), torch.ones(2) * 2])
    )
    assert _value_fingerprint(torch.nn.LazyLinear(2)).startswith("p 1 ")


def assert_alike_in_every_process(code: str, runs=(("1", ()), ("2", ()))) -> None:
    """The fingerprint of the notebook g_loss that ``code`` makes is one in processes of each (PYTHONHASHSEED,
    interpreter flags) of ``runs``."""
    import os
    import subprocess

    script = "import torch\ntorch.manual_seed(0)\nfrom ganbench.fingerprint import fingerprint\n"
    script += f"scope = {{'__name__': 'nb'}}\nexec({code!r}, scope)\nprint(fingerprint('p', '1', (scope['g_loss'],)))\n"
    prints = {
        subprocess.run(
            [sys.executable, *flags, "-c", script], capture_output=True, text=True, timeout=300,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed, flags in runs
    }  # fmt: skip
    assert len(prints) == 1 and next(iter(prints)).startswith("p 1 "), prints


def test_an_object_is_fingerprinted_alike_in_every_process():
    code = "import torch\nclass Cfg:\n    pass\n"
    code += "V = [Cfg(), torch.nn.Sequential(torch.nn.LeakyReLU(0.2)), torch.nn.Linear(2, 2)]"
    code += "\nV[0].s = {'a': 1.0, 'b': (2, 'x')}\nV[1].register_forward_hook(lambda *a: None)"
    code += "\ndef g_loss(d):\n    return V and d\n"
    assert_alike_in_every_process(code)


def test_what_only_writes_is_not_part_of_a_fingerprint():
    """A logger, a stream, a lock a loss holds never decide its result; their state (a logger's caches, the
    process's logging setup) must not give the same code another id after its first run or in another process."""
    import logging

    code = "import io, logging, threading\nV = (logging.getLogger('fp-probe'), io.StringIO(), threading.Lock())"
    before = _global_fingerprint(code)
    logging.getLogger("fp-probe").addHandler(logging.NullHandler())
    logging.getLogger("fp-probe").setLevel(logging.DEBUG)
    assert _global_fingerprint(code) == before == _global_fingerprint("V = ()")

    from ganbench.fingerprint import fingerprint

    def make(log: logging.Logger):  # pass 82: a logger in a closure or a default was hashed whole
        def g_loss(d, _log=log):
            log.debug("g_loss")
            return d

        return g_loss

    held = fingerprint("p", "1", (make(logging.getLogger("fp-probe-held")),))
    scope: dict = {"__name__": "notebook"}  # pass 83: through a partial, or a class of a notebook
    code = "import functools, logging, torch\ndef nonsat(d, log):\n    log.debug('x')\n    return d\n"
    code += "class Losses:\n    memo = {}\n    log = logging.getLogger('fp-probe-class')\n"
    code += "    def __call__(self, d):\n        return Losses.memo.setdefault('w', torch.ones(())) * d\n"
    exec(code, scope)  # noqa: S102 - code without a file
    partial = scope["functools"].partial(scope["nonsat"], log=logging.getLogger("fp-probe-partial"))
    losses = (partial, scope["Losses"]())
    before = [fingerprint("p", "1", (loss,)) for loss in losses]
    for loss, name in zip(losses, ("fp-probe-partial", "fp-probe-class"), strict=True):
        loss(torch.zeros(2))
        logging.getLogger(name).isEnabledFor(logging.INFO)
    assert [fingerprint("p", "1", (loss,)) for loss in losses] == before
    logging.getLogger("fp-probe-held").isEnabledFor(logging.INFO)  # fills the logger's cache
    logging.getLogger("fp-probe-held").addHandler(logging.NullHandler())
    assert fingerprint("p", "1", (make(logging.getLogger("fp-probe-held")),)) == held


@pytest.mark.parametrize(
    "code, what",
    [
        ("V = (x for x in range(3))", "the global V that g_loss (notebook) reads is a builtins.generator object"),
        ("import contextvars\nV = contextvars.ContextVar('s')", "is a _contextvars.ContextVar object"),
    ],
)
def test_an_object_whose_state_cannot_be_read_is_refused_in_one_line(code, what):
    """Pass 83: what a run id cannot see could change under it, so the old record would be handed out: refused."""
    with pytest.raises(GanbenchError, match=re.escape(what)) as refused:
        _global_fingerprint(code)
    assert "\n" not in str(refused.value) and "keep what the loss reads in its options" in str(refused.value)


def test_a_cache_a_function_fills_is_not_part_of_its_fingerprint():
    """Globals that caches fill as a process runs (an empty dict, later holding tensors) are not followed: the
    same code has the same run id before and after its first run."""
    from ganbench.fingerprint import fingerprint

    scope: dict = {}
    code = "import torch\n_CACHE = {}\ndef g_loss(d):\n    return _CACHE.setdefault(d.shape, torch.ones(1)) * d\n"
    code += "def d_loss(r, f, _targets={}):\n    return _targets.setdefault(r.shape, torch.ones_like(r)) * r + f\n"
    code += "def make():\n    memo = {}\n    def loss(d):\n        return memo.setdefault(d.shape, torch.ones(1)) * d\n"
    code += "    return loss\nclosed = make()\n"  # pass 81: a memo in a default or a closure moved the id
    exec(code, scope)  # noqa: S102 - code without a file
    losses = (scope["g_loss"], scope["d_loss"], scope["closed"])
    before = [fingerprint("p", "1", (loss,)) for loss in losses]
    scope["g_loss"](torch.zeros(3)), scope["d_loss"](torch.zeros(3), torch.zeros(3)), scope["closed"](torch.zeros(3))
    assert [fingerprint("p", "1", (loss,)) for loss in losses] == before


def test_minus_zero_is_zero():
    """Pass 80: gp_lambda=-0.0 computes as 0.0 does, but was another run id and another table row."""
    zero = ganbench.create_spec("nsgan", "ring8", steps=5, overrides={"gp_lambda": 0.0, "betas": "0,0.9"})
    for value, betas in ((-0.0, (-0.0, 0.9)), ("-0.0", "-0.0,0.9"), ("-0", "-0e5,0.9")):
        spec = ganbench.create_spec("nsgan", "ring8", steps=5, overrides={"gp_lambda": value, "betas": betas})
        assert spec.run_id == zero.run_id, value


class _Weight:
    def __init__(self, w: float) -> None:
        self.w = w


_ONE_LOSS = lambda d_fake: d_fake.mean()  # noqa: E731 - two lambdas of one file: one qualified name
_TWICE_THE_LOSS = lambda d_fake: 2 * d_fake.mean()  # noqa: E731


class _OtherWeight(_Weight):
    """The same state as a _Weight, another class."""


def _weighted(d_fake, weight):
    return weight.w * d_fake.mean()


def test_bound_objects_are_fingerprinted_by_contents_never_by_address():
    """repr() of a plain object holds its address: a fingerprint from it would differ in every process,
    so a finished run would be trained again and never resumed."""
    import functools

    from ganbench.fingerprint import fingerprint

    def of(w: float) -> str:
        return fingerprint("p", "1", (functools.partial(_weighted, weight=_Weight(w)),))

    assert of(1.0) == of(1.0) and of(1.0) != of(2.0)


HELPERS = "import torch.nn.functional as F\nSCALE = {scale}\n\n\ndef sp(x):\n    return SCALE * F.softplus(x)\n"
PACKAGE = """
import ganbench
from {name}.helpers import sp


def d_loss(d_real, d_fake):
    return sp(-d_real).mean() + sp(d_fake).mean()


def g_loss(d_fake):
    return sp(-d_fake).mean()


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("pkg-v", d_loss=d_loss, g_loss=g_loss))
"""
METRIC = """
import dataclasses
import ganbench

VALUE = {value}


@dataclasses.dataclass(frozen=True)
class Spread(ganbench.Metric):
    def compute(self, ctx, space=None):
        return {{"spread": VALUE * float(ctx.fake.float().std())}}


@ganbench.hookimpl
def register_metrics(register):
    register(Spread(name="spread", outputs={{"spread": "lower"}}))
"""


def test_editing_any_module_of_a_plugin_package_or_its_metric_changes_the_run_id(fresh_plugins, tmp_path, monkeypatch):
    """A loss calling a helper in another module of its package; a metric whose constant changed: both
    decide the result, so both are in the run's identity (found by a hostile tester: stale records)."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / "fp_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(PACKAGE.format(name="fp_probe_pkg"))
    (package / "helpers.py").write_text(HELPERS.format(scale="1.0"))
    (tmp_path / "fp_probe_metric.py").write_text(METRIC.format(value="1.0"))

    def spec(load: bool = True):
        if load:  # a new session's modules
            fresh_plugins.reset()
            for name in [n for n in sys.modules if n.startswith(("fp_probe_pkg", "fp_probe_metric"))]:
                del sys.modules[name]
            fresh_plugins.register_plugin(importlib.import_module("fp_probe_pkg"), name="pkg")
            fresh_plugins.register_plugin(importlib.import_module("fp_probe_metric"), name="met")
        return ganbench.create_spec("pkg-v", "ring8", steps=5, network="mlp", metrics=["spread"])

    first = spec()
    (package / "helpers.py").write_text(HELPERS.format(scale="10.0"))
    # pass 80: the code loaded is the old one, the files the new: its runs were recorded under the new id
    with pytest.raises(ganbench.GanbenchError) as caught:
        spec(load=False)
    message = str(caught.value)
    assert "module fp_probe_pkg.helpers" in message and "changed on disk since this Python session" in message
    assert "\n" not in message
    second = spec()
    assert second.code["variant"] != first.code["variant"] and second.run_id != first.run_id
    assert second.code["metrics"] == first.code["metrics"]
    (tmp_path / "fp_probe_metric.py").write_text(METRIC.format(value="1000.0"))
    third = spec()
    assert third.code["metrics"] != second.code["metrics"] and third.run_id != second.run_id
    assert third.code["variant"] == second.code["variant"] and third.code["network"] == first.code["network"]
    (tmp_path / "fp_probe_metric.py").write_text(METRIC.format(value="1000.0"))  # the same bytes written again
    assert spec(load=False).run_id == third.run_id


MODULE_CONSTANT = """
import ganbench
import torch.nn.functional as F

import fp_probe_consts


def g_loss(d_fake):
    return fp_probe_consts.SCALE * F.softplus(-d_fake).mean()


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("consts-v", g_loss=g_loss))
"""


def test_a_constant_a_session_sets_on_a_module_its_loss_reads_is_part_of_the_run_id(
    fresh_plugins, tmp_path, monkeypatch
):
    """``fp_probe_consts.SCALE = 50.0`` in a notebook: the module's file still says 1.0, which was all the run id
    saw (found probing pass 80's fix): a run of another computation under the first one's id."""
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fp_probe_consts.py").write_text("SCALE = 1.0\n")
    (tmp_path / "fp_probe_consts_plugin.py").write_text(MODULE_CONSTANT)
    for name in ("fp_probe_consts", "fp_probe_consts_plugin"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    fresh_plugins.register_plugin(importlib.import_module("fp_probe_consts_plugin"), name="consts")
    consts = importlib.import_module("fp_probe_consts")
    first = ganbench.create_spec("consts-v", "ring8", steps=5)
    monkeypatch.setattr(consts, "SCALE", 50.0)
    assert ganbench.create_spec("consts-v", "ring8", steps=5).run_id != first.run_id
    monkeypatch.setattr(consts, "SCALE", 1.0)
    assert ganbench.create_spec("consts-v", "ring8", steps=5).run_id == first.run_id


STALE_PLUGIN = """
import ganbench
import torch.nn.functional as F

from fp_probe_stale.scaler import Scaler


def g_loss(d_fake):
    return Scaler()(F.softplus(-d_fake).mean())


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("stale-v", g_loss=g_loss))
"""


def test_a_class_its_module_no_longer_holds_is_fingerprinted_by_its_own_code(fresh_plugins, tmp_path, monkeypatch):
    """Pass 81: the refusal's advice followed (reload the edited module, register again), the plugin still held the
    class it imported before, which was fingerprinted by the file reloaded since: old code under the new id."""
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / "fp_probe_stale"
    package.mkdir()
    (package / "__init__.py").write_text(STALE_PLUGIN)
    scaler = "class Scaler:\n    def __call__(self, x):\n        return {} * x\n"
    (package / "scaler.py").write_text(scaler.format("1.0"))

    def spec(load: bool = True):
        fresh_plugins.reset()
        if load:
            for name in [n for n in sys.modules if n.startswith("fp_probe_stale")]:
                del sys.modules[name]
        fresh_plugins.register_plugin(importlib.import_module("fp_probe_stale"), name="stale")
        return ganbench.create_spec("stale-v", "ring8", steps=5).run_id

    old = spec()
    (package / "scaler.py").write_text(scaler.format("1000.0"))
    with pytest.raises(ganbench.GanbenchError, match="changed on disk since this Python session loaded it"):
        spec(load=False)
    importlib.reload(sys.modules["fp_probe_stale.scaler"])
    reloaded = spec(load=False)
    assert float(sys.modules["fp_probe_stale"].Scaler()(torch.ones(()))) == 1.0  # the plugin's is the old class
    assert reloaded != spec() and reloaded != old  # not the new code's id, whose class multiplies by 1000


PATH_DEFAULT = """
import importlib.util
import sys
sys.path.insert(0, {folder!r})
spec = importlib.util.spec_from_file_location("fingerprint", {module!r})  # not ganbench/__init__: no torch
fingerprint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fingerprint)
import path_probe
print(fingerprint.fingerprint("p", "1", (path_probe.d_loss,)))
"""


def test_the_same_code_has_the_same_fingerprint_in_every_process(tmp_path):
    """A path held by a loss (its cached per-process hash in a slot) must not make the run id differ
    from one process to the next, or every process would train the run again."""
    import os
    import subprocess
    import sys

    (tmp_path / "path_probe.py").write_text(  # pass 81: which of two packages a loss names was met first (a set's
        "import json\nfrom json import decoder\nfrom pathlib import Path\n"  # order) decided its bytes
        "P = Path('/tmp/somewhere/file')\nSEEN = {P}\n\n\n"
        "def d_loss(real, fake, where=P):\n    return (real - fake).mean() + len(json.dumps(decoder.scanstring))\n"
    )
    from ganbench import fingerprint

    script = PATH_DEFAULT.format(folder=str(tmp_path), module=fingerprint.__file__)
    prints = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        ).stdout
        for seed in ("1", "2", "3", "4", "5", "6")
    }
    assert len(prints) == 1 and next(iter(prints)).startswith("p 1 "), prints


def test_a_run_id_does_not_change_once_its_parts_have_been_used_in_the_process(tmp_path):
    """A dataset caches its samples on the registered object (``cached_property``) once a run loads
    them; the next spec made in that process (a notebook, a test session) must get the same id as a
    fresh process does, or a finished run looks missing."""
    import subprocess
    import sys

    def ids() -> list[str]:
        return [ganbench.create_spec("nsgan", d, steps=5, seed=1).run_id for d in ("ring8", "grid25", "digits")]

    before = ids()
    for dataset in ("ring8", "grid25", "digits"):
        ganbench.run(variant="nsgan", dataset=dataset, steps=2, seed=1, out=tmp_path, eval_samples=200)
    ganbench.evaluate_samples("grid25", np.zeros((100, 2), np.float32))  # as `ganbench eval` does
    script = "import ganbench; print(*[ganbench.create_spec('nsgan', d, steps=5, seed=1).run_id for d in %r])"
    fresh = subprocess.run(
        [sys.executable, "-c", script % (("ring8", "grid25", "digits"),)], capture_output=True, text=True
    )
    assert ids() == before == fresh.stdout.split(), fresh.stderr


DATASET_PLUGIN = """
import dataclasses
import ganbench
from ganbench.datasets.mog import Mixture
from fp_probe_helper import scale


@dataclasses.dataclass(frozen=True)
class Points(Mixture):
    points: tuple = dataclasses.field(default=((1.0, 0.0),), metadata={{"option": False}})

    def means(self):
        import numpy as np

        return np.array(self.points, dtype=float)


def d_loss(d_real, d_fake):
    return scale(d_real) + d_fake.mean()


@ganbench.hookimpl
def register_datasets(register):
    register(Points(name="points", points={points}))


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("helped", d_loss=d_loss))
"""


def test_a_registered_objects_contents_and_a_lone_modules_helpers_are_part_of_the_identity(
    fresh_plugins, tmp_path, monkeypatch
):
    """A dataset registered with other points (a field no option shows), and a lone plugin module whose
    loss calls a helper module beside it whose constant changed: both change what is computed."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fp_probe_helper.py").write_text("SCALE = 1.0\n\n\ndef scale(x):\n    return SCALE * x.mean()\n")
    (tmp_path / "fp_probe_points.py").write_text(DATASET_PLUGIN.format(points="((1.0, 0.0), (-1.0, 0.0))"))

    def spec():
        fresh_plugins.reset()
        for name in ("fp_probe_points", "fp_probe_helper"):
            sys.modules.pop(name, None)
        fresh_plugins.register_plugin(importlib.import_module("fp_probe_points"), name="points")
        return ganbench.create_spec("helped", "points", steps=5, network="mlp")

    first = spec()
    assert spec().run_id == first.run_id
    (tmp_path / "fp_probe_points.py").write_text(DATASET_PLUGIN.format(points="((1.0, 0.0), (0.0, 5.0))"))
    second = spec()
    assert second.code["dataset"] != first.code["dataset"] and second.run_id != first.run_id
    (tmp_path / "fp_probe_helper.py").write_text("SCALE = 100.0\n\n\ndef scale(x):\n    return SCALE * x.mean()\n")
    third = spec()
    assert third.code["variant"] != second.code["variant"] and third.run_id != second.run_id


def test_metrics_named_by_output_are_fingerprinted_as_their_metric():
    """`--metrics fid_classifier` names an output of `fid`: the run's identity covers fid's code."""
    by_output = ganbench.create_spec("dcgan", "digits", metrics=["fid_classifier"], steps=5)
    by_metric = ganbench.create_spec("dcgan", "digits", metrics=["fid"], steps=5)
    assert by_output.code["metrics"] == by_metric.code["metrics"]
    assert (
        by_output.code["metrics"] != ganbench.create_spec("dcgan", "digits", metrics=["kid"], steps=5).code["metrics"]
    )


def register_nsgan_with(fresh_plugins, name: str, option: str, typ: Any, default: Any) -> Any:
    """Register (as plugin ``name``s) variant ``name``: nsgan with one more option, of type ``typ``; the variant."""
    nsgan = ganbench.get_variant("nsgan")
    cls = dataclasses.make_dataclass(name.title(), [(option, typ, dataclasses.field(default=default))],
                                     bases=(type(nsgan),), frozen=True)  # fmt: skip
    mine = cls(**{**{f.name: getattr(nsgan, f.name) for f in dataclasses.fields(nsgan)}, "name": name})

    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(mine)

    fresh_plugins.register_plugin(Plugin(), name=f"{name}s")
    return mine


def register_levelled(fresh_plugins, levels: Any) -> None:
    """Register variant 'levelled': nsgan with an option ``level`` whose type is ``levels`` (a Literal)."""
    register_nsgan_with(fresh_plugins, "levelled", "level", levels, typing.get_args(levels)[0])


def level_of(**overrides: Any) -> Any:
    return ganbench.create_spec("levelled", "ring8", steps=5, overrides=overrides).variant_options["level"]


@pytest.mark.parametrize(
    "levels, text, chosen",
    [
        (Literal[1234567.0, 1234568.0], "1234568", 1234568.0),
        (Literal[1234567.0, 1234568.0], "1234568.0", 1234568.0),
        (Literal[1234567.0, 1234568.0], "1.234568e6", 1234568.0),
        (Literal[1e-7, 2e-7], "2e-7", 2e-7),
        (Literal[1e-7, 2e-7], "2e-07", 2e-7),
        (Literal[1.0, 2.5], "1.0", 1.0),
        (Literal[1.0, 2.5], "2.50", 2.5),
        (Literal[1, 2, 3], "2", 2),
        (Literal[1, 2, 3], "2.0", 2),
        (Literal[10**18, 2], "1e18", 10**18),
        (Literal[2**53 + 1, 2], "9007199254740993.0", 2**53 + 1),  # no float holds it; a decimal does
        (Literal[True, False], "false", False),
        (Literal[None, "x"], "none", None),
    ],
)
def test_a_literal_choice_is_set_by_any_spelling_of_its_value(fresh_plugins, levels, text, chosen):
    register_levelled(fresh_plugins, levels)
    level = level_of(level=text)
    assert level == chosen and type(level) is type(chosen)


@pytest.mark.parametrize(
    "levels, value, fragment",
    [
        (Literal[1234567.0, 1234568.0], "1.23457e+06", " must be one of 1234567.0, 1234568.0, not '1.23457e+06'"),
        (Literal[1, 2, 3], "2.0000000000000001", " must be one of 1, 2, 3, not '2.0000000000000001'"),
        (Literal[1, 2, 3], True, " must be one of 1, 2, 3, not True"),
        (Literal[1, 2, 3], "2.5", " must be one of 1, 2, 3, not '2.5'"),
        (Literal[True, False], 1, " must be one of True, False, not 1"),
        (Literal[0, "0", False], "0", ": '0' could be any of 0, '0', False, which the command line cannot tell apart"),
    ],
)
def test_a_literal_option_refuses_what_is_none_or_several_of_its_choices(fresh_plugins, levels, value, fragment):
    register_levelled(fresh_plugins, levels)
    with pytest.raises(OptionError, match=re.escape(f"variant 'levelled' option 'level'{fragment}")):
        level_of(level=value)


def test_a_literal_number_given_as_another_type_is_the_choice_itself(fresh_plugins):
    """1.0 for Literal[1, 2, 3] is the setting 1: stored as 1, one run id."""
    register_levelled(fresh_plugins, Literal[1, 2, 3])
    ids = {ganbench.create_spec("levelled", "ring8", steps=5, overrides={"level": v}).run_id for v in (1, 1.0, "1")}
    assert len(ids) == 1 and type(level_of(level=1.0)) is int
    fresh_plugins.reset()
    register_levelled(fresh_plugins, Literal[0.5, 2.0])
    assert type(level_of(level=2)) is float


@pytest.mark.parametrize(
    "overrides, ending",
    [({"lr_d": -1}, "(--set lr_d=VALUE)"), ({"network.width": 0}, "(--set network.width=VALUE)")],
)
def test_an_option_out_of_range_says_which_set_changes_it(overrides, ending):
    with pytest.raises(OptionError) as caught:
        ganbench.create_spec("nsgan", "ring8", steps=5, network="mlp", overrides=overrides)
    assert str(caught.value).endswith(ending) and caught.value.hint == f" {ending}"
    assert str(caught.value) == caught.value.message + caught.value.hint


def test_libraries_in_any_site_packages_on_the_path_are_installed_not_local_code(monkeypatch, tmp_path):
    """In a venv made with --system-site-packages (or with the user site, or a .pth) torch sits outside this
    interpreter's own folders: it counted as local code, its files entered the fingerprint, and the same code got
    another run id (trained again; tables split one setting in two)."""
    import os
    import sys
    import sysconfig

    import torch

    from ganbench import fingerprint as fp
    from ganbench import installed
    from ganbench.variants.gan import d_loss_bce, g_loss_nonsaturating

    before = fp.fingerprint("p", "1", (d_loss_bce, g_loss_nonsaturating))
    assert not fp.is_local(torch)
    elsewhere = {key: str(tmp_path / key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    monkeypatch.setattr(sysconfig, "get_paths", lambda: elsewhere)  # this venv's own folders hold nothing
    installed._roots.cache_clear()
    try:
        assert not fp.is_local(torch)  # found in a site-packages on sys.path
        assert fp.fingerprint("p", "1", (d_loss_bce, g_loss_nonsaturating)) == before
        site = [entry for entry in sys.path if os.path.basename(entry) in ("site-packages", "dist-packages")]
        monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in site])
        assert fp.is_local(torch)  # the oracle: nowhere installed, torch would be local code
    finally:
        installed._roots.cache_clear()


def test_an_int_option_in_other_scripts_digits_is_refused_as_written_not_as_too_long():
    """Pass 83: n_critic=١ (one Arabic-Indic digit) was "not one of 1 digits", the message of a 5000-digit number."""
    for text in ("١", "٣٢", " ５ "):
        with pytest.raises(OptionError, match=re.escape(f"option 'n_critic' must be int, not {text!r}")):
            ganbench.create_spec("wgan", "ring8", steps=5, overrides={"n_critic": text})


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**23, 2**70000], ids=["2^63", "-2^63-1", "1e23", "2^70000"])
def test_an_int_option_beyond_int64_is_refused_as_records_cannot_hold_it(fresh_plugins, value):
    """A plugin's unbounded int option took 10**23 from --set: the run exited 0 with a record `table` then refused
    as not strict JSON, and the advice (--force) wrote the same record again (pass 54)."""
    counted = register_nsgan_with(fresh_plugins, "counted", "count", int, 2)
    text = str(value) if value.bit_length() < 100 else "9" * 30
    for given in (value, text):
        with pytest.raises(OptionError, match="option 'count' must be within int64 .* which records hold, not"):
            ganbench.create_spec("counted", "ring8", steps=5, overrides={"count": given})
    assert (
        ganbench.create_spec("counted", "ring8", steps=5, overrides={"count": 2**63 - 1}).variant_options["count"]
        == 2**63 - 1
    )
    with pytest.raises(OptionError, match="must be within int64"):  # a default beyond it, at registration
        dataclasses.replace(counted, name="huge", count=2**64)

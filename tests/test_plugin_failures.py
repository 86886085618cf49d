"""Third-party plugins that fail or misbehave: loggers, executors, datasets and networks.

Each is one line naming the plugin (exit 2), found before the run folder exists where it can be; ganbench's own
files stay whole, and a logger's failure mid-run keeps the steps trained.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
import warnings

import numpy as np
import pytest
import torch

import ganbench
from ganbench.errors import PluginError

from .conftest import assert_one_line_error, extractor_and_metric

RUN = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "6", "-m", "modes,frechet", "--eval-samples", "200", "-q"]


def registering(obj, hook):
    class Plugin:
        pass

    def register_one(self, register):
        register(obj)

    register_one.__name__ = hook
    setattr(Plugin, hook, ganbench.hookimpl(register_one))
    return Plugin()


def history(run_dir):
    with open(run_dir / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


# -- loggers -------------------------------------------------------------------------------------------------------


def failing_logger(hook, at_step=None):
    class Logger:
        pass

    def fail(self, run_dir):
        raise RuntimeError(f"{hook} broke")

    def fail_at(self, step):  # pluggy passes only arguments without defaults
        if step == at_step:
            raise RuntimeError(f"{hook} broke")

    fail = fail if at_step is None else fail_at

    fail.__name__ = hook
    setattr(Logger, hook, ganbench.hookimpl(fail))
    return Logger()


@pytest.mark.parametrize("hook", ["on_run_start", "on_step_end", "on_evaluation", "on_run_end"])
def test_a_failing_logger_is_one_line_naming_its_plugin(fresh_plugins, cli, tmp_path, hook):
    fresh_plugins.register_plugin(failing_logger(hook), name="bad-logger")
    result = cli(*RUN, "--log-every", "2", "-o", str(tmp_path))
    assert_one_line_error(result, f"logger of plugin 'bad-logger' (bad-logger runtime) failed in {hook}")
    assert f"RuntimeError: {hook} broke; fix the plugin, or leave it out" in result.err
    if hook == "on_run_end":  # after the record: the run itself is done
        assert "the run itself is completed and recorded in" in result.err
        assert json.loads(next(tmp_path.glob("*/record.json")).read_text())["status"] == "completed"


def test_a_logger_failing_mid_run_keeps_the_steps_and_the_rerun_equals_an_uninterrupted_run(
    fresh_plugins, cli, tmp_path
):
    args = [*RUN, "--log-every", "2", "--checkpoint-every", "1000", "--eval-every", "3"]
    assert cli(*args, "-o", str(tmp_path / "whole")).code == 0
    fresh_plugins.register_plugin(failing_logger("on_step_end", at_step=4), name="bad-logger")
    result = cli(*args, "-o", str(tmp_path / "broken"))
    assert_one_line_error(result, "failed in on_step_end", "once it is fixed, the same command resumes at step 4")
    fresh_plugins.unregister_plugin("bad-logger")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli(*args, "-o", str(tmp_path / "broken")).code == 0
    assert not [w for w in caught if "training curves miss" in str(w.message)]  # its scoring row 3 is no hole
    whole, broken = (next((tmp_path / d).glob("*/record.json")).parent for d in ("whole", "broken"))
    assert json.loads((broken / "record.json").read_text())["resumed_from"] == 4
    assert history(broken) == history(whole)
    assert (broken / "metrics.json").read_bytes() == (whole / "metrics.json").read_bytes()


def test_a_logger_exiting_is_a_failure_not_a_success(fresh_plugins, cli, tmp_path):
    class Exiting:
        @ganbench.hookimpl
        def on_step_end(self):
            raise SystemExit(0)

    fresh_plugins.register_plugin(Exiting(), name="exiting")
    result = cli(*RUN, "--log-every", "2", "-o", str(tmp_path))
    assert_one_line_error(result, "logger of plugin 'exiting'", "failed in on_step_end: SystemExit: 0")
    assert list(tmp_path.glob("*/checkpoint.pt"))  # the steps kept


def test_a_logger_out_of_memory_is_its_plugins_failure_not_the_runs(fresh_plugins, cli, tmp_path):
    """The allocator's text inside a logger's failure was told as the run's own out of memory, "lower --set
    batch_size" (a new run id, and no help), the plugin's name lost (pass 71)."""

    class Hungry:
        @ganbench.hookimpl
        def on_step_end(self):
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: you tried to "
                "allocate 17592186044416 bytes. Error code 12 (Cannot allocate memory)"
            )

    fresh_plugins.register_plugin(Hungry(), name="hungry")
    result = cli(*RUN, "--log-every", "2", "-o", str(tmp_path))
    assert_one_line_error(result, "logger of plugin 'hungry'", "failed in on_step_end: RuntimeError: ")
    assert "batch_size" not in result.err and list(tmp_path.glob("*/checkpoint.pt"))  # the steps kept


def test_loggers_get_copies_so_none_edits_what_ganbench_writes(fresh_plugins, cli, tmp_path):
    class Meddler:
        @ganbench.hookimpl
        def on_step_end(self, logs):
            logs["injected"] = 1.0
            logs.pop("loss_d")

        @ganbench.hookimpl
        def on_evaluation(self, scores):
            scores["modes_captured"] = 12345.0

        @ganbench.hookimpl
        def on_run_end(self, record):
            record.metrics["frechet"] = -1.0

    fresh_plugins.register_plugin(Meddler(), name="meddler")
    record = ganbench.run(variant="nsgan", dataset="ring8", steps=6, eval_every=3, log_every=3, out=tmp_path,
                          metrics=["modes", "frechet"], eval_samples=200)  # fmt: skip
    rows = history(next(tmp_path.glob("*/history.csv")).parent)
    assert "injected" not in rows[0] and all(row["loss_d"] for row in rows)
    assert [float(row["modes_captured"]) for row in rows if row["modes_captured"]] != [12345.0, 12345.0]
    assert record.metrics["frechet"] >= 0
    assert json.loads(next(tmp_path.glob("*/record.json")).read_text())["metrics"] == record.metrics


def test_a_logger_hook_written_as_a_wrapper_is_refused(fresh_plugins):
    class Wrapper:
        @ganbench.hookimpl(wrapper=True)
        def on_step_end(self):
            return (yield)

    with pytest.raises(PluginError, match="plugin 'wrapper' implements on_step_end as a wrapper"):
        fresh_plugins.register_plugin(Wrapper(), name="wrapper")


# -- executors -----------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OddExecutor(ganbench.Executor):
    how: str = ""

    def run(self, jobs, workers=1, on_result=None):
        if self.how in ("raises", "exits"):
            raise RuntimeError("cluster down") if self.how == "raises" else SystemExit(0)
        results = [fn(**kwargs) for fn, kwargs in jobs]
        return {
            "none": None,
            "too few": results[:-1],
            "too many": results * 2,
            "strings": ["done"] * len(results),
            "reversed": results[::-1],
            "a dict": dict(enumerate(results)),
            "odd status": [dataclasses.replace(r, status="banana") for r in results],
        }.get(self.how, results)


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("raises", "RuntimeError: cluster down"),
        ("none", "TypeError: 'NoneType' object is not iterable"),
        ("too few", "it returned 1 results for 2 jobs"),
        ("too many", "it returned 4 results for 2 jobs"),
        ("strings", "it returned 'done', not a run's record"),
        ("reversed", "it returned records of other runs, or in another order than its jobs"),
        ("a dict", "it returned a dict, not a list of one record per job"),
        ("odd status", "it returned a record of status 'banana', not one of completed, diverged, failed, skipped"),
        ("exits", "SystemExit: 0"),
    ],
)
def test_a_misbehaving_executor_is_one_line_naming_its_plugin(fresh_plugins, cli, tmp_path, how, fragment):
    fresh_plugins.register_plugin(registering(OddExecutor("odd", how=how), "register_executors"), name="odd-exec")
    args = ["run", "-v", "nsgan", "-d", "ring8", "--seed", "0,1", "--steps", "2", "-m", "modes"]
    result = cli(*args, "--eval-samples", "200", "-q", "-o", str(tmp_path), "--executor", "odd")
    assert_one_line_error(result, "executor 'odd' of plugin 'odd-exec'", "failed in run: ", fragment)


def test_an_executor_that_returns_the_records_in_order_is_used(fresh_plugins, cli, tmp_path):
    fresh_plugins.register_plugin(registering(OddExecutor("odd"), "register_executors"), name="odd-exec")
    args = ["run", "-v", "nsgan", "-d", "ring8", "--seed", "0,1", "--steps", "2", "-m", "modes"]
    result = cli(*args, "--eval-samples", "200", "-q", "-o", str(tmp_path), "--executor", "odd")
    assert result.code == 0 and "2 runs in " in result.err


@pytest.mark.parametrize("tells", ["by index 0, twice", "nothing"])
def test_the_sweeps_progress_counts_each_run_once_however_its_executor_tells_of_them(
    fresh_plugins, tmp_path, monkeypatch, tells
):
    """An executor reporting every job as index 0, twice, or reporting none: the bar counts each run once and
    ends full (it stayed short, or counted one run twice, before)."""
    from ganbench import sweeps
    from ganbench.progress import LineProgress

    @dataclasses.dataclass(frozen=True)
    class Teller(ganbench.Executor):
        def run(self, jobs, workers=1, on_result=None):
            results = [fn(**kwargs) for fn, kwargs in jobs]
            for r in results * (2 if tells != "nothing" else 0):
                on_result(0, r)
            return results

    bars = []
    monkeypatch.setattr(sweeps, "progress_bar", lambda total, **kw: bars.append(LineProgress(total)) or bars[-1])
    fresh_plugins.register_plugin(registering(Teller("teller"), "register_executors"), name="teller")
    from ganbench.suites import Suite

    suite = Suite(tmp_path / "t.toml", "t", ("nsgan",), ("ring8",), (0, 1, 2), 2, metrics=("modes",), eval_samples=200)
    records = sweeps.run_suite(suite, tmp_path, executor="teller", progress=False)
    assert len(records) == 3 and bars[0].n == 3 and bars[0].postfix == {"completed": 3}


# -- datasets ------------------------------------------------------------------------------------------------------


def odd_dataset(how):
    ring = type(ganbench.get_dataset("ring8"))

    @dataclasses.dataclass(frozen=True)
    class Odd(ring):
        @property
        def shape(self):
            if how == "shape raises":
                raise RuntimeError("no shape")
            return {"shape -2": (-2,), "shape text": "ab", "numpy shape": (np.int64(2),)}.get(how, super().shape)

        @property
        def n_classes(self):
            return 3 if how.startswith("labels") else 0

        def load(self):
            if how == "load raises":
                raise OSError(5, "disk on fire")
            data = super().load()
            if how == "nan":
                data = data.clone()
                data[7, 1] = float("nan")
            odd = {"wide": torch.zeros(len(data), 3), "numpy": data.numpy(), "empty": data[:0]}
            return odd.get(how, data)

        def to_model(self, items):
            return super().to_model(items).double() if how == "float64" else super().to_model(items)

        def labels(self):
            n = len(super().load())
            return {
                "labels short": torch.zeros(10, dtype=torch.long),
                "labels out of range": torch.full((n,), 3),
                "labels float": torch.zeros(n),
                "labels none": None,
            }.get(how, torch.zeros(n, dtype=torch.long))

        def reference(self):
            real = super().reference()
            return torch.zeros(len(real), 5) if how == "reference wide" else real

        def reference_labels(self):
            return torch.zeros(10, dtype=torch.long) if how == "reference labels short" else super().reference_labels()

        def from_model(self, output):
            samples = torch.zeros(len(output), 5) if how == "from_model wide" else super().from_model(output)
            if how == "from_model nan" or (how == "from_model nan at scoring" and len(output) > 100):
                samples = samples.clone()
                samples[-1, 0] = float("nan")  # a NaN the dataset made, not the generator: the generator is fine
            return samples

    return Odd("odd", description="misbehaves", default_network="mlp", metrics=("modes", "frechet"),
               eval_samples=200, default_steps=6)  # fmt: skip


@pytest.mark.parametrize(
    "how, variant, fragment",
    [
        ("shape raises", "nsgan", "failed in shape: RuntimeError: no shape"),
        ("shape -2", "nsgan", "its shape is (-2,), not a tuple of Python ints >= 1"),
        ("shape text", "nsgan", "its shape is 'ab'"),
        ("load raises", "nsgan", "failed in load: OSError: [Errno 5] disk on fire"),
        ("wide", "nsgan", "its first items as model input are torch.float32 (2, 3), not torch.float32 (2, 2)"),
        ("numpy", "nsgan", "not a tensor of one or more items"),
        ("float64", "nsgan", "its first items as model input are torch.float64 (2, 2), not torch.float32 (2, 2)"),
        ("empty", "nsgan", "it gave 0 items"),
        ("nan", "nsgan", "its items hold NaN or inf (first at item 7)"),
        ("labels short", "cgan", "it gave labels of shape (10,) for"),
        ("labels out of range", "cgan", "its labels span 3..3, outside its 3 classes 0..2"),
        ("labels float", "cgan", "it gave labels torch.float32, not an integer tensor"),
        ("labels none", "cgan", "it gave labels None"),
        ("reference wide", "nsgan", "failed in reference: ValueError: it gave real samples"),
        ("reference labels short", "nsgan", "failed in reference_labels: ValueError: it gave labels of shape (10,)"),
        (
            "from_model wide",
            "nsgan",
            "failed in from_model: ValueError: it gave samples (100, 5) for 100 outputs, not (100, 2)",
        ),
        ("numpy shape", "nsgan", "its shape is (np.int64(2),), not a tuple of Python ints >= 1"),
        ("from_model nan", "nsgan", "failed in from_model: ValueError: it gave samples that are not finite for finite"),
    ],
)
def test_a_misbehaving_dataset_is_one_line_naming_its_plugin_before_any_run_folder(
    fresh_plugins, cli, tmp_path, how, variant, fragment
):
    fresh_plugins.register_plugin(registering(odd_dataset(how), "register_datasets"), name="odd-data")
    args = ["run", "-v", variant, "-d", "odd", "--steps", "3", "-m", "frechet", "--eval-samples", "200", "-q"]
    result = cli(*args, "-o", str(tmp_path))
    assert_one_line_error(result, "dataset 'odd' of plugin 'odd-data'", fragment, "fix the plugin")
    assert not list(tmp_path.iterdir())


def test_a_dataset_whose_samples_turn_nan_at_scoring_is_blamed_not_the_generator(fresh_plugins, cli, tmp_path):
    """from_model making a NaN of finite generator output only for scoring's larger batches: one line naming the
    dataset, and no record saying the run diverged (the generator did not)."""
    fresh_plugins.register_plugin(registering(odd_dataset("from_model nan at scoring"), "register_datasets"), "odd")
    args = ["run", "-v", "nsgan", "-d", "odd", "--steps", "3", "-m", "frechet", "--eval-samples", "200", "-q"]
    result = cli(*args, "-o", str(tmp_path))
    fragment = "failed in from_model: ValueError: it gave samples that are not finite for finite generator outputs"
    assert_one_line_error(result, "dataset 'odd' of plugin 'odd'", fragment)
    assert not list(tmp_path.glob("*/record.json"))


def test_a_dataset_plugin_naming_no_metrics_is_asked_for_some(fresh_plugins, cli, tmp_path):
    quiet = dataclasses.replace(odd_dataset(""), metrics=())
    fresh_plugins.register_plugin(registering(quiet, "register_datasets"), name="odd-data")
    result = cli("run", "-v", "nsgan", "-d", "odd", "--steps", "3", "-q", "-o", str(tmp_path))
    assert_one_line_error(result, "dataset 'odd' names no metrics of its own; name some with --metrics")


def claiming(claim):
    class Resolver:
        @ganbench.hookimpl
        def resolve_dataset(self, name):
            if isinstance(claim, Exception):
                raise claim
            return claim if name == "foo" else None

    return Resolver()


@pytest.mark.parametrize(
    "claim, fragment",
    [
        (("ring8", 5), "claimed dataset 'foo' as ('ring8', 5), not (a registered dataset's name, {option: value})"),
        ("ring8", "claimed dataset 'foo' as 'ring8', not"),
        ((None, None), "claimed dataset 'foo' as (None, None), not"),
        (("nope", {}), "claimed dataset 'foo' as ('nope', {}), not"),
        (("ring8", {"bogus": 1}), "claimed dataset 'foo' as 'ring8' with option 'bogus', which 'ring8' does not"),
        (OSError("no disk"), "failed in resolve_dataset: OSError: no disk"),
        # pass 57: a value the dataset refuses blamed the user, who set none ("--set dataset.sigma=VALUE")
        (("ring8", {"sigma": -1.0}), "claimed dataset 'foo' as 'ring8' with options it refuses (dataset 'ring8'"),
        (("files", {"path": "/no/such/folder"}), "claimed dataset 'foo' as 'files' with options it refuses ("),
    ],
)
def test_a_malformed_dataset_claim_is_one_line_naming_its_plugin(fresh_plugins, cli, tmp_path, claim, fragment):
    """A claim not of (a registered name, options) was a TypeError traceback from inside ganbench; a claim of an
    unknown name or option blamed the user ('unknown dataset nope', though they typed foo)."""
    fresh_plugins.register_plugin(claiming(claim), name="claims")
    result = cli("run", "-v", "nsgan", "-d", "foo", "--steps", "3", "-m", "modes", "-q", "-o", str(tmp_path))
    assert_one_line_error(result, "plugin 'claims' (", fragment, "fix the plugin")
    assert not list(tmp_path.iterdir())
    np.save(tmp_path / "s.npy", np.zeros((10, 2), np.float32))
    result = cli("eval", "-d", "foo", "--samples", str(tmp_path / "s.npy"), "-m", "modes")
    assert_one_line_error(result, "plugin 'claims' (", fragment)


# -- variants ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("d_loss raises", "failed in d_loss: RuntimeError: no loss"),
        ("d_loss a float", "failed in d_loss: ValueError: it gave 0.5, not one floating-point number"),
        ("g_loss per sample", "failed in g_loss: ValueError: it gave torch.float32 (64,), not one floating-point"),
        # pass 54: a traceback from backward at the first step, leaving a run folder
        ("d_loss a constant", "failed in d_loss: ValueError: its loss carries no gradient back to the discriminator"),
        ("g_loss a meta tensor", "failed in g_loss: ValueError: it gave a meta tensor (a shape without data)"),
        # pass 54: a generator that never learned, recorded as completed (or a traceback at the first log)
        ("g_loss a leaf of its own", "failed in g_loss: ValueError: its loss carries no gradient back to the"),
        # pass 55: a gradient, but zero everywhere: nothing trained, recorded as completed
        ("g_loss a sign", "failed in g_loss: ValueError: its loss has a zero gradient for every score from -4 to 4"),
        ("d_loss times 0", "failed in d_loss: ValueError: its loss has a zero gradient for every score"),
        ("scores edited in place", None),  # trains as nsgan (refused as a leaf edited in place, pass 55)
        # pass 56: a NaN gradient was told as "a zero gradient"; an infinite one recorded as the method diverging
        ("g_loss of infinite gradient", "failed in g_loss: ValueError: its loss, or its gradient, is not finite"),
        ("g_loss NaN", "failed in g_loss: ValueError: its loss, or its gradient, is not finite"),
    ],
)
def test_a_variant_whose_losses_misbehave_is_one_line_naming_its_plugin(fresh_plugins, cli, tmp_path, how, fragment):
    nsgan = ganbench.get_variant("nsgan")

    def d_loss(d_real, d_fake):
        if how == "d_loss raises":
            raise RuntimeError("no loss")
        if how == "d_loss a constant":
            return torch.tensor(0.5)
        if how == "d_loss times 0":
            return nsgan.d_loss(d_real, d_fake) * 0
        if how == "scores edited in place":
            d_real = d_real.sub_(0.0)
        return 0.5 if how == "d_loss a float" else nsgan.d_loss(d_real, d_fake)

    def g_loss(d_fake):
        if how == "g_loss a meta tensor":
            return torch.empty((), device="meta")
        if how == "g_loss a leaf of its own":
            return nsgan.g_loss(d_fake).detach().requires_grad_()
        if how == "g_loss a sign":
            return torch.sign(d_fake).mean()
        if how == "g_loss of infinite gradient":
            return torch.sqrt(d_fake - d_fake.detach()).mean()
        if how == "g_loss NaN":
            return (d_fake * math.nan).mean()
        return d_fake if how == "g_loss per sample" else nsgan.g_loss(d_fake)

    odd = dataclasses.replace(nsgan, name="odd", d_loss=d_loss, g_loss=g_loss)
    fresh_plugins.register_plugin(registering(odd, "register_variants"), name="odd-variant")
    args = ["run", "-v", "odd", "-d", "ring8", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    result = cli(*args, "--set", "batch_size=64", "-o", str(tmp_path))
    if fragment is None:
        assert result.code == 0, result.err
        return
    assert_one_line_error(result, "variant 'odd' of plugin 'odd-variant'", fragment)
    assert not list(tmp_path.iterdir())


# -- networks ------------------------------------------------------------------------------------------------------


def odd_network(how):
    mlp = ganbench.get_network("mlp")

    class Wide(torch.nn.Module):
        def __init__(self, inner, width):
            super().__init__()
            self.inner, self.width = inner, width

        def forward(self, x):
            out = self.inner(x)
            return out.reshape(len(out), -1).repeat(1, self.width)

    class Rounded(Wide):
        def forward(self, x):
            return self.inner(x).long()

    class One(Wide):
        def forward(self, x):
            return self.inner(x).mean().reshape(1) if len(x) > 2 else self.inner(x)

    class Detached(Wide):  # its backward would fail at the first step (a traceback), or its net never learn
        def forward(self, x):
            return self.inner(x).detach()

    class Complex(Wide):  # the right shape: "gives (128, 2); dataset samples are (2,)" blamed it
        def forward(self, x):
            return torch.complex(self.inner(x), self.inner(x))

    class Meta(Wide):  # "carry no gradient ... detached" blamed it
        def forward(self, x):
            return torch.empty(len(x), 2, device="meta")

    class Paired(Wide):  # a tuple: its tensors' repr in the message
        def forward(self, x):
            return (self.inner(x),)

    class Exits(Wide):  # ended `ganbench run` with exit 0 and no output
        def forward(self, x):
            sys.exit(0)

    class TrainingOnly(Wide):  # wrong only as it trains: past an eval-mode check, a traceback at the first step
        def forward(self, x):
            out = self.inner(x)
            if self.training and self.width == 0:
                raise RuntimeError("train boom")
            return out[:, :1] if self.training else out

    @dataclasses.dataclass(frozen=True)
    class Odd(type(mlp)):
        def build(self, shape, pack, n_classes=0, conditioning="concat"):
            if how == "raises":
                raise RuntimeError("cannot build")
            if how == "build exits":
                sys.exit(0)
            g, d = super().build(shape, pack, n_classes, conditioning)
            if how == "one":
                return g
            if how == "not modules":
                return (lambda z: z), d
            if how == "frozen":
                d.requires_grad_(False)
            odd = {
                "g wide": (Wide(g, 3), d),
                "d wide": (g, Wide(d, 5)),
                "d integer": (g, Rounded(d, 1)),
                "d one score": (g, One(d, 1)),
                "g detached": (Detached(g, 1), d),
                "d detached": (g, Detached(d, 1)),
                "g complex": (Complex(g, 1), d),
                "g meta": (Meta(g, 1), d),
                "d tuple": (g, Paired(d, 1)),
                "forward exits": (Exits(g, 1), d),
                "g training shape": (TrainingOnly(g, 1), d),
                "d training raises": (g, TrainingOnly(d, 0)),
            }
            return odd.get(how, (g, d))

        def check(self, shape, pack, n_classes=0, conditioning="concat"):
            if how == "check exits":
                sys.exit(0)
            if how == "check raises":
                raise ValueError("check boom")
            return True if how == "check true" else super().check(shape, pack, n_classes, conditioning)

    return Odd(**{f.name: getattr(mlp, f.name) for f in dataclasses.fields(mlp)} | {"name": "odd"})


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("raises", "failed in build: RuntimeError: cannot build"),
        ("one", "not (generator, discriminator)"),
        ("not modules", "its generator is <function"),
        ("frozen", "its discriminator has no trainable parameters"),
        (
            "g wide",
            "failed in forward: ValueError: its generator gives (128, 6) for 128 samples; dataset samples are (2,)",
        ),
        ("d wide", "its discriminator gives (64, 5) for 64 inputs, not (64,) or (64, 1)"),
        ("d integer", "its discriminator gives torch.int64 scores, not floating-point ones"),
        ("d one score", "its discriminator gives (1,) for 64 inputs"),
        ("g detached", "failed in forward: ValueError: its generator's samples carry no gradient to its weights"),
        ("d detached", "its discriminator's scores carry no gradient to its weights (detached, or made under torch"),
        ("g complex", "failed in forward: ValueError: its generator gives torch.complex64 samples, not floating-point"),
        ("g meta", "its generator gives samples on the meta device, not on cpu with its weights"),
        ("d tuple", "its discriminator gives a tuple, not a tensor of scores"),
        ("forward exits", "failed in forward: SystemExit: 0"),
        ("g training shape", "its generator gives (128, 1) for 128 samples in training mode; dataset samples are (2,)"),
        ("d training raises", "failed in forward: RuntimeError: train boom"),
        ("build exits", "failed in build: SystemExit: 0"),
        ("check exits", "failed in check: SystemExit: 0"),
        ("check raises", "failed in check: ValueError: check boom"),
        ("check true", "failed in check: TypeError: it returned True, not a reason (text) or None"),
    ],
)
def test_a_misbehaving_network_is_one_line_naming_its_plugin_before_any_run_folder(
    fresh_plugins, cli, tmp_path, how, fragment
):
    fresh_plugins.register_plugin(registering(odd_network(how), "register_networks"), name="odd-net")
    args = ["run", "-v", "nsgan", "-d", "ring8", "--network", "odd", "--steps", "3", "-m", "modes", "-q"]
    result = cli(*args, "--eval-samples", "200", "--set", "pack=2", "--set", "batch_size=64", "-o", str(tmp_path))
    assert_one_line_error(result, "network 'odd' of plugin 'odd-net'", fragment)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("variant", ["sngan", "dcgan", "biggan", "stylegan2"])
def test_the_forward_check_leaves_the_networks_as_built(tmp_path, monkeypatch, variant):
    """Spectral norm's power iteration and batch norm's running statistics do not move, though the check also
    runs in training mode: a run equals, bit for bit, the same run without the check."""
    import ganbench.training

    dataset = "ring8" if variant == "sngan" else "digits"
    sizes = {
        "sngan": {},
        "dcgan": {"network.width": 4, "network.z_dim": 8},
        "biggan": {"network.width": 4, "network.z_dim": 20},
        "stylegan2": {"network.width": 16, "network.z_dim": 16, "network.w_dim": 16},
    }[variant]
    options = dict(
        variant=variant,
        dataset=dataset,
        steps=3,
        metrics=None if sizes else ["frechet"],
        eval_samples=64,
        overrides=sizes,
    )
    checked = ganbench.run(**options, out=tmp_path / "checked")
    monkeypatch.setattr(ganbench.training, "check_forward", lambda *args: None)
    unchecked = ganbench.run(**options, out=tmp_path / "unchecked")
    assert checked.metrics == unchecked.metrics


# -- commands ------------------------------------------------------------------------------------------------------


def installed_command_plugin(monkeypatch, how):
    """A plugin adding commands as if installed from distribution ganbench-cmds 0.1 (the CLI loads only installed
    ones for commands: it must not import torch for --help)."""
    import ganbench.commands

    class Commands:
        @ganbench.hookimpl
        def register_commands(self, cli):
            if how == "raises":
                raise RuntimeError("boom")
            name = {"replaces": "list", "unnamed": "Bad Name"}[how]
            cli.command(name)(lambda: print("hijacked"))

    def load_entry_points(pm, origins):
        pm.register(Commands(), name="cmds")
        origins["cmds"] = ("ganbench-cmds", "0.1")

    monkeypatch.setattr(ganbench.commands, "load_entry_points", load_entry_points)


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("raises", "failed in register_commands: RuntimeError: boom"),
        ("replaces", "replaces command 'list'"),
        ("unnamed", "adds a command named 'Bad Name' (a command is one lower-case word"),
    ],
)
def test_a_plugin_whose_commands_fail_or_clash_is_one_line_naming_it(monkeypatch, cli, how, fragment):
    from ganbench.cli import cli as group

    commands = dict(group.commands)
    installed_command_plugin(monkeypatch, how)
    for args in (["list"], ["--help"]):
        result = cli(*args)
        assert_one_line_error(result, "plugin 'cmds' (ganbench-cmds 0.1)", fragment, "`pip uninstall ganbench-cmds`")
        assert "hijacked" not in result.out
    assert group.commands == commands  # the built-in commands as they were


def test_a_plugin_command_may_call_main_again_and_a_bare_command_shows_its_help(monkeypatch, cli):
    """A plugin command calling main() was refused as 'replaces command' (its commands added twice), and `ganbench`
    alone printed its help as an error with a hint glued on (pass 61)."""
    import ganbench.commands
    from ganbench.cli import main

    class Commands:
        @ganbench.hookimpl
        def register_commands(self, cli):
            cli.command("nest")(lambda: main(["list", "--json"]))

    def load_entry_points(pm, origins):
        pm.register(Commands(), name="nester")
        origins["nester"] = ("ganbench-nester", "0.1")

    monkeypatch.setattr(ganbench.commands, "load_entry_points", load_entry_points)
    nested = cli("nest")
    assert nested.code == 0 and "variants" in json.loads(nested.out), nested.err
    bare = cli()
    assert (bare.code, bare.err) == (0, "") and bare.out.startswith("Usage: ganbench [OPTIONS] COMMAND")


def test_a_plugin_registered_at_run_time_is_told_its_commands_are_not_added(fresh_plugins):
    """Its register_commands was accepted and never called: `main(["hello"])` said "No such command" (pass 60)."""

    class Commands:
        @ganbench.hookimpl
        def register_commands(self, cli):
            cli.command("hello")(lambda: print("hello"))

    with pytest.warns(UserWarning, match="plugin 'rtc': register_commands is not called for a plugin registered at"):
        fresh_plugins.register_plugin(Commands(), name="rtc")


def test_an_installed_plugin_whose_hook_does_not_fit_the_hookspec_is_one_line(monkeypatch):
    import types

    import pluggy

    import ganbench.entry_points
    from ganbench import hookspecs

    class Misfit:
        @ganbench.hookimpl
        def on_step_end(self, nonsense):
            pass

    class EntryPoint:
        name, dist = "misfit", types.SimpleNamespace(name="ganbench-misfit", version="0.1")

        def load(self):
            return Misfit()

    monkeypatch.setattr(ganbench.entry_points.importlib.metadata, "entry_points", lambda group: [EntryPoint()])
    pm = pluggy.PluginManager("ganbench")
    pm.add_hookspecs(hookspecs)
    with pytest.raises(PluginError) as caught:
        ganbench.entry_points.load_entry_points(pm, {})
    message = str(caught.value)
    assert message == (
        "plugin 'misfit' (distribution ganbench-misfit 0.1) implements on_step_end(nonsense), but ganbench calls "
        "on_step_end(spec, run_dir, step, logs): it has no nonsense to pass; fix it (ganbench.hookspecs) or "
        "`pip uninstall ganbench-misfit`"
    )


# -- feature extractors --------------------------------------------------------------------------------------------


def odd_extractor(how):
    """A plugin of a feature extractor that misbehaves as ``how`` says, a Fréchet distance in its space, and ring8
    offering that space (as ``ringodd``)."""
    from ganbench.metric import FeatureExtractor, Metric
    from ganbench.metrics.frechet import fid_against_reference

    calls: list[int] = []

    class Odd(FeatureExtractor):
        def extract(self, samples, dataset=None):
            x = samples.reshape(len(samples), -1).float()
            return {
                "a list": x.tolist,
                "two rows": lambda: x[:2],
                "twice the rows": lambda: torch.cat([x, x]),
                "NaN": lambda: torch.where(torch.arange(len(x))[:, None] == 0, math.nan, x),
                "None": lambda: None,
                "a vector": lambda: x[:, 0],
                "raises": lambda: 1 / 0,
                "no columns": lambda: x[:, :0],  # a Fréchet distance of 0.0, recorded (pass 55)
                "huge integers": lambda: x.long() + 2**62,  # float64 rounds them alike: 0.0 too
                "another width": lambda: x if calls.append(1) or len(calls) == 1 else x[:, :1],
            }.get(how, lambda: x)()

        def fingerprint(self, dataset=None):  # pass 57: its faults were blamed on the metric asking for features
            return {"a fingerprint of None": None, "a fingerprint of a set": {"weights": {1, 2}}}.get(how, {})

    class OddFid(Metric):
        def compute(self, ctx, space=None):
            value = fid_against_reference(ctx, space)[0]
            return {"ofid_raw": value} if how == "a metric filing another space's" else {f"ofid_{space}": value}

    class Plugin:
        @ganbench.hookimpl
        def register_feature_extractors(self, register):
            register(Odd("oddfeat"))

        @ganbench.hookimpl
        def register_metrics(self, register):
            register(OddFid("ofid", outputs={"ofid_{space}": "lower"}, spaces=("oddfeat",)))

        @ganbench.hookimpl
        def register_datasets(self, register):
            ring = ganbench.get_dataset("ring8")
            register(dataclasses.replace(ring, name="ringodd", feature_spaces=("raw", "oddfeat"), metrics=("ofid",)))

    return Plugin()


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("a list", None),  # features as nested lists are numbers too (a traceback writing provenance, pass 54)
        (
            "two rows",
            "its features must be one row per sample, of shape (300, d) with d >= 1, not (2, 2)",
        ),  # a score of 2 rows
        ("twice the rows", "of shape (300, d) with d >= 1, not (600, 2)"),
        ("NaN", "its features hold NaN or inf for samples that hold none"),  # blamed on the generator before
        ("None", "its features must be numbers, not object"),
        ("a vector", "of shape (300, d) with d >= 1, not (300,)"),
        ("raises", "failed in extract: ZeroDivisionError"),  # blamed on the metric's plugin before
        ("no columns", "of shape (300, d) with d >= 1, not (300, 0)"),
        ("huge integers", "its features are integers beyond 2^53"),
        ("another width", "its features have 2 columns for one set of samples, 1 for another"),  # "use one extractor"
        ("a metric filing another space's", "failed in compute: ValueError: it gave ofid_raw, an output of another"),
        ("a fingerprint of None", "failed in provenance: ValueError: it gave None, not a mapping of names to values"),
        ("a fingerprint of a set", "failed in provenance: TypeError"),
    ],
)
def test_a_feature_extractor_giving_other_than_a_row_per_sample_is_one_line_naming_it(
    fresh_plugins, cli, tmp_path, how, fragment
):
    fresh_plugins.register_plugin(odd_extractor(how), name="odd-features")
    np.save(tmp_path / "s.npy", np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32))
    result = cli("eval", "-d", "ringodd", "--samples", str(tmp_path / "s.npy"), "-m", "ofid", "--json")
    if fragment is None:
        assert result.code == 0, result.err
        assert json.loads(result.out)["provenance"]["features"]["oddfeat"]["dim"] == 2
    else:
        who = "metric 'ofid'" if how.startswith("a metric") else "feature extractor 'oddfeat'"
        assert_one_line_error(result, f"{who} of plugin 'odd-features' (", fragment)


@pytest.mark.parametrize(
    "how",
    [
        "an extractor zeroes its samples",
        "an extractor returns a buffer it reuses",
        "a metric zeroes the samples",
        "a metric changes features and statistics in place",
        "a metric changes the dataset's pool",  # pass 58: ring8's cached pool, read by every later evaluation
    ],
)
def test_a_plugin_that_changes_what_it_is_handed_changes_no_other_metric(fresh_plugins, how):
    """Pass 57: samples, features and statistics were shared, so a plugin's in-place edit (``f -= f.mean(0)``, a
    reused buffer) changed the built-in metrics scored after it without a word. Plugins now get copies: the
    built-in scores equal those made without the plugin, and the plugin's own Fréchet distance in a space that
    copies the raw one equals the built-in raw one."""
    from ganbench import evaluate_samples
    from ganbench.gaussian import frechet_distance, gaussian_statistics
    from ganbench.metric import FeatureExtractor, Metric

    samples = np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32)
    alone = evaluate_samples("ring8", samples, metrics=["modes", "frechet"])
    buffer = torch.zeros(1000, 2, dtype=torch.float64)

    class Mine(FeatureExtractor):
        def extract(self, samples, dataset=None):
            x = samples.reshape(len(samples), -1).double()
            if how == "an extractor zeroes its samples":
                samples.zero_()
            if how == "an extractor returns a buffer it reuses":
                buffer[: len(x)] = x
                return buffer[: len(x)]
            return x

    class MineFid(Metric):
        def compute(self, ctx, space=None):
            if how == "a metric zeroes the samples":
                ctx.fake.zero_(), ctx.real.zero_()
            if how == "a metric changes the dataset's pool":
                ctx.dataset.reference().mul_(3)
            if how == "a metric changes features and statistics in place":
                for which in ("fake", "real"):
                    features = ctx.features("raw", which)  # raw features are the samples themselves
                    features -= features.mean(0)
                mean, cov = ctx.reference("raw").gaussian()
                mean += 1.0
                cov += 1.0
            fake = ctx.features("mine", "fake")  # before the real ones: a reused buffer would now hold those
            mean, cov = ctx.reference("mine").gaussian()
            return {"minefid": frechet_distance(mean, cov, *gaussian_statistics(fake))}

    plugin = extractor_and_metric(Mine("mine"), MineFid("minefid", outputs={"minefid": "lower"}, uses=("mine",)))
    fresh_plugins.register_plugin(plugin, name="changer")
    scores = evaluate_samples("ring8", samples, metrics=["minefid", "modes", "frechet"])
    assert {k: scores[k] for k in alone if k != "provenance"} == {k: v for k, v in alone.items() if k != "provenance"}
    assert scores["minefid"] == pytest.approx(alone["frechet"], rel=1e-9)
    fresh_plugins.unregister_plugin("changer")
    again = evaluate_samples("ring8", samples, metrics=["modes", "frechet"])
    assert {k: again[k] for k in alone if k != "provenance"} == {k: v for k, v in alone.items() if k != "provenance"}


def test_a_claimed_dataset_name_takes_set_options_and_scores_as_the_dataset_it_names(fresh_plugins, tmp_path):
    """`eval -d foo --set dataset.radius=3` of a name a plugin claims as ring8 ignored the option (and took any
    key); and a claimed name was scored as real images in files, against the whole pool (pass 58)."""
    from ganbench import evaluate_samples

    fresh_plugins.register_plugin(claiming(("ring8", {})), name="claims")
    samples = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    for options in ({}, {"radius": 3.0}):
        claimed = evaluate_samples("foo", samples, ["frechet"], overrides=options)
        direct = evaluate_samples("ring8", samples, ["frechet"], overrides=options)
        assert claimed["frechet"] == direct["frechet"] and claimed["provenance"] == direct["provenance"]
    with pytest.raises(ganbench.GanbenchError, match="radius"):
        evaluate_samples("foo", samples, ["frechet"], overrides={"radius": -3.0})

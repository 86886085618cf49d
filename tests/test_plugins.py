"""Plugin validation: names, types, duplicates, typos in hook names, and run-time plugins."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import sys
from typing import Literal

import numpy as np
import pytest

import ganbench
from ganbench.errors import PluginError
from ganbench.metric import Bound, Metric

from .conftest import assert_one_line_error, refused_plugin


def plugin_registering(*variants, hook="register_variants"):
    class Plugin:
        pass

    def register_all(self, register):
        for v in variants:
            register(v)

    register_all.__name__ = hook
    setattr(Plugin, hook, ganbench.hookimpl(register_all))
    return Plugin()


def test_a_replaced_variant_registers_and_trains(fresh_plugins, tmp_path):
    mine = dataclasses.replace(ganbench.get_variant("nsgan"), name="mine", lr_d=1e-4, batch_size=32)
    fresh_plugins.register_plugin(plugin_registering(mine), name="my-plugin")
    assert ganbench.get_variant("mine") is mine
    entry = ganbench.registries().variants.entries["mine"]
    assert entry.plugin == "my-plugin"
    record = ganbench.run(variant="mine", dataset="ring8", steps=10, out=tmp_path)
    assert record.status == "completed" and record.spec["variant_options"]["batch_size"] == 32


def test_duplicate_names_name_both_plugins(fresh_plugins):
    twin = dataclasses.replace(ganbench.get_variant("nsgan"), name="wgan")
    with pytest.raises(
        PluginError,
        match=r"'wgan' is registered by both plugin 'ganbench.variants.wgan' \(built into ganbench\) "
        r"and plugin 'twin-plugin' \(.* runtime\); ganbench's own variant keeps its name: rename the other's$",
    ):
        fresh_plugins.register_plugin(plugin_registering(twin), name="twin-plugin")
    assert ganbench.get_variant("wgan").d_loss is not twin.d_loss  # refused: the built-in wgan is untouched


@pytest.mark.parametrize("name", ["Bad Name", "", "-x", "UPPER"])
def test_bad_names_are_refused_naming_the_plugin(fresh_plugins, name):
    bad = dataclasses.replace(ganbench.get_variant("nsgan"), name=name)
    with pytest.raises(PluginError, match="plugin 'bad-names' registered a variant named"):
        fresh_plugins.register_plugin(plugin_registering(bad), name="bad-names")


def test_wrong_types_are_refused(fresh_plugins):
    with pytest.raises(PluginError, match="plugin 'dicts' registered .* must be ganbench.Variant"):
        fresh_plugins.register_plugin(plugin_registering({"name": "dict"}), name="dicts")


def test_a_misspelled_hook_fails_loudly(fresh_plugins):
    with pytest.raises(PluginError) as exc:  # named by its plugin name, not its module object's repr
        fresh_plugins.register_plugin(plugin_registering(hook="register_variant"), name="typo")
    message = str(exc.value)
    assert message.startswith("plugin 'typo' (") and "\n" not in message and "<" not in message, message
    assert "implements register_variant, which ganbench does not declare" in message
    assert message.endswith("(did you mean register_variants?)"), message  # registered at run time: no pip
    assert not fresh_plugins.plugin_manager().has_plugin("typo")  # refused, not left half-registered
    fresh_plugins.register_plugin(plugin_registering(hook="register_variants"), name="typo")  # the fixed one
    assert "nsgan" in fresh_plugins.registries().variants

    class WrongArguments:
        @ganbench.hookimpl
        def register_variants(self, registr):  # not the hookspec's argument: pluggy's own error, named
            pass

    with pytest.raises(PluginError) as exc:  # the hook, its arguments and ganbench's, in one line
        fresh_plugins.register_plugin(WrongArguments())
    assert str(exc.value) == (
        "plugin 'WrongArguments' implements register_variants(registr), but ganbench calls "
        "register_variants(register): it has no registr to pass; fix the plugin (ganbench.hookspecs)"
    )
    assert not fresh_plugins.plugin_manager().has_plugin("WrongArguments")


def test_a_plugin_registered_twice_or_under_a_taken_name_is_one_line(fresh_plugins):
    """pluggy's own refusal is a ValueError listing every plugin (kilobytes); unregistering a typo undid nothing."""
    mine = plugin_registering(hook="register_variants")
    assert fresh_plugins.register_plugin(mine) == type(mine).__name__  # named by its class, for unregister_plugin
    assert fresh_plugins.plugin_manager().get_plugin(type(mine).__name__) is mine
    taken = [
        (mine, None, f"plugin {type(mine).__name__!r} is already registered, as {type(mine).__name__!r}"),
        (mine, "again", "is already registered, as"),
        (plugin_registering(hook="register_variants"), None, "is already registered; pass another name="),
        (plugin_registering(), "ganbench.variants.gan", "a plugin named 'ganbench.variants.gan' (ganbench.variants"),
        (plugin_registering(), " ", "a plugin's name must be non-blank text, not ' '"),
        (plugin_registering(), 3, "a plugin's name must be non-blank text, not 3"),
        (None, None, "plugin 'NoneType' (None) implements no hook; register a module or object whose methods are"),
        (object(), "x", "plugin 'x' (<object object at"),
        (type(mine), "cls", "plugin 'cls' is a class whose hooks are methods; register an instance of it: "),
    ]
    before = fresh_plugins.plugin_manager().list_name_plugin()
    for plugin, name, fragment in taken:
        with pytest.raises(PluginError) as exc:
            fresh_plugins.register_plugin(plugin, name=name)
        assert fragment in str(exc.value) and "\n" not in str(exc.value) and len(str(exc.value)) < 200, str(exc.value)
        assert fresh_plugins.plugin_manager().list_name_plugin() == before
    with pytest.raises(PluginError, match="^no plugin named 'nope' is registered; registered at run time: 'Plugin'$"):
        fresh_plugins.unregister_plugin("nope")
    fresh_plugins.unregister_plugin(type(mine).__name__)
    with pytest.raises(PluginError, match="registered at run time: none$"):
        fresh_plugins.unregister_plugin(type(mine).__name__)
    built_in = "plugin 'ganbench.variants.gan' is built into ganbench, not registered with register_plugin, which"
    with pytest.raises(PluginError, match=f"^{built_in} unregister_plugin undoes; registered at run time: none$"):
        fresh_plugins.unregister_plugin("ganbench.variants.gan")  # nsgan was gone for the process, its heirs failed
    assert fresh_plugins.registries().variants.get("nsgan").name == "nsgan"
    mine = fresh_plugins.register_plugin(plugin_registering(hook="register_variants"), name="by-name")
    with pytest.raises(PluginError, match="^unregister_plugin takes the plugin's name, 'by-name', not the plugin"):
        fresh_plugins.unregister_plugin(fresh_plugins.plugin_manager().get_plugin(mine))
    fresh_plugins.unregister_plugin(mine)


def test_a_class_of_static_hooks_registers_and_one_name_registered_twice_by_one_plugin_says_twice(fresh_plugins):
    """A class (not an instance) was taken, then failed at its first call: 'missing ... argument: self'. A plugin
    that registered one name twice was "registered by both plugin 'x' and plugin 'x'"."""

    class Static:
        @staticmethod
        @ganbench.hookimpl
        def register_variants(register):
            register(ganbench.get_variant("nsgan").derive("static-one"))

    assert fresh_plugins.register_plugin(Static) == "Static"  # no self to miss: taken as it is
    assert ganbench.get_variant("static-one").name == "static-one"
    twice = ganbench.get_variant("nsgan").derive("twice")
    with pytest.raises(PluginError) as exc:
        fresh_plugins.register_plugin(plugin_registering(twice, twice), name="doubled")
    assert str(exc.value) == (
        "plugin 'doubled' (doubled runtime) registers variant 'twice' twice; register it once (or give the second "
        "another name)"
    )


def test_a_plugin_whose_name_or_attributes_misbehave_is_named_by_its_class_or_refused(fresh_plugins, tmp_path):
    """A __name__ of 5 was taken as the plugin's name, then every run failed sorting the names (TypeError); a
    __dir__ or __getattr__ that raised (sys.exit(0) too) escaped register_plugin as it was."""
    numbered = plugin_registering(hook="register_variants")
    numbered.__name__ = 5
    assert fresh_plugins.register_plugin(numbered) == "Plugin"
    assert ganbench.run(variant="nsgan", dataset="ring8", steps=2, eval_samples=100, metrics=["frechet"],
                        out=tmp_path).status == "completed"  # fmt: skip

    class Hidden:
        def __dir__(self):
            raise RuntimeError("no dir")

    class Exits:
        @ganbench.hookimpl
        def register_variants(self, register):
            pass

        def __getattr__(self, name):
            sys.exit(0)

    for plugin, fragment in ((Hidden(), "RuntimeError: no dir"), (Exits(), "SystemExit: 0")):
        with pytest.raises(PluginError) as exc:
            fresh_plugins.register_plugin(plugin)
        expected = f"plugin {type(plugin).__name__!r} failed in its __dir__ or __getattr__: {fragment}; fix the plugin"
        assert str(exc.value).startswith(expected), str(exc.value)


def test_a_hook_that_raises_is_named(fresh_plugins):
    class Broken:
        @ganbench.hookimpl
        def register_metrics(self, register):
            raise RuntimeError("boom")

    with pytest.raises(PluginError, match="plugin 'broken-metrics' failed in register_metrics: RuntimeError: boom"):
        fresh_plugins.register_plugin(Broken(), name="broken-metrics")


def test_a_registration_hook_that_exits_zero_is_a_failure_not_success(fresh_plugins, cli):
    """sys.exit(0) in register_variants ended every command, `leaderboard check` too, with exit 0 and no output."""

    class Exits:
        @ganbench.hookimpl
        def register_variants(self, register):
            raise SystemExit(0)

    refused_plugin(fresh_plugins, Exits(), "exits", "plugin 'exits' failed in register_variants: SystemExit: 0")
    assert cli("list").code == 0  # and nothing after it is blamed on it


def test_run_events_reach_plugins(fresh_plugins, tmp_path):
    seen = []

    class Spy:
        @ganbench.hookimpl
        def on_run_start(self, spec, start_step):
            seen.append(("start", spec.variant, start_step))

        @ganbench.hookimpl
        def on_step_end(self, step, logs):
            seen.append(("step", step, sorted(logs)))

        @ganbench.hookimpl
        def on_run_end(self, record):
            seen.append(("end", record.status))

        @ganbench.hookimpl
        def on_evaluation(self, step, scores):
            seen.append(("evaluation", step, sorted(scores)))

    fresh_plugins.register_plugin(Spy(), name="spy")
    ganbench.run(variant="wgan-gp", dataset="ring8", steps=20, log_every=10, metrics=["frechet"], out=tmp_path)
    logged = sorted(["loss_d", "loss_g", "penalty", "d_real", "d_fake", "g_grad_norm"])
    assert seen == [
        ("start", "wgan-gp", 0),
        ("step", 10, logged),
        ("step", 20, logged),
        ("evaluation", 20, ["frechet"]),
        ("end", "completed"),
    ]


def test_testing_helpers_register_and_check_a_variant(tmp_path):
    from ganbench.testing import check_variant, registered

    ttur = dataclasses.replace(ganbench.get_variant("nsgan"), name="ttur", lr_d=4e-4, lr_g=1e-4)
    with registered(plugin_registering(ttur), name="ttur-plugin"):
        record = check_variant("ttur", tmp_path, steps=10)
        assert record.steps_done == 10
    assert "ttur" not in ganbench.registries().variants


@dataclasses.dataclass(frozen=True)
class Odd(Metric):
    """A third-party metric that misbehaves as ``how`` says, in ``compute`` or in ``samples_needed``."""

    how: str = ""

    def applies_to(self, dataset):
        if self.how == "raises in applies_to":
            raise ZeroDivisionError("no answer")
        return self.how != "raises in why_not" and super().applies_to(dataset)

    def why_not(self, dataset):
        if self.how == "raises in why_not":
            raise KeyError("why")
        return super().why_not(dataset)

    def bounds(self, dataset=None):
        if self.how == "raises in bounds":
            raise ValueError("no bounds")
        return 5 if self.how == "bounds a number" else super().bounds(dataset)

    def samples_needed(self, dataset):
        if self.how == "raises in samples_needed":
            raise RuntimeError("no count")
        return {"abc": "abc", "zero": 0, "a bool": True, "too many": 10**30}.get(self.how, 2)

    def compute(self, ctx, space=None):
        if self.how == "raises in compute":
            raise RuntimeError("compute exploded")
        if self.how == "nothing":
            return {}
        if self.how == "another's output":
            return {"odd": 0.5, "modes_captured": 8}
        note = object() if self.how == "no JSON" else "notes are free"
        odd = {"a string": "abc", "a huge int": 10**400, "out of range": 5.0, "inf": -math.inf}.get(self.how, 0.5)
        extras = {
            "a log's name": {"loss_d": 123.0},
            "a number for a name": {5: 1.0},
            "a pipe in a name": {"a|b": 1.0},
            "a blank name": {" ": 1.0},
            "beyond int64": {"per_class": [1, 2**70]},
        }.get(self.how, {})
        return {"odd": odd, "odd_note": note, "odd_extra": 10**400 if self.how == "a huge extra int" else 1, **extras}


@pytest.mark.parametrize(
    "how, fragments",
    [
        ("raises in samples_needed", ["failed in samples_needed: RuntimeError: no count"]),
        ("raises in applies_to", ["failed in applies_to: ZeroDivisionError: no answer"]),  # pass 57: tracebacks
        ("raises in why_not", ["failed in why_not: KeyError: 'why'"]),
        ("raises in bounds", ["failed in bounds: ValueError: no bounds"]),
        ("bounds a number", ["failed in bounds: ValueError: it gave 5, not a mapping of output names to bounds"]),
        ("abc", ["failed in samples_needed: ValueError: it gave 'abc', not a whole number >= 1"]),
        ("zero", ["it gave 0, not a whole number >= 1"]),
        ("a bool", ["it gave True, not a whole number >= 1"]),
        ("too many", ["needs at least 1,000,000,000,000,000,000,000,000,000,000 samples, more than ganbench scores"]),
        ("raises in compute", ["failed in compute: RuntimeError: compute exploded", "leave it out"]),
        ("a string", ["failed in compute: ValueError: it gave odd = 'abc', not a number or None"]),
        ("a huge int", ["failed in compute: ValueError: it gave odd = about 10^", "too large for a number a record"]),
        ("a huge extra int", ["it gave odd_extra = about 10^", "too large for a number a record can hold"]),
        ("inf", ["it gave odd = -inf, which a record cannot hold; give a finite number, or NaN or None"]),  # pass 57
        ("a log's name", ["it gave loss_d, a name ganbench records something else by"]),
        ("a number for a name", ["it gave a value named 5, not by one line of text without '|'"]),
        ("a pipe in a name", ["it gave a value named 'a|b', not by one line of text"]),
        ("a blank name", ["it gave a value named ' ', not by one line of text"]),
        ("beyond int64", ["it gave what a record cannot hold: the integer 11805916207174113034... is beyond int64"]),
        ("out of range", ["failed in compute: ValueError: its odd = 5.0 is outside the values odd can take, [0, 1]"]),
        ("another's output", ["it gave modes_captured, an output of another metric"]),
        ("no JSON", ["failed in compute: TypeError"]),
    ],
)
def test_a_third_party_metric_that_fails_is_one_line_naming_its_plugin(fresh_plugins, cli, tmp_path, how, fragments):
    """Before training where it can be (the sample count), else after it with the trained steps kept."""
    metric = Odd("odd", outputs={"odd": "lower"}, ranges={"odd": (0.0, 1.0)}, how=how)
    fresh_plugins.register_plugin(plugin_registering(metric, hook="register_metrics"), name="odd-metrics")
    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes,odd", "--eval-samples", "200", "-q"]
    result = cli(*args, "-o", str(tmp_path))
    plugin = "" if how == "too many" else "metric 'odd' of plugin 'odd-metrics'"
    assert_one_line_error(result, plugin, *fragments)
    trained = list(tmp_path.glob("*/checkpoint.pt"))
    before = ("raises in samples_needed", "abc", "zero", "a bool", "too many", "raises in applies_to")
    before += ("raises in why_not",)
    assert len(trained) == (how not in before)
    if how == "raises in bounds":  # a table of the runs bounds each output by its metric's declaration
        plain = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes", "-q", "-o", str(tmp_path)]
        assert cli(*plain).code == 0
        assert_one_line_error(cli("table", str(tmp_path)), plugin, "failed in bounds: ValueError: no bounds")


def test_a_third_party_metric_that_leaves_an_output_out_records_null(fresh_plugins, cli, tmp_path):
    fresh_plugins.register_plugin(plugin_registering(Odd("odd", outputs={"odd": "lower"}, how="nothing"),
                                                     hook="register_metrics"), name="odd-metrics")  # fmt: skip
    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes,odd", "--eval-samples", "200", "-q"]
    assert cli(*args, "-o", str(tmp_path)).code == 0
    assert json.loads(next(tmp_path.glob("*/metrics.json")).read_text())["odd"] is None
    assert cli("table", str(tmp_path)).code == 0


def test_a_plugin_option_of_literal_numbers_is_set_as_it_is_listed(fresh_plugins, cli, tmp_path):
    @dataclasses.dataclass(frozen=True)
    class Levelled(type(ganbench.get_variant("nsgan"))):
        level: Literal[1, 2, 3] = 1

    nsgan = ganbench.get_variant("nsgan")
    mine = Levelled(**{**{f.name: getattr(nsgan, f.name) for f in dataclasses.fields(nsgan)}, "name": "levelled"})
    fresh_plugins.register_plugin(plugin_registering(mine), name="levels")
    args = ["run", "-v", "levelled", "-d", "ring8", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    assert cli(*args, "-o", str(tmp_path), "--set", "level=2").code == 0
    assert json.loads(next(tmp_path.glob("*/spec.json")).read_text())["variant_options"]["level"] == 2
    assert_one_line_error(cli(*args, "-o", str(tmp_path), "--set", "level=4"), "must be one of 1, 2, 3, not '4'")


def test_a_default_a_plugin_gets_wrong_is_its_to_fix_not_a_set(fresh_plugins):
    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(dataclasses.replace(ganbench.get_variant("nsgan"), name="mine", lr_d=-1.0))

    with pytest.raises(PluginError) as caught:
        fresh_plugins.register_plugin(Plugin(), name="bad-default")
    message = str(caught.value)
    assert message.startswith("plugin 'bad-default' failed in register_variants: variant 'mine' option 'lr_d' must be")
    assert message.endswith("; fix the plugin") and "--set" not in message


@pytest.mark.parametrize("outputs", [{"odd": "up"}, {}])
def test_a_metric_says_which_way_each_output_is_better(outputs):
    with pytest.raises(ValueError, match="outputs must map each output to 'higher' or 'lower'"):
        Odd("odd", outputs=outputs)


def registering_in_hook(metric_args: dict):
    """A plugin that makes its metric inside its hook (so a bad declaration is raised while it registers)."""

    class Plugin:
        @ganbench.hookimpl
        def register_metrics(self, register):
            register(Odd(**metric_args))

    return Plugin()


@pytest.mark.parametrize(
    "declared, fragment",
    [
        ({"ranges": {"odd": (1.0, 0.0)}}, "range (1.0, 0.0) for 'odd': a range is (low, high)"),
        ({"ranges": {"odd": (math.nan, 1.0)}}, "range (nan, 1.0) for 'odd'"),
        ({"ranges": {"odd": ("a", "b")}}, "range ('a', 'b') for 'odd'"),
        ({"ranges": {"odd": (0.0, 1.0, 2.0, 3.0)}}, "range (0.0, 1.0, 2.0, 3.0) for 'odd'"),
        ({"ranges": {"odd": Bound(math.nan, 1.0)}}, "for 'odd'"),
        ({"ranges": {"other": (0.0, 1.0)}}, "a range for 'other', which is not one of its outputs ('odd')"),
        ({"outputs": {"provenance": "lower"}}, "output 'provenance': an output is named by non-blank text"),
        ({"outputs": {"seed": "lower"}}, "output 'seed'"),
        ({"outputs": {"": "lower"}}, "output ''"),
        ({"outputs": {"odd": "lower", "  ": "lower"}}, "output '  '"),  # blank, as a value's name is refused
        ({"outputs": {"odd": "lower", " padded ": "lower"}}, "output ' padded '"),  # -m and [tolerance] strip it
        ({"outputs": {"odd_{space}": "lower"}}, "output 'odd_{space}'"),  # no spaces to fill it with
        ({"outputs": {"odd_{other}": "lower"}, "spaces": ("inception",)}, "output 'odd_{other}'"),
        ({"min_samples": 2.5}, "min_samples 2.5: min_samples must be a positive integer"),
        ({"ranges": {"odd": (0, 10**400)}}, "for 'odd': a range is (low, high)"),  # no float holds the end
        ({"outputs": {"odd": "lower", "a|b": "lower"}}, "output 'a|b'"),  # a markdown table's cell separator
        ({"outputs": {"odd": "lower", "a\nb": "lower"}}, "output 'a\\nb'"),
        ({"outputs": {"odd": "lower", "diverged": "lower"}}, "output 'diverged'"),  # a table's own column
        ({"outputs": {"odd": "lower", "loss_d": "lower"}}, "output 'loss_d'"),  # history.csv's training log
    ],
)
def test_a_metric_that_contradicts_itself_is_its_plugins_to_fix(fresh_plugins, declared, fragment):
    """Refused as the plugin registers it, in one line naming the plugin, not when its runs are read back."""
    odd = registering_in_hook({"name": "odd", "outputs": {"odd": "lower"}, **declared})
    refused_plugin(fresh_plugins, odd, "odd-metrics", "plugin 'odd-metrics' registered metric 'odd' with ", fragment,
                   "fix the plugin")  # fmt: skip


def test_a_metric_whose_post_init_skips_the_checks_is_checked_as_it_registers(fresh_plugins):
    @dataclasses.dataclass(frozen=True)
    class Skipper(Odd):
        def __post_init__(self) -> None:  # forgets the base class's checks
            pass

    bad = Skipper("odd", outputs={"odd": "lower"}, ranges={"odd": (1.0, 0.0)})
    with pytest.raises(PluginError, match=r"^plugin 'odd-metrics' registered metric 'odd' with range \(1.0, 0.0\)"):
        fresh_plugins.register_plugin(plugin_registering(bad, hook="register_metrics"), name="odd-metrics")


@pytest.mark.parametrize(
    "outputs, ranges, theirs",
    [
        ({"frechet": "higher"}, {}, "'lower' (is better), in [0.0, inf]"),  # would flip which run a table bolds
        ({"frechet": "lower"}, {"frechet": (0.0, 1.0)}, "'lower' (is better), in [0.0, inf]"),
        ({"modes_captured": "higher"}, {}, "'higher' (is better), in [0, inf] (whole)"),
    ],
)
def test_a_metric_declaring_another_metrics_output_otherwise_is_refused(fresh_plugins, outputs, ranges, theirs):
    metric = Odd("zzmetric", outputs={"hscore": "higher", **outputs}, ranges=ranges)
    output = next(iter(outputs))
    refused_plugin(
        fresh_plugins,
        plugin_registering(metric, hook="register_metrics"),
        "clash",
        f"plugin 'clash' registered metric 'zzmetric' declaring output {output!r} ",
        f"but metric '{output.split('_')[0]}' of plugin 'ganbench.metrics.{output.split('_')[0]}' declares it {theirs}",
        "fix the plugin",
    )


def test_a_metric_may_share_an_output_declared_alike(fresh_plugins):
    """As stacked-modes shares modes_captured with modes: each applies to other datasets."""
    metric = Odd("zzmetric", outputs={"frechet": "lower"}, ranges={"frechet": (0.0, math.inf)})
    fresh_plugins.register_plugin(plugin_registering(metric, hook="register_metrics"), name="alike")
    assert fresh_plugins.registries().metric_directions()["frechet"] == "lower"


def test_a_default_a_plugin_gets_wrong_as_it_registers_is_its_to_fix_not_a_set(fresh_plugins):
    """The other way a default reaches registration: a subclass whose __post_init__ skips the base's checks."""

    @dataclasses.dataclass(frozen=True)
    class Skipper(type(ganbench.get_variant("nsgan"))):
        def __post_init__(self) -> None:
            pass

    nsgan = ganbench.get_variant("nsgan")
    mine = Skipper(**{**{f.name: getattr(nsgan, f.name) for f in dataclasses.fields(nsgan)}, "name": "mine"})
    object.__setattr__(mine, "lr_d", -1.0)
    with pytest.raises(PluginError) as caught:
        fresh_plugins.register_plugin(plugin_registering(mine), name="bad-default")
    message = str(caught.value)
    assert message.startswith("plugin 'bad-default' registered variant 'mine' option 'lr_d' must be > 0, not -1")
    assert message.endswith(" as its default; fix the plugin") and "--set" not in message


@pytest.mark.parametrize("variant", ["nsgan", "wgan-gp"])
def test_the_training_logs_named_are_every_column_training_writes_to_history(tmp_path, variant):
    from ganbench.metric import TRAINING_LOGS

    ganbench.run(variant, "ring8", steps=4, log_every=2, metrics=["modes"], eval_samples=200, out=tmp_path)
    header = next(tmp_path.glob("*/history.csv")).read_text().splitlines()[0].split(",")
    assert set(header) - {"modes_captured", "hq_fraction", "reverse_kl"} <= TRAINING_LOGS


def test_the_reserved_output_names_cover_every_column_a_table_of_runs_holds_beside_outputs():
    from ganbench.metric import RESERVED_OUTPUTS
    from ganbench.results import RunRecord, records_frame

    spec = ganbench.create_spec("nsgan", "ring8", steps=5)
    record = RunRecord(spec.run_id, spec.to_dict(), "completed", "steps", 5, metrics={"frechet": 1.0})
    assert set(records_frame([record]).columns) - {"frechet"} <= RESERVED_OUTPUTS


def test_a_plugin_metric_declaring_what_a_builtin_gives_as_an_extra_is_that_plugins_to_rename(fresh_plugins):
    """kid_classifier gives kid_classifier_std beside its output; a plugin declaring that name was registered, then
    the built-in's compute failed with a traceback naming no plugin (after a run's training, leaving no record)."""
    fresh_plugins.register_plugin(registering_in_hook({"name": "odd", "outputs": {"kid_classifier_std": "lower"}}),
                                  name="odd-metrics")  # fmt: skip
    real = ganbench.get_dataset("digits").load()[:400]
    with pytest.raises(PluginError) as exc:
        ganbench.evaluate_samples("digits", real, ["kid_classifier", "odd"])
    message = str(exc.value)
    assert message.startswith("metric 'odd' of plugin 'odd-metrics' (") and "\n" not in message
    assert message.endswith("declares the output 'kid_classifier_std', which ganbench's metric 'kid' "
                            "records too; rename it in the plugin")  # fmt: skip


def test_a_plugin_others_are_built_on_is_not_unregistered_from_under_them(fresh_plugins):
    """Unregistering a plugin whose variant another derives from succeeded, then every call failed, blaming the
    other (pass 51 F2): refused in one line naming it, and the manager left as it was."""

    class Base:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(ganbench.get_variant("nsgan").derive("va"))

    class Built:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(ganbench.get_variant("va").derive("vb"))

    fresh_plugins.register_plugin(Base(), name="pa")
    fresh_plugins.register_plugin(Built(), name="pb")
    with pytest.raises(PluginError) as caught:
        fresh_plugins.unregister_plugin("pa")
    assert str(caught.value).startswith("plugin 'pa' cannot be unregistered while others need it (without it, plugin")
    assert "'pb'" in str(caught.value) and str(caught.value).endswith("; unregister those first")
    assert ganbench.get_variant("vb").name == "vb" and ganbench.get_variant("nsgan").name == "nsgan"
    fresh_plugins.unregister_plugin("pb")
    fresh_plugins.unregister_plugin("pa")
    assert "va" not in fresh_plugins.registries().variants


def test_what_a_plugin_prints_goes_to_stderr_and_leaves_machine_readable_output_whole(
    fresh_plugins, cli, tmp_path, capsys
):
    """A print in a metric made `eval --json` start with its line before the '{'; one in a registration hook made it
    the first line of `table --format csv` (pass 57)."""

    @dataclasses.dataclass(frozen=True)
    class Printer(Metric):
        def compute(self, ctx, space=None):
            print("hello from compute")
            return {"printed": 0.5}

    class Plugin:
        @ganbench.hookimpl
        def register_metrics(self, register):
            print("hello from registration")
            register(Printer("printer", outputs={"printed": "lower"}))

    capsys.readouterr()
    fresh_plugins.register_plugin(Plugin(), name="printing")  # registration hooks run here
    printed = capsys.readouterr()
    assert "hello from registration" in printed.err and printed.out == ""
    samples = tmp_path / "points.npy"
    np.save(samples, np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32))
    result = cli("eval", "-d", "ring8", "--samples", str(samples), "-m", "printer,modes", "--json")
    assert result.code == 0 and json.loads(result.out)["printed"] == 0.5 and "hello from compute" in result.err
    run = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    assert cli(*run, "-o", str(tmp_path / "r")).code == 0
    table = cli("table", str(tmp_path / "r"), "--format", "csv")
    assert table.code == 0 and table.out.startswith("dataset,")


def test_what_a_plugin_dataset_prints_goes_to_stderr_too(fresh_plugins, cli, tmp_path):
    """A dataset's methods are called in many places, not through one blamed call: its print in ``reference()`` or
    ``load()`` broke `eval --json` (pass 58). While a built-in command works, all prints but its output go to
    stderr."""
    ring = type(ganbench.get_dataset("ring8"))

    @dataclasses.dataclass(frozen=True)
    class Chatty(ring):
        def means(self):
            print("hello from means")
            return super().means()

        def load(self):
            print("hello from load")
            return super().load()

        def reference(self):
            print("hello from reference")
            sys.stdout.buffer.write(b"hello in bytes\n")  # the real stdout's buffer before: JSON broken
            sys.stdout.flush()
            return super().reference()

    class Plugin:
        @ganbench.hookimpl
        def register_datasets(self, register):
            register(Chatty("chatty", n_samples=2000))

    fresh_plugins.register_plugin(Plugin(), name="chatty-data")
    samples = tmp_path / "points.npy"
    np.save(samples, np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32))
    result = cli("eval", "-d", "chatty", "--samples", str(samples), "-m", "modes,frechet", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["modes_captured"] >= 0 and "hello from reference" in result.err
    shown = cli("eval", "-d", "chatty", "--samples", str(samples), "-m", "modes")
    assert shown.code == 0 and "hello" not in shown.out and "modes_captured" in shown.out
    run = ["run", "-v", "nsgan", "-d", "chatty", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    trained = cli(*run, "-o", str(tmp_path / "r"))
    assert trained.code == 0 and "hello from load" in trained.err and "hello" not in trained.out
    table = cli("table", str(tmp_path / "r"), "--format", "csv")
    assert table.code == 0 and table.out.startswith("dataset,") and "hello" not in table.out
    listed = cli("list", "--json")
    assert listed.code == 0 and "chatty" in [d["name"] for d in json.loads(listed.out)["datasets"]]
    stdout = sys.stdout
    Chatty.reference = ring.reference
    Chatty.load = lambda self: setattr(sys, "stdout", io.StringIO()) or ring.load(self)  # its own stdout: kept,
    replaced = cli("eval", "-d", "chatty", "--samples", str(samples), "-m", "frechet", "--json")  # then put back
    assert replaced.code == 0 and json.loads(replaced.out)["frechet"] > 0 and sys.stdout is stdout, replaced.err


def test_a_plugin_exception_whose_message_fails_is_still_one_line(fresh_plugins, cli, tmp_path):
    """An exception whose str() raises was a traceback in the middle of saying it (pass 60), from a metric's
    compute and from a registration hook alike."""

    class Unsayable(Exception):
        def __str__(self):
            raise ValueError("no words")

    @dataclasses.dataclass(frozen=True)
    class Raising(Metric):
        def compute(self, ctx, space=None):
            raise Unsayable()

    class Plugin:
        @ganbench.hookimpl
        def register_metrics(self, register):
            register(Raising("raising", outputs={"raised": "lower"}))

    class Failing:
        @ganbench.hookimpl
        def register_metrics(self, register):
            raise Unsayable()

    with pytest.raises(PluginError, match="failed in register_metrics: Unsayable: <Unsayable, whose message failed"):
        fresh_plugins.register_plugin(Failing(), name="failing")
    fresh_plugins.register_plugin(Plugin(), name="raising")
    samples = tmp_path / "points.npy"
    np.save(samples, np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32))
    result = cli("eval", "-d", "ring8", "--samples", str(samples), "-m", "raising")
    assert_one_line_error(result, "metric 'raising' of plugin 'raising'", "failed in compute: Unsayable: <Unsayable")

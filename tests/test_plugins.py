"""Plugin validation: names, types, duplicates, typos in hook names, and run-time plugins."""

from __future__ import annotations

import dataclasses

import pytest

import ganbench
from ganbench.errors import PluginError


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
    fresh_plugins.register_plugin(plugin_registering(twin), name="twin-plugin")
    with pytest.raises(
        PluginError, match="'wgan' is registered by both plugin 'ganbench.variants.wgan' and plugin 'twin-plugin'"
    ):
        fresh_plugins.registries()


@pytest.mark.parametrize("name", ["Bad Name", "", "-x", "UPPER"])
def test_bad_names_are_refused_naming_the_plugin(fresh_plugins, name):
    bad = dataclasses.replace(ganbench.get_variant("nsgan"), name=name)
    fresh_plugins.register_plugin(plugin_registering(bad), name="bad-names")
    with pytest.raises(PluginError, match="plugin 'bad-names' registered a variant named"):
        fresh_plugins.registries()


def test_wrong_types_are_refused(fresh_plugins):
    fresh_plugins.register_plugin(plugin_registering({"name": "dict"}), name="dicts")
    with pytest.raises(PluginError, match="plugin 'dicts' registered .* must be ganbench.Variant"):
        fresh_plugins.registries()


def test_a_misspelled_hook_fails_loudly(fresh_plugins):
    with pytest.raises(PluginError, match="register_variant"):
        fresh_plugins.register_plugin(plugin_registering(hook="register_variant"), name="typo")


def test_a_hook_that_raises_is_named(fresh_plugins):
    class Broken:
        @ganbench.hookimpl
        def register_metrics(self, register):
            raise RuntimeError("boom")

    fresh_plugins.register_plugin(Broken(), name="broken-metrics")
    with pytest.raises(PluginError, match="plugin 'broken-metrics' failed in register_metrics: RuntimeError: boom"):
        fresh_plugins.registries()


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

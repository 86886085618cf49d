"""Defaults per kind of data: a variant's paper settings where it ran, the network it trained, their
sources, the budgets datasets declare, and the layers in which a run's options are decided."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import torch

import ganbench
from ganbench.errors import OptionError, PluginError
from ganbench.options import options_of
from ganbench.variant import Defaults
from tests.conftest import save_png_folder

# What the papers' own code says, read off the files the sources name (not off ganbench's declarations).
GAN_TOY = dict(gp_lambda=0.1, n_critic=5, batch_size=256, lr_d=1e-4, lr_g=1e-4, betas=[0.5, 0.9], standardize=True)
PACGAN_PROTOCOL = dict(batch_size=100, lr_d=1e-4, lr_g=1e-4, betas=[0.8, 0.999], optimizer="adam")


def options(spec, *keys):
    return {k: spec.variant_options[k] for k in keys}


def test_wgan_gp_takes_its_toy_settings_on_vectors_and_its_cifar_settings_on_images():
    toy = ganbench.create_spec("wgan-gp", "ring8")
    assert options(toy, *GAN_TOY) == GAN_TOY
    assert toy.network == "mlp"
    assert {k: toy.network_options[k] for k in ("width", "depth", "activation", "init")} == dict(
        width=512, depth=3, activation="relu", init="he"
    )
    images = ganbench.create_spec("wgan-gp", "digits")
    assert options(images, "gp_lambda", "batch_size", "standardize") == dict(
        gp_lambda=10.0, batch_size=64, standardize=False
    )
    assert images.network == "dcgan" and images.network_options["d_norm"] == "none"


@pytest.mark.parametrize("variant", ["gan", "nsgan", "pacgan2", "pacgan3", "pacgan4"])
def test_gan_and_pacgan_follow_the_pacgan_mixture_protocol_on_its_networks(variant):
    spec = ganbench.create_spec(variant, "grid25")
    assert options(spec, *PACGAN_PROTOCOL) == PACGAN_PROTOCOL
    assert spec.network == "pacgan-mlp"
    assert {k: spec.network_options[k] for k in ("g_width", "g_depth", "d_units", "d_pieces", "d_depth")} == dict(
        g_width=400, g_depth=4, d_units=200, d_pieces=5, d_depth=3
    )


@pytest.mark.parametrize("variant", ["dcgan", "cgan", "pacgan2", "wgan"])
def test_radford_style_discriminators_have_batch_norm_on_images(variant):
    spec = ganbench.create_spec(variant, "digits")
    assert spec.network == "dcgan" and spec.network_options["d_norm"] == "batch"
    assert ganbench.create_spec("sngan", "digits").network_options["d_norm"] == "none"  # spectral norm only


def test_the_users_set_wins_over_per_kind_defaults():
    spec = ganbench.create_spec(
        "wgan-gp", "ring8", overrides={"gp_lambda": "2", "network.width": "64", "standardize": "false"}
    )
    assert spec.variant_options["gp_lambda"] == 2.0 and spec.variant_options["standardize"] is False
    assert spec.network_options["width"] == 64 and spec.network_options["depth"] == 3


def test_naming_a_network_gives_every_variant_the_same_network():
    """Equal networks are one flag away: a named network is built as registered, whatever the variant."""
    specs = [ganbench.create_spec(v, "ring8", network="mlp") for v in ("wgan-gp", "pacgan2", "lsgan", "nsgan")]
    registered = options_of(ganbench.get_network("mlp"))
    assert all(s.network == "mlp" and dict(s.network_options) == registered for s in specs)
    assert specs[0].variant_options["gp_lambda"] == 0.1  # the variant's own per-kind options stay


def test_defaults_change_the_run_id_through_the_values_recorded():
    toy, image_setting = (
        ganbench.create_spec("wgan-gp", "ring8", steps=10),
        ganbench.create_spec("wgan-gp", "ring8", steps=10, overrides={"gp_lambda": 10, "batch_size": 64}),
    )
    assert toy.run_id != image_setting.run_id
    assert toy.variant_options["gp_lambda"] == 0.1 and image_setting.variant_options["gp_lambda"] == 10.0


def test_a_derived_variants_own_changes_win_over_the_parents_per_kind_defaults():
    """``dataclasses.replace(nsgan, lr_d=4e-4)``: nsgan's mixture protocol sets lr_d 1e-4 on vectors,
    but the plugin asked for 4e-4; what it did not change (batch 100, the network) still follows it."""
    ttur = dataclasses.replace(ganbench.get_variant("nsgan"), name="ttur", lr_d=4e-4, betas=(0.0, 0.9))
    chosen = ttur.defaults_for("vectors")
    assert "lr_d" not in chosen.options and "betas" not in chosen.options
    assert chosen.options["batch_size"] == 100 and chosen.network == "pacgan-mlp"
    assert ganbench.get_variant("nsgan").defaults_for("vectors").options["lr_d"] == 1e-4


def test_unknown_or_bad_per_kind_options_are_refused_where_the_variant_is_made():
    nsgan = ganbench.get_variant("nsgan")
    with pytest.raises(OptionError, match=r"the defaults for vectors of variant 'nsgan' has no option 'lr'"):
        dataclasses.replace(nsgan, defaults={"vectors": Defaults("a paper", options={"lr": 1e-3})})
    with pytest.raises(OptionError, match=r"option 'gp_lambda' must be >= 0"):
        dataclasses.replace(nsgan, defaults={"vectors": Defaults("a paper", options={"gp_lambda": -1})})
    with pytest.raises(OptionError, match="need a source"):
        Defaults("", options={"lr_d": 1e-3})
    with pytest.raises(OptionError, match="no network"):
        Defaults("a paper", network_options={"width": 3})


def test_a_per_kind_network_no_plugin_registered_names_the_plugin(fresh_plugins):
    bad = dataclasses.replace(
        ganbench.get_variant("nsgan"), name="bad", defaults={"vectors": Defaults("a paper", network="nope")}
    )

    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(bad)

    with pytest.raises(PluginError, match="plugin 'bad-defaults': variant 'bad'.s defaults for vectors name network"):
        fresh_plugins.register_plugin(Plugin(), name="bad-defaults")


def test_list_shows_every_builtin_variants_defaults_with_their_source(cli):
    listed = json.loads(cli("list", "--json").out)
    variants = {v["name"]: v for v in listed["variants"]}
    for name in ("gan", "nsgan", "dcgan", "wgan", "wgan-gp", "lsgan", "hinge", "sngan", "nsgan-r1", "pacgan2"):
        assert variants[name]["defaults"]["vectors"]["source"], name
    assert "gan_toy.py" in variants["wgan-gp"]["defaults"]["vectors"]["source"]
    assert "2DRing_GAN&PacGAN/config.py" in variants["pacgan2"]["defaults"]["vectors"]["source"]
    assert "mixture_gaussian/ls.py" in variants["lsgan"]["defaults"]["vectors"]["source"]
    assert variants["dcgan"]["defaults"]["images"]["network_options"] == {"d_norm": "batch"}
    text = cli("list").out
    assert "on vectors: gp_lambda=0.1 batch_size=256 standardize=True network mlp network.width=512" in text
    datasets = {d["name"]: d for d in listed["datasets"]}
    assert datasets["ring8"]["default_steps"] == ganbench.get_dataset("ring8").default_steps


def test_runs_and_suites_without_steps_train_the_datasets_budget(tmp_path):
    from ganbench.suites import load_suite

    for name in ("ring8", "grid25", "digits"):
        assert ganbench.create_spec("nsgan", name).budget.steps == ganbench.get_dataset(name).default_steps
    path = tmp_path / "s.toml"
    path.write_text('variants = ["nsgan"]\ndatasets = ["ring8", "grid25"]\n')
    suite = load_suite(path)
    assert suite.budget_steps == {d: ganbench.get_dataset(d).default_steps for d in ("ring8", "grid25")}
    assert [s.budget.steps for s in suite.specs()] == list(suite.budget_steps.values())


def test_mixtures_declare_budgets_of_their_own():
    """The grid, 25 modes over [-4, 4]^2, takes PacGAN's networks four times the ring's steps to learn."""
    ring, grid = ganbench.get_dataset("ring8"), ganbench.get_dataset("grid25")
    assert (ring.default_steps, grid.default_steps) == (5_000, 20_000)


def test_standardize_shows_the_networks_unit_spread_data_and_scores_in_the_datasets_units():
    """WGAN-GP's toy code divides its data by their standard deviation (gan_toy.py: ``dataset /= 2.828``
    for the 25 Gaussians, whose coordinates' standard deviation is sqrt(8)); samples are scaled back."""
    import math

    from ganbench.training import Trainer

    trainer = Trainer(ganbench.create_spec("wgan-gp", "grid25", steps=1))
    assert trainer.scale == pytest.approx(math.sqrt(8), rel=0.01)  # means {-4..4}: variance 8, plus sigma^2
    batch = trainer.data[:1000]
    shown = trainer.to_model(batch)
    assert shown.std().item() == pytest.approx(batch.std().item() / trainer.scale, rel=1e-6)
    assert torch.equal(trainer.from_model(shown), shown * trainer.scale)
    assert Trainer(ganbench.create_spec("nsgan", "grid25", steps=1)).scale is None


def test_derive_makes_the_named_options_win_even_where_they_repeat_the_parents_value():
    """nsgan-ttur (the example plugin) names betas (0.5, 0.999): nsgan's own value, but not its value on
    vectors (PacGAN's 0.8). With ``derive`` the plugin's value holds on every kind of data."""
    ttur = ganbench.get_variant("nsgan").derive("nsgan-ttur", lr_d=4e-4, lr_g=1e-4, betas=(0.5, 0.999))
    vectors = ttur.defaults_for("vectors")
    assert not {"lr_d", "lr_g", "betas"} & set(vectors.options)
    assert vectors.options["batch_size"] == 100 and vectors.network == "pacgan-mlp"
    replaced = dataclasses.replace(ganbench.get_variant("nsgan"), name="r", betas=(0.5, 0.999))
    assert replaced.defaults_for("vectors").options["betas"] == (0.8, 0.999)  # replace cannot tell: documented


def test_new_defaults_on_a_derived_variant_apply_whole():
    own = Defaults("mine", options={"lr_d": 5e-5, "batch_size": 32})
    for mine in (
        dataclasses.replace(ganbench.get_variant("nsgan"), name="own", lr_d=3e-4, defaults={"vectors": own}),
        ganbench.get_variant("nsgan").derive("own", lr_d=3e-4, defaults={"vectors": own}),
    ):
        assert mine.defaults_for("vectors").options == {"lr_d": 5e-5, "batch_size": 32}


def test_list_shows_the_defaults_a_derived_variant_applies(fresh_plugins, cli):
    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(ganbench.get_variant("nsgan").derive("ttur", lr_d=4e-4))

    fresh_plugins.register_plugin(Plugin(), name="ttur-plugin")
    listed = {v["name"]: v for v in json.loads(cli("list", "--json").out)["variants"]}
    assert "lr_d" not in listed["ttur"]["defaults"]["vectors"]["options"]
    assert listed["nsgan"]["defaults"]["vectors"]["options"]["lr_d"] == 1e-4


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: Defaults("s", options=[("lr_d", 1)]), "options must map option names"),
        (lambda: Defaults("s", options=None), "options must map option names"),
        (lambda: Defaults("s", network_options=["width"], network="mlp"), "network_options must map"),
        (lambda: Defaults("s", network=3), "must be a network's name"),
        (lambda: Defaults("s", network=" "), "must be a network's name"),
        (lambda: Defaults("a lone \udc80 surrogate"), "need a source"),
        (lambda: ganbench.get_variant("nsgan").derive("x", defaults={"Vectors": Defaults("s")}), "'Vectors'"),
        (lambda: ganbench.get_variant("nsgan").derive("x", defaults={"audio": Defaults("s")}), "vectors, images"),
    ],
)
def test_malformed_per_kind_defaults_are_one_line(make, fragment):
    with pytest.raises(OptionError, match=re.escape(fragment)):
        make()


@pytest.mark.parametrize("steps", [0, -1, 1.5, "x", None, True, float("nan")])
def test_a_datasets_budget_must_be_a_positive_integer(steps):
    with pytest.raises(OptionError, match="default_steps must be a positive integer"):
        dataclasses.replace(ganbench.get_dataset("ring8"), default_steps=steps)


def test_a_set_option_the_papers_network_lacks_says_which_network_and_how_to_change_it():
    with pytest.raises(OptionError, match=r"has no option 'width'.*nsgan' trains pacgan-mlp on vectors.*--network mlp"):
        ganbench.create_spec("nsgan", "ring8", overrides={"network.width": 8})


def test_init_gain_scales_every_init():
    from ganbench.networks.mlp import MLP

    for init in ("torch", "he", "orthogonal"):
        torch.manual_seed(0)
        one, _ = MLP("mlp", init=init).build((2,), 1)
        torch.manual_seed(0)
        three, _ = MLP("mlp", init=init, init_gain=3.0).build((2,), 1)
        torch.testing.assert_close(three[0][0].weight, 3.0 * one[0][0].weight, rtol=1e-6, atol=0)


def test_standardize_on_images_divides_what_the_networks_see_and_refuses_data_without_spread(
    tmp_path, weights_file, monkeypatch
):
    from ganbench.training import Trainer

    trainer = Trainer(ganbench.create_spec("nsgan", "digits", steps=1, overrides={"standardize": True}))
    assert trainer.to_model(trainer.data).std().item() == pytest.approx(1.0, rel=1e-3)
    monkeypatch.setenv("GANBENCH_INCEPTION_WEIGHTS", str(weights_file))
    save_png_folder(tmp_path / "grey", np.full((64, 8, 8, 3), 128, dtype=np.uint8))  # identical images
    with pytest.raises(OptionError, match=r"has none \(its items are all alike\); --set standardize=false"):
        Trainer(ganbench.create_spec("nsgan", str(tmp_path / "grey"), steps=1, overrides={"standardize": True}))


def test_a_baseline_of_one_number_of_steps_fits_a_suite_of_the_same_budget_per_dataset(tmp_path):
    from ganbench import leaderboard as lb
    from ganbench.suites import load_suite

    path = tmp_path / "s.toml"
    path.write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = "0"\n')
    suite = load_suite(path)
    runs = [{"variant": "nsgan", "dataset": "ring8", "seed": 0}]
    made = {"settings": suite.settings}
    lb.check_fits(suite, {"made": {**made, "budget": {"steps": 5000, "max_seconds": None}}, "runs": runs})
    with pytest.raises(lb.BaselineError, match="made with steps=1000 on ring8.*now has steps=5000 on ring8"):
        budget = {"steps": {"ring8": 1000}, "max_seconds": None}
        lb.check_fits(suite, {"made": {**made, "budget": budget}, "runs": runs})

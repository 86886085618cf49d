"""StyleGAN2: stylegan2-ada's cifar networks (parameter counts equal to the reference's), their sides and
labels, the variant's recipe (lazy R1 at the right steps, lazily scaled Adam), noise inputs that stay
reproducible, and runs that resume bit for bit with their moving average."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import ganbench
from ganbench.checkpoints import save_checkpoint
from ganbench.harness import Trainer, run_spec
from ganbench.options import with_options
from ganbench.plugins import registries

from .conftest import assert_one_line_error, save_png_folder

STYLEGAN2 = registries().networks.get("stylegan2")
TINY = {"network.width": 16, "network.z_dim": 16, "network.w_dim": 16}
# Counted from NVlabs/stylegan2-ada-pytorch training/networks.py built as train.py's cfg 'cifar' builds it
# (img_resolution 32, z_dim = w_dim = 512, mapping num_layers 2, channel_base 32768, channel_max 512,
# conv_clamp 256, D architecture 'orig', mbstd group 32; c_dim 10 for conditional): sum of parameters' numel.
# Its outputs with the same weights equal ours to float32 rounding (G 7e-6 of 5.5, D 6e-8).
STYLEGAN2_ADA_CIFAR = {"unconditional": (19_947_539, 20_720_641), "conditional": (20_215_315, 23_089_664)}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("kind, classes", [("unconditional", 0), ("conditional", 10)])
def test_parameter_counts_at_the_reference_width_match_stylegan2_adas(kind, classes):
    g, d = STYLEGAN2.build((3, 32, 32), 1, classes, "projection")
    ours, theirs = (count(g), count(d)), STYLEGAN2_ADA_CIFAR[kind]
    print(f"stylegan2 {kind} cifar: G {ours[0]:,} (stylegan2-ada {theirs[0]:,}), D {ours[1]:,} ({theirs[1]:,})")
    for mine, reference in zip(ours, theirs, strict=True):
        assert abs(mine - reference) <= 0.05 * reference


@pytest.mark.parametrize("side", [8, 16, 28, 32, 64])
@pytest.mark.parametrize("classes", [0, 10])
def test_every_supported_side_builds_and_maps_to_the_right_shapes(side, classes):
    net = with_options(STYLEGAN2, {"width": 16, "z_dim": 16, "w_dim": 16, "mbstd_group": 4}, "stylegan2")
    g, d = net.build((1, side, side), 1, classes, "projection")
    z, y = torch.randn(8, 16), torch.randint(10, (8,)) if classes else None
    x = g(z, y) if classes else g(z)
    assert x.shape == (8, 1, side, side)
    assert (d(x, y) if classes else d(x)).shape == (8,)


def test_other_sides_are_built_at_the_next_power_of_two_cropped_and_padded(cli, tmp_path):
    net = with_options(STYLEGAN2, {"width": 16, "z_dim": 16, "w_dim": 16, "mbstd_group": 4}, "stylegan2")
    g, d = net.build((1, 28, 28), 1)
    z = torch.randn(4, 16)
    torch.manual_seed(0)
    x = g(z)
    torch.manual_seed(0)
    full = g.generator(z)
    assert x.shape == (4, 1, 28, 28) and full.shape == (4, 1, 32, 32) and torch.equal(x, full[:, :, 2:30, 2:30])
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    assert torch.equal(d(x), d.discriminator(padded))
    folder = save_png_folder(tmp_path / "tiny", np.zeros((4, 6, 6, 3), np.uint8))
    out = tmp_path / "out"
    assert_one_line_error(cli("run", "-v", "stylegan2", "-d", str(folder), "-o", str(out)), "sides from 8")
    assert not out.exists()


def test_the_variant_is_stylegan2_adas_cifar_recipe_with_lazily_scaled_adam():
    v = registries().variants.get("stylegan2")
    assert (v.batch_size, v.lr_d, v.lr_g, v.betas, v.r1_gamma, v.r1_every, v.g_reg_every) == (
        64,
        0.0025,
        0.0025,
        (0.0, 0.99),
        0.01,
        16,
        4,
    )
    assert (v.ema_kimg, v.ema_rampup, v.ema_buffers, v.d_output) == (500.0, 0.05, "copy", "logit")
    spec = ganbench.create_spec("stylegan2", "digits", overrides=TINY)
    state = Trainer(spec, "cpu").state
    d_group, g_group = state.opt_d.param_groups[0], state.opt_g.param_groups[0]
    assert d_group["lr"] == pytest.approx(0.0025 * 16 / 17) and d_group["betas"][1] == pytest.approx(0.99 ** (16 / 17))
    assert g_group["lr"] == pytest.approx(0.0025 * 4 / 5) and g_group["betas"][1] == pytest.approx(0.99**0.8)
    assert d_group["betas"][0] == g_group["betas"][0] == 0.0
    assert registries().variants.get("stylegan2-cond").conditional


def test_lazy_r1_runs_after_every_sixteenth_d_step_and_only_then(monkeypatch):
    calls = []
    original = Trainer.lazy_r1_step

    def recorded(self, items, labels, seen):
        calls.append(self.state.step)
        return original(self, items, labels, seen)

    monkeypatch.setattr(Trainer, "lazy_r1_step", recorded)
    trainer = Trainer(ganbench.create_spec("stylegan2", "digits", steps=40, overrides=TINY), "cpu")
    trainer.fit()
    assert calls == [0, 16, 32]  # D steps 0, 16 and 32 (one D step per G step), as stylegan2-ada's batch_idx
    calls.clear()
    every = ganbench.create_spec("stylegan2", "digits", steps=6, overrides={**TINY, "r1_every": 4, "n_critic": 2})
    Trainer(every, "cpu").fit()
    assert calls == [0, 2, 4]  # D steps 0, 4, 8 of 12: at generator steps 0, 2 and 4


def test_noise_inputs_are_drawn_and_seeded(tmp_path):
    net = with_options(STYLEGAN2, {"width": 16, "z_dim": 16, "w_dim": 16, "mbstd_group": 4}, "stylegan2")
    g, _ = net.build((1, 8, 8), 1)
    with torch.no_grad():
        for block in g.blocks:
            block.conv1.noise_strength.fill_(1.0)
    z = torch.randn(4, 16)
    torch.manual_seed(1)
    a = g(z)
    torch.manual_seed(1)
    assert torch.equal(a, g(z)) and not torch.equal(a, g(z))  # the noise is drawn, from torch's generator


@pytest.mark.parametrize("variant", ["stylegan2", "stylegan2-cond"])
def test_runs_reproduce_and_resume_bit_for_bit_with_noise_lazy_r1_and_the_average(tmp_path, variant):
    options = dict(steps=20, eval_samples=300, checkpoint_every=5, log_every=2, overrides=TINY)
    first = ganbench.run(variant, "digits", out=tmp_path / "a", **options)
    again = ganbench.run(variant, "digits", out=tmp_path / "b", **options)
    written = (Path(first.run_dir) / "metrics.json").read_bytes()
    assert written == (Path(again.run_dir) / "metrics.json").read_bytes()
    assert first.metrics["fid_classifier"] != first.raw_metrics["fid_classifier"]
    spec = ganbench.create_spec(variant, "digits", steps=20, eval_samples=300, overrides=TINY)
    trainer = Trainer(spec, "cpu")
    trainer.fit(steps=17)  # between two lazy R1 steps (16 and 32)
    run_dir = tmp_path / "resumed" / spec.dirname
    run_dir.mkdir(parents=True)
    save_checkpoint(run_dir / "checkpoint.pt", spec.run_id, trainer.state.state_dict())
    resumed = run_spec(spec, tmp_path / "resumed", checkpoint_every=5, log_every=2, progress=False)
    assert resumed.resumed_from == 17 and (run_dir / "metrics.json").read_bytes() == written
    history = (run_dir / "history.csv").read_text().splitlines()
    assert (
        history[0].split(",")[3] == "penalty"
        and history[-1] == (Path(first.run_dir) / "history.csv").read_text().splitlines()[-1]
    )


def test_list_shows_the_network_and_variants_with_their_paper(cli):
    listing = cli("list").out
    assert "stylegan2-cond" in listing and "Karras et al. 2020" in listing and "r1_every=16" in listing

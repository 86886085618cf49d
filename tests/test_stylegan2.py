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
from ganbench.regularizers import path_lengths

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


@pytest.mark.parametrize(
    "variant, extra",
    [("stylegan2", {}), ("stylegan2-cond", {}), ("stylegan2", {"pl_weight": 2.0, "style_mixing": 0.9})],
)
def test_runs_reproduce_and_resume_bit_for_bit_with_noise_lazy_r1_and_the_average(tmp_path, variant, extra):
    overrides = {**TINY, **extra}
    options = dict(steps=20, eval_samples=300, checkpoint_every=5, log_every=2, overrides=overrides)
    first = ganbench.run(variant, "digits", out=tmp_path / "a", **options)
    again = ganbench.run(variant, "digits", out=tmp_path / "b", **options)
    written = (Path(first.run_dir) / "metrics.json").read_bytes()
    assert written == (Path(again.run_dir) / "metrics.json").read_bytes()
    assert first.metrics["fid_classifier"] != first.raw_metrics["fid_classifier"]
    spec = ganbench.create_spec(variant, "digits", steps=20, eval_samples=300, overrides=overrides)
    trainer = Trainer(spec, "cpu")
    trainer.fit(steps=17)  # between two lazy R1 steps (16 and 32) and two path-length steps (16 and 20)
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


def tiny_generator(side: int = 32) -> torch.nn.Module:
    net = with_options(STYLEGAN2, {"width": 8, "z_dim": 8, "w_dim": 8, "mbstd_group": 4}, "stylegan2")
    return net.build((1, side, side), 1)[0]


@pytest.mark.parametrize("side, built", [(8, 8), (28, 32), (32, 32), (64, 64)])
def test_the_generator_takes_one_style_per_layer_as_stylegan2_adas_synthesis(side, built):
    g = tiny_generator(side)
    blocks = int(np.log2(built)) - 1  # resolutions 4 .. built
    assert g.num_ws == 2 * blocks  # SynthesisNetwork.num_ws: 1 + 2 per block after the first + the last toRGB
    z = torch.randn(3, 8)
    torch.manual_seed(0)
    ws = g.map(z)
    assert ws.shape == (3, g.num_ws, 8) and torch.equal(ws[:, 0], ws[:, -1])
    torch.manual_seed(1)
    image = g.synthesize(ws)
    torch.manual_seed(0)
    same = g(z)
    torch.manual_seed(1)
    assert torch.equal(g(z), image) and same.shape == image.shape
    for layer in range(g.num_ws):  # every style is read by some layer
        changed = ws.clone()
        changed[:, layer] += 1.0
        torch.manual_seed(1)
        assert not torch.equal(g.synthesize(changed), image), layer


def mixing_trainer(probability: float) -> Trainer:
    overrides = {**TINY, "network.width": 8, "style_mixing": probability}
    return Trainer(ganbench.create_spec("stylegan2", "digits", overrides=overrides), "cpu")


def test_style_mixing_takes_the_styles_after_a_random_layer_from_a_second_z():
    trainer = mixing_trainer(1.0)
    g = trainer.state.generator
    z = torch.randn(6, 16)
    cutoffs = set()
    for _ in range(60):
        own = g.map(z, update_average=False)
        average = g.mapping.w_avg.clone()
        mixed = trainer.styles(z, None)
        moved = own[:, 0].mean(0).lerp(average, 0.995)
        assert torch.allclose(g.mapping.w_avg, moved, atol=1e-7)  # z's w moved the average, the second z's did not
        same = [torch.equal(mixed[:, i], own[:, i]) for i in range(g.num_ws)]
        cutoff = same.index(False)
        assert 1 <= cutoff < g.num_ws and all(same[:cutoff]) and not any(same[cutoff:])
        assert all(torch.equal(mixed[:, i], mixed[:, cutoff]) for i in range(cutoff, g.num_ws))  # one second z
        cutoffs.add(cutoff)
    assert cutoffs == set(range(1, g.num_ws))  # uniform over [1, num_ws), as stylegan2-ada's random_(1, num_ws)
    half = mixing_trainer(0.5)
    mixed = sum(not torch.equal(half.styles(z, None), half.state.generator.map(z)) for _ in range(200))
    assert 70 <= mixed <= 130  # Binomial(200, 0.5): outside this range with probability 1e-4


def test_path_lengths_equal_the_norms_of_the_jacobians_transpose_times_the_noise():
    g = tiny_generator(8)
    ws = g.map(torch.randn(3, 8)).detach().clone().requires_grad_(True)

    def synthesize(styles: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(5)  # the same noise inputs in every call
        return g.synthesize(styles)

    images = synthesize(ws)
    directions = torch.randn(images.shape) / 8.0
    lengths = path_lengths(images, ws, directions)
    jacobian = torch.autograd.functional.jacobian(synthesize, ws.detach())  # (B, C, H, W, B, num_ws, w_dim)
    transposed = torch.einsum("bchwnlk,bchw->nlk", jacobian.double(), directions.double())
    expected = transposed.square().sum(2).mean(1).sqrt()
    assert torch.allclose(lengths.double(), expected, rtol=1e-4)
    assert lengths.requires_grad  # differentiable, so it can be penalised


def test_path_length_steps_run_every_g_reg_every_steps_on_g_alone(monkeypatch):
    calls = []
    original = Trainer.path_length_step

    def recorded(self):
        calls.append(self.state.step)
        d_before = [p.detach().clone() for p in self.state.discriminator.parameters()]
        g_before = [p.detach().clone() for p in self.state.generator.parameters()]
        mean_before = self.state.pl_mean.clone()
        term = original(self)
        assert all(torch.equal(a, p) for a, p in zip(d_before, self.state.discriminator.parameters(), strict=True))
        assert not all(torch.equal(a, p) for a, p in zip(g_before, self.state.generator.parameters(), strict=True))
        assert not torch.equal(mean_before, self.state.pl_mean) and torch.isfinite(term)
        return term

    monkeypatch.setattr(Trainer, "path_length_step", recorded)
    overrides = {**TINY, "network.width": 8, "pl_weight": 2.0, "batch_size": 8}
    trainer = Trainer(ganbench.create_spec("stylegan2", "digits", steps=10, overrides=overrides), "cpu")
    trainer.fit()
    assert calls == [0, 4, 8]  # stylegan2-ada's Greg phase: batch_idx % G_reg_interval == 0
    calls.clear()
    Trainer(ganbench.create_spec("stylegan2", "digits", steps=10, overrides={**TINY, "batch_size": 8}), "cpu").fit()
    assert calls == []  # off at cifar (pl_weight 0)


def test_style_options_are_refused_on_networks_without_styles_and_on_too_small_batches(cli, tmp_path):
    out = tmp_path / "out"
    for option in ("style_mixing=0.9", "pl_weight=2"):
        result = cli("run", "-v", "nsgan", "-d", "digits", "--set", option, "-o", str(out))
        assert_one_line_error(
            result, f"sets {option.replace('2', '2.0')}, which acts on a style-based", f"--set {option[:-2]}"
        )
    both = cli(
        "run", "-v", "nsgan", "-d", "digits", "--set", "style_mixing=0.9", "--set", "pl_weight=2", "-o", str(out)
    )
    assert_one_line_error(both, "0.9 and pl_weight=2.0, which act on", "--set style_mixing=0 --set pl_weight=0")
    shrink = cli(
        "run",
        "-v",
        "stylegan2",
        "-d",
        "digits",
        "--set",
        "batch_size=2",
        "--set",
        "pl_weight=2",
        "--set",
        "pl_batch_shrink=4",
        "-o",
        str(out),
    )
    assert_one_line_error(shrink, "pl_batch_shrink")
    assert_one_line_error(cli("run", "-v", "stylegan2", "-d", "digits", "--set", "style_mixing=1.5"), "style_mixing")
    assert not out.exists()


def test_list_shows_the_network_and_variants_with_their_paper(cli):
    listing = cli("list").out
    assert "stylegan2-cond" in listing and "Karras et al. 2020" in listing and "r1_every=16" in listing

"""BigGAN: StudioGAN's CIFAR-10 networks (parameter counts equal to the reference's), their sides,
labels and spectral norm, the variant's recipe, and runs that learn nothing wrong and resume exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import ganbench
from ganbench.checkpoints import save_checkpoint
from ganbench.harness import Trainer, run_spec
from ganbench.options import with_options
from ganbench.plugins import registries

BIGGAN = registries().networks.get("biggan")
TINY = {"network.width": 4, "network.z_dim": 20}
# Counted from POSTECH-CVLab/PyTorch-StudioGAN (947b35e) src/models/big_resnet.py built as
# src/configs/CIFAR10/BigGAN.yaml asks (img_size 32, z_dim 80, g_shared_dim 128, conv dims 96, attention
# G [2] / D [1], spectral norm in G and D, cBN / PD, 10 classes; "W/O" for unconditional):
# sum(p.numel() for p in model.parameters()).
STUDIOGAN_CIFAR10 = {"conditional": (9_416_196, 2_415_170), "unconditional": (8_825_092, 2_413_250)}


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("kind, classes", [("conditional", 10), ("unconditional", 0)])
def test_parameter_counts_at_the_reference_width_match_studiogans(kind, classes):
    g, d = BIGGAN.build((3, 32, 32), 1, classes, "projection")
    ours, theirs = (count(g), count(d)), STUDIOGAN_CIFAR10[kind]
    print(f"biggan {kind} CIFAR-10: G {ours[0]:,} (StudioGAN {theirs[0]:,}), D {ours[1]:,} (StudioGAN {theirs[1]:,})")
    for mine, reference in zip(ours, theirs, strict=True):
        assert abs(mine - reference) <= 0.05 * reference


@pytest.mark.parametrize("side, channels", [(8, 1), (28, 1), (32, 3), (64, 3)])
@pytest.mark.parametrize("classes, pack", [(10, 1), (0, 1), (0, 2)])
def test_every_supported_side_builds_and_maps_to_the_right_shapes(side, channels, classes, pack):
    net = with_options(BIGGAN, {"width": 8, "z_dim": 20}, "biggan")
    g, d = net.build((channels, side, side), pack, classes, "projection")
    torch.manual_seed(0)
    z, y = torch.randn(6, 20), torch.randint(10, (6,)) if classes else None
    x = g(z, y) if classes else g(z)
    assert x.shape == (6, channels, side, side) and x.abs().max() <= 1
    packed = x.reshape(6 // pack, pack * channels, side, side)
    assert (d(packed, y) if classes else d(packed)).shape == (6 // pack,)


def test_the_networks_are_spectrally_normalised_as_studiogans_but_for_gs_class_embedding():
    g, d = BIGGAN.build((3, 32, 32), 1, 10, "projection")
    for net in (g, d):
        for name, module in net.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)) and name != "shared":
                assert nn.utils.parametrize.is_parametrized(module, "weight"), name
    assert not nn.utils.parametrize.is_parametrized(g.shared, "weight")


def test_attention_that_cannot_fit_is_refused_in_one_line(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("run", "-v", "biggan", "-d", "digits", "--set", "network.width=2", "-o", str(out))
    assert result.code == 2 and "attention" in result.err and "network.d_attention=0" in result.err
    assert not out.exists()


def test_the_variant_is_studiogans_cifar10_recipe():
    v = registries().variants.get("biggan")
    assert (v.batch_size, v.n_critic, v.lr_d, v.lr_g, v.betas) == (64, 5, 2e-4, 2e-4, (0.5, 0.999))
    assert (v.ema_decay, v.ema_start, v.conditional, v.conditioning) == (0.9999, 1000, True, "projection")
    assert v.defaults["images"].network == "biggan" and "BigGAN.yaml" in v.defaults["images"].source
    assert not registries().variants.get("biggan-uncond").conditional


def test_list_shows_the_network_and_variants_with_their_paper(cli):
    listing = cli("list").out
    assert "biggan-uncond" in listing and "Brock et al. 2019" in listing and "ema_decay=0.9999" in listing
    assert "network.shared_dim=128" in listing


@pytest.mark.parametrize("variant", ["biggan", "biggan-uncond"])
def test_conditional_and_unconditional_runs_reproduce_and_resume_with_their_average(tmp_path, variant):
    overrides = {**TINY, "ema_start": 3}
    options = dict(steps=8, eval_samples=300, checkpoint_every=4, log_every=2, overrides=overrides)
    first = ganbench.run(variant, "digits", out=tmp_path / "a", **options)
    again = ganbench.run(variant, "digits", out=tmp_path / "b", **options)
    written = (Path(first.run_dir) / "metrics.json").read_bytes()
    assert written == (Path(again.run_dir) / "metrics.json").read_bytes()
    assert ("class_accuracy" in first.metrics) == (variant == "biggan")
    assert first.metrics["fid_classifier"] != first.raw_metrics["fid_classifier"]  # the average, not G
    spec = ganbench.create_spec(variant, "digits", steps=8, eval_samples=300, overrides=overrides)
    trainer = Trainer(spec, "cpu")
    trainer.fit(steps=5)
    run_dir = tmp_path / "resumed" / spec.dirname
    run_dir.mkdir(parents=True)
    save_checkpoint(run_dir / "checkpoint.pt", spec.run_id, trainer.state.state_dict())
    resumed = run_spec(spec, tmp_path / "resumed", checkpoint_every=4, log_every=2, progress=False)
    assert resumed.resumed_from == 5 and (run_dir / "metrics.json").read_bytes() == written

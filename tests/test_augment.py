"""DiffAugment: the paper's transformations, differentiable, seeded, and in runs that resume bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import ganbench
from ganbench.augment import POLICIES, diff_augment
from ganbench.checkpoints import save_checkpoint
from ganbench.errors import OptionError
from ganbench.harness import Trainer, run_spec

from .conftest import assert_one_line_error

TINY = {"network.width": 4, "network.z_dim": 16}


def reference(x: torch.Tensor, policy: list[str], g: torch.Generator) -> torch.Tensor:
    """The formulas of mit-han-lab/data-efficient-gans DiffAugment_pytorch.py, written out independently
    (padding and index grids, as there), drawing from ``g`` in the paper's order."""
    b, c, h, w = x.shape

    def u() -> torch.Tensor:
        return torch.rand(b, 1, 1, 1, generator=g, dtype=x.dtype)

    for name in policy:
        if name == "color":
            x = x + (u() - 0.5)
            m = x.mean(dim=1, keepdim=True)
            x = (x - m) * (u() * 2) + m
            m = x.mean(dim=[1, 2, 3], keepdim=True)
            x = (x - m) * (u() + 0.5) + m
        elif name == "translation":
            tx = torch.randint(-(h // 8), h // 8 + 1, (b, 1, 1), generator=g)
            ty = torch.randint(-(w // 8), w // 8 + 1, (b, 1, 1), generator=g)
            gb, gx, gy = torch.meshgrid(torch.arange(b), torch.arange(h), torch.arange(w), indexing="ij")
            gx = torch.clamp(gx + tx + 1, 0, h + 1)
            gy = torch.clamp(gy + ty + 1, 0, w + 1)
            x = F.pad(x, [1, 1, 1, 1])[gb, :, gx, gy].permute(0, 3, 1, 2)
        elif name == "cutout":
            size = (h // 2, w // 2)
            ox = torch.randint(0, h + (1 - size[0] % 2), (b, 1, 1), generator=g)
            oy = torch.randint(0, w + (1 - size[1] % 2), (b, 1, 1), generator=g)
            gb, gx, gy = torch.meshgrid(torch.arange(b), torch.arange(size[0]), torch.arange(size[1]), indexing="ij")
            gx = torch.clamp(gx + ox - size[0] // 2, 0, h - 1)
            gy = torch.clamp(gy + oy - size[1] // 2, 0, w - 1)
            mask = torch.ones(b, h, w, dtype=x.dtype)
            mask[gb, gx, gy] = 0
            x = x * mask.unsqueeze(1)
    return x


@pytest.mark.parametrize("policy", [["color"], ["translation"], ["cutout"], ["color", "translation", "cutout"]])
@pytest.mark.parametrize("shape", [(16, 3, 32, 32), (9, 1, 8, 8), (5, 1, 28, 28), (4, 3, 7, 9)])
def test_each_policy_equals_the_papers_formulas(policy, shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    ours = diff_augment(x, policy, torch.Generator().manual_seed(7))
    theirs = reference(x, policy, torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)


def test_translation_moves_each_image_by_a_whole_number_of_pixels_and_fills_with_zeros():
    x = torch.arange(1, 16 * 16 + 1, dtype=torch.float32).view(1, 1, 16, 16).repeat(64, 1, 1, 1)
    moved = diff_augment(x, ["translation"], torch.Generator().manual_seed(0))
    shifts = set()
    for image in moved[:, 0]:
        first = image[image > 0].min().item() - 1  # the value at the top-left visible source pixel
        dy, dx = divmod(int(first), 16)
        rows, cols = (image > 0).nonzero().T
        top, left = rows.min().item(), cols.min().item()
        shifts.add((dy - top, dx - left))
        assert (image > 0).sum() == (16 - abs(dy - top)) * (16 - abs(dx - left))
    assert {s for pair in shifts for s in pair} <= set(range(-2, 3)) and len(shifts) > 10


def test_cutout_zeroes_a_quarter_of_the_image_or_less_at_the_border():
    x = torch.ones(200, 1, 12, 12)
    cut = diff_augment(x, ["cutout"], torch.Generator().manual_seed(0))
    zeros = (cut == 0).flatten(1).sum(1)
    assert zeros.max() == 36 and zeros.min() >= 36 // 4 and (zeros == 36).float().mean() > 0.3


def test_augmentation_is_differentiable_and_seeded():
    x = torch.rand(3, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    for policy in (["color"], ["translation"], ["cutout"], list(POLICIES)):
        fixed = lambda t, p=policy: diff_augment(t, p, torch.Generator().manual_seed(3))  # noqa: E731
        assert torch.autograd.gradcheck(fixed, (x,))
    a, b, c = (diff_augment(x, list(POLICIES), torch.Generator().manual_seed(s)) for s in (5, 5, 6))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize(
    "value, fragment",
    [("colour", "has no policy 'colour'"), ("color,color", "names a policy twice"), ("cutout,", None)],
)
def test_policies_are_checked_where_the_option_is_declared(value, fragment):
    if fragment is None:  # a trailing comma is harmless
        spec = ganbench.create_spec("dcgan", "digits", overrides={"diffaugment": value, **TINY})
        assert spec.variant_options["diffaugment"] == ["cutout"]
        return
    with pytest.raises(OptionError, match=fragment):
        ganbench.create_spec("dcgan", "digits", overrides={"diffaugment": value})


def test_augmenting_vectors_is_one_line_and_leaves_nothing(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--set", "diffaugment=color", "-o", str(out))
    assert_one_line_error(result, "augments images", "--set diffaugment=")
    assert not out.exists()


def test_a_run_with_diffaugment_is_reproducible_differs_and_resumes_bit_for_bit(tmp_path):
    options = dict(steps=12, eval_samples=300, checkpoint_every=4, log_every=2)
    overrides = {**TINY, "diffaugment": "color,translation,cutout", "r1_gamma": 1.0}
    first = ganbench.run("dcgan", "digits", out=tmp_path / "a", overrides=overrides, **options)
    again = ganbench.run("dcgan", "digits", out=tmp_path / "b", overrides=overrides, **options)
    plain = ganbench.run("dcgan", "digits", out=tmp_path / "c", overrides={**TINY, "r1_gamma": 1.0}, **options)
    metrics = {name: (Path(r.run_dir) / "metrics.json").read_bytes() for name, r in (("a", first), ("b", again))}
    assert metrics["a"] == metrics["b"]
    assert metrics["a"] != (Path(plain.run_dir) / "metrics.json").read_bytes()
    spec = ganbench.create_spec("dcgan", "digits", steps=12, eval_samples=300, overrides=overrides)
    trainer = Trainer(spec, "cpu")
    trainer.fit(steps=5)
    run_dir = tmp_path / "resumed" / spec.dirname
    run_dir.mkdir(parents=True)
    save_checkpoint(run_dir / "checkpoint.pt", spec.run_id, trainer.state.state_dict())
    resumed = run_spec(spec, tmp_path / "resumed", checkpoint_every=4, log_every=2, progress=False)
    assert resumed.resumed_from == 5
    assert (run_dir / "metrics.json").read_bytes() == metrics["a"]

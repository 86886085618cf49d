"""Each built-in variant: its paper's defaults, and losses equal to their textbook formulas."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import ganbench

PAPER_DEFAULTS = {
    "wgan": dict(weight_clip=0.01, optimizer="rmsprop", lr_d=5e-5, lr_g=5e-5, n_critic=5),
    "wgan-gp": dict(gp_lambda=10.0, optimizer="adam", lr_d=1e-4, lr_g=1e-4, betas=(0.5, 0.9), n_critic=5),
    "dcgan": dict(optimizer="adam", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999)),
    "sngan": dict(spectral_norm=True),
    "nsgan-r1": dict(r1_gamma=10.0),
    "pacgan2": dict(pack=2, lr_d=1e-4, betas=(0.8, 0.999), batch_size=100),
    "pacgan3": dict(pack=3),
    "pacgan4": dict(pack=4),
    "gan": dict(pack=1, n_critic=1),
}

r = torch.tensor([2.0, -1.0, 0.5])
f = torch.tensor([-0.3, 1.5, -2.0])


def test_every_expected_variant_is_registered_with_a_citation():
    names = set(ganbench.registries().variants.names())
    assert set(PAPER_DEFAULTS) | {"nsgan", "lsgan", "hinge"} <= names
    for name in names:
        assert " 20" in ganbench.get_variant(name).paper, name


def test_paper_defaults():
    for name, expected in PAPER_DEFAULTS.items():
        variant = ganbench.get_variant(name)
        for key, value in expected.items():
            assert getattr(variant, key) == value, (name, key)


def test_minimax_and_non_saturating_losses():
    gan, ns = ganbench.get_variant("gan"), ganbench.get_variant("nsgan")
    d_r, d_f = torch.sigmoid(r), torch.sigmoid(f)
    torch.testing.assert_close(gan.d_loss(r, f), -(torch.log(d_r).mean() + torch.log(1 - d_f).mean()))
    torch.testing.assert_close(gan.g_loss(f), torch.log(1 - d_f).mean())
    torch.testing.assert_close(ns.g_loss(f), -torch.log(d_f).mean())


def test_wasserstein_least_squares_and_hinge_losses():
    w, ls, h = (ganbench.get_variant(n) for n in ("wgan", "lsgan", "hinge"))
    torch.testing.assert_close(w.d_loss(r, f), f.mean() - r.mean())
    torch.testing.assert_close(w.g_loss(f), -f.mean())
    torch.testing.assert_close(ls.d_loss(r, f), 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean())
    torch.testing.assert_close(ls.g_loss(f), 0.5 * ((f - 1) ** 2).mean())
    torch.testing.assert_close(h.d_loss(r, f), F.relu(1 - r).mean() + F.relu(1 + f).mean())
    torch.testing.assert_close(h.g_loss(f), -f.mean())


def test_gradient_penalty_of_a_linear_critic():
    from ganbench.regularizers import gradient_penalty, r1_penalty

    critic = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # ||grad|| = 5 everywhere
    x, y = torch.randn(16, 2), torch.randn(16, 2)
    assert gradient_penalty(critic, x, y, torch.Generator().manual_seed(0)).item() == 16.0
    x.requires_grad_(True)
    assert r1_penalty(critic(x), x).item() == 25.0

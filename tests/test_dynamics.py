"""Training dynamics in history.csv (D(x), D(G(z)), the Jensen-Shannon estimate, the generator's gradient
norm), the saturation of the minimax loss they show, and penalties that add up."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

import ganbench
from ganbench.training import Hooks, Trainer, dynamics
from ganbench.variants.gan import d_loss_bce

DYNAMICS = ["d_real", "d_fake", "js_estimate", "g_grad_norm"]


def logged(variant: str, steps: int = 1, **overrides) -> list[dict[str, float]]:
    """The rows a run of ``variant`` on ring8 logs at every step (a small mlp, so it takes a second)."""
    spec = ganbench.create_spec(
        variant, "ring8", network="mlp", steps=steps, overrides={"network.width": 32, **overrides}, metrics=("frechet",)
    )
    rows: list[dict[str, float]] = []
    Trainer(spec).fit(Hooks(log_every=1, on_log=lambda step, logs: rows.append(logs)))
    return rows


def test_js_estimate_is_the_jensen_shannon_divergence_at_the_optimal_discriminator():
    """log 2 - L_D / 2 = JS(p, q) for D* = p / (p + q): the oracle is scipy's Jensen-Shannon distance."""
    p, q = np.array([1, 2, 3, 4]) / 10, np.array([4, 3, 2, 1]) / 10
    logits = torch.tensor(np.log(p / q))
    real = logits.repeat_interleave(torch.tensor([1, 2, 3, 4]))  # exact samples of p: point i, 10 p_i times
    fake = logits.repeat_interleave(torch.tensor([4, 3, 2, 1]))
    generator = torch.nn.Linear(1, 1)
    generator(torch.ones(1, 1)).sum().backward()
    nsgan = ganbench.get_variant("nsgan")
    row = dynamics(nsgan, d_loss_bce(real, fake), torch.tensor(0.0), None, real, fake, generator)
    assert row["js_estimate"] == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-12)
    assert row["d_real"] == pytest.approx(float(np.sum(p * p / (p + q))), rel=1e-12)  # E_p D*(x), D* = p / (p + q)
    assert row["d_fake"] == pytest.approx(float(np.sum(q * p / (p + q))), rel=1e-12)
    assert row["g_grad_norm"] == pytest.approx(math.sqrt(2.0))  # d(w + b)/dw = d/db = 1


def test_critic_variants_log_critic_values_and_no_js_estimate():
    critic_real, critic_fake = torch.tensor([3.0, 5.0]), torch.tensor([-1.0, 0.0])
    generator = torch.nn.Linear(1, 1)
    generator(torch.ones(1, 1)).sum().backward()
    wgan = ganbench.get_variant("wgan-gp")
    row = dynamics(wgan, wgan.d_loss(critic_real, critic_fake), torch.tensor(1.0), torch.tensor(0.5), critic_real,
                   critic_fake, generator)  # fmt: skip
    assert row["d_real"] == 4.0 and row["d_fake"] == -0.5 and row["penalty"] == 0.5
    assert "js_estimate" not in row


def test_the_minimax_loss_saturates_where_the_non_saturating_one_does_not():
    """Goodfellow et al. 2014, Section 3: with a confident D, log(1 - D(G(z))) has almost no gradient.
    D trains 300 steps (Adam 1e-3) against a generator held still (lr_g 1e-12); then the two generator
    losses' gradients at the same D and the same fake batch differ by orders of magnitude."""
    hold = dict(n_critic=300, lr_d=1e-3, lr_g=1e-12)
    minimax, non_saturating = logged("gan", **hold)[0], logged("nsgan", **hold)[0]
    assert minimax["d_fake"] == non_saturating["d_fake"] < 0.01  # D is sure the fakes are fake
    assert minimax["d_real"] > 0.99
    assert minimax["g_grad_norm"] < 1e-2 * non_saturating["g_grad_norm"]
    assert minimax["js_estimate"] > 0.6  # near log 2: D separates the two, JS is at its ceiling


def test_every_log_row_holds_the_dynamics_and_they_reach_history_csv(tmp_path):
    record = ganbench.run(variant="nsgan", dataset="ring8", steps=20, network="mlp", log_every=5, out=tmp_path)
    with open(f"{record.run_dir}/history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows if r["loss_d"]] == [5, 10, 15, 20]
    for row in rows:
        if row["loss_d"]:
            assert all(row[k] != "" for k in DYNAMICS)
            assert 0 < float(row["d_real"]) < 1 and 0 < float(row["d_fake"]) < 1
            assert float(row["js_estimate"]) == pytest.approx(math.log(2) - float(row["loss_d"]) / 2, rel=1e-12)


def test_gradient_penalty_and_r1_together_add_up():
    """The first critic step of one seed sees the same batches and the same D in all three runs (R1 draws
    no random numbers): the penalty logged with both on is the sum of the two logged alone."""
    gp = logged("wgan-gp", n_critic=1)[0]["penalty"]
    r1 = logged("wgan-gp", n_critic=1, gp_lambda=0, r1_gamma=3)[0]["penalty"]
    both = logged("wgan-gp", n_critic=1, r1_gamma=3)[0]["penalty"]
    assert gp > 0 and r1 > 0
    assert both == pytest.approx(gp + r1, rel=1e-6)

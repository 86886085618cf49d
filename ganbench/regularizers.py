"""Discriminator regularizers that variants switch on through their options.

Each takes the discriminator and packed inputs and returns a penalty to add to the
discriminator's loss (or, for clipping, acts on its weights after the step).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def gradient_penalty(disc: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator) -> Tensor:
    """E[(||grad D(x_hat)|| - 1)^2], x_hat uniform on segments from real to fake (Gulrajani 2017)."""
    eps = torch.rand((len(real),) + (1,) * (real.dim() - 1), generator=generator, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def r1_penalty(d_real: Tensor, real: Tensor) -> Tensor:
    """E[||grad D(x)||^2] on real data; the variant scales it by gamma / 2 (Mescheder 2018).

    Takes D's output on ``real`` (which must require grad), so D runs once per step, not twice.
    ``real`` may be what D's input was made from (the samples before packing or augmentation, as
    StyleGAN2's R1 differentiates through its augmentation): the norm is taken over each of D's rows.
    """
    (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
    return grad.reshape(len(d_real), -1).pow(2).sum(1).mean()


def path_lengths(images: Tensor, ws: Tensor, directions: Tensor) -> Tensor:
    """|J_w^T y| per sample (Karras et al. 2020): the gradient of <G(w), y> w.r.t. the styles ``ws``
    (B, num_ws, w_dim), its squares summed over w and averaged over the styles, square-rooted (stylegan2-ada
    loss.py). The graph is kept, so the lengths can be penalised."""
    (grad,) = torch.autograd.grad((images * directions).sum(), ws, create_graph=True)
    return grad.square().sum(2).mean(1).sqrt()


@torch.no_grad()
def clip_weights(disc: nn.Module, c: float) -> None:
    """Clamp every parameter to [-c, c] (Arjovsky 2017)."""
    for p in disc.parameters():
        p.clamp_(-c, c)


def add_spectral_norm(disc: nn.Module) -> nn.Module:
    """Spectral normalisation on every linear, convolutional and embedding layer (Miyato 2018; the
    projection discriminator's class embedding too, Miyato & Koyama 2018)."""
    for name, child in disc.named_children():
        if nn.utils.parametrize.is_parametrized(child, "weight"):  # normalised by its network already (biggan)
            continue
        if isinstance(child, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)):
            setattr(disc, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            add_spectral_norm(child)
    return disc

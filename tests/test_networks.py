"""Network plugins: shapes, sizes, conditioning, spectral norm, seeding and parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganbench.layers import ConditionalBatchNorm2d, Projection, side_plan
from ganbench.networks.dcgan import DCGAN
from ganbench.networks.mlp import MLP
from ganbench.networks.pacgan_mlp import PacGANMLP
from ganbench.networks.resnet import ResNet
from ganbench.regularizers import add_spectral_norm

SIDES = (8, 28, 32, 64)
MODES = ((0, "concat"), (10, "concat"), (10, "projection"))  # (n_classes, conditioning); 0 = unconditional
TINY = {"dcgan": DCGAN("dcgan", z_dim=8, width=4), "resnet": ResNet("resnet", z_dim=8, width=4)}
Z = 8
B = 3


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks: one thread is fastest, and robust on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def labels(n: int = B, n_classes: int = 10) -> torch.Tensor:
    return torch.arange(n) % n_classes


def run_g(g: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return g(z) if y is None else g(z, y)


def run_d(d: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return d(x) if y is None else d(x, y)


# --- shapes and ranges -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("channels", (1, 3))
@pytest.mark.parametrize("n_classes, conditioning", MODES)
def test_image_networks_make_images_and_scores(name, side, channels, n_classes, conditioning):
    torch.manual_seed(0)
    net = TINY[name]
    shape = (channels, side, side)
    assert net.check(shape, 1, n_classes, conditioning) is None
    g, d = net.build(shape, 1, n_classes, conditioning)
    y = labels() if n_classes else None
    x = run_g(g, torch.randn(B, Z), y)
    assert x.shape == (B, *shape)
    assert x.abs().max() <= 1 and x.std() > 0
    score = run_d(d, x, y)
    assert score.shape == (B,) and torch.isfinite(score).all()


@pytest.mark.parametrize("shape", [(2,), (1, 8, 8)])
@pytest.mark.parametrize("conditioning", ("concat", "projection"))
def test_conditional_mlp_shapes(shape, conditioning):
    torch.manual_seed(0)
    g, d = MLP("mlp", z_dim=3, width=16, depth=2).build(shape, 1, 4, conditioning)
    y = labels(n_classes=4)
    x = g(torch.randn(B, 3), y)
    assert x.shape == (B, *shape)
    assert d(x, y).shape == (B,)


@pytest.mark.parametrize("conditioning", ("concat", "projection"))
def test_conditional_mlp_without_hidden_layers(conditioning):
    g, d = MLP("mlp", z_dim=2, depth=0).build((2,), 1, 3, conditioning)
    y = labels(n_classes=3)
    assert d(g(torch.randn(B, 2), y), y).shape == (B,)


def test_networks_refuse_missing_or_unexpected_labels():
    g, d = TINY["dcgan"].build((1, 8, 8), 1, 10, "projection")
    with pytest.raises(ValueError, match="class-conditional"):
        g(torch.randn(B, Z))
    g, d = TINY["resnet"].build((1, 8, 8), 1)
    with pytest.raises(ValueError, match="unconditional"):
        d(torch.randn(B, 1, 8, 8), labels())


# --- sizes: check() ------------------------------------------------------------------------------


def test_side_rule():
    assert [side_plan(s) for s in SIDES] == [(4, 1), (7, 2), (4, 3), (4, 4)]
    assert side_plan(48) == (6, 3)  # SNGAN's STL-10 model starts at 6 x 6
    for side in (1, 4, 6, 7, 9, 30, 36, 100, 255):
        assert side_plan(side) is None


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize(
    "shape, words",
    [
        ((3, 30, 30), "not 30"),
        ((1, 100, 100), "not 100"),
        ((3, 6, 6), "not 6"),
        ((3, 28, 32), "square"),
        ((2,), "(channels, height, width)"),
    ],
)
def test_check_explains_unsupported_shapes(name, shape, words):
    net = TINY[name]
    reason = net.check(shape)
    assert reason is not None and words in reason and "\n" not in reason
    if len(shape) == 3 and shape[1] == shape[2]:
        assert "b*2^k" in reason and "28, 32" in reason  # says which sizes work
    with pytest.raises(ValueError, match="needs|builds"):
        net.build(shape, 1)


@pytest.mark.parametrize("name", sorted(TINY))
def test_check_accepts_supported_shapes(name):
    for side in (*SIDES, 10, 12, 16, 48, 56):
        for channels in (1, 2, 3, 4):
            assert TINY[name].check((channels, side, side)) is None


@pytest.mark.parametrize("net", [TINY["dcgan"], TINY["resnet"], MLP("mlp")], ids=lambda n: n.name)
def test_check_refuses_packed_labels_and_unknown_conditioning(net):
    shape = (1, 8, 8)
    assert "pack" in net.check(shape, 2, 10, "concat")
    assert "'film'" in net.check(shape, 1, 10, "film")
    assert net.check(shape, 2) is None


def test_pacgan_mlp_refuses_labels():
    net = PacGANMLP("pacgan-mlp")
    reason = net.check((2,), 1, 10, "concat")
    assert reason is not None and "unconditional" in reason and "\n" not in reason
    assert net.check((2,), 4) is None
    with pytest.raises(ValueError, match="unconditional"):
        net.build((2,), 1, 10)


# --- packing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("side", (8, 28))
def test_packed_discriminators(name, side):
    g, d = TINY[name].build((3, side, side), 2)
    x = g(torch.randn(2 * B, Z)).view(B, 6, side, side)  # pairs stacked along channels
    assert d(x).shape == (B,)


# --- conditioning --------------------------------------------------------------------------------


def _perturb_class_norms(g: nn.Module) -> int:
    """Give every class its own BN gain and bias (they all start at 1 and 0); returns how many layers."""
    norms = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    with torch.no_grad():
        for m in norms:
            m.gamma.weight.add_(0.5 * torch.randn_like(m.gamma.weight))
            m.beta.weight.add_(0.5 * torch.randn_like(m.beta.weight))
    return len(norms)


@pytest.mark.parametrize("net", [TINY["dcgan"], TINY["resnet"], MLP("mlp", z_dim=Z)], ids=lambda n: n.name)
@pytest.mark.parametrize("conditioning", ("concat", "projection"))
def test_outputs_depend_on_labels(net, conditioning):
    torch.manual_seed(0)
    shape = (2,) if net.name == "mlp" else (1, 8, 8)
    g, d = net.build(shape, 1, 10, conditioning)
    z = torch.randn(B, Z)
    y1, y2 = labels(), labels() + 3
    if conditioning == "projection" and net.name != "mlp":
        assert torch.equal(g(z, y1), g(z, y2))  # equal class gains and biases at init, as the reference
        assert _perturb_class_norms(g) > 0
    assert not torch.allclose(g(z, y1), g(z, y2))
    x = g(z, y1).detach()
    assert not torch.allclose(d(x, y1), d(x, y2))


@pytest.mark.parametrize("net", [TINY["dcgan"], TINY["resnet"], MLP("mlp", z_dim=Z)], ids=lambda n: n.name)
def test_projection_term_is_embedding_dot_features(net):
    torch.manual_seed(0)
    shape = (2,) if net.name == "mlp" else (3, 8, 8)
    _, d = net.build(shape, 1, 10, "projection")
    assert isinstance(d, Projection)
    x, y = torch.randn(B, *shape), labels()
    h = d.features(x)
    assert h.shape == (B, d.embed.embedding_dim)
    linear_part = d.linear(h).squeeze(1)
    assert torch.allclose(d(x, y), linear_part + (d.embed.weight[y] * h).sum(1), atol=1e-6)
    with torch.no_grad():
        d.embed.weight.zero_()
    for y_other in (y, (y + 5) % 10):
        assert torch.equal(d(x, y_other), linear_part)


def test_concat_discriminator_sees_label_planes():
    """cGAN for images: one-hot planes join the input channels, so D's first conv has C + n_classes inputs."""
    _, d = TINY["dcgan"].build((3, 8, 8), 1, 10, "concat")
    first = next(m for m in d.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 3 + 10
    g, _ = TINY["resnet"].build((3, 8, 8), 1, 10, "concat")
    first = next(m for m in g.modules() if isinstance(m, nn.Linear))
    assert first.in_features == Z + 10


# --- spectral norm -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("n_classes, conditioning", MODES)
def test_spectral_norm_covers_every_discriminator_layer(name, n_classes, conditioning):
    torch.manual_seed(0)
    shape = (3, 32, 32)
    g, d = TINY[name].build(shape, 1, n_classes, conditioning)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert len(layers) >= 8 and any(isinstance(m, nn.Embedding) for m in layers) == (conditioning == "projection")
    add_spectral_norm(d)
    assert all(parametrize.is_parametrized(m, "weight") for m in layers)
    y = labels() if n_classes else None
    score = run_d(d, run_g(g, torch.randn(B, Z), y), y)
    assert score.shape == (B,) and torch.isfinite(score).all()


# --- seeding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("n_classes, conditioning", MODES)
def test_same_seed_same_weights(name, n_classes, conditioning):
    def weights(seed):
        torch.manual_seed(seed)
        g, d = TINY[name].build((3, 28, 28), 1, n_classes, conditioning)
        return {**g.state_dict(), **{f"d.{k}": v for k, v in d.state_dict().items()}}

    first, second, other = weights(0), weights(0), weights(1)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)


# --- parameter counts at the papers' widths (hand-computed from their layer tables) -------------------------


def conv(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    return c_in * c_out * k * k + (c_out if bias else 0)


def dense(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def bn(c: int, n_classes: int = 0) -> int:
    return 2 * c * max(n_classes, 1)  # gain and bias, one pair per class when conditional


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def sngan_cnn_counts(n: int, conditioning: str) -> tuple[int, int]:
    """SNGAN Table 3 (M_g = 4, CIFAR-10): G dense 128 -> 4x4x512, deconvs 256/128/64 (BN), conv 3;
    D convs 3x3/64, 4x4/64, 3x3/128, 4x4/128, 3x3/256, 4x4/256, 3x3/512, dense -> 1."""
    proj = n if conditioning == "projection" else 0
    cat = n if conditioning == "concat" else 0
    g = (
        dense(128 + cat, 4 * 4 * 512) + bn(512, proj)
        + conv(512, 256, 4) + bn(256, proj)
        + conv(256, 128, 4) + bn(128, proj)
        + conv(128, 64, 4) + bn(64, proj)
        + conv(64, 3, 3)
    )  # fmt: skip
    d = (
        conv(3 + cat, 64, 3) + conv(64, 64, 4)
        + conv(64, 128, 3) + conv(128, 128, 4)
        + conv(128, 256, 3) + conv(256, 256, 4)
        + conv(256, 512, 3)
        + dense(4 * 4 * 512, 1)
        + proj * 4 * 4 * 512  # class embedding as wide as the flattened features
    )  # fmt: skip
    return g, d


def sngan_resnet_counts(n: int, conditioning: str) -> tuple[int, int]:
    """SNGAN Table 4 (CIFAR-10): G dense 128 -> 4x4x256, three up-blocks of 256, BN, conv 3;
    D optimized block 128, down block 128, two blocks 128, dense 128 -> 1 (no bias, as sngan_projection)."""
    proj = n if conditioning == "projection" else 0
    cat = n if conditioning == "concat" else 0
    g_block = bn(256, proj) + conv(256, 256, 3) + bn(256, proj) + conv(256, 256, 3) + conv(256, 256, 1)
    g = dense(128 + cat, 4 * 4 * 256) + 3 * g_block + bn(256) + conv(256, 3, 3)
    optimized = conv(3 + cat, 128, 3) + conv(128, 128, 3) + conv(3 + cat, 128, 1)
    down = 2 * conv(128, 128, 3) + conv(128, 128, 1)
    plain = 2 * conv(128, 128, 3)
    d = optimized + down + 2 * plain + dense(128, 1, bias=False) + proj * 128
    return g, d


@pytest.mark.parametrize("n_classes, conditioning", MODES)
def test_parameter_counts_match_the_papers(n_classes, conditioning):
    for net, oracle in ((DCGAN("dcgan"), sngan_cnn_counts), (ResNet("resnet"), sngan_resnet_counts)):
        g, d = net.build((3, 32, 32), 1, n_classes, conditioning)
        assert (count(g), count(d)) == oracle(n_classes, conditioning), net.name


def test_default_widths_are_the_papers():
    g, d = DCGAN("dcgan").build((3, 32, 32), 1)
    assert [m.out_channels for m in g.modules() if isinstance(m, nn.ConvTranspose2d)] == [256, 128, 64]
    g, d = ResNet("resnet").build((3, 32, 32), 1)
    assert {m.out_channels for m in g.modules() if isinstance(m, nn.Conv2d)} == {256, 3}
    assert {m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)} == {128}


# --- the unconditional mlp is unchanged ----------------------------------------------------------------

# state_dict keys and shapes of MLP("mlp").build((2,), 1) before conditioning was added
MLP_G = [
    ("0.0.weight", (128, 2)), ("0.0.bias", (128,)), ("0.2.weight", (128, 128)), ("0.2.bias", (128,)),
    ("0.4.weight", (128, 128)), ("0.4.bias", (128,)), ("0.6.weight", (2, 128)), ("0.6.bias", (2,)),
]  # fmt: skip
MLP_D = [
    ("1.0.weight", (128, 2)), ("1.0.bias", (128,)), ("1.2.weight", (128, 128)), ("1.2.bias", (128,)),
    ("1.4.weight", (128, 128)), ("1.4.bias", (128,)), ("1.6.weight", (1, 128)), ("1.6.bias", (1,)),
]  # fmt: skip


def test_unconditional_mlp_is_unchanged():
    torch.manual_seed(0)
    g, d = MLP("mlp").build((2,), 1)
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == MLP_G
    assert [(k, tuple(v.shape)) for k, v in d.state_dict().items()] == MLP_D
    # sums of the seed-0 weights, taken from the mlp before conditioning was added
    assert sum(p.sum().item() for p in g.parameters()) == pytest.approx(10.687648124992847, rel=1e-6)
    assert sum(p.sum().item() for p in d.parameters()) == pytest.approx(-10.807429045438766, rel=1e-6)
    assert isinstance(g, nn.Sequential) and isinstance(d, nn.Sequential)


def test_networks_are_registered(fresh_plugins):
    names = fresh_plugins.registries().networks.names()
    assert {"mlp", "pacgan-mlp", "dcgan", "resnet"} <= set(names)


# --- the papers' own variants of the networks --------------------------------------------------------


def test_he_init_is_tflibs_and_the_output_layer_glorots():
    """WGAN-GP's toy code (tflib/ops/linear.py): hidden layers uniform with std sqrt(2 / fan_in), the output
    layer Glorot-uniform (std sqrt(2 / (fan_in + fan_out))), zero biases."""
    torch.manual_seed(0)
    g, d = MLP("mlp", width=512, depth=3, init="he").build((2,), 1)
    for net in (g, d):
        linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
        for i, layer in enumerate(linears):
            fan_out, fan_in = layer.weight.shape
            std = (2 / fan_in) ** 0.5 if i < len(linears) - 1 else (2 / (fan_in + fan_out)) ** 0.5
            bound = std * 3**0.5  # a uniform of this std
            assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.9 * bound
            if layer.weight.numel() > 1000:
                assert layer.weight.std().item() == pytest.approx(std, rel=0.05)
            assert torch.all(layer.bias == 0)


def test_orthogonal_init_has_orthogonal_rows_times_the_gain():
    torch.manual_seed(0)
    g, _ = MLP("mlp", z_dim=256, width=128, depth=2, activation="tanh", init="orthogonal", init_gain=1.4).build((2,), 1)
    weight = g[0][0].weight  # 128 x 256: orthogonal rows
    torch.testing.assert_close(weight @ weight.T, 1.4**2 * torch.eye(128), atol=1e-4, rtol=0)
    assert isinstance(g[0][1], nn.Tanh)


@pytest.mark.parametrize("side", SIDES)
def test_radfords_discriminator_norms_every_conv_but_the_first(side):
    _, d = DCGAN("dcgan", width=4, d_norm="batch").build((1, side, side), 1)
    layers = list(d.features)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    assert not isinstance(layers[convs[0] + 1], nn.BatchNorm2d)  # not on the input layer
    for i in convs[1:]:
        assert isinstance(layers[i + 1], nn.BatchNorm2d) and layers[i + 1].num_features == layers[i].out_channels
    _, plain = DCGAN("dcgan", width=4).build((1, side, side), 1)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())

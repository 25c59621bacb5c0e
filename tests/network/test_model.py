"""PackedRNN: shapes, each candidate confined to its own hidden units and bias, export."""

import numpy as np
import pytest
import torch

from mips.network import Architecture
from mips.network.model import PackedRNN

ARCHS = [
    Architecture(4),
    Architecture(4, hidden_depth=2, hidden_width=5),
    Architecture(4, hidden_depth=2, hidden_width=3, output_depth=2, output_width=6),
]
SIZES = [1, 2, 4, 3]
BIAS = [True, False, True, False]


def pack(arch: Architecture, d_in: int = 2, d_out: int = 3, seed: int = 0) -> PackedRNN:
    x_scale = torch.tensor([0.5, 0.1][:d_in])
    y_scale = torch.tensor([2.0, 10.0, 1.0][:d_out])
    return PackedRNN(arch, SIZES, BIAS, d_in, d_out, x_scale, y_scale, seed)


def inputs(d_in: int = 2, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.integers(-9, 10, (5, 7, d_in)), dtype=torch.float32)


def scramble_outside(model: PackedRNN, i: int, h: int, bias: bool) -> None:
    """Large random values in every weight of candidate i that touches hidden units >= h, and in
    its last f bias when it has no hidden bias."""
    gen = torch.Generator().manual_seed(99)
    with torch.no_grad():
        f_w, g_w = model.f.weights, model.g.weights
        f_w[0][i, h : model.arch.hidden] = 100 * torch.randn(
            f_w[0][i, h : model.arch.hidden].shape, generator=gen
        )
        f_w[-1][i, :, h:] = 100 * torch.randn(f_w[-1][i, :, h:].shape, generator=gen)
        model.f.biases[-1][i, :, h:] = 100.0
        if not bias:
            model.f.biases[-1][i] = 100.0
        g_w[0][i, h:] = 100 * torch.randn(g_w[0][i, h:].shape, generator=gen)


@pytest.mark.parametrize("arch", ARCHS, ids=Architecture.describe)
def test_forward_shapes_and_return_hidden(arch: Architecture) -> None:
    model = pack(arch)
    x = inputs()
    y = model(x)
    y2, hidden = model(x, return_hidden=True)
    assert y.shape == (len(SIZES), 5, 7, 3)
    assert hidden.shape == (len(SIZES), 5, 7, arch.hidden)
    torch.testing.assert_close(y, y2, rtol=0, atol=0)
    # The outputs are g of the returned hidden states, step by step.
    k = len(SIZES)
    readout = model.g(hidden.reshape(k, -1, arch.hidden)).reshape(k, 5, 7, 3) * model.y_scale
    torch.testing.assert_close(y, readout)


@pytest.mark.parametrize("arch", ARCHS, ids=Architecture.describe)
def test_a_candidate_uses_no_hidden_unit_beyond_its_size(arch: Architecture) -> None:
    model = pack(arch)
    x = inputs()
    before, hidden = model(x, return_hidden=True)
    for i, h in enumerate(SIZES):
        assert torch.all(hidden[i, ..., h:] == 0), f"candidate {i} (size {h}) uses units >= {h}"
        assert torch.any(hidden[i, ..., :h] != 0)
    for i, (h, bias) in enumerate(zip(SIZES, BIAS, strict=True)):
        scramble_outside(model, i, h, bias)
    after, hidden_after = model(x, return_hidden=True)
    torch.testing.assert_close(after, before, rtol=0, atol=0)
    torch.testing.assert_close(hidden_after, hidden, rtol=0, atol=0)


@pytest.mark.parametrize("arch", ARCHS, ids=Architecture.describe)
def test_masked_weights_get_no_gradient(arch: Architecture) -> None:
    # Training must never move what a candidate does not use, or export would hide a difference.
    model = pack(arch)
    model(inputs()).square().sum().backward()
    for i, (h, bias) in enumerate(zip(SIZES, BIAS, strict=True)):
        assert torch.all(model.f.weights[-1].grad[i, :, h:] == 0)
        assert torch.all(model.f.biases[-1].grad[i, :, h:] == 0)
        assert torch.all(model.g.weights[0].grad[i, h:] == 0)
        if not bias:
            assert torch.all(model.f.biases[-1].grad[i] == 0)
        assert torch.any(model.g.weights[0].grad[i, :h] != 0)


def test_candidates_are_independent() -> None:
    model = pack(ARCHS[1])
    x = inputs()
    before = model(x)
    with torch.no_grad():
        for p in model.parameters():
            p[2] += 1.0
    after = model(x)
    changed = [not torch.equal(after[i], before[i]) for i in range(len(SIZES))]
    assert changed == [False, False, True, False]


def test_initialisation_follows_the_seed() -> None:
    a, b, c = pack(ARCHS[1], seed=3), pack(ARCHS[1], seed=3), pack(ARCHS[1], seed=4)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


@pytest.mark.parametrize("arch", ARCHS, ids=Architecture.describe)
def test_export_trims_to_the_candidates_own_size(arch: Architecture) -> None:
    model = pack(arch, d_in=2, d_out=3)
    for i, (h, bias) in enumerate(zip(SIZES, BIAS, strict=True)):
        weights = model.export(i)
        own = Architecture(
            h,
            hidden_depth=arch.hidden_depth,
            hidden_width=arch.hidden_width,
            output_depth=arch.output_depth,
            output_width=arch.output_width,
        )
        f_sizes, g_sizes = own.layer_sizes(2, 3)
        expected = {}
        for name, sizes in (("f", f_sizes), ("g", g_sizes)):
            for j, (m, n) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                expected[f"{name}.{j}.weight"], expected[f"{name}.{j}.bias"] = (m, n), (n,)
        assert {k: tuple(v.shape) for k, v in weights.items()} == expected
        last_bias = weights[f"f.{arch.hidden_depth - 1}.bias"]
        assert bool(torch.any(last_bias != 0)) == bias

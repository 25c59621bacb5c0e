"""One network, three forward passes: numpy ``TrainedNetwork.run``, the packed torch ``PackedRNN``
(each candidate's slice, through ``export``) and finetuning's torch ``forward`` must agree."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.network import Architecture, TrainedNetwork
from mips.network.model import PackedRNN
from mips.network.train import forward


@st.composite
def packs(draw: st.DrawFn) -> tuple[PackedRNN, list[Architecture], np.ndarray]:
    """A pack of 1-3 candidates of one shape (hidden 1-6, f and g of depth 1-2), per-candidate
    hidden sizes and hidden biases, input and output scales, and integer inputs."""
    hidden = draw(st.integers(1, 6))
    f_depth, g_depth = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    f_width, g_width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    arch = Architecture(
        hidden,
        hidden_depth=f_depth,
        hidden_width=f_width,
        output_depth=g_depth,
        output_width=g_width,
    )
    k = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, hidden), min_size=k, max_size=k))
    biases = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    d_in, d_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x_max = draw(st.sampled_from([1, 9, 100]))
    scale = st.floats(0.01, 1.0)
    x_scale = torch.tensor(draw(st.lists(scale, min_size=d_in, max_size=d_in)))
    y_scale = 1 / torch.tensor(draw(st.lists(scale, min_size=d_out, max_size=d_out)))
    seed = draw(st.integers(0, 2**31 - 1))
    model = PackedRNN(arch, sizes, biases, d_in, d_out, x_scale, y_scale, seed)
    archs = [
        Architecture(
            h,
            hidden_depth=f_depth,
            hidden_width=f_width,
            output_depth=g_depth,
            output_width=g_width,
            hidden_bias=b,
        )
        for h, b in zip(sizes, biases, strict=True)
    ]
    n, t = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    x = np.random.default_rng(seed).integers(-x_max, x_max + 1, (n, t, d_in))
    return model, archs, x


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    # Relative to the largest value: float32 rounding grows with the magnitudes involved.
    atol = rtol * max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


@settings(max_examples=60, deadline=None)
@given(case=packs())
def test_packed_numpy_and_finetune_forward_passes_agree(case) -> None:
    model, archs, x = case
    with torch.no_grad():
        y_pack, h_pack = model(torch.tensor(x, dtype=torch.float32), return_hidden=True)
    for i, arch in enumerate(archs):
        weights = {k: v.numpy() for k, v in model.export(i).items()}
        net = TrainedNetwork(arch=arch, d_in=model.d_in, d_out=model.d_out, weights=weights)
        y_np, h_np = net.run(x)
        params = {k: torch.tensor(v, dtype=torch.float64) for k, v in net.weights.items()}
        depths = (arch.hidden_depth, arch.output_depth)
        y_ft, h_ft = forward(params, depths, torch.tensor(x, dtype=torch.float64))

        # Finetuning's pass and numpy's compute the same float64 sums.
        assert_close(y_ft.numpy(), y_np, 1e-10)
        assert_close(h_ft.numpy(), h_np, 1e-10)
        # The pack runs in float32, in scaled units, over all the pack's hidden units.
        assert_close(y_pack[i].numpy(), y_np, 1e-5)
        assert_close(h_pack[i, ..., : arch.hidden].numpy(), h_np, 1e-5)
        assert np.all(h_pack[i, ..., arch.hidden :].numpy() == 0)


def test_forward_of_a_hand_built_counter_is_the_running_sum(counter_network) -> None:
    x = np.random.default_rng(0).integers(-50, 50, (3, 9, 1))
    params = {k: torch.tensor(v) for k, v in counter_network(0.0).weights.items()}
    y, hidden = forward(params, (1, 1), torch.tensor(x, dtype=torch.float64))
    assert np.array_equal(y.numpy(), np.cumsum(x, axis=1))
    assert np.array_equal(hidden.numpy(), np.cumsum(x, axis=1))


def test_forward_is_differentiable_in_its_parameters(counter_network) -> None:
    params = {
        k: torch.tensor(v, requires_grad=True) for k, v in counter_network(0.0).weights.items()
    }
    x = torch.ones(2, 3, 1, dtype=torch.float64)
    y, _ = forward(params, (1, 1), x)
    y.sum().backward()
    # y_t = t for t = 1..3; d(sum y)/d(readout bias) counts the outputs, 2 sequences x 3 steps.
    assert params["g.0.bias"].grad.item() == 6.0
    assert params["g.0.weight"].grad.item() == 2 * (1 + 2 + 3)

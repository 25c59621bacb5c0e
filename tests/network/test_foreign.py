"""A network trained elsewhere, in numpy: the same function as the torch module, read safely."""

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from mips.network.foreign import (
    ForeignNetwork,
    ForeignNetworkError,
    ForeignSpec,
    from_module,
    load_foreign,
)

CELLS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}


class Net(torch.nn.Module):
    """The module the issue describes: what people train."""

    def __init__(self, cell, d_in, hidden, layers, d_out, **kwargs):
        super().__init__()
        self.rnn = cell(d_in, hidden, layers, batch_first=True, **kwargs)
        self.head = torch.nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


@settings(max_examples=25, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "gru", "lstm"]),
    relu=st.booleans(),
    bias=st.booleans(),
    d_in=st.integers(1, 3),
    hidden=st.integers(1, 6),
    layers=st.integers(1, 2),
    d_out=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_numpy_matches_torch(cell, relu, bias, d_in, hidden, layers, d_out, seed) -> None:
    torch.manual_seed(seed)
    kwargs = {"bias": bias} | ({"nonlinearity": "relu"} if cell == "rnn" and relu else {})
    module = Net(CELLS[cell], d_in, hidden, layers, d_out, **kwargs)
    x = np.random.default_rng(seed).integers(-2, 3, (4, 7, d_in))
    with torch.no_grad():
        want = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
    net = from_module(module)
    got, states = net.run(x)
    assert np.allclose(got, want, atol=1e-5)
    assert states.shape == (4, 7, hidden * layers * (2 if cell == "lstm" else 1))
    classes = from_module(module, "argmax").predict(x)[..., 0] if d_out > 1 else None
    if classes is not None:
        assert np.array_equal(classes, want.argmax(-1))


def test_saved_file_reads_back_the_same_function(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = from_module(Net(torch.nn.LSTM, 2, 5, 2, 3), "argmax")
    loaded = load_foreign(net.save(tmp_path / "net.safetensors"))
    assert loaded.spec == net.spec
    x = np.random.default_rng(0).integers(0, 3, (5, 6, 2))
    assert np.allclose(loaded.run(x)[1], net.run(x)[1], atol=1e-5)


def _save(path: Path, tensors: dict, metadata: dict | None) -> Path:
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=metadata)
    return path


META = {"cell": "gru", "d_in": "1", "hidden": "4", "layers": "1", "d_out": "2", "output": "argmax"}


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".pkl"])
def test_a_pickle_is_never_loaded(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"net{suffix}"
    torch.save(Net(torch.nn.GRU, 1, 4, 1, 2).state_dict(), path)
    with pytest.raises(ForeignNetworkError, match="never loaded.*safetensors"):
        load_foreign(path)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (None, "metadata lacks cell"),
        ({**META, "output": "softmax"}, "output must be round or argmax"),
        ({**META, "cell": "cnn"}, "cell must be one of"),
        ({**META, "cell": "transformer"}, "metadata lacks d_model, heads, ff, max_len"),
        ({**META, "hidden": "four"}, "must be integers"),
        ({**META, "hidden": "5"}, "has shape"),
        ({**META, "layers": "2"}, "missing weight 'rnn.weight_ih_l1'"),
    ],
)
def test_metadata_missing_or_wrong(tmp_path: Path, metadata, message: str) -> None:
    module = Net(torch.nn.GRU, 1, 4, 1, 2)
    path = _save(tmp_path / "net.safetensors", module.state_dict(), metadata)
    with pytest.raises(ForeignNetworkError, match=message):
        load_foreign(path)


def test_not_a_safetensors_file_and_no_file(tmp_path: Path) -> None:
    path = tmp_path / "net.safetensors"
    path.write_bytes(b"\x00" * 40)
    with pytest.raises(ForeignNetworkError, match="not a safetensors file"):
        load_foreign(path)
    with pytest.raises(ForeignNetworkError, match="no such file"):
        load_foreign(tmp_path / "absent.safetensors")


def test_unknown_weights_and_modules_of_another_shape() -> None:
    spec = ForeignSpec(cell="rnn", d_in=1, hidden=2, layers=1, d_out=1)
    weights = {k: np.zeros(s) for k, s in spec.shapes().items()}
    with pytest.raises(ForeignNetworkError, match="unexpected weights decoder"):
        ForeignNetwork(spec, {**weights, "decoder.weight": np.zeros(1)})
    with pytest.raises(ForeignNetworkError, match="needs .rnn"):
        from_module(torch.nn.Linear(2, 2))
    bidirectional = Net(torch.nn.GRU, 1, 3, 1, 1, bidirectional=True)
    with pytest.raises(ForeignNetworkError, match="one-directional"):
        from_module(bidirectional)

"""A recurrent network trained outside mips: a PyTorch RNN, GRU or LSTM with a linear head, in numpy.

The module people train is ``head(rnn(x)[0])`` with ``rnn`` a ``torch.nn.RNN``, ``GRU`` or
``LSTM`` (``batch_first=True``, zero initial state) and ``head`` a ``torch.nn.Linear``; its
integer answer is ``round(out)`` (regression) or ``argmax(out)`` (classes). Here it is the same
function from numpy arrays to numpy arrays (run step by step by torch's cells, in float32), with
every layer's state (and an LSTM's cell state) side by side as the hidden state, so the extract
stage reads it exactly as it reads a network mips trained.

Weights come as the module's ``state_dict`` names (``rnn.weight_ih_l0``, ..., ``head.bias``),
from a live module or from a safetensors file whose metadata gives the sizes; never from a pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mips.network.report import TrainingReport

CELLS = ("rnn", "gru", "lstm")
OUTPUTS = ("round", "argmax")
# Gate blocks per cell, in torch's row order of weight_ih / weight_hh.
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}
_PICKLES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")


class ForeignNetworkError(ValueError):
    """A network file or module that cannot be read as a recurrent network with a linear head."""


@dataclass(frozen=True, kw_only=True)
class ForeignSpec:
    """The module's sizes: ``cell(d_in, hidden, layers)`` then ``Linear(hidden, d_out)``."""

    cell: str
    d_in: int
    hidden: int
    layers: int
    d_out: int
    output: str = "round"
    nonlinearity: str = "tanh"  # torch.nn.RNN only
    # One-hot inputs: each input column's symbols, in order; the rnn sees their one-hot codes side
    # by side, so d_in is their total. Empty: the rnn sees the integers themselves.
    symbols_in: tuple[tuple[int, ...], ...] = ()
    # With output "argmax": each output column's values; the head's outputs are one block of
    # classes per column. Empty: one column whose classes are 0..d_out-1.
    symbols_out: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ForeignNetworkError(f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        if self.output not in OUTPUTS:
            raise ForeignNetworkError(f"output must be round or argmax, not {self.output!r}")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ForeignNetworkError(f"nonlinearity must be tanh or relu: {self.nonlinearity!r}")
        for name in ("d_in", "hidden", "layers", "d_out"):
            if getattr(self, name) < 1:
                raise ForeignNetworkError(f"{name} must be a positive integer")
        check_head(self)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every state_dict entry's shape (biases included; a module built without them lacks
        those keys, and they count as zero)."""
        g, h = _GATES[self.cell], self.hidden
        out: dict[str, tuple[int, ...]] = {}
        for layer in range(self.layers):
            fan_in = self.d_in if layer == 0 else h
            out[f"rnn.weight_ih_l{layer}"] = (g * h, fan_in)
            out[f"rnn.weight_hh_l{layer}"] = (g * h, h)
            out[f"rnn.bias_ih_l{layer}"] = (g * h,)
            out[f"rnn.bias_hh_l{layer}"] = (g * h,)
        out["head.weight"] = (self.d_out, h)
        out["head.bias"] = (self.d_out,)
        return out

    def metadata(self) -> dict[str, str]:
        """The safetensors metadata that describes this module."""
        return {
            "cell": self.cell,
            "d_in": str(self.d_in),
            "hidden": str(self.hidden),
            "layers": str(self.layers),
            "d_out": str(self.d_out),
            "output": self.output,
            "nonlinearity": self.nonlinearity,
            **symbols_metadata(self),
        }


@dataclass(frozen=True, eq=False)
class ForeignNetwork:
    """The module as a function of numpy arrays: the same interface as ``TrainedNetwork``
    (``hidden``, ``d_in``, ``d_out``, ``step``, ``readout``, ``run``, ``predict``)."""

    spec: ForeignSpec
    weights: dict[str, np.ndarray]
    # How it was trained, when mips trained it (the network stage's scale-up family).
    report: TrainingReport | None = None

    def __post_init__(self) -> None:
        s = self.spec
        w = checked_weights(
            self.weights,
            s.shapes(),
            f"a {s.cell} with {s.layers} layer(s) and a head named 'head'",
            f"cell={s.cell}, d_in={s.d_in}, hidden={s.hidden}, d_out={s.d_out}",
            zero_biases=True,
        )
        object.__setattr__(self, "weights", w)

    @property
    def hidden(self) -> int:
        """Size of the whole state: every layer's h, then (LSTM) every layer's c."""
        per_layer = self.spec.hidden * self.spec.layers
        return 2 * per_layer if self.spec.cell == "lstm" else per_layer

    @property
    def d_in(self) -> int:
        return inputs_per_step(self.spec)

    @property
    def d_out(self) -> int:
        return outputs_per_step(self.spec)

    def describe(self) -> str:
        s = self.spec
        one_hot = " one-hot in," if s.symbols_in else ""
        return f"{s.cell.upper()} {s.layers}x{s.hidden},{one_hot} head {s.d_out} ({s.output})"

    def encode(self, x: np.ndarray) -> np.ndarray:
        """What the rnn sees for integer inputs (..., d_in)."""
        return encode(x, self.spec.symbols_in)

    def n_parameters(self) -> int:
        return int(sum(v.size for v in self.weights.values()))

    @cached_property
    def _cells(self) -> list[Any]:
        """One torch cell per layer holding this network's weights, in float32 as trained."""
        import torch

        kinds = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}
        cells = []
        for layer in range(self.spec.layers):
            fan_in = self.spec.d_in if layer == 0 else self.spec.hidden
            extra = {"nonlinearity": self.spec.nonlinearity} if self.spec.cell == "rnn" else {}
            cell = kinds[self.spec.cell](fan_in, self.spec.hidden, **extra)
            names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            cell.load_state_dict(
                {n: torch.tensor(self.weights[f"rnn.{n}_l{layer}"]) for n in names}
            )
            cells.append(cell.requires_grad_(False))
        return cells

    def _step(self, h: Any, a: Any) -> Any:
        """One step of every layer on torch tensors: states (B, hidden), inputs (B, d_in)."""
        import torch

        n, size = self.spec.layers, self.spec.hidden
        hs, cs = [], []
        for layer, cell in enumerate(self._cells):
            h_l = h[:, layer * size : (layer + 1) * size]
            if self.spec.cell == "lstm":
                c_l = h[:, (n + layer) * size : (n + layer + 1) * size]
                a, c_new = cell(a, (h_l, c_l))
                cs.append(c_new)
            else:
                a = cell(a, h_l)
            hs.append(a)
        return torch.cat(hs + cs, dim=1)

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        """One step of every layer: state (..., hidden) and input (..., d_in) -> next state."""
        import torch

        h = np.asarray(h, dtype=np.float32)
        a = self.encode(x).reshape(-1, self.spec.d_in)
        with torch.no_grad():
            out = self._step(torch.from_numpy(h.reshape(-1, self.hidden)), torch.from_numpy(a))
        return out.numpy().astype(np.float64).reshape(h.shape)

    def logits(self, h: np.ndarray) -> np.ndarray:
        """The head's real outputs for states (..., hidden)."""
        size, n = self.spec.hidden, self.spec.layers
        top = h[..., (n - 1) * size : n * size]
        return top @ self.weights["head.weight"].T + self.weights["head.bias"]

    def readout(self, h: np.ndarray) -> np.ndarray:
        """Real outputs whose rounding is the answer: the head's outputs, or the argmax class."""
        from mips.network.causal import answer

        return answer(self.logits(h), self.spec.output, self.spec.symbols_out)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (N, T, d_out) and states (N, T, hidden) for inputs x (N, T, d_in)."""
        import torch

        xt = torch.from_numpy(self.encode(x))
        h = xt.new_zeros((xt.shape[0], self.hidden))
        hs = []
        with torch.no_grad():
            for t in range(xt.shape[1]):
                h = self._step(h, xt[:, t])
                hs.append(h)
        states = torch.stack(hs, dim=1).numpy() if hs else np.zeros((*xt.shape[:2], self.hidden))
        states = states.astype(np.float64)
        return self.readout(states), states

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The network's integer answers (N, T, d_out)."""
        return np.rint(self.run(x)[0]).astype(np.int64)

    def save(self, path: str | Path) -> Path:
        """Write the weights, under their state_dict names, and the sizes as metadata."""
        from safetensors.numpy import save_file

        path = Path(path)
        tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.weights.items()}
        save_file(tensors, path, metadata=self.spec.metadata())
        return path


class HeadSpec(Protocol):
    """What a network file says about its inputs and its head, whatever its body."""

    d_in: int
    d_out: int
    output: str
    symbols_in: tuple[tuple[int, ...], ...]
    symbols_out: tuple[tuple[int, ...], ...]


def check_head(spec: HeadSpec) -> None:
    """Refuse an output rule or symbol lists that do not fit the sizes (the rule itself is one of
    ``OUTPUTS``, checked first)."""
    if spec.output == "argmax" and spec.d_out < 2:
        raise ForeignNetworkError("output argmax needs d_out >= 2 classes")
    if spec.symbols_in and sum(map(len, spec.symbols_in)) != spec.d_in:
        raise ForeignNetworkError("symbols_in must hold d_in symbols in all")
    if spec.symbols_out and (
        spec.output != "argmax" or sum(map(len, spec.symbols_out)) != spec.d_out
    ):
        raise ForeignNetworkError("symbols_out needs output argmax and d_out values in all")


def symbols_metadata(spec: HeadSpec) -> dict[str, str]:
    """The safetensors metadata entries of the symbol lists a spec has."""
    return {
        name: json.dumps(getattr(spec, name))
        for name in ("symbols_in", "symbols_out")
        if getattr(spec, name)
    }


def inputs_per_step(spec: HeadSpec) -> int:
    """Integer inputs per step: the module's inputs, or the one-hot encoded columns."""
    return len(spec.symbols_in) or spec.d_in


def outputs_per_step(spec: HeadSpec) -> int:
    """Integer outputs per step: the head's outputs, or one class per output column."""
    if spec.symbols_out:
        return len(spec.symbols_out)
    return 1 if spec.output == "argmax" else spec.d_out


def checked_weights(
    weights: dict[str, Any],
    shapes: dict[str, tuple[int, ...]],
    layout: str,
    sizes: str,
    zero_biases: bool = False,
) -> dict[str, np.ndarray]:
    """``weights`` as float64 arrays of ``shapes``; refused, naming the ``layout`` or the
    ``sizes`` expected, when a name is unknown or missing, a shape differs or a value is not
    finite. With ``zero_biases``, a missing bias is zero (a module built without biases)."""
    unknown = sorted(set(weights) - set(shapes))
    if unknown:
        raise ForeignNetworkError(f"unexpected weights {', '.join(unknown[:3])} for {layout}")
    w = {}
    for key, shape in shapes.items():
        if key not in weights:
            if zero_biases and "bias" in key:
                w[key] = np.zeros(shape)
                continue
            raise ForeignNetworkError(f"missing weight {key!r}")
        value = np.asarray(weights[key], dtype=np.float64)
        if value.shape != shape:
            raise ForeignNetworkError(
                f"{key} has shape {value.shape}, expected {shape} for {sizes}"
            )
        if not np.isfinite(value).all():
            raise ForeignNetworkError(f"{key} holds NaN or infinite values")
        w[key] = value
    return w


def encode(x: np.ndarray, symbols_in: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """Integer inputs (..., columns) as float32, one-hot per column when ``symbols_in`` lists
    each column's symbols (a symbol outside its column's list is all zeros)."""
    x = np.asarray(x)
    if not symbols_in:
        return x.astype(np.float32)
    codes = [x[..., j, None] == np.asarray(symbols) for j, symbols in enumerate(symbols_in)]
    return np.concatenate(codes, axis=-1).astype(np.float32)


def from_module(module: Any, output: str = "round") -> ForeignNetwork:
    """Read a live ``torch.nn.Module`` with an ``rnn`` (RNN, GRU or LSTM, batch_first) and a
    ``head`` (Linear)."""
    import torch

    rnn, head = getattr(module, "rnn", None), getattr(module, "head", None)
    kinds = {torch.nn.RNN: "rnn", torch.nn.GRU: "gru", torch.nn.LSTM: "lstm"}
    cell = next((name for cls, name in kinds.items() if type(rnn) is cls), None)
    if cell is None or not isinstance(head, torch.nn.Linear):
        raise ForeignNetworkError(
            "the module needs .rnn (torch.nn.RNN, GRU or LSTM) and .head (torch.nn.Linear)"
        )
    if not rnn.batch_first or rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ForeignNetworkError("the rnn must be batch_first, one-directional, no projection")
    spec = ForeignSpec(
        cell=cell,
        d_in=rnn.input_size,
        hidden=rnn.hidden_size,
        layers=rnn.num_layers,
        d_out=head.out_features,
        output=output,
        nonlinearity=getattr(rnn, "nonlinearity", "tanh"),
    )
    weights = {k: v.detach().cpu().double().numpy() for k, v in module.state_dict().items()}
    return ForeignNetwork(spec, weights)


def load_foreign(path: str | Path) -> Any:
    """Read a network saved as safetensors with its sizes in the metadata (a recurrent network,
    or with ``cell=transformer`` a :class:`mips.network.transformer.TransformerNetwork`); refuse
    pickles."""
    path = Path(path)
    if path.suffix.lower() in _PICKLES:
        raise ForeignNetworkError(
            f"{path}: a pickled checkpoint is never loaded (unpickling runs code); save the "
            "module's state_dict with safetensors.torch.save_file(module.state_dict(), "
            "'net.safetensors', metadata={...}) instead"
        )
    if not path.is_file():
        raise ForeignNetworkError(f"{path}: no such file")
    from safetensors import safe_open
    from safetensors.numpy import load_file

    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
        weights = load_file(path)
    except Exception as e:  # safetensors raises its own types for a damaged or foreign file
        raise ForeignNetworkError(f"{path}: not a safetensors file ({e})") from None
    if meta.get("cell", "").lower() == "transformer":
        from mips.network.transformer import load_transformer

        try:
            return load_transformer(meta, weights)
        except ForeignNetworkError as e:
            raise ForeignNetworkError(f"{path}: {e}") from None
    needed = ("cell", "d_in", "hidden", "layers", "d_out", "output")
    missing = [k for k in needed if k not in meta]
    if missing:
        raise ForeignNetworkError(f"{path}: metadata lacks {', '.join(missing)}")
    try:
        sizes = {k: int(meta[k]) for k in ("d_in", "hidden", "layers", "d_out")}
    except ValueError:
        raise ForeignNetworkError(f"{path}: d_in, hidden, layers, d_out must be integers") from None
    try:
        spec = ForeignSpec(
            cell=meta["cell"].lower(),
            **sizes,
            output=meta["output"].lower(),
            nonlinearity=meta.get("nonlinearity", "tanh").lower(),
            symbols_in=_symbols(meta.get("symbols_in")),
            symbols_out=_symbols(meta.get("symbols_out")),
        )
        return ForeignNetwork(spec, weights)
    except ForeignNetworkError as e:
        raise ForeignNetworkError(f"{path}: {e}") from None


def _symbols(text: str | None) -> tuple[tuple[int, ...], ...]:
    """A ``symbols_in``/``symbols_out`` metadata entry: a JSON list of lists of integers."""
    if text is None:
        return ()
    try:
        return tuple(tuple(int(v) for v in column) for column in json.loads(text))
    except (ValueError, TypeError):
        raise ForeignNetworkError(
            "symbols_in and symbols_out must be lists of integer lists"
        ) from None

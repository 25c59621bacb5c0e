"""The network stage's output: a trained RNN as numpy arrays, with the config and training report
that made it.

Kept free of torch so that every later stage (simplify, extract, verify) runs on numpy alone.
Saved as safetensors (weights) plus JSON (everything else); never pickle.
"""

from __future__ import annotations

import json
from dataclasses import KW_ONLY, asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mips.io import to_jsonable
from mips.network.report import TrainingReport

if TYPE_CHECKING:
    from mips.data import SequenceData

WEIGHTS_FILE = "weights.safetensors"
META_FILE = "network.json"


@dataclass(frozen=True)
class Architecture:
    """Sizes of one network; depth counts Linear layers, width is ignored at depth 1."""

    hidden: int
    _: KW_ONLY
    hidden_depth: int = 1
    hidden_width: int = 0
    output_depth: int = 1
    output_width: int = 0
    # Without a bias in f, the states of a linear network stay on a lattice through h_{-1} = 0.
    hidden_bias: bool = True

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.hidden_depth < 1 or self.output_depth < 1:
            raise ValueError(f"sizes must be positive: {self}")
        if (self.hidden_depth > 1 and self.hidden_width < 1) or (
            self.output_depth > 1 and self.output_width < 1
        ):
            raise ValueError(f"an MLP of depth > 1 needs a width: {self}")

    def rank(self) -> tuple[int, int, int, int, int, int]:
        """Sort key: smaller hidden size first, then shallower and narrower MLPs, then no bias."""
        hw = self.hidden_width if self.hidden_depth > 1 else 0
        ow = self.output_width if self.output_depth > 1 else 0
        return (self.hidden, self.hidden_depth, self.output_depth, hw, ow, int(self.hidden_bias))

    def layer_sizes(self, d_in: int, d_out: int) -> tuple[list[int], list[int]]:
        """Layer widths of f and g, inputs first."""
        f = [self.hidden + d_in] + [self.hidden_width] * (self.hidden_depth - 1) + [self.hidden]
        g = [self.hidden] + [self.output_width] * (self.output_depth - 1) + [d_out]
        return f, g

    def describe(self) -> str:
        """Short human-readable form, e.g. ``h=2 f=2x8 g=1``."""
        f = f"{self.hidden_depth}x{self.hidden_width}" if self.hidden_depth > 1 else "1"
        g = f"{self.output_depth}x{self.output_width}" if self.output_depth > 1 else "1"
        return f"h={self.hidden} f={f}{'' if self.hidden_bias else ' (no bias)'} g={g}"


class Recurrent(Protocol):
    """What the extract stage reads: a network mips trained, or one trained elsewhere
    (:class:`mips.network.foreign.ForeignNetwork`). ``readout`` gives real outputs whose rounding
    is the network's integer answer; ``report`` says how it was trained (None when not by
    mips)."""

    report: TrainingReport | None

    @property
    def hidden(self) -> int: ...

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray: ...

    def readout(self, h: np.ndarray) -> np.ndarray: ...

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def describe(self) -> str: ...


def wrong_steps(net: Recurrent, data: SequenceData) -> np.ndarray:
    """(N, T) True where ``net``'s answer misses the label; padding is never wrong."""
    return (net.predict(data.x) != data.y).any(axis=2) & data.mask


def _mlp(a: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    for i, (w, b) in enumerate(layers):
        a = a @ w + b
        if i < len(layers) - 1:
            a = np.maximum(a, 0.0)
    return a


@dataclass(frozen=True)
class Sparsity:
    """What L1 sparsification left: its penalty, the pruning threshold that kept the network
    exact, and how many weights are zero."""

    l1: float
    tol: float
    zero_weights: int

    def to_dict(self) -> dict[str, Any]:
        """The saved form, beside the training report in a network's ``metrics``."""
        return {"sparsified": {"l1": self.l1, "tol": self.tol}, "zero_weights": self.zero_weights}

    @classmethod
    def from_dict(cls, metrics: dict[str, Any]) -> Sparsity | None:
        """The sparsity in saved ``metrics``; None when the network was not sparsified."""
        if "sparsified" not in metrics:
            return None
        return cls(**metrics["sparsified"], zero_weights=metrics["zero_weights"])


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainedNetwork:
    """An RNN h_t = f([h_{t-1}, x_t]), y_t = g(h_t), h_{-1} = 0, with weights as (in, out) matrices."""

    arch: Architecture
    d_in: int
    d_out: int
    weights: dict[str, np.ndarray]
    config: dict[str, Any] = field(default_factory=dict)
    report: TrainingReport | None = None
    sparsity: Sparsity | None = None

    def __post_init__(self) -> None:
        f_sizes, g_sizes = self.arch.layer_sizes(self.d_in, self.d_out)
        w = {k: np.asarray(v, dtype=np.float64) for k, v in self.weights.items()}
        for name, sizes in (("f", f_sizes), ("g", g_sizes)):
            for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                for key, shape in ((f"{name}.{j}.weight", (a, b)), (f"{name}.{j}.bias", (b,))):
                    if key not in w:
                        raise ValueError(f"missing weight {key!r}")
                    if w[key].shape != shape:
                        raise ValueError(f"{key} has shape {w[key].shape}, expected {shape}")
        object.__setattr__(self, "weights", w)

    @property
    def hidden(self) -> int:
        return self.arch.hidden

    def describe(self) -> str:
        return self.arch.describe()

    def layers(self, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight, bias) pairs of MLP ``f`` or ``g``."""
        depth = self.arch.hidden_depth if name == "f" else self.arch.output_depth
        return [
            (self.weights[f"{name}.{j}.weight"], self.weights[f"{name}.{j}.bias"])
            for j in range(depth)
        ]

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        """One recurrence step: h (..., H) and x (..., d_in) -> next h."""
        return _mlp(np.concatenate([h, np.asarray(x, dtype=np.float64)], axis=-1), self.layers("f"))

    def readout(self, h: np.ndarray) -> np.ndarray:
        """Real-valued outputs y_hat for hidden states h (..., H)."""
        return _mlp(h, self.layers("g"))

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real outputs (N, T, d_out) and hidden states (N, T, H) for inputs x (N, T, d_in)."""
        x = np.asarray(x, dtype=np.float64)
        h = np.zeros((x.shape[0], self.hidden))
        hs = np.empty((x.shape[0], x.shape[1], self.hidden))
        for t in range(x.shape[1]):
            h = self.step(h, x[:, t])
            hs[:, t] = h
        return self.readout(hs), hs

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Rounded integer outputs, the network's answer."""
        return np.rint(self.run(x)[0]).astype(np.int64)

    def is_exact(self, data: SequenceData, max_errors: float = 0.0) -> bool:
        """True when the rounded outputs equal ``data.y`` at every step that holds data, or at
        all but at most the fraction ``max_errors`` of them (data with a few wrong labels)."""
        if data.lengths is None and not max_errors:
            return bool(np.array_equal(self.predict(data.x), data.y))
        return int(self.wrong_steps(data).sum()) <= max_errors * data.steps

    def wrong_steps(self, data: SequenceData) -> np.ndarray:
        """(N, T) True where a rounded output misses the label; padding is never wrong."""
        return wrong_steps(self, data)

    def n_parameters(self) -> int:
        return int(sum(v.size for v in self.weights.values()))

    def pruned(self, rel: float) -> TrainedNetwork:
        """A copy with every weight below ``rel`` times its matrix's largest set to 0 (a bias is
        measured against its layer's weights)."""
        w = {}
        for k, v in self.weights.items():
            ref = np.abs(self.weights[k.replace(".bias", ".weight")]).max(initial=0.0)
            w[k] = np.where(np.abs(v) < rel * max(ref, 1e-12), 0.0, v)
        return self.replace(w)

    def replace(self, weights: dict[str, np.ndarray]) -> TrainedNetwork:
        """A copy with new weights (same architecture, config, report and sparsity)."""
        return replace(self, weights=weights)

    def save(self, directory: str | Path) -> Path:
        """Write weights.safetensors and network.json into ``directory``."""
        from safetensors.numpy import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        save_file({k: np.ascontiguousarray(v) for k, v in self.weights.items()}, d / WEIGHTS_FILE)
        meta = {
            "arch": asdict(self.arch),
            "d_in": self.d_in,
            "d_out": self.d_out,
            "config": self.config,
            "metrics": {
                **(self.report.to_dict() if self.report else {}),
                **(self.sparsity.to_dict() if self.sparsity else {}),
            },
        }
        (d / META_FILE).write_text(json.dumps(meta, indent=2, default=to_jsonable) + "\n")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> TrainedNetwork:
        """Read a network saved by :meth:`save`."""
        from safetensors.numpy import load_file

        d = Path(directory)
        meta = json.loads((d / META_FILE).read_text())
        metrics = meta.get("metrics", {})
        return cls(
            arch=Architecture(**meta["arch"]),
            d_in=meta["d_in"],
            d_out=meta["d_out"],
            weights=load_file(d / WEIGHTS_FILE),
            config=meta.get("config", {}),
            report=TrainingReport.from_dict(metrics),
            sparsity=Sparsity.from_dict(metrics),
        )

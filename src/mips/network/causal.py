"""Models without a recurrence: what readers may ask of a causal model, and a model given as two
functions.

A recurrent network answers "what does this state do next" by stepping from its hidden vector. A
causal model (a transformer) has no step: what it holds after a prefix is its internal vectors at
the prefix's last position, and what it does next is read by running the prefix and a
continuation, never past ``horizon`` positions. Readers ask through
:func:`mips.extract.probes.probe_signatures`, which steps a recurrent network and runs prefixes of
a causal one.

:class:`CausalModel` wraps any such model from Python (a nanoGPT-style module, say) as two
functions of numpy inputs: the per-position outputs and the per-position internal vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from mips.network.artifact import Recurrent
from mips.network.foreign import OUTPUTS, ForeignNetworkError
from mips.network.report import TrainingReport


class SequenceTooLong(ForeignNetworkError):
    """Inputs longer than the model's positions: they are refused, never run."""


class Causal(Protocol):
    """What the extract stage reads of a model without a recurrence: ``run`` gives per-position
    outputs and internal vectors (the state after each prefix), ``readout`` maps such a vector
    to its outputs, and no input longer than ``horizon`` may be run."""

    report: TrainingReport | None
    horizon: int

    @property
    def max_len(self) -> int: ...

    @property
    def hidden(self) -> int: ...

    def readout(self, h: np.ndarray) -> np.ndarray: ...

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def describe(self) -> str: ...

    def within(self, horizon: int) -> Causal: ...


# What the readers read: a recurrent network, or a causal model read through its prefixes.
Readable = Recurrent | Causal


def horizon_of(network: Any) -> int | None:
    """The longest input readers may run on ``network``; None for a recurrent network, which
    steps as far as asked."""
    return None if hasattr(network, "step") else int(network.horizon)


def check_length(length: int, max_len: int) -> None:
    """Refuse inputs of more steps than the model has positions."""
    if length > max_len:
        raise SequenceTooLong(
            f"sequences of {length} steps are longer than the model's max_len {max_len}"
        )


def answer(
    out: np.ndarray, output: str, symbols_out: tuple[tuple[int, ...], ...] = ()
) -> np.ndarray:
    """Real outputs whose rounding is the answer, from a head's outputs (..., d_out): those
    outputs (``round``), the argmax class, or each column's argmax value of its block."""
    if output == "round":
        return out
    if not symbols_out:
        return np.argmax(out, axis=-1)[..., None].astype(np.float64)
    columns, start = [], 0
    for values in symbols_out:
        block = out[..., start : start + len(values)]
        columns.append(np.asarray(values, dtype=np.float64)[np.argmax(block, axis=-1)])
        start += len(values)
    return np.stack(columns, axis=-1)


@dataclass(frozen=True, kw_only=True)
class CausalSpec:
    """A :class:`CausalModel`'s sizes, found by running it on one step."""

    d_in: int
    d_out: int
    output: str
    max_len: int
    symbols_in: tuple[tuple[int, ...], ...] = ()
    cell: str = "causal"


@dataclass(frozen=True, kw_only=True, eq=False)
class CausalModel:
    """Any causal model as two functions of float inputs (N, T, d_in): ``outputs`` gives the
    head's outputs (N, T, d_out), ``vectors`` the internal vectors (N, T, H) the state after
    each prefix is read from. Either may return a torch tensor. A state is the vectors and the
    outputs side by side, so that ``readout`` maps a state to its answer."""

    outputs: Callable[[np.ndarray], Any]
    vectors: Callable[[np.ndarray], Any]
    d_in: int
    max_len: int
    output: str = "round"
    name: str = "causal model"
    # How many parameters the model has, when its caller says (readers only report it).
    parameters: int = 0
    report: TrainingReport | None = None
    horizon: int = 0

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ForeignNetworkError(f"output must be round or argmax, not {self.output!r}")
        if self.d_in < 1 or self.max_len < 1:
            raise ForeignNetworkError("d_in and max_len must be positive integers")
        if not 1 <= self.horizon <= self.max_len:
            object.__setattr__(self, "horizon", self.max_len)

    @cached_property
    def _sizes(self) -> tuple[int, int]:
        """(head outputs, internal vector size), from one run on a single step."""
        x = np.zeros((1, 1, self.d_in), dtype=np.float32)
        out, vec = _array(self.outputs(x)), _array(self.vectors(x))
        if out.ndim != 3 or vec.ndim != 3 or out.shape[:2] != (1, 1) or vec.shape[:2] != (1, 1):
            raise ForeignNetworkError(
                "outputs and vectors must map inputs (N, T, d_in) to arrays (N, T, size)"
            )
        if self.output == "argmax" and out.shape[2] < 2:
            raise ForeignNetworkError("output argmax needs at least 2 classes")
        return out.shape[2], vec.shape[2]

    @property
    def spec(self) -> CausalSpec:
        return CausalSpec(
            d_in=self.d_in, d_out=self._sizes[0], output=self.output, max_len=self.max_len
        )

    @property
    def hidden(self) -> int:
        return sum(self._sizes)

    @property
    def d_out(self) -> int:
        return 1 if self.output == "argmax" else self._sizes[0]

    def within(self, horizon: int) -> CausalModel:
        return replace(self, horizon=min(horizon, self.max_len))

    def describe(self) -> str:
        return f"{self.name} (vectors {self._sizes[1]}, max_len {self.max_len}, {self.output})"

    def n_parameters(self) -> int:
        return self.parameters

    def readout(self, h: np.ndarray) -> np.ndarray:
        return answer(h[..., -self._sizes[0] :], self.output)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (N, T, d_out) and states (N, T, hidden) for inputs x (N, T, d_in)."""
        x = np.asarray(x)
        check_length(x.shape[1], self.max_len)
        if x.shape[1] == 0 or x.shape[0] == 0:
            states = np.zeros((*x.shape[:2], self.hidden))
            return self.readout(states), states
        xf = np.ascontiguousarray(x, dtype=np.float32)
        logits = _array(self.outputs(xf)).astype(np.float64)
        states = np.concatenate([_array(self.vectors(xf)).astype(np.float64), logits], axis=-1)
        return self.readout(states), states

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.rint(self.run(x)[0]).astype(np.int64)


def _array(value: Any) -> np.ndarray:
    """A numpy array from a function's result, a torch tensor included."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)

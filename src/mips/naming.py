"""How a state machine's states are written as integers: one type per encoding, each with the
fields it needs, and the registry that reads a record back (:data:`NAMINGS`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np


def _rows(value: Any) -> tuple[tuple[Any, ...], ...]:
    """An array's rows as tuples: a reading is compared, hashed and written as JSON."""
    return tuple(tuple(row) for row in np.asarray(value).tolist())


class Naming:
    """How a machine's states are written as integers: one dataclass per encoding, each with
    the fields that encoding needs."""

    encoding: ClassVar[str]
    # The record's key for a field, where it is not the field's name.
    _record_keys: ClassVar[dict[str, str]] = {}

    def named(self) -> str:
        """How :meth:`Reading.describe` says the states are named (empty: by number)."""
        return ""

    def record(self) -> dict[str, Any]:
        """The fields as a reading's record writes them."""
        return {self._record_keys.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> Naming:
        """Inverse of :meth:`record`; a field the record leaves out takes its default."""
        keys = {f.name: cls._record_keys.get(f.name, f.name) for f in fields(cls)}
        return cls(**{name: d[key] for name, key in keys.items() if key in d})


@dataclass(frozen=True)
class Numbered(Naming):
    """Finite states numbered 0..n-1, breadth-first from the initial one; ``radius`` is the
    clusters' radius, as a share of the states' spread, when the states are clusters."""

    radius: float | None = None
    encoding: ClassVar[str] = "numbered"


@dataclass(frozen=True)
class LatticeCoordinates(Naming):
    """States as integer coordinates z of the lattice points z @ ``basis`` (r, H)."""

    basis: tuple[tuple[float, ...], ...] = ()
    encoding: ClassVar[str] = "lattice"

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis", _rows(self.basis))


@dataclass(frozen=True)
class Window(Naming):
    """States as the last ``length`` inputs; ``probed`` rows of the table were read by running
    the network on windows the data never showed."""

    length: int
    probed: int = 0
    encoding: ClassVar[str] = "window"
    _record_keys: ClassVar[dict[str, str]] = {"length": "window"}

    def named(self) -> str:
        return f", named by the last {self.length} inputs"


@dataclass(frozen=True)
class Output(Naming):
    """States as the output they emit."""

    encoding: ClassVar[str] = "output"

    def named(self) -> str:
        return ", named by their outputs"


@dataclass(frozen=True)
class Outputs(Naming):
    """States as the last ``history`` outputs."""

    history: int
    encoding: ClassVar[str] = "outputs"

    def named(self) -> str:
        return f", named by their last {self.history} outputs"


@dataclass(frozen=True)
class WindowOutput(Naming):
    """States as the last ``length`` inputs and the output."""

    length: int
    encoding: ClassVar[str] = "window+output"
    _record_keys: ClassVar[dict[str, str]] = {"length": "window"}

    def named(self) -> str:
        return f", named by the last {self.length} inputs and their output"


@dataclass(frozen=True)
class PhaseOutput(Naming):
    """States as the time modulo ``period`` and the output."""

    period: int
    encoding: ClassVar[str] = "phase+output"

    def named(self) -> str:
        return f", named by the time mod {self.period} and their output"


@dataclass(frozen=True)
class Counts(Naming):
    """States as integer-weighted counts of the inputs (``symbols`` (S, d_in) x ``weights``
    (S, r)), stuck at ``sink`` once they leave a range, or set back to 0 by the symbols numbered
    ``resets``."""

    symbols: tuple[tuple[int, ...], ...] = ()
    weights: tuple[tuple[int, ...], ...] = ()
    sink: int | None = None
    resets: tuple[int, ...] = ()
    encoding: ClassVar[str] = "counts"

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", _rows(self.symbols))
        object.__setattr__(self, "weights", _rows(self.weights))
        object.__setattr__(self, "resets", tuple(int(r) for r in self.resets))

    def named(self) -> str:
        return ", named by " + (
            "a count of inputs since a reset" if self.resets else "weighted input counts"
        )


class CountsAndOutput(Counts):
    """A count of the inputs since a reset (as :class:`Counts`) and the last output."""

    encoding: ClassVar[str] = "counts+output"

    def named(self) -> str:
        return ", named by a count of inputs since a reset and the last output"


class SeenSets(Counts):
    """States as the set of inputs seen so far: one bit per symbol of ``symbols``, set by the
    first time it is read (``weights`` the identity)."""

    encoding: ClassVar[str] = "seen"

    def named(self) -> str:
        return ", named by the set of inputs seen so far"


@dataclass(frozen=True)
class History(Naming):
    """States as functions of the input history (``features``, in words: the lowest input so
    far, a count and the highest it reached); a count weights the ``symbols`` (S, d_in) by
    ``weights`` (S, 1). Its record adds ``features`` to the fields every encoding writes."""

    features: tuple[str, ...] = ()
    symbols: tuple[tuple[int, ...], ...] = ()
    weights: tuple[tuple[int, ...], ...] = ()
    encoding: ClassVar[str] = "history"

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "symbols", _rows(self.symbols))
        object.__setattr__(self, "weights", _rows(self.weights))

    def named(self) -> str:
        return ", named by " + " and ".join(self.features)


# Each encoding's name, as records write it, and the type that reads it back.
NAMINGS: dict[str, type[Naming]] = {
    n.encoding: n
    for n in (
        Numbered,
        LatticeCoordinates,
        Window,
        Output,
        Outputs,
        WindowOutput,
        PhaseOutput,
        Counts,
        CountsAndOutput,
        SeenSets,
        History,
    )
}
ENCODINGS = tuple(NAMINGS)

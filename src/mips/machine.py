"""The state machine read from a network, and how it was read: the artifact between extract and regress."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mips.naming import ENCODINGS, NAMINGS, Naming, Numbered

if TYPE_CHECKING:
    from mips.data import SequenceData


# A record lists every field any encoding writes, in this order, unused ones at these values.
_RECORD_FIELDS: dict[str, Any] = {
    "radius": None,
    "window": None,
    "basis": (),
    "symbols": (),
    "weights": (),
    "sink": None,
    "probed": 0,
    "period": None,
    "history": None,
    "resets": (),
}


@dataclass(frozen=True)
class Reading:
    """How a machine's states were read from the hidden states, and how they are written.

    ``reader`` names the kind of reading (finite, lattice, window, output, counts, horizon,
    majority); ``source`` what it read (hidden states, cluster centres, clusters, probed
    states, ...); ``naming`` how a state is written as integers (a :class:`Naming`, one type per
    encoding); ``n_states`` how many finite states were read, and ``complete`` whether every
    (state, input) is known.
    """

    reader: str
    source: str
    _: KW_ONLY
    naming: Naming = Numbered()
    n_states: int | None = None
    complete: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.naming, Naming):
            raise ValueError(f"naming must be a Naming, got {type(self.naming).__name__}")

    @property
    def encoding(self) -> str:
        """How a state is written, by name: one of :data:`ENCODINGS`."""
        return self.naming.encoding

    def describe(self) -> str:
        """What was read and how the states are named, for summaries and program headers."""
        return self.source + self.naming.named()

    def to_dict(self) -> dict[str, Any]:
        """The record every encoding shares: each field any encoding writes, unused ones at
        their defaults."""
        head = {"reader": self.reader, "source": self.source, "encoding": self.encoding}
        head |= {"n_states": self.n_states, "complete": self.complete}
        return head | _RECORD_FIELDS | self.naming.record()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reading:
        """Inverse of :meth:`to_dict`."""
        encoding = d.get("encoding", "numbered")
        if encoding not in NAMINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        return cls(
            d["reader"],
            d["source"],
            naming=NAMINGS[encoding].from_record(d),
            n_states=d.get("n_states"),
            complete=d.get("complete"),
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class StateMachine:
    """Integer state machine: (z_prev, x) -> (z_next, y), from ``initial`` at t = -1.

    The table holds the distinct rows observed. A table only knows the transitions it has seen;
    where the whole table is one integer affine map of f = [z_prev, x, 1] (sums, shift registers,
    linear recurrences), ``next_rule`` (z_next = f @ next_rule) and ``out_rule`` (y = f @
    out_rule) hold it, and the machine steps with them where the table is silent; with a
    ``modulus`` m, both maps are taken mod m.
    """

    kind: str
    initial: tuple[int, ...]
    z_prev: np.ndarray  # (M, n_vars)
    x: np.ndarray  # (M, d_in)
    z_next: np.ndarray  # (M, n_vars)
    y: np.ndarray  # (M, d_out)
    reading: Reading = field(default_factory=lambda: Reading("given", "given"))
    next_rule: np.ndarray | None = None  # (n_vars + d_in + 1, n_vars)
    out_rule: np.ndarray | None = None  # (n_vars + d_in + 1, d_out)
    # When set, both rules hold mod this: the state is an integer mod m (a modular counter).
    modulus: int | None = None

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("z_prev", "x", "z_next", "y"):
            a = np.asarray(getattr(self, name), dtype=np.int64)
            if a.ndim != 2:
                raise ValueError(f"{name} must be 2-D, got shape {a.shape}")
            arrays[name] = a
        m = {a.shape[0] for a in arrays.values()}
        if len(m) != 1:
            raise ValueError("z_prev, x, z_next and y need the same number of rows")
        n = len(self.initial)
        if arrays["z_prev"].shape[1] != n or arrays["z_next"].shape[1] != n:
            raise ValueError("state width differs between initial, z_prev and z_next")
        if not isinstance(self.reading, Reading):
            raise ValueError(f"reading must be a Reading, got {type(self.reading).__name__}")
        if self.kind not in ("lattice", "finite"):
            raise ValueError(f"kind must be 'lattice' or 'finite', got {self.kind!r}")
        features = n + arrays["x"].shape[1] + 1
        for name, width in (("next_rule", n), ("out_rule", arrays["y"].shape[1])):
            rule = getattr(self, name)
            if rule is not None:
                rule = np.asarray(rule, dtype=np.int64)
                if rule.shape != (features, width):
                    raise ValueError(
                        f"{name} must have shape {(features, width)}, got {rule.shape}"
                    )
                object.__setattr__(self, name, rule)
        if self.modulus is not None:
            if self.next_rule is None or int(self.modulus) < 2:
                raise ValueError("a modulus needs a next_rule and must be at least 2")
            object.__setattr__(self, "modulus", int(self.modulus))
        for name, a in arrays.items():
            object.__setattr__(self, name, a)
        object.__setattr__(self, "initial", tuple(int(v) for v in self.initial))

    @property
    def n_vars(self) -> int:
        return len(self.initial)

    @property
    def n_rows(self) -> int:
        return int(self.x.shape[0])

    def table(self) -> dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], ...]]:
        """The transition table as a dict (z_prev, x) -> (z_next, y)."""
        return {
            (tuple(zp), tuple(xx)): (tuple(zn), tuple(yy))
            for zp, xx, zn, yy in zip(
                self.z_prev.tolist(),
                self.x.tolist(),
                self.z_next.tolist(),
                self.y.tolist(),
                strict=True,
            )
        }

    def replay(
        self, x: np.ndarray, lengths: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (N, T, d_out) on inputs (N, T, d_in), each sequence its first ``lengths``
        steps (all T by default), and which sequences were replayed whole.

        A sequence stops at its first transition that neither the table nor a rule knows; its
        remaining outputs are 0.
        """
        _, out, known = self._walk(x, keep_states=False, lengths=lengths)
        return out, known

    def trace(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`replay` with the state after each step (N, T, n_vars) in front (0 past a
        transition the machine does not know)."""
        states, out, known = self._walk(x, keep_states=True)
        return states, out, known

    def _walk(
        self, x: np.ndarray, keep_states: bool, lengths: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        # Replay sits on verification's hot path: the states are written only when asked for.
        x = np.asarray(x, dtype=np.int64)
        n, t = x.shape[:2]
        out = np.zeros((n, t, self.y.shape[1]), dtype=np.int64)
        states = np.zeros((n, t, self.n_vars), dtype=np.int64) if keep_states else None
        if self.next_rule is not None and self.out_rule is not None:
            # The rules hold on every row of the table, so they alone replay every sequence.
            z = np.broadcast_to(np.array(self.initial, dtype=np.int64), (n, self.n_vars))
            for step in range(t):
                f = np.concatenate([z, x[:, step], np.ones((n, 1), dtype=np.int64)], axis=1)
                z, out[:, step] = f @ self.next_rule, f @ self.out_rule
                if self.modulus is not None:
                    z, out[:, step] = z % self.modulus, out[:, step] % self.modulus
                if states is not None:
                    states[:, step] = z
            return states, out, np.ones(n, dtype=bool)
        table = self.table()
        known = np.ones(n, dtype=bool)
        ends = [t] * n if lengths is None else np.asarray(lengths).tolist()
        for i, seq in enumerate(x.tolist()):
            z = self.initial
            for step, xt in enumerate(seq[: ends[i]]):
                row = table.get((z, tuple(xt)))
                if row is None:
                    known[i] = False
                    break
                z, out[i, step] = row
                if states is not None:
                    states[i, step] = z
        return states, out, known

    def row_counts(self, data: SequenceData) -> np.ndarray:
        """How often each row of the table is taken on ``data``'s steps (M,): a row the network
        took for a few wrong labels is rare, a rule the data keep following is not. A sequence
        counts up to its first transition the table does not hold."""
        states, _, _ = self._walk(data.x, keep_states=True)
        assert states is not None
        before = np.concatenate(
            [np.broadcast_to(np.array(self.initial, dtype=np.int64), states[:, :1].shape), states],
            axis=1,
        )[:, :-1]
        index = {row: i for i, row in enumerate(self.table())}
        counts = np.zeros(self.n_rows, dtype=np.int64)
        steps = zip(before.tolist(), data.x.tolist(), data.seq_lengths.tolist(), strict=True)
        for zs, xs, n in steps:
            for z, x in zip(zs[:n], xs[:n], strict=True):
                i = index.get((tuple(z), tuple(x)))
                if i is None:
                    break
                counts[i] += 1
        return counts

    def run(self, x: np.ndarray) -> np.ndarray:
        """Outputs on inputs (N, T, d_in); raises KeyError on a transition the machine does not know."""
        out, known = self.replay(x)
        if not known.all():
            raise KeyError(f"sequence {int(np.argmin(known))} meets a transition never observed")
        return out

    def check(self, data: SequenceData) -> str | None:
        """None when the machine replays every sequence of ``data`` with its outputs; else why not
        (the first wrong output, or how many sequences meet a transition it does not know)."""
        out, known = self.replay(data.x, data.lengths)
        miss = (out != data.y).any(axis=2) & data.mask  # (N, T): padding is never wrong
        wrong = np.flatnonzero(known & miss.any(axis=1))
        if len(wrong):
            i = int(wrong[0])
            t = int(np.flatnonzero(miss[i])[0])
            return (
                f"{len(wrong)} of {data.n} sequences replay wrong, e.g. sequence {i} step {t}: "
                f"the machine says {out[i, t].tolist()}, the data {data.y[i, t].tolist()}"
            )
        if known.all():
            return None
        i = int(np.argmin(known))
        table, z, seq, t = self.table(), self.initial, data.x[i].tolist(), 0
        while (z, tuple(seq[t])) in table:  # replay said this sequence stops somewhere
            z, t = table[(z, tuple(seq[t]))][0], t + 1
        return (
            f"{int((~known).sum())} of {data.n} sequences meet a transition never observed and "
            f"no rule of the machine covers, e.g. sequence {i} step {t}: state {list(z)} on "
            f"input {seq[t]}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "kind": self.kind,
            "initial": list(self.initial),
            "z_prev": self.z_prev.tolist(),
            "x": self.x.tolist(),
            "z_next": self.z_next.tolist(),
            "y": self.y.tolist(),
            "reading": self.reading.to_dict(),
            "next_rule": None if self.next_rule is None else self.next_rule.tolist(),
            "out_rule": None if self.out_rule is None else self.out_rule.tolist(),
            "modulus": self.modulus,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StateMachine:
        """Inverse of :meth:`to_dict`."""
        n = len(d["initial"])

        def arr(key: str, width: int) -> np.ndarray:
            return np.asarray(d[key], dtype=np.int64).reshape(-1, width)

        d_in = len(d["x"][0]) if d["x"] else 0
        d_out = len(d["y"][0]) if d["y"] else 0
        return cls(
            kind=d["kind"],
            initial=tuple(d["initial"]),
            z_prev=arr("z_prev", n),
            x=arr("x", d_in),
            z_next=arr("z_next", n),
            y=arr("y", d_out),
            reading=Reading.from_dict(d["reading"])
            if "reading" in d
            else Reading("given", "given"),
            next_rule=d.get("next_rule"),
            out_rule=d.get("out_rule"),
            modulus=d.get("modulus"),
        )

"""Integer autoencoder: read a state machine over integer state variables out of an RNN's hidden states.

Two readings of the hidden states, both checked against the data before they are returned:

- **lattice**: every hidden state h (all time steps, and h_{-1} = 0 itself) is an integer point
  z A of a lattice with basis A found by LLL (fpylll) on the states. The offset is h_{-1} = 0, so the
  initial state is exactly z = 0, never a rounded sample.
- **finite**: the states form finitely many clusters (or, failing that, classes of hidden vectors
  the network answers alike on every input); the transitions form a Mealy machine that is
  minimised and numbered in breadth-first order from the initial state, and also, where the data
  allow it, named by the last k inputs or by the output each state emits. Counters that are
  finite only because training sequences are short show up as an incomplete machine; their cluster
  centres are then read as lattice points instead.
- **counts**: when neither reads the states, an integer-weighted count of the inputs seen so far,
  checked against clusters of each time step's hidden states (saturating counters).
- **horizon probes**: states told apart by the network's outputs over every input sequence of
  length k, probing only where k more steps stay within the training length.

The machine is stored as its table of distinct observed rows (z_{t-1}, x_t) -> (z_t, y_t); the
regression stage turns each column into a formula.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mips.data import SequenceData
from mips.network.artifact import TrainedNetwork, to_jsonable


@dataclass(frozen=True)
class ExtractConfig:
    """Tolerances and limits of the state readers."""

    max_sequences: int = 3000
    max_states: int = 512
    max_symbols: int = 64
    max_coordinate: int = 100_000
    # Behaviour reader: distinct hidden states it probes, input symbols, longest input window.
    max_probed_states: int = 50_000
    max_probe_symbols: int = 256
    max_window: int = 4
    seed: int = 0


@dataclass(frozen=True, eq=False)
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
    info: dict[str, Any] = field(default_factory=dict)
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

    def replay(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (N, T, d_out) on inputs (N, T, d_in), and which sequences were replayed whole.

        A sequence stops at its first transition that neither the table nor a rule knows; its
        remaining outputs are 0.
        """
        x = np.asarray(x, dtype=np.int64)
        n, t = x.shape[:2]
        out = np.zeros((n, t, self.y.shape[1]), dtype=np.int64)
        if self.next_rule is not None and self.out_rule is not None:
            # The rules hold on every row of the table, so they alone replay every sequence.
            z = np.broadcast_to(np.array(self.initial, dtype=np.int64), (n, self.n_vars))
            for step in range(t):
                f = np.concatenate([z, x[:, step], np.ones((n, 1), dtype=np.int64)], axis=1)
                z, out[:, step] = f @ self.next_rule, f @ self.out_rule
                if self.modulus is not None:
                    z, out[:, step] = z % self.modulus, out[:, step] % self.modulus
            return out, np.ones(n, dtype=bool)
        table = self.table()
        known = np.ones(n, dtype=bool)
        for i, seq in enumerate(x.tolist()):
            z = self.initial
            for step, xt in enumerate(seq):
                row = table.get((z, tuple(xt)))
                if row is None:
                    known[i] = False
                    break
                z, out[i, step] = row
        return out, known

    def run(self, x: np.ndarray) -> np.ndarray:
        """Outputs on inputs (N, T, d_in); raises KeyError on a transition the machine does not know."""
        out, known = self.replay(x)
        if not known.all():
            raise KeyError(f"sequence {int(np.argmin(known))} meets a transition never observed")
        return out

    def check(self, data: SequenceData) -> str | None:
        """None when the machine replays every sequence of ``data`` with its outputs; else why not
        (the first wrong output, or how many sequences meet a transition it does not know)."""
        out, known = self.replay(data.x)
        wrong = np.flatnonzero(known & (out != data.y).any(axis=(1, 2)))
        if len(wrong):
            i = int(wrong[0])
            t = int(np.flatnonzero((out[i] != data.y[i]).any(axis=1))[0])
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
            "info": json.loads(json.dumps(self.info, default=to_jsonable)),
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
            d["kind"],
            tuple(d["initial"]),
            arr("z_prev", n),
            arr("x", d_in),
            arr("z_next", n),
            arr("y", d_out),
            d.get("info", {}),
            d.get("next_rule"),
            d.get("out_rule"),
            d.get("modulus"),
        )


class ExtractionError(RuntimeError):
    """No reading of the hidden states gave a state machine consistent with the data."""


# --- lattice -------------------------------------------------------------------------------------


def find_lattice(
    points: np.ndarray, max_rank: int, seed: int = 0, max_coordinate: int = 100_000
) -> tuple[np.ndarray, np.ndarray] | None:
    """Basis A (r, D) and integer coordinates Z (n, r) with points ~ Z A, or None.

    The lattice must contain the origin (h_{-1} = 0). Points are taken shortest first; a point
    outside the span of the basis so far extends it, a point inside it with fractional coordinates
    q/d refines it: the basis and the point are merged into a basis of the lattice they generate by
    LLL (fpylll) on their exact integer coefficients. Only small denominators d are accepted, which
    keeps float noise from being read as structure.
    """
    found = _fit_lattice(points, max_rank, seed, max_coordinate)
    return None if isinstance(found, str) else found


def _fit_lattice(
    points: np.ndarray, max_rank: int, seed: int, max_coordinate: int
) -> tuple[np.ndarray, np.ndarray] | str:
    """:func:`find_lattice`'s work; a string saying why when no lattice fits."""
    p = np.asarray(points, dtype=np.float64)
    used = np.flatnonzero(np.abs(p).max(axis=0, initial=0.0) > 1e-9)
    if (
        len(p)
        and 0 < len(used) <= max_rank
        and np.abs(p - np.rint(p)).max() < 1e-6
        and np.abs(p).max() <= max_coordinate
    ):
        # Integer states (a canonical form already made them so): their own coordinates are
        # the most readable basis, and LLL would only skew it.
        return np.eye(p.shape[1])[used], np.rint(p[:, used]).astype(np.int64)
    norms = np.linalg.norm(p, axis=1)
    scale = float(norms.max()) if len(p) else 0.0
    if scale < 1e-9:
        return np.zeros((0, p.shape[1])), np.zeros((len(p), 0), dtype=np.int64)
    q = p / scale
    rng = np.random.default_rng(seed)
    nonzero = np.flatnonzero(norms > 1e-6 * scale)
    order = nonzero[np.argsort(norms[nonzero])]
    sample = np.concatenate([order[:2000], rng.permutation(order)[:2000]])
    basis = np.zeros((0, p.shape[1]))
    for i in sample:
        v = q[i]
        if len(basis):
            c = np.linalg.lstsq(basis.T, v, rcond=None)[0]
            off_span = np.linalg.norm(v - c @ basis) > 1e-3 * max(np.linalg.norm(v), 1e-3)
        else:
            c, off_span = np.zeros(0), True
        if off_span:
            if len(basis) == max_rank:
                return f"the states span more than {max_rank} directions"
            basis = np.vstack([basis, v])
            continue
        if np.abs(c - np.rint(c)).max() <= 0.15:
            continue
        merged = _merge(basis, c)
        if merged is None:
            return (
                f"a state sits at coordinates {np.round(c, 2).tolist()} of the lattice so far, "
                "no fraction with denominator <= 12"
            )
        basis = merged
    coords = np.linalg.lstsq(basis.T, q.T, rcond=None)[0].T
    z = np.rint(coords)
    off = np.abs(coords - z).max(axis=0)
    if off.max() > 0.15:
        return f"lattice coordinate {int(off.argmax())} is up to {off.max():.2f} off an integer"
    if np.abs(z).max() > max_coordinate:
        return f"lattice coordinates exceed {max_coordinate}"
    z = z.astype(np.int64)
    return _orient(np.linalg.lstsq(z, p, rcond=None)[0], z)


def _lll_rows(m: np.ndarray) -> np.ndarray:
    from fpylll import LLL, IntegerMatrix

    mat = IntegerMatrix.from_matrix(np.asarray(m, dtype=np.int64).tolist())
    LLL.reduction(mat)
    return np.array([[mat[i, j] for j in range(mat.ncols)] for i in range(mat.nrows)])


def _merge(basis: np.ndarray, c: np.ndarray, max_denominator: int = 12) -> np.ndarray | None:
    """Basis of the lattice generated by ``basis`` and the point with coefficients ``c``."""
    for d in range(2, max_denominator + 1):
        if np.abs(d * c - np.rint(d * c)).max() <= 0.15 * d / max_denominator + 1e-9:
            k = len(basis)
            gens = np.vstack([d * np.eye(k, dtype=np.int64), np.rint(d * c).astype(np.int64)])
            rows = _lll_rows(gens)
            rows = rows[np.abs(rows).sum(axis=1) > 0]
            return (rows / d) @ basis if len(rows) == k else None
    return None


def _orient(basis: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Flip each coordinate so that most observed values are >= 0: counters then count up.
    signs = np.where((z < 0).sum(axis=0) > (z > 0).sum(axis=0), -1, 1)
    return basis * signs[:, None], z * signs[None, :]


# --- clustering and finite machines ---------------------------------------------------------------


def _cluster(points: np.ndarray, radius: float, max_pairs: int = 2_000_000) -> np.ndarray | None:
    """Single-linkage clusters at ``radius``, or None when that would link too many pairs: a
    radius that links most of a large point cloud (a counter's states) cannot separate it.

    Points are first pooled into grid cells a quarter of the radius wide, so that tight clusters
    of many thousand drifting states cost as little as their few cells."""
    cells, pooled = np.unique(np.floor(points / (radius / 4)), axis=0, return_inverse=True)
    reps = (cells + 0.5) * (radius / 4)
    tree = cKDTree(reps)
    if len(reps) > 2000 and tree.count_neighbors(tree, radius) > 2 * max_pairs:
        return None
    pairs = tree.query_pairs(radius, output_type="ndarray")
    n = len(reps)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1][pooled.reshape(-1)]


def _functional(keys: np.ndarray, values: np.ndarray) -> bool:
    """True when equal rows of ``keys`` always map to equal rows of ``values``."""
    kv = np.unique(np.concatenate([keys, values], axis=1), axis=0)
    return len(np.unique(kv[:, : keys.shape[1]], axis=0)) == len(kv)


def _minimise(
    n: int, trans: dict[tuple[int, tuple[int, ...]], tuple[int, tuple[int, ...]]]
) -> np.ndarray:
    """Mealy partition refinement; an unobserved transition only matches another unobserved one."""
    symbols = sorted({s for _, s in trans})
    block = np.zeros(n, dtype=np.int64)
    while True:
        sigs = {}
        new = np.empty(n, dtype=np.int64)
        for q in range(n):
            sig = (block[q],) + tuple(
                (trans[(q, s)][1], block[trans[(q, s)][0]]) if (q, s) in trans else None
                for s in symbols
            )
            new[q] = sigs.setdefault(sig, len(sigs))
        if len(sigs) == len(set(block.tolist())):
            return new
        block = new


def _bfs_numbering(
    initial: int, trans: dict[tuple[int, tuple[int, ...]], tuple[int, tuple[int, ...]]], n: int
) -> np.ndarray:
    symbols = sorted({s for _, s in trans})
    number = -np.ones(n, dtype=np.int64)
    number[initial] = 0
    queue, k = deque([initial]), 1
    while queue:
        q = queue.popleft()
        for s in symbols:
            if (q, s) in trans and number[trans[(q, s)][0]] < 0:
                number[trans[(q, s)][0]] = k
                k += 1
                queue.append(trans[(q, s)][0])
    return number


@dataclass(frozen=True)
class _Trajectory:
    x: np.ndarray  # (N, T, d_in)
    y: np.ndarray  # (N, T, d_out)
    hidden: np.ndarray  # (N, T + 1, H), index 0 is h_{-1} = 0


def _machine_from_labels(
    kind: str, labels_prev: np.ndarray, traj: _Trajectory, labels_next: np.ndarray, info: dict
) -> StateMachine | None:
    # labels_*: (N*T, n_vars) integer state vectors before and after each step.
    x = traj.x.reshape(-1, traj.x.shape[-1])
    y = traj.y.reshape(-1, traj.y.shape[-1])
    keys = np.concatenate([labels_prev, x], axis=1)
    if not _functional(keys, labels_next) or not _functional(keys, y):
        return None
    rows = np.unique(np.concatenate([labels_prev, x, labels_next, y], axis=1), axis=0)
    initial = tuple(int(v) for v in labels_prev[0]) if len(labels_prev) else ()
    return _from_rows(kind, initial, rows, x.shape[1], info)


def _from_rows(
    kind: str, initial: tuple[int, ...], rows: np.ndarray, d_in: int, info: dict
) -> StateMachine:
    """The machine whose table is ``rows`` = [z_prev, x, z_next, y], with its affine rules."""
    n = len(initial)
    f = rows[:, : n + d_in]
    z_next, y = rows[:, n + d_in : 2 * n + d_in], rows[:, 2 * n + d_in :]
    next_rule, out_rule, modulus = _affine_rule(f, z_next), _affine_rule(f, y), None
    # A state on a cycle (a running sum mod m) is an integer mod m: one modular map. Only over
    # a complete table (every state seen with every symbol), where it renames what was seen:
    # with m^3 candidates, a few rows could be matched by chance, and the rule would then
    # invent transitions.
    if (
        next_rule is None
        and kind == "finite"
        and n == 1
        and len(rows) == len(np.unique(rows[:, 0])) * len(np.unique(f[:, n:], axis=0))
    ):
        m = int(max(z_next.max(), rows[:, 0].max())) + 1
        if rows[:, :n].min() >= 0 and z_next.min() >= 0 and m >= 2:
            next_rule = _modular_rule(f, z_next, m)
            if next_rule is not None:
                modulus, out_rule = m, _modular_rule(f, y, m)
    return StateMachine(
        kind,
        initial,
        rows[:, :n],
        rows[:, n : n + d_in],
        z_next,
        y,
        info,
        next_rule,
        out_rule,
        modulus,
    )


def _modular_rule(
    features: np.ndarray, target: np.ndarray, m: int, max_candidates: int = 100_000
) -> np.ndarray | None:
    """Integer M with [features, 1] @ M == target (mod m) on every row, target in [0, m).

    Coefficients mod m are searched outright (m^(F+1) candidates per target column, checked on
    a few rows, then on all); each is written in (-m/2, m/2] so the rule reads simply.
    """
    a = np.concatenate([features, np.ones((len(features), 1), dtype=np.int64)], axis=1)
    if len(a) <= a.shape[1] or target.min() < 0 or target.max() >= m:
        return None
    if m ** a.shape[1] > max_candidates:
        return None
    cands = np.array(list(itertools.product(range(m), repeat=a.shape[1])), dtype=np.int64)
    cands = np.where(cands > m // 2, cands - m, cands)
    few = np.random.default_rng(0).permutation(len(a))[:64]
    columns = []
    for j in range(target.shape[1]):
        fits = cands[((cands @ a[few].T) % m == target[few, j]).all(axis=1)]
        fits = [c for c in fits if np.array_equal((a @ c) % m, target[:, j])]
        if not fits:
            return None
        columns.append(min(fits, key=lambda c: (int(np.abs(c).sum()), tuple(-c))))
    return np.stack(columns, axis=1)


def _affine_rule(features: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Integer M with [features, 1] @ M == target on every row, if the rows pin one down.

    The rule must be the only affine map through the rows (full column rank, at least three
    rows per unknown, so a few rows cannot fit it by chance) and exact in integers: then it is
    what the table says, not a guess past it.
    """
    a = np.concatenate([features, np.ones((len(features), 1), dtype=np.int64)], axis=1)
    if len(a) < 3 * a.shape[1] or np.linalg.matrix_rank(a.astype(np.float64)) < a.shape[1]:
        return None
    m = np.rint(np.linalg.lstsq(a.astype(np.float64), target.astype(np.float64), rcond=None)[0])
    if np.abs(m).max(initial=0) > 1_000_000:
        return None
    m = m.astype(np.int64)
    return m if np.array_equal(a @ m, target) else None


def _lattice_machine(
    traj: _Trajectory, points: np.ndarray, config: ExtractConfig, source: str, why: list[str]
) -> StateMachine | None:
    """The machine over lattice coordinates of the states; on failure, appends why to ``why``."""
    n, t1, h = traj.hidden.shape
    found = _fit_lattice(points, h, config.seed, config.max_coordinate)
    if isinstance(found, str):
        why.append(f"no lattice of {source}: {found}")
        return None
    basis, _ = found
    if basis.shape[0] == 0:
        z = np.zeros((n, t1, 0), dtype=np.int64)
    else:
        coords = np.linalg.lstsq(basis.T, traj.hidden.reshape(-1, h).T, rcond=None)[0].T
        z = np.rint(coords).astype(np.int64).reshape(n, t1, -1)
        off = np.abs(coords.reshape(n, t1, -1) - z).max()
        if off > 0.25:
            why.append(f"no lattice of {source}: a state is {off:.2f} off the lattice")
            return None
    r = z.shape[-1]
    info = {"source": source, "basis": basis.round(6).tolist(), "rank": r}
    prev, nxt = z[:, :-1].reshape(-1, r), z[:, 1:].reshape(-1, r)
    machine = _machine_from_labels("lattice", prev, traj, nxt, info)
    if machine is None:
        why.append(f"lattice of {source} (rank {r}): {_ambiguity(prev, traj, nxt, 'state')}")
    return machine


def _finite_machine(
    traj: _Trajectory, config: ExtractConfig, why: list[str]
) -> tuple[StateMachine | None, Any]:
    """The minimised machine over clusters of the states, at the coarsest radius that gives one,
    and the clustering; on failure, appends to ``why`` what went wrong at the finest radius."""
    n, t1, h = traj.hidden.shape
    flat = traj.hidden.reshape(-1, h)
    uniq, inverse = np.unique(np.round(flat, 9), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    spread = float(np.ptp(uniq, axis=0).max()) if len(uniq) > 1 else 1.0
    x = traj.x.reshape(-1, traj.x.shape[-1])
    symbols = np.unique(x, axis=0)
    if len(symbols) > config.max_symbols:
        why.append(f"no finite machine: {len(symbols)} input symbols > {config.max_symbols}")
        return None, None
    miss = "the clusters link too many states"
    ambiguous = None  # the finest clustering that was not deterministic, located only if needed
    for frac in (0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001):
        comp = _cluster(uniq, frac * spread) if len(uniq) > 1 else np.zeros(1, dtype=np.int64)
        if comp is None:
            continue
        n_states = int(comp.max()) + 1
        if n_states > config.max_states * 4:
            miss, ambiguous = f"{n_states} clusters at radius {frac} of the spread", None
            break
        lab = comp[inverse].reshape(n, t1)
        found = _finite_from_labels(lab, traj, config, {"source": "clusters", "radius": frac})
        if found is None:
            miss, ambiguous = f"{n_states} clusters at radius {frac} of the spread, ", lab
            continue
        machine, numbered = found
        if machine is None:
            why.append(f"no finite machine: more than {config.max_states} states")
            return None, None
        centres = np.stack([uniq[comp == c].mean(axis=0) for c in range(n_states)])
        return machine, (comp, inverse, centres, numbered)
    if ambiguous is not None:
        prev, nxt = ambiguous[:, :-1].reshape(-1, 1), ambiguous[:, 1:].reshape(-1, 1)
        miss += _ambiguity(prev, traj, nxt, "cluster")
    why.append(f"no finite machine: {miss}")
    return None, None


def _ambiguity(prev: np.ndarray, traj: _Trajectory, nxt: np.ndarray, noun: str) -> str:
    """Where state labels (N*T, r) before and after each step fail to be a machine: the first
    (state, input) seen to lead to two different next states or outputs."""
    x = traj.x.reshape(-1, traj.x.shape[-1])
    y = traj.y.reshape(-1, traj.y.shape[-1])
    keys = np.concatenate([prev, x], axis=1)
    rows = np.concatenate([keys, nxt, y], axis=1)
    _, first = np.unique(rows, axis=0, return_index=True)
    _, key_of_first = np.unique(keys[first], axis=0, return_inverse=True)
    ids, counts = np.unique(key_of_first, return_counts=True)
    if not (counts > 1).any():
        return "no conflict found"
    i, j = np.sort(first[key_of_first.reshape(-1) == ids[counts > 1][0]])[:2]
    t_len = traj.x.shape[1]

    def where(k: int) -> str:
        return (
            f"{noun} {nxt[k].tolist()} and output {y[k].tolist()} "
            f"(sequence {k // t_len}, step {k % t_len})"
        )

    return (
        f"{noun} {prev[i].tolist()} on input {x[i].tolist()} leads to {where(i)} and to {where(j)}"
    )


def _finite_from_labels(
    lab: np.ndarray, traj: _Trajectory, config: ExtractConfig, info: dict
) -> tuple[StateMachine | None, np.ndarray] | None:
    """The minimised Mealy machine over state labels (N, T + 1) and the labels renumbered in
    breadth-first order; None if the labels are not deterministic, (None, labels) if the
    machine is too large."""
    x = traj.x.reshape(-1, traj.x.shape[-1])
    prev, nxt = lab[:, :-1].reshape(-1), lab[:, 1:].reshape(-1)
    y = traj.y.reshape(-1, traj.y.shape[-1])
    keys = np.concatenate([prev[:, None], x], axis=1)
    if not (_functional(keys, nxt[:, None]) and _functional(keys, y)):
        return None
    n_states = int(lab.max()) + 1
    trans = {}
    for p, xx, q, yy in zip(prev.tolist(), x.tolist(), nxt.tolist(), y.tolist(), strict=True):
        trans[(p, tuple(xx))] = (q, tuple(yy))
    block = _minimise(n_states, trans)
    min_trans = {(int(block[p]), s): (int(block[q]), o) for (p, s), (q, o) in trans.items()}
    n_min = int(block.max()) + 1
    if n_min > config.max_states:
        return None, lab
    number = _bfs_numbering(int(block[lab[0, 0]]), min_trans, n_min)
    n_symbols = len(np.unique(x, axis=0))
    info = {**info, "n_states": n_min, "complete": len(min_trans) == n_min * n_symbols}
    s_prev = number[block[prev]][:, None]
    s_next = number[block[nxt]][:, None]
    machine = _machine_from_labels("finite", s_prev, traj, s_next, info)
    return machine, number[block[lab]]


def _probe_classes(
    network: TrainedNetwork, states: np.ndarray, symbols: np.ndarray, k: int, max_states: int
) -> np.ndarray | None:
    """A class for each row of ``states`` (M, H): the network's rounded outputs along every input
    sequence of length k from it. None when there are more than ``max_states`` distinct states."""
    scale = max(float(np.abs(states).max()), 1.0)
    _, first, inverse = np.unique(
        np.round(states / scale, 5), axis=0, return_index=True, return_inverse=True
    )
    if len(first) > max_states:
        return None
    probes = np.array(list(itertools.product(range(len(symbols)), repeat=k)))
    h = np.repeat(states[first], len(probes), axis=0)
    outs = []
    for j in range(k):
        h = network.step(h, np.tile(symbols[probes[:, j]], (len(first), 1)))
        outs.append(np.rint(network.readout(h)))
    signature = np.concatenate(outs, axis=1).reshape(len(first), -1)
    _, classes = np.unique(signature, axis=0, return_inverse=True)
    return classes.reshape(-1)[inverse.reshape(-1)]


def _behaviour_classes(
    network: TrainedNetwork, traj: _Trajectory, config: ExtractConfig
) -> np.ndarray | None:
    """Label every hidden state (N, T + 1) by what the network does from it, or None.

    Two hidden vectors are one state when the network answers every input symbol the same from
    both. Hidden vectors that differ only in directions the network never reads again (a ReLU
    feature of an input that no later output uses, the transient of h_{-1} = 0) thereby
    collapse to one state.
    """
    n, t1, h = traj.hidden.shape
    symbols = np.unique(traj.x.reshape(-1, traj.x.shape[-1]), axis=0).astype(np.float64)
    if len(symbols) > config.max_probe_symbols:
        return None
    # One step only: longer probes leave the horizon the network was trained on, where its
    # answers drift and would split states it treats alike on the data.
    classes = _probe_classes(
        network, traj.hidden.reshape(-1, h), symbols, 1, config.max_probed_states
    )
    return None if classes is None else classes.reshape(n, t1)


def _replay(
    trans: dict[tuple[int, int], tuple[int, tuple[int, ...]]],
    start: np.ndarray,
    x_ids: np.ndarray,
    y: np.ndarray,
) -> np.ndarray | None:
    """Labels (N, T + 1) from running ``trans`` from ``start`` on symbol ids (N, T); None if a
    transition is missing or emits other outputs than ``y`` (N, T, d_out)."""
    n, t_len = x_ids.shape
    labels = np.empty((n, t_len + 1), dtype=np.int64)
    labels[:, 0] = start
    outputs = y.tolist()
    for i, seq in enumerate(x_ids.tolist()):
        c = int(start[i])
        for t, s in enumerate(seq):
            step = trans.get((c, s))
            if step is None or step[1] != tuple(outputs[i][t]):
                return None
            c = labels[i, t + 1] = step[0]
    return labels


def _horizon_labels(
    network: TrainedNetwork, traj: _Trajectory, config: ExtractConfig
) -> np.ndarray | None:
    """Labels (N, T + 1) from probing the network k steps ahead, staying inside its horizon.

    A state's class is what the network outputs along every input sequence of length k from
    it; only states early enough for k more steps to stay within the training length are
    probed, since beyond it a network's answers drift. The classes and their observed
    transitions form a machine, which must replay every training sequence to the end with the
    data's outputs: the later states are then labelled by that replay. The shortest k that
    does so is used. This reads finite machines whose states the network keeps apart only in
    what they do several steps later (a remainder, whose next output is a quotient bit).
    """
    n, t1, h = traj.hidden.shape
    symbols, x_ids = np.unique(traj.x.reshape(-1, traj.x.shape[-1]), axis=0, return_inverse=True)
    x_ids = x_ids.reshape(n, t1 - 1)
    for k in range(2, t1 - 1):
        # The probes of one state are |symbols|^k sequences: the symbol limit bounds them too.
        if len(symbols) ** k > config.max_probe_symbols:
            break
        early = t1 - k  # positions whose k-step continuations stay in the data's length
        budget = 50 * config.max_probed_states // len(symbols) ** k
        classes = _probe_classes(network, traj.hidden[:, :early].reshape(-1, h), symbols, k, budget)
        if classes is None:
            break
        early_labels = classes.reshape(n, early)
        keys = np.stack(
            [early_labels[:, :-1].reshape(-1), x_ids[:, : early - 1].reshape(-1)], axis=1
        )
        nxt = early_labels[:, 1:].reshape(-1)
        outs = traj.y[:, : early - 1].reshape(len(nxt), -1)
        if not _functional(keys, np.column_stack([nxt, outs])):
            continue
        trans = {
            (c, s): (c2, tuple(o))
            for (c, s), c2, o in zip(keys.tolist(), nxt.tolist(), outs.tolist(), strict=True)
        }
        labels = _replay(trans, early_labels[:, 0], x_ids, traj.y)
        if labels is not None:
            return labels
    return None


def _agreement(key_id: np.ndarray, label_id: np.ndarray) -> float:
    """Fraction of rows whose label is the most common label among rows with the same key; both
    are given as non-negative integer ids per row (:func:`_row_ids`)."""
    n_labels = int(label_id.max()) + 1
    pairs, counts = np.unique(key_id * n_labels + label_id, return_counts=True)
    # pairs are sorted by key: each key's run of counts starts where the key changes.
    starts = np.flatnonzero(np.diff(pairs // n_labels, prepend=-1))
    return float(np.maximum.reduceat(counts, starts).sum() / len(label_id))


def _row_ids(a: np.ndarray) -> np.ndarray:
    """An id per row of ``a``, equal for equal rows (ids of sorted distinct rows)."""
    a = np.asarray(a).reshape(len(a), -1)
    if a.dtype.kind in "iu" and a.shape[1] and len(a):
        # Integer rows: one mixed-radix code per row sorts far faster than rows compared whole.
        lo = a.min(axis=0)
        span = (a.max(axis=0) - lo + 1).astype(np.float64)
        if float(np.prod(span)) < 2.0**62:
            radix = np.concatenate([np.cumprod(span[::-1])[::-1][1:], [1.0]]).astype(np.int64)
            return np.unique((a - lo) @ radix, return_inverse=True)[1].reshape(-1)
    return np.unique(a, axis=0, return_inverse=True)[1].reshape(-1)


def _window(x: np.ndarray, k: int) -> np.ndarray:
    """(N, T + 1, k * d_in): the last k inputs before each state, newest first, zeros before t=0."""
    n, t, d = x.shape
    padded = np.concatenate([np.zeros((n, k, d), dtype=x.dtype), x], axis=1)
    cols = [padded[:, k - i : k - i + t + 1] for i in range(1, k + 1)]
    return np.concatenate(cols, axis=2) if cols else np.zeros((n, t + 1, 0), dtype=x.dtype)


def _named_machines(
    network: TrainedNetwork,
    traj: _Trajectory,
    labels: np.ndarray,
    source: str,
    config: ExtractConfig,
) -> list[StateMachine]:
    """Machines whose state is named by something observable: the last k inputs, or the output.

    A state that is a function of the last k inputs is a shift register of inputs (its variables
    are those inputs); a state in one-to-one correspondence with the output it emits is that
    output (running minimum, counters). Both names make the formulas the regressors look for.
    """
    n, t1 = labels.shape
    n_states = int(labels.max()) + 1
    machines = []
    for k in range(config.max_window + 1):
        win = _window(traj.x, k)
        # A name is a hypothesis: it must agree with the labels almost everywhere (a state read
        # near a decision boundary may be mislabelled), and the machine it gives must then be
        # consistent with every observation (checked when the machine is built).
        keys = win.reshape(n * t1, -1)
        # Windows seen about once each explain any labelling; a name must be seen repeatedly.
        if len(np.unique(keys, axis=0)) * 2 > len(keys):
            break
        if _agreement(_row_ids(keys), labels.reshape(-1)) >= 0.99:
            r = win.shape[-1]
            info = {
                "source": f"{source}, named by the last {k} inputs",
                "encoding": "window",
                "n_states": n_states,
            }
            prev = win[:, :-1].reshape(n * (t1 - 1), r)
            m = _machine_from_labels(
                "finite", prev, traj, win[:, 1:].reshape(n * (t1 - 1), r), info
            )
            if m is not None:
                machines.append(_complete_window(network, m, k, config.max_probed_states))
            break
    # Named by their outputs: the state after step t is y_t itself; h_{-1} takes the output of
    # the states it behaves like, or its own readout when it behaves like none of them.
    y = traj.y.reshape(n, t1 - 1, -1)
    after = labels[:, 1:].reshape(-1)
    if _agreement(after, _row_ids(y.reshape(len(after), -1))) < 0.99:
        return machines
    initial = int(labels[0, 0])
    like_initial = after == initial
    if like_initial.any():
        values, counts = np.unique(
            y.reshape(len(after), -1)[like_initial], axis=0, return_counts=True
        )
        code = values[np.argmax(counts)]
    else:
        code = np.rint(network.readout(np.zeros((1, network.hidden))))[0].astype(np.int64)
    named = np.concatenate([np.broadcast_to(code, (n, 1, y.shape[-1])), y], axis=1)
    info = {
        "source": f"{source}, named by their outputs",
        "encoding": "output",
        "n_states": n_states,
    }
    d = y.shape[-1]
    m = _machine_from_labels(
        "finite", named[:, :-1].reshape(-1, d), traj, named[:, 1:].reshape(-1, d), info
    )
    if m is not None:
        machines.append(m)
    return machines


def _complete_window(
    network: TrainedNetwork, machine: StateMachine, k: int, max_probes: int
) -> StateMachine:
    """The window machine with a row for every (window, input), read by probing the network.

    A shift register's states are its last k inputs, so each is reached by feeding those inputs:
    the network's output on (window, symbol) is read by running it on the window then the
    symbol. Its transitions are the shift itself. Inputs before t = 0 are zeros; when zero is
    not an input symbol, such windows are reached by the shorter prefix. Kept only when every
    probe agrees with the rows the data showed.
    """
    d = machine.x.shape[1]
    symbols = np.unique(machine.x, axis=0)
    pad_is_symbol = bool((symbols == 0).all(axis=1).any())
    lengths = [k] if pad_is_symbol else list(range(k + 1))
    if k == 0 or sum(len(symbols) ** (j + 1) for j in lengths) > max_probes:
        return machine
    rows = [machine.z_prev, machine.x, machine.z_next, machine.y]
    blocks = [np.concatenate(rows, axis=1)]
    for j in lengths:
        # Chronological inputs: j window symbols (oldest first), then the probed symbol.
        idx = np.array(list(itertools.product(range(len(symbols)), repeat=j + 1)), dtype=np.int64)
        seqs = symbols[idx.reshape(-1, j + 1)].reshape(len(idx), j + 1, d)
        y = np.rint(network.run(seqs.astype(np.float64))[0][:, -1]).astype(np.int64)
        newest_first = seqs[:, ::-1].reshape(len(seqs), -1)
        pad = np.zeros((len(seqs), (k - j) * d), dtype=np.int64)
        z_prev = np.concatenate([newest_first[:, d:], pad], axis=1)
        z_next = np.concatenate([newest_first, pad], axis=1)[:, : k * d]
        blocks.append(np.concatenate([z_prev, seqs[:, -1], z_next, y], axis=1))
    table = np.unique(np.concatenate(blocks), axis=0)
    if len(np.unique(table[:, : (k + 1) * d], axis=0)) < len(table):
        return machine
    info = {**machine.info, "probed": len(table) - machine.n_rows}
    return _from_rows(machine.kind, machine.initial, table, d, info)


def _time_clusters(traj: _Trajectory) -> list[np.ndarray]:
    """Labels (N, T + 1) from clustering the hidden states of each time step on their own, at a
    few radii, coarsest first.

    A counter the network stores in a saturating code (a sigmoid of the count) has states that
    overlap across time, yet at any one step the counts it must tell apart are well separated.
    """
    n, t1, h = traj.hidden.shape
    spread = float(np.ptp(traj.hidden.reshape(-1, h), axis=0).max())
    if spread < 1e-9:
        return []
    out = []
    for frac in (0.05, 0.02, 0.01):
        labels = np.zeros((n, t1), dtype=np.int64)
        offset = 0
        for t in range(t1):
            comp = _cluster(traj.hidden[:, t], frac * spread)
            if comp is None:
                break
            labels[:, t] = comp + offset
            offset += int(comp.max()) + 1
        else:
            out.append(labels)
    return out


def _count_weights(n_symbols: int) -> list[np.ndarray]:
    """Integer weight matrices (symbols, r) to try, fewest variables and smallest weights first:
    one weighted count, then each symbol's count relative to the first's, then every count."""
    if n_symbols < 2 or n_symbols > 6:
        return []
    values = range(-2, 3) if n_symbols <= 3 else range(-1, 2)
    vectors = []
    for v in itertools.product(values, repeat=n_symbols):
        a = np.array(v)
        first = a[np.flatnonzero(a)[:1]]
        if len(first) and first[0] > 0 and np.gcd.reduce(np.abs(a)) == 1:
            vectors.append(a)
    vectors.sort(key=lambda a: (int(np.abs(a).sum()), tuple(-a)))
    out = [a[:, None] for a in vectors]
    if n_symbols > 2:
        out.append(
            np.eye(n_symbols, dtype=np.int64)[:, :1] - np.eye(n_symbols, dtype=np.int64)[:, 1:]
        )
    out.append(np.eye(n_symbols, dtype=np.int64))
    return out


def _count_machines(
    traj: _Trajectory,
    label_sets: list[np.ndarray],
    apart: float = 0.9,
    source: str = "time-step clusters",
) -> list[StateMachine]:
    """A machine whose state is an integer-weighted count of the inputs seen so far.

    The weights are a hypothesis to check against the network and the data. At every time step
    the count must determine the network's state (its label: a per-step cluster, or what the
    network does next; at >= 99% of states), and the network must tell the counts apart (at
    >= ``apart``: a saturating code may merge counts that no longer matter near the end of a
    sequence). The machine over the counts must then be deterministic on every observation.
    Counters the network stores nonlinearly, which no lattice in hidden space can read, are
    read this way; their formulas then hold for sequences longer than any the network saw.
    """
    if not label_sets:
        return []
    n, t1 = label_sets[0].shape
    flat_x = traj.x.reshape(-1, traj.x.shape[-1])
    symbols, sym_id = np.unique(flat_x, axis=0, return_inverse=True)
    onehot = np.eye(len(symbols), dtype=np.int64)[sym_id.reshape(n, t1 - 1)]
    counts = np.concatenate(
        [np.zeros((n, 1, len(symbols)), dtype=np.int64), np.cumsum(onehot, axis=1)], axis=1
    )
    time = np.broadcast_to(np.arange(t1)[None, :, None], (n, t1, 1))
    label_ids = [_row_ids(lab.reshape(-1)) for lab in label_sets]
    for weights in _count_weights(len(symbols)):
        for z, sink in _sink_variants(counts @ weights):
            keys = np.concatenate([time, z], axis=2).reshape(n * t1, -1)
            key_ids = _row_ids(keys)
            if not any(
                _agreement(key_ids, lab) >= 0.99 and _agreement(lab, key_ids) >= apart
                for lab in label_ids
            ):
                continue
            r = weights.shape[1]
            info = {
                "source": f"{source}, named by weighted input counts",
                "encoding": "counts",
                "symbols": symbols.tolist(),
                "weights": weights.tolist(),
            }
            if sink is not None:
                info["sink"] = sink
            m = _machine_from_labels(
                "lattice", z[:, :-1].reshape(-1, r), traj, z[:, 1:].reshape(-1, r), info
            )
            if m is not None:
                return [m]
    return []


def _sink_variants(z: np.ndarray, reach: int = 3) -> list[tuple[np.ndarray, int | None]]:
    """The count z (N, T + 1, r) itself, then, for one count, z with a sink: once the count has
    left [lo, hi] it stays at the first value outside, whatever comes next.

    A one-counter machine with a dead state (a balance that must never go negative) is stored
    by a network as a count while it is in range and as one region, wherever the count went,
    after. The bound is tried within ``reach`` of the start, nearest first.
    """
    out: list[tuple[np.ndarray, int | None]] = [(z, None)]
    if z.shape[-1] != 1:
        return out
    lowest = np.minimum.accumulate(z, axis=1)
    highest = np.maximum.accumulate(z, axis=1)
    for bound in range(reach + 1):
        for below, run in ((True, lowest), (False, highest)):
            sink = -bound - 1 if below else bound + 1
            dead = run < -bound if below else run > bound
            if dead.any():
                out.append((np.where(dead, sink, z), sink))
    return out


def extract(
    network: TrainedNetwork, data: SequenceData, config: ExtractConfig | None = None
) -> list[StateMachine]:
    """Every consistent state-machine reading of ``network`` on ``data``, most plausible first.

    Order: finite machines whose states are named by observables (the last k inputs, the output
    they emit); a complete finite machine; when neither nor a lattice was found, weighted input
    counts, then k-step horizon probes; a lattice over the raw hidden states; a lattice over
    cluster centres (counters); an incomplete finite machine. Finite states come from clusters
    of hidden vectors or, failing that, from one-step probes of the network. Raises
    :class:`ExtractionError` if none.
    """
    config = config or ExtractConfig()
    if data.n > config.max_sequences:
        idx = np.sort(
            np.random.default_rng(config.seed).choice(data.n, config.max_sequences, replace=False)
        )
        data = data.subset(idx)
    y_net, hidden = network.run(data.x)
    if not np.array_equal(np.rint(y_net).astype(np.int64), data.y):
        raise ExtractionError("the network does not reproduce the data exactly")
    h0 = np.zeros((data.n, 1, network.hidden))
    traj = _Trajectory(data.x, data.y, np.concatenate([h0, hidden], axis=1))
    flat = traj.hidden.reshape(-1, network.hidden)
    uniq = np.unique(np.round(flat, 9), axis=0)

    why: list[str] = []
    finite, clusters = _finite_machine(traj, config, why)
    # Finite states renamed by observables: from the clusters, and from probing the network.
    named = []
    if finite is not None:
        named += _named_machines(network, traj, clusters[3], "clusters", config)
    classes = _behaviour_classes(network, traj, config) if finite is None or not named else None
    if classes is not None:
        named += _named_machines(network, traj, classes, "probed states", config)
        if finite is None:
            probed = _finite_from_labels(classes, traj, config, {"source": "probed states"})
            finite = probed[0] if probed is not None else None
    lattice = _lattice_machine(traj, uniq, config, "hidden states", why)
    centred = None
    if finite is not None and not finite.info["complete"] and clusters is not None:
        comp, inverse, centres, _ = clusters
        snapped = _Trajectory(traj.x, traj.y, centres[comp[inverse]].reshape(traj.hidden.shape))
        centred = _lattice_machine(snapped, centres, config, "cluster centres", why)
    ordered = list(named)
    if finite is not None and finite.info["complete"]:
        ordered.append(finite)
    if lattice is None and not named and (finite is None or not finite.info["complete"]):
        counted = _count_machines(traj, _time_clusters(traj))
        if not counted and classes is not None:
            # States that differ only where the network never looks again (the order of the
            # inputs, when only their counts matter) split every cluster: read what it does
            # instead. Behaviour merges counts the network treats alike within its horizon, so
            # the simplest counts it determines are taken, and not required to be told apart.
            counted = _count_machines(traj, [classes], apart=0.0, source="probed states")
        ordered += counted
        horizon = None if counted else _horizon_labels(network, traj, config)
        if horizon is not None:
            read = _finite_from_labels(horizon, traj, config, {"source": "horizon probes"})
            if read is not None and read[0] is not None:
                ordered += _named_machines(network, traj, read[1], "horizon probes", config)
                ordered.append(read[0])
    ordered += [m for m in (lattice, centred) if m is not None]
    if finite is not None and not finite.info["complete"]:
        ordered.append(finite)
    if not ordered:
        why.append("no weighted count of the inputs or k-step probe of the network names them")
        raise ExtractionError("no state machine reads the hidden states; " + "; ".join(why))
    return ordered

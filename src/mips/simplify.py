"""Simplify a trained network without changing what it computes on the data.

Two kinds of step, each kept only if the network stays exact on every sequence it is checked on:

- **exact reparametrisation** (whitening of the hidden space): h' = M h for an invertible M, folded
  into the layers that write and read h; the function is unchanged up to float rounding.
- **canonical form** of a linear transition h' = h W + x U + c: the hidden space is re-expressed in
  its Krylov basis (u, u W, u W^2, ... for the rows u of U, then c), where an integer recurrence
  such as a shift register, a counter or Newton's law has an integer companion matrix even when the
  trained W is a dense real matrix. Directions the inputs never reach are dropped, so the hidden
  size can shrink. W, U and c snap to integers there and a linear readout is refitted by least
  squares; the hidden states are then exactly integer vectors.
- **Jordan form** of an integer linear transition, when its eigenvalues are integers and the
  change of basis is an integer matrix of determinant +-1 (so integer states stay integer): kept
  when its weights are smaller than the companion form's. A double prefix sum then reads as a
  velocity and a position instead of a second-order recurrence.
- **snapping**: weights near 0 become 0, and the recurrent matrix of a linear transition snaps to
  integers. Tiny drifts (a self-loop of 0.9999, a bias of 1e-4) are what push hidden states off
  their integer lattice, so removing them is what makes the states readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as dc_replace
from typing import Any

import numpy as np

from mips.data import SequenceData
from mips.network.artifact import TrainedNetwork


@dataclass(frozen=True, kw_only=True)
class SimplifyConfig:
    """Thresholds tried, largest first; the first that keeps the network exact wins."""

    prune: tuple[float, ...] = (0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
    snap: tuple[float, ...] = (0.05, 0.02, 0.01, 0.005)
    # Off by default: it skews an axis-aligned lattice, and the shortest lattice points then
    # generate sublattices of large index, which the lattice reader handles less reliably.
    whiten: bool = False
    retrain_steps: int = 400
    canonical: bool = True
    seed: int = 0


def reparametrise(network: TrainedNetwork, m: np.ndarray) -> TrainedNetwork:
    """The same function with hidden state h' = h M (M invertible, H x H, row-vector convention)."""
    w = {k: v.copy() for k, v in network.weights.items()}
    h = network.hidden
    m_inv = np.linalg.inv(m)
    last = network.arch.hidden_depth - 1
    # Weights are (in, out) and act on row vectors: writer h = a W + b becomes h' = a (W M) + b M.
    w[f"f.{last}.weight"] = w[f"f.{last}.weight"] @ m
    w[f"f.{last}.bias"] = w[f"f.{last}.bias"] @ m
    w["f.0.weight"][:h] = m_inv @ w["f.0.weight"][:h]
    w["g.0.weight"] = m_inv @ w["g.0.weight"]
    return network.replace(w)


def whiten(network: TrainedNetwork, data: SequenceData) -> TrainedNetwork:
    """Rotate and scale the hidden space so its (uncentred) second moment is the identity."""
    _, hidden = network.run(data.x)
    flat = hidden.reshape(-1, network.hidden)
    s, u = np.linalg.eigh(flat.T @ flat / len(flat))
    if s.min() <= 1e-12 * max(s.max(), 1e-300):
        return network
    return reparametrise(network, u / np.sqrt(s))


def _krylov(starts: np.ndarray, w: np.ndarray, tol: float) -> np.ndarray:
    """Rows s, s W, s W^2, ... (all starts at each power) that leave the span of those before."""
    basis: list[np.ndarray] = []
    frontier = [v for v in starts]
    for _ in range(w.shape[0]):
        nxt = []
        for v in frontier:
            if basis:
                b = np.array(basis)
                resid = v - np.linalg.lstsq(b.T, v, rcond=None)[0] @ b
            else:
                resid = v
            if np.linalg.norm(resid) > tol * max(np.linalg.norm(v), 1e-12):
                basis.append(v)
                nxt.append(v @ w)
        if not nxt:
            break
        frontier = nxt
    return np.array(basis).reshape(-1, w.shape[0])


def companion(
    network: TrainedNetwork, data: SequenceData, tols: tuple[float, ...] = (1e-2, 1e-3, 1e-1)
) -> TrainedNetwork | None:
    """The linear network re-expressed with integer transition weights in its Krylov basis, or None.

    Tried with the bias c first left out of the basis (set to 0 or rounded: a bias the readout
    compensates for is an artefact), then as one more start vector (a constant drive, like
    gravity); the first variant exact on ``data`` wins.
    """
    if network.arch.hidden_depth != 1:
        return None
    h = network.hidden
    f_w, c = network.weights["f.0.weight"], network.weights["f.0.bias"]
    w, u = f_w[:h], f_w[h:]
    _, hidden = network.run(data.x)
    flat = hidden.reshape(-1, h)
    for tol in tols:
        for with_bias in (False, True):
            starts = np.vstack([u, c[None]]) if with_bias else u
            k = _krylov(starts, w, tol)
            if len(k) == 0:
                continue
            k_pinv = np.linalg.pinv(k)
            w2, u2, c2 = k @ w @ k_pinv, u @ k_pinv, c @ k_pinv
            if max(np.abs(w2 - np.rint(w2)).max(), np.abs(u2 - np.rint(u2)).max()) > 0.45:
                continue  # not an integer recurrence in this basis
            w2, u2 = np.rint(w2), np.rint(u2)
            for c_new in (np.rint(c2),) if with_bias else (np.zeros_like(c2), np.rint(c2)):
                candidate = _linear_network(network, k, w2, u2, c_new, data, flat @ k_pinv)
                if candidate is not None:
                    return candidate
    return None


def jordan(network: TrainedNetwork, data: SequenceData) -> TrainedNetwork | None:
    """The integer linear network re-expressed in the Jordan basis of its transition, or None
    when the eigenvalues are not all integers, the basis is not unimodular, the weights do not
    get smaller (sum of absolute values) or the result is not exact on ``data``."""
    import sympy

    if network.arch.hidden_depth != 1:
        return None
    h = network.hidden
    w = network.weights["f.0.weight"][:h]
    if not np.array_equal(w, np.rint(w)):
        return None
    m = sympy.Matrix(np.rint(w).astype(np.int64).tolist())
    if not all(ev.is_integer for ev in m.eigenvals()):
        return None
    p, j = m.jordan_form()
    blocks = _jordan_blocks(np.array(j.tolist(), dtype=np.float64))
    p = _integral_chains(p, blocks)
    if p is None or abs(p.det()) != 1:
        return None
    p = np.array(p.tolist(), dtype=np.float64)
    # A chain's generalised eigenvectors are defined only up to adding multiples of the vectors
    # before them, and its sign is free: (I + k N) with N the block's shift commutes with the
    # block. Choose, block by block, the k and sign with the smallest weights, and a readout
    # that adds state variables rather than subtracts them.
    for start, end in blocks:
        shift = np.zeros((h, h))
        within = np.arange(start, end - 1)
        shift[within, within + 1] = 1.0
        options = [
            p @ (sign * (np.eye(h) + k * shift))
            for k in range(-3, 4)
            if k == 0 or end - start > 1
            for sign in (1, -1)
        ]
        p = min(options, key=lambda q: _weight_cost(reparametrise(network, q)))
    canonical = reparametrise(network, p)
    new_w = canonical.weights["f.0.weight"][:h]
    if np.abs(np.rint(new_w)).sum() >= np.abs(w).sum():
        return None
    weights = {k: np.rint(v) if k.startswith("f.") else v for k, v in canonical.weights.items()}
    canonical = canonical.replace(weights)
    return canonical if canonical.is_exact(data) else None


def _jordan_blocks(j: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) column ranges of the Jordan blocks of ``j``."""
    n = len(j)
    cuts = [0] + [i + 1 for i in range(n - 1) if j[i, i + 1] == 0] + [n]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _weight_cost(network: TrainedNetwork) -> float:
    readout = network.weights["g.0.weight"]
    total = sum(float(np.abs(v).sum()) for v in network.weights.values())
    return total + 0.5 * float((readout < -1e-9).sum())


def _integral_chains(p: Any, blocks: list[tuple[int, int]]) -> Any:
    """``p`` with each Jordan chain (the columns of one block) scaled to coprime integers; the
    same factor for a whole chain keeps the Jordan form. None when an entry is not rational."""
    import sympy

    p = p.copy()
    for start, end in blocks:
        block = p[:, start:end]
        if not all(v.is_rational for v in block):
            return None
        scaled = block * sympy.ilcm(1, *[sympy.fraction(v)[1] for v in block])
        p[:, start:end] = scaled / sympy.igcd(0, *[int(v) for v in scaled])
    return p


def _linear_network(
    network: TrainedNetwork,
    k: np.ndarray,
    w: np.ndarray,
    u: np.ndarray,
    c: np.ndarray,
    data: SequenceData,
    z_old: np.ndarray,
) -> TrainedNetwork | None:
    r = len(k)
    arch = dc_replace(network.arch, hidden=r, hidden_bias=bool(np.any(c)))
    weights = {k_: v for k_, v in network.weights.items() if not k_.startswith("f.")}
    weights["f.0.weight"] = np.vstack([w, u])
    weights["f.0.bias"] = c
    weights["g.0.weight"] = k @ network.weights["g.0.weight"]
    net = dc_replace(network, arch=arch, weights=weights)
    _, hidden = net.run(data.x)
    z = hidden.reshape(-1, r)
    if network.arch.output_depth == 1:
        # The readout is affine in z: refit it, preferring integer coefficients when they fit.
        design, target = np.hstack([z, np.ones((len(z), 1))]), data.y.reshape(len(z), -1)
        if data.lengths is not None:  # padding steps are not data
            design, target = design[data.mask.reshape(-1)], target[data.mask.reshape(-1)]
        sol = np.linalg.lstsq(design, target, rcond=None)[0]
        for coef in (np.rint(sol), sol):
            weights = {**net.weights, "g.0.weight": coef[:-1], "g.0.bias": coef[-1]}
            fitted = net.replace(weights)
            if fitted.is_exact(data):
                return fitted
        return None
    # A deeper readout keeps its own weights; it only works if the states did not move.
    return net if np.allclose(z, z_old, atol=1e-3) and net.is_exact(data) else None


def _snap_recurrent(network: TrainedNetwork, tol: float) -> TrainedNetwork:
    if network.arch.hidden_depth != 1:
        return network
    w = {k: v.copy() for k, v in network.weights.items()}
    rec = w["f.0.weight"][: network.hidden]
    near = np.abs(rec - np.rint(rec)) < tol
    rec[near] = np.rint(rec[near])
    return network.replace(w)


def _retrain(
    snapped: TrainedNetwork, original: TrainedNetwork, data: SequenceData, steps: int, seed: int
) -> TrainedNetwork:
    """Retrain every weight the snap did not touch, holding the snapped ones fixed."""
    from mips.network.train import finetune

    frozen = {k: v != original.weights[k] for k, v in snapped.weights.items()}
    depths = (snapped.arch.hidden_depth, snapped.arch.output_depth)
    return snapped.replace(finetune(snapped.weights, frozen, depths, data, steps, seed=seed))


@dataclass(frozen=True, eq=False)
class Simplified:
    """A simplified network, the network it came from, and the steps that made it."""

    network: TrainedNetwork
    original: TrainedNetwork
    steps: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    @property
    def zero_weights(self) -> int:
        return int(sum((v == 0).sum() for v in self.network.weights.values()))


def simplify(
    network: TrainedNetwork, data: SequenceData, config: SimplifyConfig | None = None
) -> Simplified:
    """Snap, prune and whiten ``network`` as far as it stays exact on ``data``."""
    config = config or SimplifyConfig()
    original = network
    steps: list[str] = []
    if not network.is_exact(data):
        return Simplified(network, original, ())
    canonical = companion(network, data) if config.canonical else None
    if canonical is not None:
        network = canonical
        steps.append(f"companion h={canonical.hidden}")
        in_jordan = jordan(network, data)
        if in_jordan is not None:
            network = in_jordan
            steps.append("jordan")
    for tol in () if canonical is not None else config.snap:
        candidate = _snap_recurrent(network, tol)
        if candidate is network:
            break
        if not candidate.is_exact(data) and config.retrain_steps:
            candidate = _retrain(candidate, network, data, config.retrain_steps, config.seed)
        if candidate.is_exact(data):
            network = candidate
            steps.append(f"snap<{tol}")
            break
    for rel in config.prune:
        candidate = network.pruned(rel)
        if candidate.is_exact(data):
            network = candidate
            steps.append(f"prune<{rel}")
            break
    if config.whiten:
        candidate = whiten(network, data)
        if candidate.is_exact(data):
            network = candidate
            steps.append("whiten")
    return Simplified(network, original, tuple(steps))

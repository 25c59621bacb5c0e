"""Simplify a trained network without changing what it computes on the data.

Two kinds of step, each kept only if the network stays exact on every sequence it is checked on:

- **exact reparametrisation** (whitening of the hidden space): h' = M h for an invertible M, folded
  into the layers that write and read h; the function is unchanged up to float rounding.
- **snapping**: weights near 0 become 0, and the recurrent matrix of a linear transition snaps to
  integers. Tiny drifts (a self-loop of 0.9999, a bias of 1e-4) are what push hidden states off
  their integer lattice, so removing them is what makes the states readable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mips.data import SequenceData
from mips.network.artifact import TrainedNetwork


@dataclass(frozen=True)
class SimplifyConfig:
    """Thresholds tried, largest first; the first that keeps the network exact wins."""

    prune: tuple[float, ...] = (0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
    snap: tuple[float, ...] = (0.05, 0.02, 0.01, 0.005)
    # Off by default: it skews an axis-aligned lattice, and the shortest lattice points then
    # generate sublattices of large index, which the lattice reader handles less reliably.
    whiten: bool = False
    retrain_steps: int = 400


def is_exact(network: TrainedNetwork, data: SequenceData) -> bool:
    """True when the rounded outputs equal ``data.y`` everywhere."""
    return bool(np.array_equal(network.predict(data.x), data.y))


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


def _prune(network: TrainedNetwork, rel: float) -> TrainedNetwork:
    w = {}
    for k, v in network.weights.items():
        ref = np.abs(network.weights[k.replace(".bias", ".weight")]).max(initial=0.0)
        w[k] = np.where(np.abs(v) < rel * max(ref, 1e-12), 0.0, v)
    return network.replace(w)


def _snap_recurrent(network: TrainedNetwork, tol: float) -> TrainedNetwork:
    if network.arch.hidden_depth != 1:
        return network
    w = {k: v.copy() for k, v in network.weights.items()}
    rec = w["f.0.weight"][: network.hidden]
    near = np.abs(rec - np.rint(rec)) < tol
    rec[near] = np.rint(rec[near])
    return network.replace(w)


def _retrain(
    snapped: TrainedNetwork, original: TrainedNetwork, data: SequenceData, steps: int
) -> TrainedNetwork:
    """Retrain every weight the snap did not touch, holding the snapped ones fixed."""
    from mips.network.train import finetune

    frozen = {k: v != original.weights[k] for k, v in snapped.weights.items()}
    depths = (snapped.arch.hidden_depth, snapped.arch.output_depth)
    return snapped.replace(finetune(snapped.weights, frozen, depths, data, steps))


def simplify(
    network: TrainedNetwork, data: SequenceData, config: SimplifyConfig | None = None
) -> TrainedNetwork:
    """Snap, prune and whiten ``network`` as far as it stays exact on ``data``."""
    config = config or SimplifyConfig()
    steps: list[str] = []
    if not is_exact(network, data):
        return network.replace(network.weights, simplified=steps)
    for tol in config.snap:
        candidate = _snap_recurrent(network, tol)
        if candidate is network:
            break
        if not is_exact(candidate, data) and config.retrain_steps:
            candidate = _retrain(candidate, network, data, config.retrain_steps)
        if is_exact(candidate, data):
            network = candidate
            steps.append(f"snap<{tol}")
            break
    for rel in config.prune:
        candidate = _prune(network, rel)
        if is_exact(candidate, data):
            network = candidate
            steps.append(f"prune<{rel}")
            break
    if config.whiten:
        candidate = whiten(network, data)
        if is_exact(candidate, data):
            network = candidate
            steps.append("whiten")
    zeros = int(sum((v == 0).sum() for v in network.weights.values()))
    return network.replace(network.weights, simplified=steps, zero_weights=zeros)

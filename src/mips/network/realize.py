"""The smallest exact linear network in closed form: least squares, then Ho–Kalman realisation.

A linear RNN h_t = W h_{t-1} + U x_t + c, y_t = V h_t + d answers y_t = sum_k g_k x_{t-k} + e_t with
g_k = V W^k U and e_t = d + sum_{k<=t} V W^k c. Both sequences are linear in the data, so one least
squares fit over every time step recovers them; the block Hankel matrix of [g_k, e_k - e_{k-1}] has
the minimal hidden size as its rank, and its factors give W, U, c and V. This finds in milliseconds
what gradient descent finds slowly or, for long shift registers (a sum of the last 7 of 20 inputs),
not at all.
"""

from __future__ import annotations

import numpy as np

from mips.data import SequenceData
from mips.network.artifact import Architecture, TrainedNetwork

# Enough sequences to pin down 2T coefficients per output many times over; larger data sets
# (a million sequences) would only cost memory.
_MAX_FIT_SEQUENCES = 20_000


def _lagged(x: np.ndarray) -> np.ndarray:
    """Design matrix (N*T, T*d_in + T): x_{t-k} for every lag k, then a one-hot of t."""
    n, t_len, d_in = x.shape
    lagged = np.zeros((n, t_len, t_len, d_in))  # [n, t, k] = x[n, t - k]
    for k in range(t_len):
        lagged[:, k:, k] = x[:, : t_len - k]
    return np.concatenate(
        [lagged.reshape(n * t_len, t_len * d_in), np.tile(np.eye(t_len), (n, 1))], axis=1
    )


def _impulse_response(
    train: SequenceData, test: SequenceData, max_errors: float = 0.0
) -> np.ndarray | None:
    """Least-squares coefficients of y_t = sum_k x_{t-k} g_k + e_t, if they are exact on both
    splits (or miss at most the fraction ``max_errors`` of their steps).

    Only steps that hold data are rows of the fit: padding is neither fitted nor checked."""
    coef = None
    for part in (train, test):
        x = part.x[:_MAX_FIT_SEQUENCES].astype(np.float64)
        y = part.y[:_MAX_FIT_SEQUENCES].reshape(-1, part.d_out)
        design = _lagged(x)
        if part.lengths is not None:
            valid = part.mask[:_MAX_FIT_SEQUENCES].reshape(-1)
            design, y = design[valid], y[valid]
        if coef is None:
            coef = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
            keep = np.ones(len(y), dtype=bool)
            for _ in range(4 if max_errors else 0):
                # Wrong labels pull a least-squares fit toward them: refit without the rows
                # the fit so far is farthest from (a trimmed fit), then without those it misses.
                resid = np.abs(design @ coef - y).max(axis=1)
                if (resid < 0.5).all():
                    break
                worst = resid >= np.quantile(resid[keep], 1.0 - 2 * max_errors)
                keep = keep & ~worst if keep.all() else resid < 0.5
                coef = np.linalg.lstsq(design[keep], y[keep].astype(np.float64), rcond=None)[0]
        if not max_errors and not np.array_equal(np.rint(design @ coef), y):
            return None
        if max_errors and (np.rint(design @ coef) != y).any(axis=1).mean() > max_errors:
            return None
    return coef


def _realisations(markov: np.ndarray, max_hidden: int):
    """Candidate (W, B, V) of each order n = 1.., B's columns being U's and then c.

    ``markov`` (T, d_out, m) holds M_k = V W^k B. Every split of the T blocks into a Hankel matrix
    of r block rows and s block columns is tried, W coming from the shift of its observability or
    controllability factor, whichever has the rows to determine it.
    """
    t_len, d_out, m = markov.shape
    for order in range(1, max_hidden + 1):
        for r in range(1, t_len + 1):
            s = t_len - r + 1
            if r * d_out < order or s * m < order:
                continue
            hankel = np.block([[markov[i + j] for j in range(s)] for i in range(r)])
            p, sv, qt = np.linalg.svd(hankel)
            if len(sv) > order and sv[order] > 1e-6 * sv[0]:
                continue  # the data need more states than ``order``
            root = np.sqrt(sv[:order])
            obs = p[:, :order] * root  # [V; VW; VW^2; ...]
            ctrl = root[:, None] * qt[:order]  # [B, WB, W^2 B, ...]
            if (r - 1) * d_out >= order:
                w = np.linalg.lstsq(obs[:-d_out], obs[d_out:], rcond=None)[0]
            elif (s - 1) * m >= order:
                w = np.linalg.lstsq(ctrl[:, :-m].T, ctrl[:, m:].T, rcond=None)[0].T
            else:
                continue
            yield w, ctrl[:, :m], obs[:d_out]


def realize(
    train: SequenceData, test: SequenceData, max_hidden: int, max_errors: float = 0.0
) -> TrainedNetwork | None:
    """The lowest-order linear network exact on both splits; None if none is.

    Exact means every rounded output equals its target, as for trained candidates (or all but
    the fraction ``max_errors`` of the labelled steps, for data with a few wrong labels).
    """
    coef = _impulse_response(train, test, max_errors)
    if coef is None:
        return None
    if max_errors:
        # A few wrong labels pull every coefficient a little off its value, and off the low
        # rank the realisation needs: coefficients near an integer are taken to be it.
        near = np.abs(coef - np.rint(coef)) < 0.05
        coef = np.where(near, np.rint(coef), coef)
    t_len, d_in, d_out = train.length, train.d_in, train.d_out
    g = coef[: t_len * d_in].reshape(t_len, d_in, d_out)
    e = coef[t_len * d_in :]
    for d in (np.zeros(d_out), e[0]):
        f = np.diff(e - d, axis=0, prepend=0.0)  # V W^k c
        markov = np.concatenate([g, f[:, None, :]], axis=1).transpose(0, 2, 1)
        for w, b, v in _realisations(markov, max_hidden):
            order = w.shape[0]
            c = b[:, d_in]
            bias = bool(np.abs(c).max() > 1e-9)
            weights = {
                "f.0.weight": np.vstack([w.T, b[:, :d_in].T]),
                "f.0.bias": c if bias else np.zeros(order),
                "g.0.weight": v.T,
                "g.0.bias": d,
            }
            net = TrainedNetwork(
                arch=Architecture(order, hidden_bias=bias), d_in=d_in, d_out=d_out, weights=weights
            )
            if all(net.is_exact(s, max_errors) for s in (test, train)):
                return net
    return None

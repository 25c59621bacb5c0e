"""The automaton's states: how many the data show at least, and where one more is needed.

:func:`distinct_states` bounds the states of any machine that gives the traces, from the data
alone, to size the automaton search; :func:`split_states` gives a spare state of a training
automaton to a transition whose target answers a training trace wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mips.data import SequenceData

if TYPE_CHECKING:
    from mips.network.automaton import AutomatonNetwork


def distinct_states(*parts: SequenceData, depth: int = 3) -> int:
    """A lower bound on the states of any machine that gives the traces of ``parts``, from the
    data alone: the number of prefixes of at most ``depth`` words that pairwise answer some
    next word differently (each needs a state of its own), found greedily, the prefixes that
    answer the most words first. Used only to size the search, never as an answer."""
    answers: dict[tuple, dict[tuple, tuple]] = {}
    for data in parts:
        for i, n in enumerate(data.lengths.tolist()):
            x = [tuple(r) for r in data.x[i, :n].tolist()]
            y = [tuple(r) for r in data.y[i, :n].tolist()]
            for t in range(min(n, depth + 1)):
                answers.setdefault(tuple(x[:t]), {})[x[t]] = y[t]
    apart: list[dict[tuple, tuple]] = []
    for row in sorted(answers.values(), key=len, reverse=True):
        if all(any(row[a] != kept.get(a, row[a]) for a in row) for kept in apart):
            apart.append(row)
    return len(apart)


def split_states(
    net: AutomatonNetwork,
    t_logits,
    e_logits,
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    wrong: np.ndarray,
) -> int:
    """Give a spare state to each transition into a state that answers a training trace wrong;
    return how many were given.

    A state the traces reach a few times ends up shared with a frequent one that answers like
    it on most words: the gradient of a few traces does not pull the two apart (on a TCP-like
    machine, states seen 3-20 times in 2,400 traces stayed merged for 2,000 steps while the
    rest fitted). Where a trace is first answered wrong, on the network's most likely path,
    the transition that led there (previous state, input) is sent to the least visited state,
    which starts as a copy of the wrong one except that it answers this step's word as the trace
    does; training goes on from there and keeps or undoes the split (successive state splitting,
    as in learning hidden Markov models). Acts on the logits in place; ``x``, ``y`` are the
    codes (N, T) of the training traces, ``mask`` their steps and ``wrong`` (N, T) where the
    network misses."""
    import torch

    moves, says = net.transition.argmax(-1), net.emission.argmax(-1)
    n, t_len = x.shape
    path = np.zeros((n, t_len + 1), dtype=np.int64)
    for t in range(t_len):
        path[:, t + 1] = moves[x[:, t], path[:, t]]
    visits = np.bincount(path[:, :-1][mask].reshape(-1), minlength=net.states)
    spare = [int(u) for u in np.argsort(visits, kind="stable")]
    misses = (says[x, path[:, :-1]] != y) & wrong
    split: set[tuple[int, int]] = set()
    with torch.no_grad():
        for i in np.flatnonzero(misses.any(axis=1)).tolist():
            t = int(np.flatnonzero(misses[i])[0])
            came = (int(path[i, t - 1]), int(x[i, t - 1])) if t else None
            if came is None or came in split or len(split) >= len(spare) // 2:
                continue
            split.add(came)
            u, into = spare.pop(0), int(path[i, t])
            t_logits[:, u] = t_logits[:, into]
            e_logits[:, u] = e_logits[:, into]
            e_logits[x[i, t], u] = _peak(e_logits.shape[-1], int(y[i, t]))
            t_logits[came[1], came[0]] = _peak(net.states, u)
    return len(split)


def _peak(size: int, at: int):
    """Logits of a distribution over ``size`` with nearly all its mass ``at`` one place."""
    import torch

    logits = torch.full((size,), -5.0)
    logits[at] = 5.0
    return logits

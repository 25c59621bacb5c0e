"""The automaton family: a second-order recurrent network whose state is a distribution over K states.

For logs over words (a protocol, a controller), a GRU learns the traces it was shown rather than
the machine behind them: on a random 20-state machine over 10 words it fitted its training
traces and stayed at about half the held-out steps wrong. This network has the machine's shape
built in: its state ``p`` is a probability vector over K states, each input word moves it by its
own stochastic matrix and each (state, word) emits its own distribution over outputs,

    q_t = p_{t-1} @ E[x_t]        (the output distribution; the answer is its argmax)
    p_t = p_{t-1} @ T[x_t]        (T[x], E[x] row-stochastic: softmaxes of free parameters)

with ``p_{-1}`` the first state. Trained by Adam on the outputs' likelihood it became exact on
that machine's held-out traces within 400 steps. Its hidden vector, ``[p_t, q_t]``, is read
like any other network's (probe classes, clusters); torch is used only to train it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mips.data import SequenceData
from mips.io import write_atomic
from mips.network.report import TrainingReport, mark, scores, since
from mips.network.states import distinct_states, split_states

log = logging.getLogger(__name__)
# The family's name in the search and in its networks' reports.
AUTOMATON = "automaton"


@dataclass(frozen=True, kw_only=True)
class AutomatonConfig:
    """Numbers of states tried in order, seeds per size, and how each candidate trains."""

    # More states than the machine has: spare states let the optimiser out of poor splits (a
    # random 50-state machine over 10 words fitted its training traces after 600 steps with
    # 128, and not with 64). Too many let the network keep copies of a state that answer
    # unseen words their own way: on an 8-state machine over 9 words, 64 states fitted every
    # trace and answered 3 of 1,000 fresh traces wrong, where 16 answered all of them right.
    # So sizes come smallest first, from the first with half again as many states as the data
    # show (``distinct_states``), and at least 8 more: a 10-state machine gave up at 16
    # states after 50 s and fitted at 64 in 10 s, and a 40-state one timed out at 128 where 64
    # fitted in 25 s. A step costs about K^2 per trace (0.02-0.03 s at K = 128 for
    # 128 traces of 20 words over 10-20 words). More states do not help where the traces are
    # too few for the machine: a random 75-state machine over 20 words stays at 14% of its
    # held-out traces right from 3,000 traces with 80, 128 or 256 states (and 97% from 12,000).
    sizes: tuple[int, ...] = (16, 64, 128)
    seeds: int = 1
    steps: int = 3000
    batch_size: int = 128
    lr: float = 0.05
    eval_every: int = 100
    # A candidate whose share of held-out traces right has not risen for this many steps is
    # given up: one stuck with a rare state merged into a frequent one stays stuck.
    patience: int = 500
    # Training traces are cut to a length that grows from 3 words to their full length over
    # this many steps. Through a long product of near-uniform matrices the first state says
    # little about later outputs, so early steps on full traces learn little; short prefixes
    # pin the first states' transitions and outputs, which later words then build on. On a
    # random 50-state machine over 10 words, 128 states fitted every training trace after 700
    # steps (18 s) this way, and stayed at 88% of them after 1,500 steps on full traces.
    grow: int = 600
    # Once the traces are at full length, every this many steps, states are split where
    # training traces are still answered wrong (:func:`~mips.network.states.split_states`).
    # Full-batch Baum-Welch (EM) with the same splits is faster per candidate (a random
    # 50-state machine over 10 words: exact at 64 states in 6 s) but stops where Adam does: on
    # a TCP-like machine, 3-8 training traces wrong at 16-32 states from six starts, and 15% of
    # held-out traces right on a random 75-state machine over 20 words; so Adam stays.
    split_every: int = 200
    threads: int = 1

    def __post_init__(self) -> None:
        if not self.sizes or min(self.sizes) < 2 or self.seeds < 1 or self.steps < 1:
            raise ValueError("sizes must be at least 2, seeds and steps positive")


@dataclass(frozen=True, kw_only=True, eq=False)
class AutomatonNetwork:
    """The trained network as numpy arrays: ``transition`` (S, K, K) and ``emission`` (S, K, C)
    row-stochastic, for the S input rows ``symbols_in`` and the C output rows ``symbols_out``.
    The hidden vector is ``[p, q]``: the state distribution and the last output distribution;
    ``h = 0`` is the start (all mass on state 0)."""

    transition: np.ndarray
    emission: np.ndarray
    symbols_in: tuple[tuple[int, ...], ...]
    symbols_out: tuple[tuple[int, ...], ...]
    report: TrainingReport | None = None

    def __post_init__(self) -> None:
        s, k, _ = self.transition.shape
        if self.transition.shape != (s, k, k) or self.emission.shape[:2] != (s, k):
            raise ValueError("transition must be (S, K, K) and emission (S, K, C)")
        if len(self.symbols_in) != s or len(self.symbols_out) != self.emission.shape[2]:
            raise ValueError("one input row per transition matrix, one output row per class")

    @property
    def states(self) -> int:
        return int(self.transition.shape[1])

    @property
    def hidden(self) -> int:
        return self.states + len(self.symbols_out)

    @property
    def d_out(self) -> int:
        return len(self.symbols_out[0])

    def describe(self) -> str:
        return f"automaton of {self.states} soft states"

    def n_parameters(self) -> int:
        return int(self.transition.size + self.emission.size)

    def _symbol(self, x: np.ndarray) -> np.ndarray:
        """The index of each input row of ``x`` (M, d_in) in ``symbols_in`` (-1: unknown)."""
        table = {row: i for i, row in enumerate(self.symbols_in)}
        rows = np.rint(np.asarray(x)).astype(np.int64).reshape(len(x), -1)
        return np.array([table.get(tuple(r), -1) for r in rows.tolist()], dtype=np.int64)

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        p = np.array(h[:, : self.states], dtype=np.float64)
        p[p.sum(axis=1) == 0, 0] = 1.0
        a = self._symbol(x)
        new = np.zeros((len(h), self.hidden))
        # One product per input word over the rows that read it (an unknown row stays zero).
        for s in np.unique(a[a >= 0]):
            rows = a == s
            new[rows, : self.states] = p[rows] @ self.transition[s]
            new[rows, self.states :] = p[rows] @ self.emission[s]
        return new

    def readout(self, h: np.ndarray) -> np.ndarray:
        cls = np.argmax(h[:, self.states :], axis=1)
        return np.asarray(self.symbols_out, dtype=np.float64)[cls]

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, t_len = x.shape[:2]
        h = np.zeros((n, self.hidden))
        ys, hs = [], []
        for t in range(t_len):
            h = self.step(h, x[:, t])
            hs.append(h)
            ys.append(self.readout(h))
        return np.stack(ys, axis=1), np.stack(hs, axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.rint(self.run(x)[0]).astype(np.int64)

    def save(self, path: str | Path) -> Path:
        """The two tensors as safetensors, the symbols as its metadata (never a pickle)."""
        from safetensors.numpy import save_file

        meta = {
            "symbols_in": json.dumps(self.symbols_in),
            "symbols_out": json.dumps(self.symbols_out),
        }
        tensors = {"transition": self.transition, "emission": self.emission}
        write_atomic(Path(path), lambda p: save_file(tensors, str(p), metadata=meta))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> AutomatonNetwork:
        """Inverse of :meth:`save`."""
        from safetensors import safe_open

        with safe_open(str(path), "numpy") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in ("transition", "emission")}
        symbols = {k: tuple(map(tuple, json.loads(meta[k]))) for k in ("symbols_in", "symbols_out")}
        return cls(transition=tensors["transition"], emission=tensors["emission"], **symbols)


def _rows(a: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """The distinct rows of ``a`` (M, d), sorted."""
    return tuple(map(tuple, np.unique(a, axis=0).tolist()))


def automaton_candidates(
    train: SequenceData,
    test: SequenceData,
    config: AutomatonConfig,
    seed: int,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[AutomatonNetwork]:
    """Networks of ``config.sizes`` states in turn, ``config.seeds`` each, up to the first exact
    one on both splits; each is given when it first fits the training split (its report
    ``final`` False, ``fits_training`` True) and when it is done (``final``), at its best
    evaluation. Held-out traces take (state, input) pairs no training trace showed, so a network
    that fits the training traces is worth reading before it is exact on the held-out ones."""
    symbols_in = _rows(np.concatenate([train.x[train.mask], test.x[test.mask]]))
    symbols_out = _rows(np.concatenate([train.y[train.mask], test.y[test.mask]]))
    seeds = np.random.SeedSequence([seed, 0xA7]).generate_state(len(config.sizes) * config.seeds)
    # Spare states let the optimiser out of poor splits: a size with too few of them over
    # what the data already show is skipped (the largest is always tried).
    bound = distinct_states(train, test)
    fewest = max(1.5 * bound, bound + 8)
    sizes = [k for k in config.sizes[:-1] if k >= fewest] + [config.sizes[-1]]
    for i, k in enumerate(s for s in sizes for _ in range(config.seeds)):
        for net in _training(
            train, test, k, symbols_in, symbols_out, config, int(seeds[i]), progress
        ):
            yield net
            if net.report.exact:
                return


def refit(
    net: AutomatonNetwork, data: SequenceData, config: AutomatonConfig, seed: int
) -> AutomatonNetwork:
    """``net`` trained on from its parameters on all of ``data`` until exact on every sequence,
    or given up at its best; its report says which."""
    *_, last = _training(
        data, data, net.states, net.symbols_in, net.symbols_out, config, seed, None, net
    )
    return last


def _training(
    train: SequenceData,
    test: SequenceData,
    k: int,
    symbols_in: tuple[tuple[int, ...], ...],
    symbols_out: tuple[tuple[int, ...], ...],
    config: AutomatonConfig,
    seed: int,
    progress: Callable[[str, int, int], None] | None,
    init: AutomatonNetwork | None = None,
) -> Iterator[AutomatonNetwork]:
    """One network of ``k`` states trained until exact on both splits, or given up; last, it
    at its best evaluation by share of held-out traces right, and before, where it first fits
    the training traces, it as it was then."""
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(seed)
    run = _Evaluations(train, test, seed, f"automaton k={k}")
    t_logits, e_logits = _logits(len(symbols_in), k, len(symbols_out), init)
    opt = torch.optim.Adam([t_logits, e_logits], config.lr)
    x = torch.from_numpy(_codes(train.x, symbols_in))
    y = torch.from_numpy(_codes(train.y, symbols_out))
    mask = torch.from_numpy(train.mask)
    gen = torch.Generator().manual_seed(seed)
    step, t_len = 0, x.shape[1]
    for step in range(1, config.steps + 1):
        idx = torch.randint(0, train.n, (config.batch_size,), generator=gen)
        cut = t_len if init is not None else min(t_len, 3 + t_len * step // max(config.grow, 1))
        _train_step(opt, t_logits, e_logits, x[idx, :cut], y[idx, :cut], mask[idx, :cut], k)
        if step % config.eval_every and step != config.steps:
            continue
        if progress is not None:
            progress(run.name, config.eval_every, config.steps)
        net = _network(t_logits, e_logits, symbols_in, symbols_out)
        wrong = _wrong(net, train)
        if (yield from run.judge(net, step, int(wrong.any(axis=1).sum()))):
            return
        if step - run.last_gain >= config.patience:
            break
        if init is None and step >= config.grow and not step % config.split_every and wrong.any():
            split_states(net, t_logits, e_logits, x.numpy(), y.numpy(), train.mask, wrong)
            # The moments of the old states would pull the new ones back.
            opt = torch.optim.Adam([t_logits, e_logits], config.lr)
    yield run.given_up(step)


def _logits(s: int, k: int, c: int, init: AutomatonNetwork | None):
    """The free parameters of the transitions (S, K, K) and emissions (S, K, C): drawn at
    random, or the logits of ``init``'s distributions."""
    import torch

    if init is None:
        t_logits = torch.nn.Parameter(torch.randn(s, k, k))
        e_logits = torch.nn.Parameter(torch.randn(s, k, c))
    else:
        t_logits = torch.nn.Parameter(torch.log(torch.tensor(init.transition).float() + 1e-6))
        e_logits = torch.nn.Parameter(torch.log(torch.tensor(init.emission).float() + 1e-6))
    return t_logits, e_logits


def _train_step(opt, t_logits, e_logits, x, y, mask, k: int) -> None:
    """One step of Adam on the outputs' likelihood over the batch ``x``, ``y``, ``mask`` (B, T)."""
    import torch

    q = _forward(torch.softmax(t_logits, -1), torch.softmax(e_logits, -1), x, k)
    picked = q.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    loss = -torch.log(picked + 1e-9)[mask].mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def _network(
    t_logits,
    e_logits,
    symbols_in: tuple[tuple[int, ...], ...],
    symbols_out: tuple[tuple[int, ...], ...],
) -> AutomatonNetwork:
    """The network the parameters stand for, as numpy arrays."""
    import torch

    with torch.no_grad():
        transition = torch.softmax(t_logits, -1).double().numpy()
        emission = torch.softmax(e_logits, -1).double().numpy()
    return AutomatonNetwork(
        transition=transition, emission=emission, symbols_in=symbols_in, symbols_out=symbols_out
    )


class _Evaluations:
    """One candidate's evaluations: its best so far by share of held-out traces right, and
    whether it has been handed out for fitting the training traces."""

    def __init__(self, train: SequenceData, test: SequenceData, seed: int, name: str) -> None:
        self.test, self.seed, self.name = test, seed, name
        self.started = time.perf_counter()
        # (held-out share, minus the training traces missed, step, network)
        self.best: tuple[float, int, int, AutomatonNetwork | None] = (-1.0, 0, 0, None)
        self.fitted, self.last_gain, self.fewest = False, 0, train.n + 1

    def judge(
        self, net: AutomatonNetwork, step: int, missed: int
    ) -> Generator[AutomatonNetwork, None, bool]:
        """Score ``net`` at ``step``, which misses ``missed`` training traces, and hand it out,
        marked, where it is exact on both splits or first fits the training traces; return
        whether it is exact."""
        share, errors = _score(net, self.test)
        # Held-out traces may take (state, input) pairs no training trace shows, so their share
        # can stop rising while the training traces are still being fitted: either counts.
        if share > self.best[0] or missed < self.fewest:
            self.last_gain = step
        if (share, -missed) > self.best[:2]:
            self.best = (share, -missed, step, net)
        self.fewest = min(self.fewest, missed)
        fits = missed == 0
        if errors == 0 and fits:
            log.info(f"network: {self.name} exact after {step} steps ({since(self.started)})")
            yield mark(net, AUTOMATON, self.seed, step, True, 1.0, 1.0)
            return True
        if not self.fitted and fits:
            self.fitted = True
            log.info(
                f"network: {self.name} fits the training traces after {step} steps "
                f"({since(self.started)}; {share:.1%} of held-out traces right)"
            )
            yield mark(net, AUTOMATON, self.seed, step, False, share, share, final=False, fits=True)
        return False

    def given_up(self, step: int) -> AutomatonNetwork:
        """The candidate at its best evaluation, marked inexact, its training over at ``step``."""
        share, _, at, net = self.best
        log.info(
            f"network: {self.name} given up after {step} steps ({since(self.started)}); "
            f"best {share:.1%}"
        )
        assert net is not None
        return mark(net, AUTOMATON, self.seed, at, False, share, share)


def _forward(transition, emission, x, k: int):
    """Output distributions (B, T, C) for input symbol indices ``x`` (B, T).

    Each step groups the sequences by their input word and multiplies each group by its word's
    matrices: B * K^2 work per step, where gathering a (K, K) matrix per sequence moves B * K^2
    numbers and its gradient scatters them back (3-6 times slower at K = 128-256). The matrices
    are unbound once, so each word's gradient is one (K, K) block, not a full (S, K, K) copy."""
    import torch

    b, t_len = x.shape
    transitions, emissions = transition.unbind(0), emission.unbind(0)
    p = torch.zeros(b, k)
    p[:, 0] = 1.0
    out = []
    for t in range(t_len):
        order = torch.argsort(x[:, t])
        counts = torch.bincount(x[:, t], minlength=len(transitions)).tolist()
        restore = torch.empty_like(order)
        restore[order] = torch.arange(b)
        groups = [(w, g) for w, g in enumerate(torch.split(p[order], counts)) if len(g)]
        out.append(torch.cat([g @ emissions[w] for w, g in groups])[restore])
        p = torch.cat([g @ transitions[w] for w, g in groups])[restore]
    return torch.stack(out, 1)


def _wrong(net: AutomatonNetwork, data: SequenceData) -> np.ndarray:
    """(N, T) True where ``net``'s answer misses the label: the forward pass of training,
    without gradients."""
    import torch

    x = torch.from_numpy(_codes(data.x, net.symbols_in))
    y = _codes(data.y, net.symbols_out)
    transition = torch.from_numpy(net.transition).float()
    emission = torch.from_numpy(net.emission).float()
    with torch.no_grad():
        answers = _forward(transition, emission, x, net.states).argmax(-1).numpy()
    return (answers != y) & data.mask


def _codes(a: np.ndarray, rows: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """The index of each step's row of ``a`` (N, T, d) in ``rows`` (N, T); 0 where unknown
    (padding, which no loss reads)."""
    table = {r: i for i, r in enumerate(rows)}
    n, t_len, d = a.shape
    flat = [table.get(tuple(r), 0) for r in a.reshape(-1, d).tolist()]
    return np.array(flat, dtype=np.int64).reshape(n, t_len)


def _score(net: AutomatonNetwork, data: SequenceData) -> tuple[float, float]:
    """Share of sequences right at every labelled step; share of labelled steps missed."""
    return scores(_wrong(net, data), data)

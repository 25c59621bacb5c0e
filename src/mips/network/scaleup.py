"""The scale-up family: a standard recurrent network, as wide as it takes, for data no small one fits.

Small networks are the easiest to read and the hardest to train: a running sum mod 9 needs its
input cut into nine pieces, and a ReLU network of five units seldom finds those cuts. A network of
32 or 64 units that sees each input symbol one-hot (a lookup instead of cuts) optimises easily:

- outputs that take few values: a GRU answering each output column with a classifier over its
  values. It became exact on modular sums, windows, run lengths, counters and small languages
  within 200-1,800 steps of Adam at 1e-2, where regression on the raw integers stayed below 1%
  of sequences right;
- outputs of many values (running sums, differences): a ReLU Elman network regressing them, whose
  unbounded linear states can hold a sum at any length, as a GRU's saturating ones cannot.

The readers that tell states apart by what the network does next read either at any size. The
network is an ordinary ``torch.nn.GRU`` or ``RNN`` with a linear head, returned as a
:class:`~mips.network.foreign.ForeignNetwork` and saved in the format ``mips explain`` reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from mips.data import SequenceData, Vocabularies
from mips.network.artifact import wrong_steps
from mips.network.foreign import ForeignNetwork, ForeignSpec, encode
from mips.network.report import mark, scores, since

log = logging.getLogger(__name__)
# The family's name in the search and in its networks' reports.
SCALE_UP = "scale-up"
# The name of its first look (:class:`~mips.network.families.Glance`).
GLANCE = "glance"


@dataclass(frozen=True, kw_only=True)
class ScaleUpConfig:
    """Sizes tried in order, seeds per size, and how each candidate trains."""

    sizes: tuple[int, ...] = (32, 64)
    seeds: int = 2
    steps: int = 4000
    batch_size: int = 64
    # Adam's step for the GRU classifiers: at 1e-2 a 32-unit GRU was exact 1.6 to 8 times
    # sooner than at 3e-3 on each of 11 tasks (modular sums, windows, run lengths, counters, a
    # language); batches of 256 were slower on 9 of them.
    lr: float = 1e-2
    # ...and for the ReLU regressors, which at 1e-2 stalled short of exact on a gated sum that
    # 3e-3 fitted.
    lr_regression: float = 3e-3
    eval_every: int = 100
    # A candidate whose share of held-out sequences right has not risen for this many steps is
    # given up: one on its way to exactness improves every few hundred steps.
    patience: int = 1500
    # A larger size is trained only when a smaller one came this near: the smaller networks
    # already hold far more than these tasks need, so one that ends far from exact failed to
    # optimise, which more units did not mend (two 64-unit GRUs ended where two of 32 did, at
    # 75-80% of held-out sequences, on a running sum's carries), while the only larger network
    # a committed run chose came after 32-unit ones right on 98-99%.
    enlarge_above: float = 0.9
    # Steps of the first network's first look, before the narrow families train
    # (:class:`~mips.network.families.Glance`).
    glance_steps: int = 300
    # Columns with at most this many symbols are one-hot (inputs) or classified (outputs); a
    # column of more values is fed or regressed as an integer.
    max_symbols: int = 32
    # Torch threads: networks this small gain little from a second thread, and on cores that
    # other work shares, threads that wait for each other spin (ten times slower, measured).
    threads: int = 1

    def __post_init__(self) -> None:
        if not self.sizes or min(self.sizes) < 1 or self.seeds < 1 or self.steps < 1:
            raise ValueError("sizes, seeds and steps must be positive")
        if self.glance_steps < 1:
            raise ValueError("glance_steps must be positive")


class _Module(torch.nn.Module):
    def __init__(self, spec: ForeignSpec) -> None:
        super().__init__()
        if spec.cell == "gru":
            self.rnn = torch.nn.GRU(spec.d_in, spec.hidden, 1, batch_first=True)
        else:
            self.rnn = torch.nn.RNN(spec.d_in, spec.hidden, 1, "relu", batch_first=True)
        self.head = torch.nn.Linear(spec.hidden, spec.d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


def scaled_spec(data: SequenceData, hidden: int, max_symbols: int) -> ForeignSpec:
    """The network for ``data``: one-hot inputs where every input column takes at most
    ``max_symbols`` values in ``data``; a GRU classifying each output column where every one
    takes at most that many, else a ReLU network regressing them."""
    mask = data.mask

    def symbols(a: np.ndarray, j: int, vocab: Vocabularies | None) -> tuple[int, ...]:
        # A word column has all its vocabulary's codes, seen in this split or not.
        if vocab is not None and vocab[j] is not None:
            return tuple(range(len(vocab[j])))
        return tuple(np.unique(a[..., j][mask]).tolist())

    xs = [symbols(data.x, j, data.x_vocab) for j in range(data.d_in)]
    ys = [symbols(data.y, j, data.y_vocab) for j in range(data.d_out)]
    one_hot = all(len(v) <= max_symbols for v in xs)
    classes = all(2 <= len(v) <= max_symbols for v in ys)
    return ForeignSpec(
        cell="gru" if classes else "rnn",
        d_in=sum(map(len, xs)) if one_hot else data.d_in,
        hidden=hidden,
        layers=1,
        d_out=sum(map(len, ys)) if classes else data.d_out,
        output="argmax" if classes else "round",
        symbols_in=tuple(xs) if one_hot else (),
        nonlinearity="tanh" if classes else "relu",
        symbols_out=tuple(ys) if classes else (),
    )


def scaled_candidates(
    train: SequenceData,
    test: SequenceData,
    config: ScaleUpConfig,
    seed: int,
    max_label_errors: float = 0.0,
    progress: Callable[[str, int, int], None] | None = None,
    near_exact: float | None = None,
    first: FirstLook | None = None,
) -> Iterator[ForeignNetwork]:
    """Networks of ``config.sizes`` in turn, ``config.seeds`` each, one at a time as each is
    trained (so that a caller may read a near-exact one before the next trains), up to the
    first exact one on both splits (missing at most ``max_label_errors`` of each split's
    labelled steps). Each is at its best evaluation and carries its training ``report``
    (``exact``, ``sequence_accuracy``, ``steps``, ``final``, ...). With ``near_exact``, the first
    candidate to reach that share of held-out sequences right is also given then (``final``
    False), and trains on when the caller asks for the next network; only the first, as a failed
    reading of a near-exact network can take as long as training one. The first candidate
    trains on from ``first``, its first look, where one was taken.

    Data that are all words (logs of a system) are also given when a candidate first fits the
    training split (``fits_training``): held-out traces take (state, input) pairs the training
    traces never showed, which no network can answer from them, so exactness on held-out
    traces may never come; what the machine read from it does on them is checked later, up to
    each trace's first pair the machine never saw."""
    seeds = _seeds(config, seed)
    best: dict[int, float] = {}
    for i, hidden in enumerate(h for h in config.sizes for _ in range(config.seeds)):
        smaller = [share for h, share in best.items() if h < hidden]
        if smaller and max(smaller) < config.enlarge_above:
            return
        spec = scaled_spec(train, hidden, config.max_symbols)
        if i == 0 and first is not None and first.training.spec == spec:
            nets = first.trained_on(config.steps)
        else:
            args = (spec, train, test, config, int(seeds[i]), max_label_errors, progress)
            nets = _Training(*args, near_exact).until(config.steps)
        for net in nets:
            near_exact = near_exact if net.report.final else None
            if net.report.final:
                best[hidden] = max(best.get(hidden, 0.0), net.report.sequence_accuracy)
            yield net


def _seeds(config: ScaleUpConfig, seed: int) -> np.ndarray:
    """One seed per candidate of ``config``, derived from the search's ``seed``."""
    return np.random.SeedSequence([seed, 0x6A7E]).generate_state(len(config.sizes) * config.seeds)


class FirstLook:
    """The scale-up family's first candidate, trained for a few steps before anything else
    trains and paused there: where it is already exact it is read at once; otherwise the
    scale-up family, should it run, trains it on from where it stopped rather than from the
    start. Mutable on purpose: it holds a training in progress.

    It trains as the family's own first candidate would (its seed, its ``near_exact``): what
    it would have handed out in those first steps is held, and handed out when it resumes.
    """

    def __init__(
        self,
        train: SequenceData,
        test: SequenceData,
        config: ScaleUpConfig,
        seed: int,
        max_label_errors: float = 0.0,
        progress: Callable[[str, int, int], None] | None = None,
        near_exact: float | None = None,
    ) -> None:
        spec = scaled_spec(train, config.sizes[0], config.max_symbols)
        args = (spec, train, test, config, int(_seeds(config, seed)[0]), max_label_errors)
        self.training = _Training(*args, progress, near_exact)
        self.held: list[ForeignNetwork] = []
        self.seconds = 0.0

    def exact(self, steps: int) -> ForeignNetwork | None:
        """The candidate once it is exact within its first ``steps`` steps, else None (it is
        then paused, or done, and what it handed out is held)."""
        run = self.training.run
        for net in self.training.until(steps):
            if net.report.exact:
                return net
            self.held.append(net)
        self.seconds = time.perf_counter() - run.started
        log.info(
            f"network: {run.name} paused after {self.training.step} steps ({since(run.started)})"
        )
        return None

    def trained_on(self, steps: int) -> Iterator[ForeignNetwork]:
        """What the first look held, then the candidate trained on up to ``steps``."""
        # Its log counts the seconds it trained, not those other families took meanwhile.
        self.training.run.started = time.perf_counter() - self.seconds
        yield from self.held
        yield from self.training.until(steps)


def refit(
    net: ForeignNetwork, data: SequenceData, config: ScaleUpConfig, seed: int
) -> ForeignNetwork:
    """``net`` (a scale-up network) trained on from its weights on all of ``data`` until it is
    exact on every sequence, or given up at its best; its report says which."""
    training = _Training(net.spec, data, data, config, seed, 0.0, None, None, net.weights)
    *_, last = training.until(config.steps)
    return last


class _Training:
    """One GRU trained until exact on both splits, or given up, in stretches of steps.
    Mutable on purpose: the module, its optimiser and its batches' generator carry on from one
    stretch to the next, so that stretches train as one run would."""

    def __init__(
        self,
        spec: ForeignSpec,
        train: SequenceData,
        test: SequenceData,
        config: ScaleUpConfig,
        seed: int,
        max_label_errors: float,
        progress: Callable[[str, int, int], None] | None,
        near_exact: float | None,
        init: dict[str, np.ndarray] | None = None,
    ) -> None:
        torch.set_num_threads(config.threads)
        torch.manual_seed(seed)
        self.spec, self.train, self.config, self.progress = spec, train, config, progress
        self.run = _Evaluations(spec, train, test, seed, max_label_errors, near_exact)
        self.module, self.opt = _module(spec, config, init)
        self.x = torch.from_numpy(encode(train.x, spec.symbols_in))
        self.y = torch.tensor(train.y)
        self.mask = torch.tensor(train.mask)
        self.gen = torch.Generator().manual_seed(seed)
        self.step = 0
        self.done = False

    def until(self, last: int) -> Iterator[ForeignNetwork]:
        """Train on up to step ``last``, handing out the network where it reaches
        ``near_exact`` of held-out sequences (as it was then); once done (exact, out of
        patience, or at ``config.steps``), last, it at its best evaluation."""
        if self.done:
            return
        config = self.config
        while self.step < min(last, config.steps):
            self.step += 1
            idx = torch.randint(0, self.train.n, (config.batch_size,), generator=self.gen)
            _train_step(self.module, self.opt, self.spec, self.x[idx], self.y[idx], self.mask[idx])
            if self.step % config.eval_every and self.step != config.steps:
                continue
            if self.progress is not None:
                self.progress(self.run.name, config.eval_every, config.steps)
            net = ForeignNetwork(self.spec, _weights(self.module))
            outcome = yield from self.run.judge(net, self.step)
            if outcome == "exact":
                self.done = True
                return
            if outcome != "fits" and self.step - self.run.last_gain >= config.patience:
                break
        else:
            if self.step < config.steps:
                return  # paused at ``last``
        self.done = True
        yield self.run.given_up(self.step)


def _module(
    spec: ForeignSpec, config: ScaleUpConfig, init: dict[str, np.ndarray] | None
) -> tuple[_Module, torch.optim.Optimizer]:
    """The module (from ``init`` when given) and its Adam, at the step its outputs call for."""
    module = _Module(spec)
    if init is not None:
        module.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in init.items()})
    lr = config.lr if spec.output == "argmax" else config.lr_regression
    return module, torch.optim.Adam(module.parameters(), lr)


def _train_step(
    module: _Module,
    opt: torch.optim.Optimizer,
    spec: ForeignSpec,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
) -> None:
    """One step of Adam on the batch ``x`` (B, T, d_in), ``y`` (B, T, d_out), ``mask`` (B, T)."""
    loss = _loss(module(x), y, mask, spec)
    opt.zero_grad()
    loss.backward()
    opt.step()


class _Evaluations:
    """One candidate's evaluations: its best so far by share of held-out sequences right, and
    what it has been handed out for (fitting the training traces, near-exact)."""

    def __init__(
        self,
        spec: ForeignSpec,
        train: SequenceData,
        test: SequenceData,
        seed: int,
        max_label_errors: float,
        near_exact: float | None,
    ) -> None:
        self.spec, self.train, self.test, self.seed = spec, train, test, seed
        self.max_label_errors, self.near_exact = max_label_errors, near_exact
        self.started = time.perf_counter()
        self.name = f"scale-up {spec.cell} h={spec.hidden}"
        self.best: tuple[float, float, int, dict[str, np.ndarray]] = (-1.0, 0.0, 0, {})
        self.last_gain = 0
        # Logs over words are read once a candidate fits their training traces, not before: a
        # reading of the traces it answers right would leave out the rare states the rest reach.
        self.given = near_exact is None or train.all_words
        self.fitted = not train.all_words

    def judge(
        self, net: ForeignNetwork, step: int
    ) -> Generator[ForeignNetwork, None, Literal["exact", "fits"] | None]:
        """Score ``net`` at ``step`` and hand it out, marked, where it is exact on both splits,
        first fits the training traces, or first reaches ``near_exact``; return which of the
        first two it was handed out for."""
        allowed = self.max_label_errors
        share, errors = _score(net, self.test)
        if share > self.best[0]:
            self.best, self.last_gain = (share, 1.0 - errors, step, net.weights), step
        # The training split is scored only when it can decide something, and once.
        fits = (errors <= allowed or not self.fitted) and _score(net, self.train)[1] <= allowed
        if errors <= allowed and fits:
            log.info(f"network: {self.name} exact after {step} steps ({since(self.started)})")
            yield mark(net, SCALE_UP, self.seed, step, True, 1.0, 1.0 - errors)
            return "exact"
        if not self.fitted and fits:
            self.fitted = True
            log.info(
                f"network: {self.name} fits the training traces after {step} steps "
                f"({since(self.started)}; {share:.1%} of held-out traces right)"
            )
            yield mark(
                net, SCALE_UP, self.seed, step, False, share, 1.0 - errors, final=False, fits=True
            )
            return "fits"
        if not self.given and share >= self.near_exact:
            # A network stalled just short of exact (a sum mod 11 at 99.5-99.9% for thousands
            # of steps) often already holds the machine; reading it takes seconds.
            self.given = True
            log.info(
                f"network: {self.name} near-exact ({share:.1%} of held-out sequences) after "
                f"{step} steps ({since(self.started)}): read it while it trains on"
            )
            yield mark(net, SCALE_UP, self.seed, step, False, share, 1.0 - errors, final=False)
        return None

    def given_up(self, step: int) -> ForeignNetwork:
        """The candidate at its best evaluation, marked inexact, its training over at ``step``."""
        share, accuracy, at, weights = self.best
        log.info(
            f"network: {self.name} given up after {step} steps ({since(self.started)}); best "
            f"{share:.1%} of held-out sequences at step {at}"
        )
        return mark(
            ForeignNetwork(self.spec, weights), SCALE_UP, self.seed, at, False, share, accuracy
        )


def _loss(out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, spec: ForeignSpec):
    """Cross-entropy per classified column, or squared error, over the labelled steps."""
    if not spec.symbols_out:
        return ((out - y.float()) ** 2).mean(-1)[mask].mean()
    total, start = 0.0, 0
    for j, values in enumerate(spec.symbols_out):
        target = torch.searchsorted(torch.tensor(values), y[..., j].contiguous())
        block = out[..., start : start + len(values)][mask]
        total = total + torch.nn.functional.cross_entropy(block, target[mask])
        start += len(values)
    return total


def _weights(module: _Module) -> dict[str, np.ndarray]:
    return {k: v.detach().double().numpy().copy() for k, v in module.state_dict().items()}


def _score(net: ForeignNetwork, data: SequenceData) -> tuple[float, float]:
    """Share of sequences right at every labelled step; share of labelled steps missed."""
    return scores(wrong_steps(net, data), data)

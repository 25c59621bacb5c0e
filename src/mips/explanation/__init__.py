"""Explanation: the program inside a recurrent network that someone else trained.

    network + the data's inputs -> the network's own answers -> extract -> regress -> emit
    -> verify (held-out answers) -> fidelity (fresh, longer and every short sequence)

The network is read as it is: no training and no simplification (that stage rewrites the weights
of networks of mips's own form). The data supply the inputs, and the program is read from, and
verified against, what the network answers on them; the labels are only compared with the
network, to say where it is wrong about the data. A network whose answers are not all those of
one machine is read by majority (see :mod:`mips.extract.majority`), within
``ExplainConfig.max_disagreement`` of its answers, and the fidelity report shows where it
differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mips.config import config_digest, spawn_seeds
from mips.data import SequenceData
from mips.explanation.fidelity import Check, Counterexample, Fidelity, FidelityConfig, fidelity
from mips.extract import NEAR_EXACT, READERS, ExtractConfig
from mips.machine import StateMachine
from mips.network.causal import CausalModel, Readable, horizon_of
from mips.network.foreign import ForeignNetwork, ForeignNetworkError, from_module
from mips.reading import Clock, ReadingPass, ReadingPlan, best_attempt, read_network
from mips.regress import RegressConfig
from mips.synthesis import ReadResult
from mips.verify import load_program

__all__ = [
    "Check",
    "Counterexample",
    "ExplainConfig",
    "ExplainError",
    "Explanation",
    "Fidelity",
    "FidelityConfig",
    "LabelMiss",
    "check_fit",
    "explain",
    "readable",
]

# A regression network whose outputs lie this far from an integer is not answering integers.
OFF_INTEGER, MAX_OFF_INTEGER = 0.3, 0.05


class ExplainError(ValueError):
    """The network and the data do not fit together (one line for the user)."""


@dataclass(frozen=True, kw_only=True)
class ExplainConfig:
    """Settings of one explanation; ``seed`` seeds the split and every sample drawn."""

    seed: int = 0
    test_fraction: float = 0.2
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    regress: RegressConfig = field(default_factory=RegressConfig)
    fidelity: FidelityConfig = field(default_factory=FidelityConfig)
    # When no machine replays every answer of the network (it is not quite a machine on the
    # data), one read by majority may differ from its answers on this share of the steps; the
    # fidelity report then shows where.
    max_disagreement: float = 0.01

    def seeded(self) -> ExplainConfig:
        """Each stage's seed spawned from ``seed``, as in :meth:`SynthConfig.seeded`."""
        extract_seed, regress_seed, fidelity_seed = spawn_seeds(self.seed, 3)
        return replace(
            self,
            extract=replace(self.extract, seed=extract_seed),
            regress=replace(self.regress, seed=regress_seed),
            fidelity=replace(self.fidelity, seed=fidelity_seed),
        )

    def digest(self) -> str:
        """A short hash of the whole config: equal digests, equal settings."""
        return config_digest(self)

    def reading_plan(self) -> ReadingPlan:
        """Every reader but the table of the data, then, within ``max_disagreement``, the
        majority reading, and last the table: a large network's hidden states seldom cluster
        into few states, and a table over its clusters is slow to regress and seldom verified.
        The first pass to give a verified program ends the reading."""
        stage = self.seeded()
        passes = [ReadingPass(tuple(r for r in READERS if r.kind != "table"), stage.extract)]
        if self.max_disagreement:
            near = replace(stage.extract, majority_tolerance=self.max_disagreement)
            passes.append(ReadingPass(NEAR_EXACT, near, self.max_disagreement))
        passes.append(ReadingPass(tuple(r for r in READERS if r.kind == "table"), stage.extract))
        return ReadingPlan(
            passes=tuple(passes),
            regress=stage.regress,
            enough="program",
            fewest_states=True,
            seed=self.seed,
            digest=self.digest(),
        )


@dataclass(frozen=True)
class LabelMiss:
    """A labelled step where the network's own answer differs from the label."""

    sequence: int
    step: int
    label: tuple[int, ...]
    network: tuple[int, ...]


@dataclass(frozen=True, eq=False, kw_only=True)
class Explanation(ReadResult):
    """The result of :func:`explain`: the chosen program (or why none was read), its fidelity to
    the network, and where the network disagrees with the data's labels."""

    network: Readable
    config: ExplainConfig
    fidelity: Fidelity | None = None
    label_steps: int = 0
    label_misses: tuple[LabelMiss, ...] = ()
    reason: str | None = None

    @property
    def by_majority(self) -> bool:
        """The program was read by majority: the network's answers on the data are not all
        those of one machine, and the program differs from some of them."""
        return self.chosen is not None and self.chosen.verification.max_label_errors > 0

    @property
    def faithful(self) -> bool:
        """The program agreed with the network on every sequence the fidelity checks drew."""
        return self.fidelity is not None and self.fidelity.faithful

    @property
    def machine(self) -> StateMachine | None:
        return None if self.chosen is None else self.chosen.machine


def explain(
    network: Any,
    data: SequenceData,
    output: str = "round",
    config: ExplainConfig | None = None,
) -> Explanation:
    """The program that ``network`` computes on inputs like ``data``'s, and how faithful it is.

    ``network`` is a ``torch.nn.Module`` with ``.rnn`` (RNN, GRU or LSTM, ``batch_first``) and
    ``.head`` (Linear), or a :class:`mips.network.transformer.CausalTransformer`, whose answer is
    ``round(out)`` or, with ``output="argmax"``, the class ``argmax(out)``; or a network that
    says its output itself: a :class:`ForeignNetwork`, a
    :class:`~mips.network.transformer.TransformerNetwork`, or any causal model as a
    :class:`~mips.network.causal.CausalModel`. A model without a recurrence is read on the
    positions the data reach (one fewer, so that every state can be probed a step on). Raises
    :class:`ExplainError` when the network and the data do not fit together.
    """
    config = config or ExplainConfig()
    try:
        net = readable(network, output)
    except ForeignNetworkError as e:
        raise ExplainError(str(e)) from None
    check_fit(net, data)
    clock = Clock()
    answers = SequenceData(data.x, net.predict(data.x), lengths=data.lengths, x_vocab=data.x_vocab)
    train, heldout = answers.split(config.test_fraction, config.seed)
    reader, train = _within_positions(net, train, data.length)
    read = read_network(
        net, config.reading_plan(), clock, states_on=train, data=answers, heldout=heldout,
        reader=reader,
    )  # fmt: skip
    chosen = best_attempt(list(read.attempts))
    found = Explanation(
        network=net, config=config, seconds=clock.seconds, chosen=chosen, attempts=read.attempts,
        label_steps=data.steps, label_misses=_label_misses(answers, data),
    )  # fmt: skip
    if chosen is None:
        why = [*read.reasons, *(a.describe() for a in read.attempts)]
        return replace(found, reason="; ".join(why))
    with clock("fidelity"):
        run = load_program(chosen.source)
        report = fidelity(run, chosen.program, net, data, config.seeded().fidelity)
    return replace(found, fidelity=report)


def _within_positions(
    net: Readable, train: SequenceData, length: int
) -> tuple[Readable, SequenceData]:
    """The model the states are read from, and the data they are read on: a model with
    positions is probed only on the positions it was trained on, so its states are read up to
    the last but one and probed a step on."""
    if horizon_of(net) is None or length < 3:
        return net, train
    limit = min(net.horizon, length)
    return net.within(limit), _cut(train, limit - 1)


def readable(network: Any, output: str = "round") -> Readable:
    """``network`` as the readers read it: a torch module with ``.rnn`` or a
    :class:`~mips.network.transformer.CausalTransformer` is read in numpy (its answer
    ``output``); a network that says its output itself is taken as it is."""
    from mips.network.transformer import TransformerNetwork, from_transformer

    if isinstance(network, ForeignNetwork | TransformerNetwork | CausalModel):
        return network
    if hasattr(network, "encoder") and not hasattr(network, "rnn"):
        return from_transformer(network, output)
    return from_module(network, output)


def check_fit(net: Readable, data: SequenceData) -> None:
    """Raise :class:`ExplainError` unless ``net`` takes ``data``'s inputs and answers like its
    labels: as many columns, class indices in range, outputs near integers for ``round``, and
    (a model with positions) sequences no longer than it has positions."""
    spec = net.spec
    max_len = getattr(net, "max_len", None)
    if max_len is not None and data.length > max_len:
        raise ExplainError(
            f"the data's sequences have up to {data.length} steps, longer than the network's "
            f"max_len {max_len}"
        )
    if data.d_in != net.d_in:
        raise ExplainError(
            f"the network takes {net.d_in} input(s) per step, the data have {data.d_in}"
        )
    if data.d_out != net.d_out:
        what = "1 class index" if spec.output == "argmax" else f"{net.d_out} output(s)"
        raise ExplainError(f"the network answers {what} per step, the data have {data.d_out}")
    if spec.output == "argmax":
        labels = data.y[data.mask]
        if labels.min() < 0 or labels.max() >= spec.d_out:
            raise ExplainError(
                f"labels must be class indices 0..{spec.d_out - 1} for output argmax, "
                f"found {int(labels.min())}..{int(labels.max())}"
            )
        return
    out = net.run(data.x)[0][data.mask]
    off = float((np.abs(out - np.rint(out)) > OFF_INTEGER).mean())
    if off > MAX_OFF_INTEGER:
        raise ExplainError(
            f"the network's outputs are not near integers ({off:.0%} lie more than "
            f"{OFF_INTEGER} from one), so round(out) is no answer; was it trained for argmax?"
        )


def _cut(data: SequenceData, steps: int) -> SequenceData:
    """``data``'s sequences cut to their first ``steps`` steps."""
    lengths = None if data.lengths is None else np.minimum(data.lengths, steps)
    return SequenceData(
        data.x[:, :steps],
        data.y[:, :steps],
        lengths=lengths,
        x_vocab=data.x_vocab,
        y_vocab=data.y_vocab,
    )


def _label_misses(answers: SequenceData, data: SequenceData) -> tuple[LabelMiss, ...]:
    wrong = (answers.y != data.y).any(axis=2) & data.mask
    seqs, steps = np.nonzero(wrong)
    return tuple(
        LabelMiss(int(i), int(t), tuple(data.y[i, t].tolist()), tuple(answers.y[i, t].tolist()))
        for i, t in zip(seqs.tolist(), steps.tolist(), strict=True)
    )

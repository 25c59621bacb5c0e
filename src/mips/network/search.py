"""Architecture search: the smallest exact network, hidden size first, then MLP depth and width.

The families (:data:`~mips.network.families.FAMILIES`) run in turn, each below the smallest exact
network found so far. The linear family is solved in closed form, which gives the minimal linear
hidden size outright; each nonlinear family (ReLU transition; ReLU transition and readout; a wide
one) trains all hidden sizes below the best found so far, several seeds each, as one packed
computation, so the search order is the size order. When no small network is exact, a last
resort (the scale-up family: a GRU or ReLU network of 32 to 64 units with one-hot inputs; for
logs over words, the automaton) trains until one is, and ends the search. Exact networks and the
candidates a family marks to read at once are handed out as they come (``search_rounds``), so
that a caller may read one before anything slower trains, and stop there when it reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mips.data import SequenceData
from mips.network.artifact import Recurrent, TrainedNetwork
from mips.network.automaton import AUTOMATON, AutomatonConfig
from mips.network.families import (
    FAMILIES,
    LINEAR,
    Candidate,
    Family,
    FamilyTask,
    SearchWork,
)
from mips.network.foreign import ForeignNetwork
from mips.network.scaleup import GLANCE, SCALE_UP, ScaleUpConfig
from mips.network.train import TrainConfig


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """What to search over and how hard; every field is a choice a user may want to change."""

    max_hidden: int = 8
    # Nonlinear families rarely need many units, and their candidates cost most per step.
    max_hidden_nonlinear: int = 5
    seeds_per_size: int = 4
    width: int = 16
    # SCALE_UP runs only when no family before it found an exact network, and ends the search
    # when it finds one: it is exact within seconds where a failing small family takes a minute.
    # AUTOMATON trains only on data that are all words (logs of a system), and first there.
    # GLANCE, the scale-up family's first network for a few hundred steps, comes right after
    # the closed form (last here so that each family's place, which seeds it, is unchanged).
    # The registered "relu-readout" and "relu-wide" families are left out: they would train
    # only where a one-hot network of 32-64 units found no exact network, or to shrink a
    # network whose reading already failed, and there they add minutes without a network the
    # readers read (docs/pipeline.md gives the runs).
    families: tuple[str, ...] = (LINEAR, "relu", AUTOMATON, SCALE_UP, GLANCE)
    test_fraction: float = 0.2
    # For logs over words: a network is read once it fits its training traces, so the held-out
    # traces only judge it and its table, while each training trace may show a transition no
    # other does (a random 40-state machine over 15 words: no program within 300 s from 2,160
    # training traces, a correct one in 25 s from 2,430).
    test_fraction_words: float = 0.1
    seed: int = 0
    # When no network is exact: read the inexact ones right on at least this share of held-out
    # sequences. Their few wrong steps come from states drifting near a decision boundary; the
    # machine is read by majority (extract.majority) and the program must still verify.
    near_exact: float = 0.98
    # When no network is even near exact, those right on at least this share are read before
    # the search gives up: a sum whose sign flips at each 0 stayed at 95.7-97.9% in ReLU
    # networks that already held the flip and the signed sum, and read as a verified formula.
    # Only searches that would fail pay for it; far below this, a reading has found nothing.
    last_resort: float = 0.9
    train: TrainConfig = field(default_factory=TrainConfig)
    scale_up: ScaleUpConfig = field(default_factory=ScaleUpConfig)
    automaton: AutomatonConfig = field(default_factory=AutomatonConfig)

    def split_fraction(self, data: SequenceData) -> float:
        """The share of ``data``'s sequences held out to select the network and verify."""
        return self.test_fraction_words if data.all_words else self.test_fraction

    def __post_init__(self) -> None:
        unknown = set(self.families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; known: {sorted(FAMILIES)}")
        if self.max_hidden < 1 or self.seeds_per_size < 1:
            raise ValueError("max_hidden and seeds_per_size must be positive")
        if not 0.0 <= self.last_resort <= 1.0 or not 0.0 <= self.near_exact <= 1.0:
            raise ValueError("near_exact and last_resort must be shares between 0 and 1")


class NoExactNetwork(RuntimeError):
    """No candidate in the search space reproduced the held-out split exactly."""


def search(
    data: SequenceData,
    config: SearchConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainedNetwork | ForeignNetwork:
    """Find and return the smallest network that is exact on ``data``, split by the config into
    a training and a held-out part.

    ``progress(description, advance, total)`` is called as training proceeds (for progress bars).
    Raises :class:`NoExactNetwork` when nothing in the search space is exact.
    """
    config = config or SearchConfig()
    train, test = data.split(config.split_fraction(data), config.seed)
    net = search_ranked(train, test, config, progress)[0]
    if not net.report.exact:
        raise NoExactNetwork(
            f"no network was exact on the held-out split (the closest, {net.describe()}, was "
            f"right on {net.report.sequence_accuracy:.1%} of its sequences)"
        )
    return net


def search_ranked(
    train: SequenceData,
    test: SequenceData,
    config: SearchConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Recurrent]:
    """The smallest exact network of each family that found one, smallest first.

    The smallest network is not always the most readable: a family's runner-up can keep its
    states in a form the state readers know when the smallest does not, so callers that read
    states try them in this order. When none is exact, the near-exact ones (their reports not
    ``exact``), most often right first; raises :class:`NoExactNetwork` when there are none
    either.
    """
    networks = [n for r in search_rounds(train, test, config, progress) for n in r]
    exact = [n for n in networks if n.report.exact]
    if exact:
        return exact[::-1]  # each exact network found is smaller than those before it
    return _near_exact(networks, config or SearchConfig())


def search_rounds(
    train: SequenceData,
    test: SequenceData,
    config: SearchConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[list[Recurrent]]:
    """:func:`search_ranked`'s networks, in rounds a caller may stop after, reading one before
    anything slower trains. The families of ``config.families`` (:data:`FAMILIES`) run in
    :func:`_order`, each within the size cap (:meth:`_Rounds.cap`), and hand out:

    - each exact network smaller than those before it, as soon as its pack has one: what trains
      after it (the rest of its pack, the families after it) only looks for a smaller one, and
      reading it takes seconds where that takes up to a minute;
    - each candidate a family marks to read at once (a scale-up candidate that reaches
      ``config.near_exact`` or fits its training split, an automaton likewise), once per
      candidate, however it trains on;
    - last, a last-resort family's exact network, which ends the search, or when nothing is
      exact, the near-exact networks not given yet."""
    config = config or SearchConfig()
    found = _Rounds(config, SearchWork(time.perf_counter()))
    for place, name in _order(config.families, train):
        family = FAMILIES[name]
        cap = found.cap(family)
        if cap < 1:
            continue
        shrinking = found.best is not None
        task = FamilyTask(
            train=train,
            test=test,
            config=config,
            place=place,
            cap=cap,
            shrinking=shrinking,
            work=found.work,
            progress=progress,
        )
        yield from found.rounds(family, task)
        if found.ending is not None:
            break
    yield from found.last_round()


@dataclass(frozen=True, eq=False)
class _Best:
    """The smallest exact network so far: its family and hidden size."""

    family: Family
    hidden: int


class _Rounds:
    """What the search has found and handed out so far, and the rules for what it hands out
    next and how far each family looks."""

    def __init__(self, config: SearchConfig, work: SearchWork) -> None:
        self.config, self.work = config, work
        self.best: _Best | None = None
        # A last-resort family's exact network: the search ends with it.
        self.ending: Recurrent | None = None
        self.given: list[Recurrent] = []
        # The near-exact pool for when nothing is exact, each with whether a last resort made it
        # (those come after the others).
        self.kept: list[tuple[bool, Recurrent]] = []

    def cap(self, family: Family) -> int:
        """The largest hidden size ``family`` tries: its own largest until a network is exact,
        then below that network (and no further than ``family.below_linear`` below a linear
        one); a last resort tries nothing once a network is exact."""
        largest = family.largest(self.config)
        if self.best is None:
            return largest
        if family.last_resort:
            return 0
        below = self.best.hidden - 1
        if self.best.family.linear:
            below = min(below, family.below_linear)
        return min(largest, below)

    def rounds(self, family: Family, task: FamilyTask) -> Iterator[list[Recurrent]]:
        """The rounds ``family``'s candidates make, up to a last resort's exact one."""
        for candidate in family.candidates(task):
            yield from self._take(family, candidate)
            if self.ending is not None:
                return

    def _take(self, family: Family, candidate: Candidate) -> Iterator[list[Recurrent]]:
        """``candidate`` handed out as a round, kept, or both or neither, by its family's rules
        and whether an equal one was given before."""
        net = candidate.network
        if net.report.exact and family.last_resort:
            self.ending = net
            return
        if net.report.exact:
            self.best = _Best(family, net.hidden)
            yield self._give(net)
            return
        if candidate.kept:
            self.kept.append((family.last_resort, net))
        # The same candidate a few hundred steps on drifts as it did (right on 99.0% then 99.4%
        # of held-out sequences, 98.5% then 99.1%, neither read), and a failed reading costs
        # 8-20 s: a candidate is read at once only the first time.
        if candidate.read_now and not any(_same(net, g) for g in self.given):
            yield self._give(net)

    def _give(self, net: Recurrent) -> list[Recurrent]:
        self.given.append(self.work.stamped(net))
        return self.given[-1:]

    def last_round(self) -> Iterator[list[Recurrent]]:
        """A last resort's exact network; or when nothing is exact, the near-exact networks not
        given yet (raising :class:`NoExactNetwork` when there are none and none was given)."""
        if self.ending is not None:
            yield [self.work.stamped(self.ending)]
            return
        if self.best is not None:
            return
        pool = [net for _, net in sorted(self.kept, key=lambda k: k[0])]
        ready = _near_exact(pool, self.config, raises=not self.given)
        rest = [self.work.stamped(n) for n in ready if not any(_same(n, g) for g in self.given)]
        if rest:
            yield rest


def _same(a: Recurrent, b: Recurrent) -> bool:
    """Whether two networks are one candidate (of a family that seeds each: scale-up,
    automaton), at one evaluation or two."""
    seed = a.report.seed if a.report else None
    return seed is not None and b.report is not None and b.report.seed == seed


def _order(families: tuple[str, ...], data: SequenceData) -> list[tuple[int, str]]:
    """The families with their places in ``families``, in search order. Outputs that are words
    have no order a regression could use (their codes are alphabetical), so when any output
    column is words the scale-up family, which classifies them, comes right after the closed
    form; otherwise its glance does."""
    order = list(enumerate(families))
    order.sort(key=lambda p: p[1] not in (LINEAR, GLANCE))
    if SCALE_UP in families and data.words_out:
        order.sort(key=lambda p: p[1] not in (LINEAR, AUTOMATON, SCALE_UP))
    if data.all_words:  # a machine over words: its own shape first
        order.sort(key=lambda p: p[1] != AUTOMATON)
    return order


def _near_exact(
    closest: list[Recurrent], config: SearchConfig, raises: bool = True
) -> list[Recurrent]:
    """The inexact networks right on at least ``config.near_exact`` of held-out sequences, or
    where there are none, on at least ``config.last_resort``, the most often right first; when
    there are none, raises :class:`NoExactNetwork` (or with ``raises`` False, returns none)."""
    near = [n for n in closest if n.report.sequence_accuracy >= config.near_exact]
    if not near:
        near = [n for n in closest if n.report.sequence_accuracy >= config.last_resort]
    if not near and raises:
        share = max((n.report.sequence_accuracy for n in closest), default=0.0)
        floor = min(config.near_exact, config.last_resort)
        raise NoExactNetwork(
            f"no network in families {', '.join(config.families)} was exact on the held-out "
            f"split (the closest was right on {share:.1%} of its sequences, below the "
            f"{floor:.0%} read when nothing is exact)"
        )
    return sorted(near, key=lambda n: -n.report.sequence_accuracy)

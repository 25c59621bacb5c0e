"""The network families the search runs, as a registry of strategies that yield candidates.

Each family turns the two splits, the search's config and the largest hidden size it may try
into candidates, one at a time as they come: the closed-form linear network, the narrow ReLU
packs, the automaton for logs over words and the scale-up networks. Each candidate says what the
search may do with it when it is not exact: read it at once, or keep it for the near-exact
networks read when nothing is exact. The order, the size cap and what is handed out when are
the search's (:func:`mips.network.search.search_rounds`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mips.data import SequenceData
from mips.network.artifact import Architecture, Recurrent, TrainedNetwork
from mips.network.automaton import AUTOMATON, automaton_candidates
from mips.network.realize import realize
from mips.network.report import TrainingReport
from mips.network.scaleup import GLANCE, SCALE_UP, FirstLook, scaled_candidates
from mips.network.train import CandidateResult, pack_rounds

if TYPE_CHECKING:
    from mips.network.search import SearchConfig

LINEAR = "linear"
Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)


@dataclass
class SearchWork:
    """What the search has spent so far, which every network it hands out reports: the
    candidates the finished families trained, their steps (the longest of each pack, summed),
    and the seconds since ``started`` (a ``time.perf_counter()``); and the scale-up family's
    first look, paused for that family to train on."""

    started: float
    candidates: int = 0
    steps: int = 0
    first_look: FirstLook | None = None

    def add(self, candidates: int, steps: int) -> None:
        """Count a finished family's candidates and its longest candidate's steps."""
        self.candidates += candidates
        self.steps += steps

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def stamped(self, net: Any) -> Any:
        """``net`` (a frozen network with a report) with the search's work so far in its report."""
        cost = replace(
            net.report,
            candidates_trained=self.candidates,
            search_steps=self.steps,
            seconds=round(self.seconds(), 3),
        )
        return replace(net, report=cost)


@dataclass(frozen=True, kw_only=True, eq=False)
class FamilyTask:
    """What one family trains on and within: the two splits, the search's config, the family's
    place in ``config.families`` (from which its seed derives), the largest hidden size it may
    try, whether a network is already exact (so that it only looks for a smaller one), the
    search's work so far (a finished family adds its own) and the progress callback."""

    train: SequenceData
    test: SequenceData
    config: SearchConfig
    place: int
    cap: int
    shrinking: bool
    work: SearchWork
    progress: Progress | None = None


@dataclass(frozen=True, eq=False)
class Candidate:
    """A network a family trained, with its training report, and what the search may do with
    it when it is not exact: read it at once (``read_now``: near-exact, or fitting its training
    split), and keep it among the near-exact networks read when nothing is exact (``kept``)."""

    network: Recurrent
    read_now: bool = False
    kept: bool = False


class Family(Protocol):
    """A family of networks: its candidates as they come, within a task."""

    name: str
    # Runs only while no network is exact, and its exact network ends the search: a larger
    # network the readers read at any size beats minutes more of searching for a small one.
    last_resort: bool
    # Its networks are linear: a family after one looks at most ``below_linear`` units below it.
    linear: bool
    below_linear: int

    def largest(self, config: SearchConfig) -> int:
        """The largest hidden size the family tries."""
        ...

    def candidates(self, task: FamilyTask) -> Iterator[Candidate]:
        """The family's candidates within ``task``, each as soon as it is worth handing out."""
        ...


@dataclass(frozen=True)
class ClosedForm:
    """The linear family, solved in closed form (``realize``: least squares and Ho–Kalman),
    which gives the minimal linear hidden size outright."""

    name: str = LINEAR
    last_resort: bool = False
    linear: bool = True
    below_linear: int = 0

    def largest(self, config: SearchConfig) -> int:
        return config.max_hidden

    def candidates(self, task: FamilyTask) -> Iterator[Candidate]:
        net = realize(task.train, task.test, task.cap, task.config.train.max_label_errors)
        if task.progress is not None:
            task.progress(f"linear h<={task.cap} (closed form)", 1, 1)
        found = (
            []
            if net is None
            else [
                CandidateResult(
                    arch=net.arch,
                    seed=0,
                    exact=True,
                    steps=0,
                    heldout_accuracy=1.0,
                    weights=net.weights,
                )
            ]
        )
        yield from _smallest_first(task, self.name, None, [found])


@dataclass(frozen=True, kw_only=True)
class Packed:
    """A trained family: every hidden size up to the cap, ``seeds_per_size`` candidates each,
    trained as one pack (:func:`~mips.network.train.pack_rounds`), so that the search order is
    the size order; ``build`` gives its architecture for (hidden size, base width)."""

    name: str
    build: Callable[[int, int], Architecture]
    # Overrides TrainConfig.lr when set.
    lr: float | None = None
    # Multiply TrainConfig.steps and TrainConfig.plateau; the plateau only while no network is
    # exact (a family that would only shrink an exact network is not worth waiting for).
    stretch: int = 1
    plateau_stretch: int = 1
    # The largest hidden size tried when the data are exactly linear. One nonlinear unit can hold
    # a bit or a phase that a linear network spreads over a rotation of 2-3 units; on 116 tasks
    # no nonlinear network of two or more units was smaller than an exact linear one, and trying
    # them cost up to 100 s on long shift registers.
    below_linear: int = 1
    last_resort: bool = False
    linear: bool = False

    def largest(self, config: SearchConfig) -> int:
        return config.max_hidden_nonlinear

    def candidates(self, task: FamilyTask) -> Iterator[Candidate]:
        # Spawned from the search's one seed and the family's place in its order, so that no two
        # families, and no family under two search seeds, draw the same stream.
        entropy = np.random.SeedSequence([task.config.seed, task.place])
        pack_seed = int(entropy.generate_state(1)[0])
        yield from _smallest_first(task, self.name, pack_seed, self._packs(task, pack_seed))

    def _packs(self, task: FamilyTask, pack_seed: int) -> Iterator[list[CandidateResult]]:
        """Every hidden size 1..``task.cap``, ``seeds_per_size`` candidates each, trained as one
        pack, in :func:`~mips.network.train.pack_rounds`."""
        config = task.config
        sizes = [h for h in range(1, task.cap + 1) for _ in range(config.seeds_per_size)]
        train_config = replace(
            config.train,
            lr=config.train.lr if self.lr is None else self.lr,
            steps=self.stretch * config.train.steps,
            plateau=(1 if task.shrinking else self.plateau_stretch) * config.train.plateau,
        )

        def tick(n: int) -> None:
            if task.progress is not None:
                task.progress(f"{self.name} h<={task.cap}", n, train_config.steps)

        return pack_rounds(
            task.train,
            task.test,
            self.build(task.cap, config.width),
            sizes,
            [True] * len(sizes),
            list(range(len(sizes))),
            train_config,
            pack_seed,
            tick,
        )


@dataclass(frozen=True)
class Automaton:
    """The automaton family (:mod:`mips.network.automaton`), for data that are all words (logs of
    a system) with no wrong labels allowed; read and kept as the scale-up family's candidates
    are."""

    name: str = AUTOMATON
    last_resort: bool = True
    linear: bool = False
    below_linear: int = 0

    def largest(self, config: SearchConfig) -> int:
        return max(config.automaton.sizes)

    def candidates(self, task: FamilyTask) -> Iterator[Candidate]:
        config = task.config
        if not task.train.all_words or config.train.max_label_errors:
            return
        nets = automaton_candidates(
            task.train, task.test, config.automaton, config.seed, task.progress
        )
        for net in nets:
            yield _read_when_near(net, config.near_exact)


@dataclass(frozen=True)
class ScaleUp:
    """The scale-up family (:mod:`mips.network.scaleup`): a candidate that reaches
    ``config.near_exact`` of held-out sequences, or fits its training split, is read at once,
    and every trained one is kept for when nothing is exact."""

    name: str = SCALE_UP
    last_resort: bool = True
    linear: bool = False
    below_linear: int = 0

    def largest(self, config: SearchConfig) -> int:
        return max(config.scale_up.sizes)

    def candidates(self, task: FamilyTask) -> Iterator[Candidate]:
        config = task.config
        args = (config.scale_up, config.seed, config.train.max_label_errors, task.progress)
        first = task.work.first_look
        nets = scaled_candidates(
            task.train, task.test, *args, near_exact=config.near_exact, first=first
        )
        for net in nets:
            yield _read_when_near(net, config.near_exact)


@dataclass(frozen=True)
class Glance:
    """The scale-up family's first network trained for ``config.scale_up.glance_steps`` steps,
    before the narrow families: where a one-hot network is exact that soon (a window over a
    large alphabet, a count of a few symbols, a small language), it is read at once, where the
    narrow ReLU family would first train for 10-40 s and fail (a detector of even inputs: 26 s,
    3 s after a glance). A network that is near exact that soon is read at once too, as the
    scale-up family would read it, before the narrow family trains. Otherwise the search goes on
    as before, and the scale-up family, should it run, trains that network on from where the
    glance paused it (:class:`~mips.network.scaleup.FirstLook`). Not for outputs that are
    words: the scale-up family itself comes right after the closed form there."""

    name: str = GLANCE
    last_resort: bool = False
    linear: bool = False
    below_linear: int = 0

    def largest(self, config: SearchConfig) -> int:
        return config.scale_up.sizes[0]

    def candidates(self, task: FamilyTask) -> Iterator[Candidate]:
        if task.train.words_out:
            return
        config = task.config
        args = (config.scale_up, config.seed, config.train.max_label_errors, task.progress)
        first = FirstLook(task.train, task.test, *args, near_exact=config.near_exact)
        task.work.first_look = first
        net = first.exact(config.scale_up.glance_steps)
        if net is not None:
            yield Candidate(net)
            return
        # The scale-up family hands these out again when it resumes, and keeps them then.
        for held in first.held:
            yield replace(_read_when_near(held, config.near_exact), kept=False)


def _read_when_near(net: Recurrent, near_exact: float) -> Candidate:
    """``net`` as a candidate read at once when it fits its training split or reaches
    ``near_exact`` of held-out sequences, and kept for when nothing is exact once its training
    is over."""
    report = net.report
    ready = report.fits_training or report.sequence_accuracy >= near_exact
    return Candidate(net, read_now=ready, kept=report.final)


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        ClosedForm(),
        Packed(name="relu", build=lambda h, w: Architecture(h, hidden_depth=2, hidden_width=w)),
        Packed(
            name="relu-readout",
            build=lambda h, w: Architecture(
                h, hidden_depth=2, hidden_width=w, output_depth=2, output_width=w
            ),
        ),
        # Inputs that must be cut into many pieces (a running sum mod m, a remainder of a
        # division) need many ReLU kinks at exact places: four times the width, a larger step,
        # three times the steps and six times the plateau. On sums mod 4 and remainders mod 3,
        # width 16 never reached hidden size 2; width 64 at lr 1e-2 did, within 1,000-4,000
        # steps. A counter of one symbol among several can sit at 40-60% accuracy for
        # 2,000-3,000 steps before it learns. Tried below every size found so far, so it also
        # shrinks what the narrow families found, but not below a linear solution: a linear fit
        # is already the simplest reading.
        Packed(
            name="relu-wide",
            build=lambda h, w: Architecture(
                h, hidden_depth=2, hidden_width=4 * w, output_depth=2, output_width=4 * w
            ),
            lr=1e-2,
            stretch=3,
            plateau_stretch=6,
            below_linear=0,
        ),
        Automaton(),
        ScaleUp(),
        Glance(),
    )
}


def smallest_exact(results: list[CandidateResult]) -> CandidateResult | None:
    """The exact candidate of smallest architecture rank (ties: fewest steps, then seed)."""
    exact = [r for r in results if r.exact]
    return min(exact, key=lambda r: (r.arch.rank(), r.steps, r.seed)) if exact else None


def _smallest_first(
    task: FamilyTask,
    family: str,
    pack_seed: int | None,
    rounds: Iterable[list[CandidateResult]],
) -> Iterator[Candidate]:
    """Each exact candidate of ``rounds`` smaller than those before it, as soon as its round has
    it (what trains after it only looks for a smaller one); then the last round's inexact
    candidate right on most held-out sequences (the smaller on a tie), kept for when nothing is
    exact. The family's candidates and steps count into ``task.work`` when it is done."""
    smallest: CandidateResult | None = None
    results: list[CandidateResult] = []
    for results in rounds:
        exact = smallest_exact(results)
        if exact is None or (smallest is not None and exact.arch.rank() >= smallest.arch.rank()):
            continue
        smallest = exact
        log.info(
            f"network: {family} {exact.arch.describe()} exact after {exact.steps} steps "
            f"({task.work.seconds():.1f} s into the search)"
        )
        yield Candidate(_network(exact, family, pack_seed, task))
    task.work.add(len(results), max((r.steps for r in results), default=0))
    inexact = [r for r in results if not r.exact]
    if not inexact:
        return
    closest = max(inexact, key=lambda r: (r.sequence_accuracy, -r.arch.hidden))
    if smallest_exact(results) is None:
        log.info(
            f"network: {family} h<={task.cap}: none exact ({task.work.seconds():.1f} s into "
            f"the search); closest {closest.sequence_accuracy:.1%} of held-out sequences"
        )
    yield Candidate(_network(closest, family, pack_seed, task), kept=True)


def _network(
    result: CandidateResult, family: str, pack_seed: int | None, task: FamilyTask
) -> TrainedNetwork:
    """A packed candidate as a network, with what reproduces it: the family's pack seed (none
    for the closed form) and the candidate's place in the pack (``result.seed``)."""
    report = TrainingReport(
        family=family,
        exact=result.exact,
        steps=result.steps,
        sequence_accuracy=result.sequence_accuracy,
        heldout_accuracy=result.heldout_accuracy,
        pack_seed=pack_seed,
        place_in_pack=result.seed,
    )
    data, config = task.train, asdict(task.config)
    return TrainedNetwork(
        arch=result.arch,
        d_in=data.d_in,
        d_out=data.d_out,
        weights=result.weights,
        config=config,
        report=report,
    )

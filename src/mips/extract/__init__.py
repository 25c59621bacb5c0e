"""Extract: read a state machine over integer or finite state variables out of a network's hidden states.

Each reader is one module; :data:`READERS` lists them in the order their machines are offered to
the regression stage, most plausible first:

- **observables** (``window``, ``output``): finite states named by the last k inputs or by the
  output they emit, from clusters of hidden states or, failing that, from states the network
  treats alike on every input;
- **finite**: a complete minimised Mealy machine over those states;
- **counts**, **histories**, then **horizon** (only when nothing above nor a lattice reads the
  states): integer-weighted counts of the inputs or the set of symbols seen, checked against
  each time step's clusters (saturating counters); functions of the input history that reach
  back to the start (the lowest input so far beside the previous one, a count beside the
  highest it reached); or states told apart by k-step probes kept inside the training length;
- **lattice**: hidden states as integer points of a lattice (LLL), then cluster centres as one
  (counters that look finite only because training sequences are short);
- an **incomplete** finite machine;
- last, when nothing above reads the states, the **majority** reading of near-exact networks
  (:mod:`~mips.extract.majority`). A network exact on the data can still answer a symbol the data
  never gave from a few of its states (drifted ones, or the last ones, past the trained length)
  otherwise than the states it behaves like elsewhere: each such state splits off a one-step
  probe class of its own, and no exact reading of the classes is complete.

Data whose every column is words are read by :data:`WORD_READERS` instead: **refined** probe
classes (:mod:`~mips.extract.refine`: states that answer every input alike, split where the data
show them lead apart), else the clustered finite machine. A machine over words is a table by
nature, and the readers of integer state (counts, lattices, states named by input or output
codes) would read arbitrary word codes as numbers.

Readers share a :class:`Context`, which computes each reading (the clustering, the probe classes,
the lattice) once, when the first reader asks for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from functools import cached_property, partial
from typing import Literal, TypeVar

import numpy as np

from mips.data import SequenceData
from mips.extract.counters import count_machines, time_clusters
from mips.extract.finite import Clusters, FiniteReading, finite_from_labels, finite_machine
from mips.extract.history import history_machines, number_machines
from mips.extract.lattice import find_lattice, lattice_machine
from mips.extract.majority import majority_labels
from mips.extract.observables import named_machines, readout_at_start
from mips.extract.probes import behaviour_classes, horizon_labels, one_step_signatures
from mips.extract.refine import closed_machine, refined_machine
from mips.extract.trajectory import ExtractConfig, ExtractionError, Refusal, Trajectory
from mips.machine import Reading, StateMachine
from mips.network.causal import Readable

log = logging.getLogger(__name__)

_Read = TypeVar("_Read")

__all__ = [
    "NEAR_EXACT",
    "READERS",
    "WORD_READERS",
    "ExtractConfig",
    "ExtractionError",
    "Reader",
    "closed_refinement",
    "extract",
    "find_lattice",
]


class Context:
    """One network's trajectory on the data, and every reading of it, each computed on demand.

    Mutable on purpose: a lazy cache, so that readers later in :data:`READERS` reuse what earlier
    ones computed and nothing is computed that no reader asks for. :attr:`why` keeps, in the
    order the readings were tried, why each one failed.
    """

    def __init__(self, network: Readable, traj: Trajectory, config: ExtractConfig) -> None:
        self.network, self.traj, self.config = network, traj, config
        self._why: list[str] = []

    @property
    def why(self) -> tuple[str, ...]:
        """Why each reading that failed failed, in the order they were tried."""
        return tuple(self._why)

    def refused(self, refusal: Refusal) -> None:
        """Keep why a reading failed."""
        self._why.append(refusal.why)

    def unless_refused(self, read: _Read | Refusal) -> _Read | None:
        """``read``, or None when it is a refusal, whose reason is kept."""
        if isinstance(read, Refusal):
            self.refused(read)
            return None
        return read

    @cached_property
    def clusters(self) -> Clusters | None:
        """The clusters of hidden states that read a minimised machine, or None."""
        return self.unless_refused(finite_machine(self.traj, self.config))

    @property
    def clustered(self) -> StateMachine | None:
        """The minimised machine over clusters of hidden states, or None."""
        return None if self.clusters is None else self.clusters.machine

    @cached_property
    def one_step(self) -> tuple[np.ndarray, np.ndarray] | None:
        """What the network answers from each distinct hidden state, itself and one step on
        (:func:`~mips.extract.probes.one_step_signatures`), or None."""
        return one_step_signatures(self.network, self.traj, self.config)

    @cached_property
    def classes(self) -> np.ndarray | None:
        """Labels (N, T + 1): hidden states classed by the network's answers one step on."""
        return behaviour_classes(self.traj, self.one_step)

    @cached_property
    def finite(self) -> StateMachine | None:
        """The clustered machine, or, when clusters give none, the machine over probe classes."""
        if self.clustered is not None or self.classes is None:
            return self.clustered
        found = finite_from_labels(self.classes, self.traj, self.config, _probed)
        return found.machine if isinstance(found, FiniteReading) else None

    @cached_property
    def time_labels(self) -> list[np.ndarray]:
        """Labels (N, T + 1) from clustering each time step's hidden states on their own, at a
        few radii (:func:`~mips.extract.counters.time_clusters`)."""
        return time_clusters(self.traj)

    @cached_property
    def lattice(self) -> StateMachine | None:
        """The machine over lattice coordinates of the raw hidden states, or None."""
        points = np.unique(np.round(self.traj.hidden.reshape(-1, self.network.hidden), 9), axis=0)
        return self.unless_refused(lattice_machine(self.traj, points, self.config, "hidden states"))

    @property
    def complete(self) -> bool:
        """Whether the finite machine knows every (state, input)."""
        return self.finite is not None and bool(self.finite.reading.complete)


_probed = Reading("finite", "probed states")


def _named_by_clusters(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if ctx.clusters is None:
        return []
    return named_machines(ctx.network, ctx.traj, ctx.clusters.labels, "clusters", ctx.config)


def _named_by_probes(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if (ctx.clustered is not None and found) or ctx.classes is None:
        return []
    return named_machines(ctx.network, ctx.traj, ctx.classes, "probed states", ctx.config)


def _complete_finite(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    return [ctx.finite] if ctx.complete else []


def _counts(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if found or ctx.lattice is not None:
        return []
    return _by_steps_then_behaviour(
        ctx, partial(count_machines, start=readout_at_start(ctx.network))
    )


def _histories(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if found or ctx.lattice is not None:
        return []
    return _by_steps_then_behaviour(ctx, history_machines)


def _by_steps_then_behaviour(
    ctx: Context, read: Callable[..., list[StateMachine]]
) -> list[StateMachine]:
    """The machines ``read`` (counts, histories) checks against each time step's clusters, else
    against what the network does next."""
    tolerance = ctx.config.majority_tolerance
    found = read(ctx.traj, ctx.time_labels, tolerance=tolerance)
    if found or ctx.classes is None:
        return found
    # States that differ only where the network never looks again (the order of the inputs,
    # when only their counts matter) split every cluster: read what it does instead.
    # Behaviour merges states the network treats alike within its horizon, so the simplest
    # hypothesis it determines is taken, and not required to be told apart.
    return read(
        ctx.traj, [ctx.classes], min_distinguished=0.0, source="probed states", tolerance=tolerance
    )


def _numbers(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if found or ctx.lattice is not None:
        return []
    # A state that names every prefix apart passes any check against labels that split the
    # states finely (states that drift) or coarsely (behaviour, which it determines): only
    # the coarsest clusters of each step, which keep apart what the network holds apart.
    return number_machines(ctx.traj, ctx.time_labels[:1])


def _horizon(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if found or ctx.lattice is not None:
        return []
    labels = horizon_labels(ctx.network, ctx.traj, ctx.config)
    if labels is None:
        return []
    read = finite_from_labels(labels, ctx.traj, ctx.config, Reading("horizon", "horizon probes"))
    if isinstance(read, Refusal):
        return []
    named = named_machines(ctx.network, ctx.traj, read.labels, "horizon probes", ctx.config)
    return [*named, read.machine]


def _lattice(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    return [] if ctx.lattice is None else [ctx.lattice]


def _centres(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if ctx.finite is None or ctx.complete or ctx.clusters is None:
        return []
    centres = ctx.clusters.centres
    hidden = ctx.clusters.snapped().reshape(ctx.traj.hidden.shape)
    snapped = Trajectory(ctx.traj.x, ctx.traj.y, hidden, ctx.traj.valid)
    machine = ctx.unless_refused(lattice_machine(snapped, centres, ctx.config, "cluster centres"))
    return [] if machine is None else [machine]


def _incomplete_finite(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    return [ctx.finite] if ctx.finite is not None and not ctx.complete else []


def _refined(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    if found:
        return []
    if ctx.classes is None:
        ctx.refused(Refusal("no refined probe classes: too many states or symbols to probe"))
        return []
    machine = refined_machine(ctx.traj, ctx.classes, ctx.config, ctx.config.max_states)
    if machine is None:
        ctx.refused(Refusal("no refined probe classes: the splits did not settle into a machine"))
        return []
    return [machine]


def _last_finite(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    return [] if found or ctx.finite is None else [ctx.finite]


def _majority(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    read = majority_labels(ctx.network, ctx.traj, ctx.config, ctx.one_step)
    if read is None:
        return []
    # Within a tolerance the machine's own outputs stand in for the answers it outvoted.
    traj = dc_replace(ctx.traj, y=read.outputs)
    source = "probed states, by majority"
    machine = finite_from_labels(read.labels, traj, ctx.config, Reading("majority", source))
    named = named_machines(ctx.network, traj, read.labels, source, ctx.config)
    return [*named, *([machine.machine] if isinstance(machine, FiniteReading) else [])]


def _last_majority(ctx: Context, found: list[StateMachine]) -> list[StateMachine]:
    return [] if found else _majority(ctx, found)


@dataclass(frozen=True)
class Reader:
    """One way of reading the states: ``read(context, machines read so far)`` -> machines.

    ``kind`` says what its machines take the observations for: ``exact`` readers take every
    observation as the truth; a ``table`` reader's machine is a table of the (state, input)
    pairs the data show, read when nothing general does; a ``majority`` reader outvotes the
    answers a few drifted states give."""

    name: str
    read: Callable[[Context, list[StateMachine]], list[StateMachine]]
    kind: Literal["exact", "table", "majority"] = "exact"


# Offered to regression in this order. A reader sees what those before it found, so a fallback
# (counts, horizon probes) runs only when nothing better read the states.
READERS: tuple[Reader, ...] = (
    Reader("named clusters", _named_by_clusters),
    Reader("named probe classes", _named_by_probes),
    Reader("complete finite", _complete_finite),
    Reader("counts", _counts),
    Reader("histories", _histories),
    Reader("horizon probes", _horizon),
    Reader("lattice", _lattice),
    Reader("lattice of cluster centres", _centres),
    Reader("numbers", _numbers),
    Reader("incomplete finite", _incomplete_finite, "table"),
    Reader("majority of probe classes", _last_majority, "majority"),
)

# For data whose every column is words.
WORD_READERS: tuple[Reader, ...] = (
    Reader("refined probe classes", _refined),
    Reader("finite", _last_finite, "table"),
)


# A network that is not exact on the data is read only this way: the readers above take each
# observation as the truth, and a near-exact network's few wrong steps would refuse them all.
NEAR_EXACT: tuple[Reader, ...] = (Reader("majority of probe classes", _majority, "majority"),)


def extract(
    network: Readable,
    data: SequenceData,
    config: ExtractConfig | None = None,
    readers: tuple[Reader, ...] | None = None,
) -> list[StateMachine]:
    """Every consistent state-machine reading of ``network`` on ``data``, in ``readers`` order
    (by default :data:`WORD_READERS` for data that are all words, else :data:`READERS`).

    A network not exact on ``data`` is read by the :data:`NEAR_EXACT` readings instead; when
    they read nothing, by ``readers`` on the sequences it answers right at every step. Its wrong
    steps come from a few states that drifted, and leaving out the sequences through them
    leaves the states it holds right (an unbounded sum, which no finite majority reads); the
    program read from them must still verify on the held-out split. Raises :class:`ExtractionError`
    when no reader reads the states; the message says why each reading failed.
    """
    config = config or ExtractConfig()
    if readers is None:
        readers = WORD_READERS if data.all_words else READERS
    data = _sampled(data, config)
    y_net, hidden = network.run(data.x)
    wrong = _wrong_steps(y_net, data)
    if not wrong.any():
        return _read(network, data, hidden, config, readers)
    return _read_inexact(network, data, hidden, wrong, config, readers)


def _sampled(data: SequenceData, config: ExtractConfig) -> SequenceData:
    """At most ``config.max_sequences`` of ``data``'s sequences. Logs over words are read whole:
    a state or a transition one trace shows is part of the machine, and a sample would leave
    it out."""
    if data.n <= config.max_sequences or data.all_words:
        return data
    rng = np.random.default_rng(config.seed)
    return data.subset(np.sort(rng.choice(data.n, config.max_sequences, replace=False)))


def closed_refinement(
    network: Readable, data: SequenceData, config: ExtractConfig | None = None
) -> StateMachine | None:
    """:func:`~mips.extract.refine.closed_machine` of ``network`` on ``data``; None also when
    the network is not exact on ``data``. Not a reader: a caller offers it only beside an
    unbounded reading whose program it matches."""
    config = config or ExtractConfig()
    data = _sampled(data, config)
    y_net, hidden = network.run(data.x)
    if _wrong_steps(y_net, data).any():
        return None
    ctx = Context(network, _trajectory(network, data, hidden), config)
    return closed_machine(ctx.traj, ctx.classes, config)


def _wrong_steps(y_net: np.ndarray, data: SequenceData) -> np.ndarray:
    """(N, T): the labelled steps where the network's rounded answers ``y_net`` miss ``data``."""
    return (np.rint(y_net).astype(np.int64) != data.y).any(-1) & data.mask


def _trajectory(network: Readable, data: SequenceData, hidden: np.ndarray) -> Trajectory:
    """``network``'s trajectory on ``data`` from its ``hidden`` states (N, T, H)."""
    hidden = np.concatenate([np.zeros((data.n, 1, network.hidden)), hidden], axis=1)
    if data.lengths is None:
        return Trajectory(data.x, data.y, hidden)
    return Trajectory.padded(data.x, data.y, hidden, data.lengths)  # no padding step is data


def _read_inexact(
    network: Readable,
    data: SequenceData,
    hidden: np.ndarray,
    wrong: np.ndarray,
    config: ExtractConfig,
    readers: tuple[Reader, ...],
) -> list[StateMachine]:
    """A network ``wrong`` at some steps (N, T) of ``data``: read by majority, else by the
    readers other than the majority on the sequences it answers right."""
    try:
        return _read(network, data, hidden, config, NEAR_EXACT)
    except ExtractionError as e:
        by_majority = e
    right = np.flatnonzero(~wrong.any(-1))
    if _by_majority_only(readers) or right.size == 0:
        raise ExtractionError(
            f"the network does not reproduce the data exactly, and {by_majority}"
        ) from by_majority
    share = right.size / data.n
    # The majority reading has just seen these states and the wrong ones; on probes of a large
    # alphabet it is also the slowest reader.
    exact_readers = tuple(r for r in readers if r.kind != "majority")
    try:
        found = _read(network, data.subset(right), hidden[right], config, exact_readers)
    except ExtractionError as e:
        raise ExtractionError(
            "the network does not reproduce the data exactly; no machine read by majority "
            f"replays the data, and on the {share:.1%} of sequences it answers right: {e}"
        ) from e
    source = f", on the {share:.1%} of sequences the network answers right"
    return [
        dc_replace(m, reading=dc_replace(m.reading, source=m.reading.source + source))
        for m in found
    ]


def _read(
    network: Readable,
    data: SequenceData,
    hidden: np.ndarray,
    config: ExtractConfig,
    readers: tuple[Reader, ...],
) -> list[StateMachine]:
    """The machines ``readers`` read from ``network``'s ``hidden`` states (N, T, H) on ``data``."""
    ctx = Context(network, _trajectory(network, data, hidden), config)
    found: list[StateMachine] = []
    for reader in readers:
        start, failures = time.perf_counter(), len(ctx.why)
        read = reader.read(ctx, found)
        found += read
        seconds = time.perf_counter() - start
        if read or seconds >= 0.1 or len(ctx.why) > failures:
            what = f"{len(read)} machine(s)" if read else "nothing"
            because = "; ".join(ctx.why[failures:])
            log.info(
                f"extract: {reader.name}: {what} ({seconds:.1f} s)"
                + (f": {because}" if because else "")
            )
    if found:
        return found
    if _by_majority_only(readers):
        raise ExtractionError("no machine read by majority from what it does next replays the data")
    ctx.refused(
        Refusal("no weighted count of the inputs or k-step probe of the network names them")
    )
    raise ExtractionError("no state machine reads the hidden states; " + "; ".join(ctx.why))


def _by_majority_only(readers: tuple[Reader, ...]) -> bool:
    return all(r.kind == "majority" for r in readers)

"""Wrong labels: where a program contradicts the data, which verified program contradicts
fewest, and which contradicted steps are most suspect."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mips.data import SequenceData
from mips.network.artifact import Recurrent
from mips.program import Program
from mips.reading import Attempt

__all__ = ["Contradicted", "Suspect", "contradicted_steps", "fewest_contradictions", "suspects"]


@dataclass(frozen=True, kw_only=True)
class Suspect:
    """A labelled step the program contradicts: where, the label, the program's value, and how
    far the network's real-valued output is from the label (larger: more suspect)."""

    sequence: int
    step: int
    label: tuple[int, ...]
    value: tuple[int, ...]
    distance: float


@dataclass(frozen=True)
class Contradicted:
    """Where a program contradicts the labels: each (sequence, step, label, program's value),
    and how many labelled steps it could not answer (a lookup table without their row)."""

    steps: tuple[tuple[int, int, tuple[int, ...], tuple[int, ...]], ...]
    unanswered: int

    @property
    def count(self) -> int:
        return len(self.steps) + self.unanswered


def contradicted_steps(program: Program, data: SequenceData) -> Contradicted:
    """The labelled steps of ``data`` that ``program`` contradicts or cannot answer."""
    out, answered = program.run_batch(data.x, data.seq_lengths)
    wrong = (out != data.y).any(axis=2) & data.mask & answered[:, None]
    steps = tuple(
        (int(i), int(t), tuple(data.y[i, t].tolist()), tuple(out[i, t].tolist()))
        for i, t in zip(*np.nonzero(wrong), strict=True)
    )
    return Contradicted(steps, int(data.seq_lengths[~answered].sum()))


def fewest_contradictions(attempts: list[Attempt], form: str, data: SequenceData) -> Attempt:
    """Of the verified attempts of ``form``, the first of those contradicting fewest labels."""
    candidates = [a for a in attempts if a.verification.verified and a.program.form == form]
    return min(candidates, key=lambda a: contradicted_steps(a.program, data).count)


def suspects(network: Recurrent, found: Contradicted, data: SequenceData) -> tuple[Suspect, ...]:
    """The labelled steps the chosen program contradicts, most suspect first: those where the
    network's real-valued output lies farthest from the label."""
    y_net, _ = network.run(data.x)
    found_suspects = [
        Suspect(
            sequence=i,
            step=t,
            label=tuple(w),
            value=tuple(g),
            distance=round(float(np.abs(y_net[i, t] - np.asarray(w)).max()), 3),
        )
        for i, t, w, g in found.steps
    ]
    return tuple(sorted(found_suspects, key=lambda s: (-s.distance, s.sequence, s.step)))

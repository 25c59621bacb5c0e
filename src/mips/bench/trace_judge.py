"""The trace judge for word machines: replay fresh traces as far as the training logs speak.

A log of a reactive system only says what the system does in the (state, input word) pairs its
traces exercised; past the first step of a fresh trace whose pair no training trace exercised,
nothing in the logs tells one system from another. So each of 1,000 fresh traces of 1..40 random
input words from reset is judged on its prefix up to (excluding) that first unexercised step, and
the program is never called past it: a program may raise a LookupError on a (state, input) its
logs never showed, and that is the intended behaviour, not a failure. The program is right on a
trace when its output words equal the machine's on the judged prefix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mips.bench.judge import Counterexample
from mips.data import SequenceData

if TYPE_CHECKING:
    from mips.tasks import Program
    from mips.tasks.mealy import MealyTask

__all__ = ["N_TRACES", "TraceJudgement", "exercised", "judge_traces", "judged_length"]

N_TRACES = 1000
MAX_LENGTH = 40


@dataclass(frozen=True, kw_only=True)
class TraceJudgement:
    """The verdict on one program for one word machine, over fresh traces cut where the training
    traces stop saying what the machine does.

    ``n_cut`` traces were cut before their end; ``judged_steps`` of their ``total_steps`` steps
    were judged. ``exercised_pairs`` of the machine's ``total_pairs`` (state, input) pairs occur
    in the training traces.
    """

    task: str
    seed: int
    n_checked: int
    n_wrong: int
    n_cut: int
    judged_steps: int
    total_steps: int
    exercised_pairs: int
    total_pairs: int
    counterexample: Counterexample | None

    def __post_init__(self) -> None:
        if not 0 <= self.n_wrong <= self.n_checked or not 0 <= self.n_cut <= self.n_checked:
            raise ValueError("n_wrong and n_cut must lie in 0..n_checked")
        if not 0 <= self.judged_steps <= self.total_steps:
            raise ValueError("judged_steps must lie in 0..total_steps")
        if (self.counterexample is None) != (self.n_wrong == 0):
            raise ValueError("a counterexample goes with a wrong trace, and only then")

    @property
    def correct(self) -> bool:
        """True when every judged prefix was replayed exactly."""
        return self.n_wrong == 0

    @property
    def mean_prefix(self) -> float:
        """Mean judged prefix length, in steps."""
        return self.judged_steps / max(self.n_checked, 1)

    @property
    def share_judged(self) -> float:
        """The share of the fresh traces' steps that were judged."""
        return self.judged_steps / max(self.total_steps, 1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (plain lists, numbers and strings)."""
        return {
            "correct": self.correct,
            "kind": "traces",
            **dataclasses.asdict(self),
            "mean_prefix": round(self.mean_prefix, 3),
            "share_judged": round(self.share_judged, 4),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TraceJudgement:
        """The judgement ``to_dict`` wrote, less what it derives from the counts."""
        derived = ("correct", "kind", "mean_prefix", "share_judged")
        counts = {k: v for k, v in d.items() if k not in derived}
        example = counts["counterexample"]
        counterexample = None if example is None else Counterexample.from_dict(example)
        judgement = cls(**{**counts, "counterexample": counterexample})
        if d.get("correct") != judgement.correct:
            raise ValueError(f"not a trace judgement of {judgement.task} as to_dict writes one")
        return judgement

    def summary(self) -> str:
        """One line: verdict, wrong/checked and how much of the traces was judged."""
        verdict = "CORRECT" if self.correct else "WRONG"
        return (
            f"{self.task} seed {self.seed}: {verdict} (traces {self.n_wrong}/{self.n_checked} "
            f"wrong, judged up to the first unexercised step: mean prefix "
            f"{self.mean_prefix:.1f} steps, {self.share_judged:.0%} of steps; "
            f"{self.exercised_pairs}/{self.total_pairs} (state, input) pairs exercised)"
        )


def exercised(task: MealyTask, train: SequenceData) -> np.ndarray:
    """(n_states, n_inputs) True for the (state, input word) pairs some training step exercised.

    ``train`` holds word data as :meth:`MealyTask.generate` (or a log file's reader) builds it:
    one input column of words. Raises ValueError for data that are not traces of ``task``.
    """
    vocab = train.x_vocab[0] if train.x_vocab is not None and train.d_in == 1 else None
    if vocab is None:
        raise ValueError(f"{task.name}: training data must have one input column of words")
    unknown = sorted(set(vocab.words) - set(task.inputs))
    if unknown:
        raise ValueError(f"{task.name}: training data hold input words it lacks: {unknown[:5]}")
    to_input = np.array([task.inputs.index(w) for w in vocab.words], dtype=np.int64)
    x = to_input[train.x[:, :, 0]]  # (N, T); padding maps to some input, masked out below
    states, _ = task.run(x)
    seen = np.zeros((task.n_states, task.n_inputs), dtype=bool)
    seen[states[train.mask], x[train.mask]] = True
    return seen


def judged_length(task: MealyTask, seen: np.ndarray, x: np.ndarray) -> int:
    """Steps of trace ``x`` (input indices) before its first (state, input) pair not in ``seen``."""
    states, _ = task.run(x[None])
    known = seen[states[0], x]
    return len(x) if known.all() else int(np.argmin(known))


def _wrong(got: object, want: list[list[str]]) -> str | None:
    """None when ``got`` is the steps ``want``, else why not."""
    if not isinstance(got, list | tuple):
        return f"output is a {type(got).__name__}, not a list of steps"
    if len(got) != len(want):
        return f"output has {len(got)} steps, expected {len(want)}"
    try:
        steps = [list(step) for step in got]
    except TypeError:
        return "output steps are not lists of values"
    return None if steps == want else "wrong values"


def _shown(got: object) -> list | str | None:
    """The program's output as a record can hold it: steps of strings, else its repr."""
    if got is None:
        return None
    if isinstance(got, list | tuple):
        try:
            return [[str(v) for v in step] for step in got]
        except TypeError:
            pass
    return repr(got)[:300]


def judge_traces(
    task: MealyTask, program: Program, seed: int, train: SequenceData
) -> TraceJudgement:
    """Judge ``program`` (steps of input words -> steps of output words) on ``task``, learnt from
    ``train``: 1,000 fresh traces of 1..40 random words from ``seed``, each up to its first step
    whose (state, input) pair ``train`` never exercised."""
    seen = exercised(task, train)
    traces = task.sample(np.random.default_rng(seed), N_TRACES, MAX_LENGTH)
    n_wrong = n_cut = judged = 0
    first: Counterexample | None = None
    for x in traces:
        k = judged_length(task, seen, x)
        judged += k
        n_cut += k < len(x)
        if k == 0:
            continue  # nothing the logs speak for: no call, nothing wrong
        _, out = task.run(x[None, :k])
        seq = [[task.inputs[a]] for a in x[:k].tolist()]
        want = [[task.outputs[o]] for o in out[0].tolist()]
        try:
            got: Any = program(seq)
            reason = _wrong(got, want)
        except Exception as e:  # on an exercised prefix, even a LookupError is a wrong answer
            got, reason = None, f"raised {type(e).__name__}: {' '.join(str(e).split())}"[:300]
        if reason is None:
            continue
        n_wrong += 1
        if first is None:
            first = Counterexample(seq, want, _shown(got), reason)
    return TraceJudgement(
        task=task.name,
        seed=seed,
        n_checked=len(traces),
        n_wrong=n_wrong,
        n_cut=n_cut,
        judged_steps=judged,
        total_steps=sum(len(x) for x in traces),
        exercised_pairs=int(seen.sum()),
        total_pairs=seen.size,
        counterexample=first,
    )

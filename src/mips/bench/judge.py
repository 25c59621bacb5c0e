"""The judge: a program counts as correct only if it matches the task's reference on every check.

Three checks: fresh data at the task length, longer sequences (5x the task length), and, where the
alphabet is small enough, every input sequence of every length 1..L.

Random sequences over a large alphabet seldom go where a wrong program fails: three 99s in a row
come once in about a hundred thousand sequences of 0..99, and exhaustive checking reaches only
length 2 there. So the fresh and the longer checks also run adversarial sequences, at their
length: runs of each extreme symbol (every input at its lowest or highest) inside random
sequences, extremes alternating in blocks, and pairs of symbols repeated (a b a b ...), every
pair where they are few, else the pairs of extremes and a seeded sample of the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mips.tasks import Task
from mips.verify import paused_gc

__all__ = [
    "Check",
    "Counterexample",
    "Judgement",
    "adversarial_inputs",
    "exhaustive_length",
    "extremes",
    "judge",
]

Program = Callable[[list[list[int]]], list[list[int]]]

N_FRESH = 10_000
N_LONGER = 1_000
LONGER_FACTOR = 5
EXHAUSTIVE_BUDGET = 65_000
# Repeated pairs of step symbols at most, at the task length and at the longer length.
MAX_PAIRS = 10_000
MAX_LONGER_PAIRS = 1_000
# Random sequences holding a run of one extreme symbol, per (extreme, run length).
RUN_CONTEXTS = 4
MAX_BLOCK = 4  # extremes alternate in blocks of 1..MAX_BLOCK steps


@dataclass(frozen=True)
class Counterexample:
    """An input the program got wrong: expected and actual output, and why it counts as wrong."""

    input: list
    expected: list
    got: list | str | None  # None when the program raised, a repr when it returned no array
    reason: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Counterexample:
        return cls(**d)


@dataclass(frozen=True, kw_only=True)
class Check:
    """One check: how many sequences (of at most ``length`` steps) ran, how many were wrong."""

    name: str
    length: int
    n_checked: int
    n_wrong: int
    counterexample: Counterexample | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Check:
        example = d["counterexample"]
        counterexample = None if example is None else Counterexample.from_dict(example)
        return cls(**{**d, "counterexample": counterexample})


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """The verdict on one program for one task; ``correct`` means no check found a wrong output."""

    task: str
    seed: int
    fresh: Check
    longer: Check
    exhaustive: Check

    @property
    def checks(self) -> tuple[Check, Check, Check]:
        """The three checks in the order they run."""
        return (self.fresh, self.longer, self.exhaustive)

    @property
    def correct(self) -> bool:
        """True when no check found a wrong output."""
        return all(c.n_wrong == 0 for c in self.checks)

    def to_dict(self) -> dict:
        """A JSON-ready record (plain lists, ints and strings)."""
        return {"correct": self.correct, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Judgement:
        """The judgement ``to_dict`` wrote; its verdict must be the one its checks give."""
        checks = {name: Check.from_dict(d[name]) for name in ("fresh", "longer", "exhaustive")}
        judgement = cls(task=d["task"], seed=d["seed"], **checks)
        if set(d) != {"correct", "task", "seed", *checks} or d["correct"] != judgement.correct:
            raise ValueError(f"not a judgement of {judgement.task} as to_dict writes one")
        return judgement

    def summary(self) -> str:
        """One line: verdict and wrong/checked per check."""
        parts = ", ".join(
            f"{c.name} {c.n_wrong}/{c.n_checked} wrong (T<={c.length})" for c in self.checks
        )
        verdict = "CORRECT" if self.correct else "WRONG"
        return f"{self.task} seed {self.seed}: {verdict} ({parts})"


def exhaustive_length(task: Task) -> int:
    """Largest L with sum over lengths 1..L of alphabet^(d_in * length) <= the budget, or 0."""
    per_step = task.alphabet_size**task.d_in
    total, length = 0, 0
    while total + per_step ** (length + 1) <= EXHAUSTIVE_BUDGET:
        length += 1
        total += per_step**length
    return length


def _all_inputs(task: Task, length: int) -> np.ndarray:
    """Every input sequence of ``length`` steps, (A^(d_in*length), length, d_in), lexicographic."""
    digits = length * task.d_in
    index = np.arange(task.alphabet_size**digits)[:, None]
    place = task.alphabet_size ** np.arange(digits - 1, -1, -1)
    return (index // place % task.alphabet_size + task.low).reshape(-1, length, task.d_in)


def extremes(task: Task) -> np.ndarray:
    """The step symbols with every input at its lowest or highest value, (2^d_in, d_in)."""
    corners = np.array(list(np.ndindex(*(2,) * task.d_in)), dtype=np.int64).reshape(-1, task.d_in)
    return np.where(corners == 1, task.high, task.low)


def adversarial_inputs(task: Task, length: int, max_pairs: int, seed: int) -> np.ndarray:
    """Input sequences of ``length`` steps where random ones seldom go, (n, length, d_in):
    runs of each extreme symbol at random places in random sequences (one per run length and
    context), extremes alternating in blocks of 1..MAX_BLOCK steps, and pairs of step symbols
    repeated (a b a b ...): every ordered pair when there are at most ``max_pairs``, else the
    pairs of extremes and a sample of the others drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    size, corners = task.alphabet_size, extremes(task)
    n_runs = len(corners) * length * RUN_CONTEXTS
    runs = rng.integers(task.low, task.high, (n_runs, length, task.d_in), endpoint=True)
    for i, (corner, run) in enumerate(np.ndindex(len(corners), length)):
        for j in range(RUN_CONTEXTS):
            start = int(rng.integers(0, length - run))
            runs[(i * RUN_CONTEXTS + j), start : start + run + 1] = corners[corner]
    steps = np.arange(length)
    blocks = [
        np.where((steps // b % 2 == 0)[:, None], a, c)
        for b in range(1, MAX_BLOCK + 1)
        for a in corners
        for c in corners
        if (a != c).any()
    ]
    n_symbols = size**task.d_in
    corner_ids = np.unique((corners - task.low) @ size ** np.arange(task.d_in - 1, -1, -1))
    if n_symbols**2 <= max_pairs:
        pairs = np.arange(n_symbols**2)
    else:
        firsts = np.repeat(corner_ids, len(corner_ids)) * n_symbols + np.tile(
            corner_ids, len(corner_ids)
        )
        others = np.setdiff1d(
            rng.choice(n_symbols**2, size=min(n_symbols**2, 2 * max_pairs), replace=False),
            firsts,
            assume_unique=True,
        )
        rng.shuffle(others)
        pairs = np.concatenate([firsts, others[: max(0, max_pairs - len(firsts))]])
    symbols = _all_inputs(task, 1)[:, 0]  # (symbols, d_in), lexicographic: index = code
    a, b = symbols[pairs // n_symbols], symbols[pairs % n_symbols]
    repeated = np.where((steps % 2 == 0)[None, :, None], a[:, None], b[:, None])
    parts = [runs, np.array(blocks).reshape(-1, length, task.d_in), repeated]
    return np.concatenate(parts).astype(np.int64)


def _compare(out: object, want: np.ndarray) -> tuple[np.ndarray | str, str | None]:
    """The output as an array (else its repr), and None if it equals ``want``, else why not."""
    try:
        got = np.asarray(out)
    except ValueError:
        return repr(out)[:300], "output is not a rectangular array"
    if got.dtype.kind not in "biuf":
        return repr(out)[:300], f"output is not numeric (dtype {got.dtype})"
    if got.shape != want.shape:
        return got, f"output shape {got.shape}, expected {want.shape}"
    return got, None if np.array_equal(got, want) else "wrong values"


def _same_lists(out: object, want: list) -> bool:
    """Whether ``out`` is a list equal to ``want`` element by element (False where an element
    is an array, whose comparison has no single truth value)."""
    try:
        return type(out) is list and bool(out == want)
    except ValueError:
        return False


def _run(
    program: Program, x: np.ndarray, expected: np.ndarray
) -> tuple[int, Counterexample | None]:
    """Call the program on each sequence; count the wrong ones and keep the first."""
    n_wrong, first = 0, None
    wanted = expected.tolist()
    for i, seq in enumerate(x.tolist()):
        try:
            out = program(seq)
            # Equal nested lists of numbers are equal as arrays too; the array comparison, which
            # also says why an output is wrong, costs as much as running the program.
            if _same_lists(out, wanted[i]):
                continue
            got, reason = _compare(out, expected[i])
        except Exception as e:  # a crashing program is a wrong program, never a crashed judge
            got, reason = None, f"raised {type(e).__name__}: {' '.join(str(e).split())}"[:300]
        if reason is None:
            continue
        n_wrong += 1
        if first is None:
            shown = got.tolist() if isinstance(got, np.ndarray) else got
            first = Counterexample(x[i].tolist(), expected[i].tolist(), shown, reason)
    return n_wrong, first


def _check(name: str, task: Task, program: Program, xs: list[np.ndarray]) -> Check:
    n_wrong, first = 0, None
    for x in xs:
        wrong, counterexample = _run(program, x, task.reference(x))
        n_wrong += wrong
        first = first or counterexample
    return Check(
        name=name,
        length=max((x.shape[1] for x in xs), default=0),
        n_checked=sum(len(x) for x in xs),
        n_wrong=n_wrong,
        counterexample=first,
    )


def judge(task: Task, program: Program, seed: int) -> Judgement:
    """Judge ``program`` (a list of steps of d_in ints -> steps of d_out ints) on ``task``."""
    fresh_seed, longer_seed, adversarial_seed = np.random.SeedSequence(seed).generate_state(3)
    fresh = task.generate(N_FRESH, int(fresh_seed)).x
    longer_length = LONGER_FACTOR * task.length
    longer = task.generate(N_LONGER, int(longer_seed), length=longer_length).x
    odd_fresh = adversarial_inputs(task, task.length, MAX_PAIRS, int(adversarial_seed))
    odd_longer = adversarial_inputs(task, longer_length, MAX_LONGER_PAIRS, int(adversarial_seed))
    every = [_all_inputs(task, n) for n in range(1, exhaustive_length(task) + 1)]
    # After a synthesis the process holds the networks' and torch's objects, which each full
    # collection walks: in a job that was most of the judgement (Prev5: 2.95 s of 3).
    with paused_gc():
        return Judgement(
            task=task.name,
            seed=seed,
            fresh=_check("fresh", task, program, [fresh, odd_fresh]),
            longer=_check("longer", task, program, [longer, odd_longer]),
            exhaustive=_check("exhaustive", task, program, every),
        )

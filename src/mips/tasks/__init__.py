"""The benchmark's task registry: declared sequence tasks with numpy reference functions, in suites.

Benchmark-only: the synthesizer never imports this package (see DESIGN.md, "the one rule").
Three suites (:data:`SUITES`): the paper's 62 tasks in :mod:`mips.tasks.definitions`, our own
generality suite in :mod:`mips.tasks.generality`, and the protocols suite of Mealy machines over
words in :mod:`mips.tasks.protocols` (each a :class:`~mips.tasks.mealy.MealyTask`); this module
holds the machinery. A suite's tasks may be of any type that answers :class:`SuiteTask` (generate
data, judge a program), so the runner treats integer tasks and word machines alike.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mips.data import SequenceData

if TYPE_CHECKING:
    from mips.bench.judge import Judgement

__all__ = [
    "DEFAULT_N",
    "SUITES",
    "Program",
    "SuiteTask",
    "Task",
    "Verdict",
    "all_tasks",
    "get_task",
    "suite_n",
    "suite_task_names",
    "suite_tasks",
]

# An emitted program: a list of steps, each a list of d_in values, to a list of steps of d_out.
Program = Callable[[list[list[Any]]], list[list[Any]]]
# Training sequences per (task, seed) job, unless the suite's module declares N_TRAIN.
DEFAULT_N = 4000


class Verdict(Protocol):
    """What a judge returns: the verdict, one line saying it, and a JSON-ready record."""

    @property
    def correct(self) -> bool: ...

    def summary(self) -> str: ...

    def to_dict(self) -> dict: ...


class SuiteTask(Protocol):
    """What the runner and the command line ask of a suite's task, whatever its type."""

    @property
    def name(self) -> str: ...

    @property
    def family(self) -> str | None: ...

    @property
    def summary(self) -> str: ...

    @property
    def doc(self) -> str: ...

    def listing(self) -> dict[str, str]: ...

    def generate(self, n: int, seed: int, length: int | None = None) -> SequenceData: ...

    def judge(self, program: Program, seed: int, train: SequenceData) -> Verdict: ...


# A rule gets int64 inputs, (N, T) when d_in == 1 else (N, T, d_in), and returns integer outputs,
# (N, T) when d_out == 1 else (N, T, d_out). Squeezing the singleton dimension keeps rules short.
Rule = Callable[[np.ndarray], np.ndarray]
# A sampler draws inputs (n, T, d_in) for a task whose inputs are not i.i.d. uniform.
Sampler = Callable[[np.random.Generator, int, int], np.ndarray]


@dataclass(frozen=True)
class Task:
    """One benchmark task: input alphabet ``low..high`` (inclusive, every input dim), length, rule.

    ``example_x`` / ``example_y`` hold a worked example (one entry per step: an int when the
    dimension is 1, else a tuple), normalised to tuples of per-step tuples.
    """

    name: str
    d_in: int
    d_out: int
    low: int
    high: int
    length: int
    rule: Rule
    summary: str
    example_x: tuple
    example_y: tuple
    source: str
    sampler: Sampler | None = None
    family: str | None = None  # the generality suite's family; None for the paper's 62

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"task name must be an identifier, got {self.name!r}")
        if self.d_in < 1 or self.d_out < 1 or self.length < 1:
            raise ValueError(f"{self.name}: d_in, d_out and length must be >= 1")
        if self.low > self.high:
            raise ValueError(f"{self.name}: empty input range {self.low}..{self.high}")
        for field, dim in (("example_x", self.d_in), ("example_y", self.d_out)):
            steps = tuple(
                tuple(int(v) for v in s) if isinstance(s, Sequence) else (int(s),)
                for s in getattr(self, field)
            )
            if not steps or any(len(s) != dim for s in steps):
                raise ValueError(f"{self.name}: {field} needs steps of {dim} ints")
            object.__setattr__(self, field, steps)
        if len(self.example_x) != len(self.example_y):
            raise ValueError(f"{self.name}: example_x and example_y differ in length")
        if any(not self.low <= v <= self.high for s in self.example_x for v in s):
            raise ValueError(f"{self.name}: example_x leaves the range {self.low}..{self.high}")

    @property
    def alphabet_size(self) -> int:
        """Number of values each input dimension takes."""
        return self.high - self.low + 1

    @property
    def doc(self) -> str:
        """Human description: the rule, the input alphabet and a worked example."""

        def show(steps: tuple) -> str:
            return str([s[0] if len(s) == 1 else list(s) for s in steps])

        return (
            f"{self.name}: {self.summary}\n"
            f"Input: {self.d_in} int(s) per step in {self.low}..{self.high}; "
            f"output: {self.d_out} int(s) per step; length T = {self.length}.\n"
            f"Example: x = {show(self.example_x)}\n"
            f"      -> y = {show(self.example_y)}\n"
            + (
                f"Source: tasks/{self.source} of ejmichaud/neural-verification (commit 79413f0)."
                if self.family is None
                else f"Source: {self.source}, family {self.family}."
            )
        )

    def reference(self, x: np.ndarray) -> np.ndarray:
        """Targets (N, T, d_out) int64 for integer inputs (N, T, d_in), any T >= 1."""
        x = np.asarray(x)
        if x.ndim == 2 and self.d_in == 1:
            x = x[:, :, None]
        if x.ndim != 3 or x.shape[2] != self.d_in or x.shape[1] < 1:
            raise ValueError(
                f"{self.name}: x must have shape (N, T >= 1, {self.d_in}), got {x.shape}"
            )
        if x.dtype.kind not in "iub":
            raise ValueError(f"{self.name}: x must hold integers, got dtype {x.dtype}")
        x = x.astype(np.int64)
        y = np.asarray(self.rule(x[:, :, 0] if self.d_in == 1 else x), dtype=np.int64)
        return y.reshape(x.shape[0], x.shape[1], self.d_out)

    def listing(self) -> dict[str, str]:
        """The columns ``mips tasks`` shows for this task."""
        return {
            "input range": f"{self.low}..{self.high}",
            "T": str(self.length),
            "d_in": str(self.d_in),
            "d_out": str(self.d_out),
            "family": self.family or "-",
        }

    def judge(self, program: Program, seed: int, train: SequenceData | None = None) -> Judgement:
        """Judge ``program`` against the reference (see :func:`mips.bench.judge.judge`); the
        training data do not matter: every input sequence is fair game."""
        from mips.bench.judge import judge

        return judge(self, program, seed)

    def generate(self, n: int, seed: int, length: int | None = None) -> SequenceData:
        """``n`` sequences from the task's input distribution, deterministic for ``seed``."""
        length = self.length if length is None else length
        if n < 1 or length < 1:
            raise ValueError(f"need n >= 1 and length >= 1, got n={n}, length={length}")
        rng = np.random.default_rng(seed)
        if self.sampler is None:
            x = rng.integers(self.low, self.high, size=(n, length, self.d_in), endpoint=True)
        else:
            x = self.sampler(rng, n, length)
        return SequenceData(x, self.reference(x))


# Suite name -> the module whose TASKS declares it; "benchmark" (the paper's 62) comes first.
SUITES: dict[str, str] = {
    "benchmark": "mips.tasks.definitions",
    "generality": "mips.tasks.generality",
    "protocols": "mips.tasks.protocols",
}


def _module(name: str) -> Any:
    # Imported on first use so that `import mips.tasks` does no work and the declaring modules
    # can import Task from here without a cycle.
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; the suites are {', '.join(SUITES)}")
    return importlib.import_module(SUITES[name])


def suite_n(suite: str) -> int:
    """Training sequences per job for ``suite``: its module's N_TRAIN, else DEFAULT_N."""
    return int(getattr(_module(suite), "N_TRAIN", DEFAULT_N))


@functools.cache
def _suite(name: str) -> dict[str, SuiteTask]:
    declared = _module(name).TASKS
    suite = {t.name: t for t in declared}
    if len(suite) != len(declared):
        raise ValueError(f"duplicate task names in {SUITES[name]}")
    return suite


@functools.cache
def _registry() -> dict[str, SuiteTask]:
    """Every task of every suite by name; a name may belong to one suite only."""
    registry: dict[str, SuiteTask] = {}
    for name in SUITES:
        suite = _suite(name)
        if clash := set(suite) & set(registry):
            raise ValueError(f"suite {name!r} reuses task names: {', '.join(sorted(clash))}")
        registry.update(suite)
    return registry


def suite_tasks(suite: str = "benchmark") -> list[SuiteTask]:
    """The tasks of ``suite`` in declaration order; unknown suites raise ValueError."""
    return list(_suite(suite).values())


def all_tasks() -> list[Task]:
    """All benchmark tasks, in the row order of TASKS.md table 1a (the generality suite aside)."""
    return suite_tasks("benchmark")


def get_task(name: str) -> SuiteTask:
    """The task called ``name``, in any suite; unknown names raise KeyError suggesting close names."""
    registry = _registry()
    if name in registry:
        return registry[name]
    raise KeyError(
        f"unknown task {name!r}{_close(name, registry)} (all_tasks() lists the "
        f"{len(_suite('benchmark'))} benchmark tasks; the other suites have "
        f"{sum(len(_suite(s)) for s in SUITES if s != 'benchmark')} more)"
    )


def suite_task_names(suite: str, spec: str | None = None) -> list[str]:
    """Comma-separated names in ``spec``, each checked against ``suite``; None means all of it.

    Raises ValueError, with one line saying what is wrong, for an unknown suite, an empty
    ``spec`` or a name that is not in the suite.
    """
    tasks = _suite(suite)
    if spec is None:
        return list(tasks)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise ValueError(f"no task names given in {spec!r}")
    for name in names:
        if name not in tasks:
            elsewhere = [s for s in SUITES if name in _suite(s)]
            where = f" (it is in suite {elsewhere[0]!r})" if elsewhere else _close(name, tasks)
            raise ValueError(f"unknown task {name!r} in suite {suite!r}{where}")
    return names


def _close(name: str, tasks: dict[str, SuiteTask]) -> str:
    """'; did you mean A, B?' for names close to ``name``, or ''."""
    by_lower = {n.lower(): n for n in tasks}
    close = difflib.get_close_matches(name.lower(), by_lower, n=5, cutoff=0.6)
    return f"; did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""

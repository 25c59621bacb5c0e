"""Mealy machines over words as tasks: the task, random minimal machines, and the machine of a step
function over readable states.

A :class:`MealyTask` generates traces from reset (each a word sequence of uniformly random input
words and the machine's output words, with word vocabularies built exactly as the CSV and JSON
Lines readers build them) and judges a program by replaying fresh traces up to their first step
that no training trace exercised (:mod:`mips.bench.trace_judge`).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mips.data import SequenceData

if TYPE_CHECKING:
    from mips.bench.trace_judge import TraceJudgement
    from mips.tasks import Program

__all__ = ["FAMILIES", "MAX_TRAIN_LENGTH", "MealyTask", "Step", "explore", "random_mealy"]

# A machine's family: how it was made.
FAMILIES: dict[str, str] = {
    "random": "random minimal Mealy machines, every state reachable",
    "protocol": "machines written from protocol specifications",
}
SOURCE = "mips protocols suite (mips.tasks.protocols)"
# The longest training trace: logs of short sessions from reset.
MAX_TRAIN_LENGTH = 20


@dataclass(frozen=True, eq=False)  # eq=False: compared and hashed by identity, as arrays do not
class MealyTask:
    """A Mealy machine over words: ``transition[s, a]`` is the next state and ``output[s, a]``
    the index in ``outputs`` of the word emitted, from state ``s`` on input word ``inputs[a]``.
    State 0 is the initial (reset) state; ``states`` names the states.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    states: tuple[str, ...]
    transition: np.ndarray  # (n_states, n_inputs) int64
    output: np.ndarray  # (n_states, n_inputs) int64
    summary: str
    family: str
    example: tuple[str, ...]
    source: str = SOURCE

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"task name must be an identifier, got {self.name!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family must be one of {', '.join(FAMILIES)}")
        for what, words in (("inputs", self.inputs), ("outputs", self.outputs)):
            words = tuple(words)
            if (
                not words
                or len(set(words)) != len(words)
                or not all(isinstance(w, str) and w for w in words)
            ):
                raise ValueError(f"{self.name}: {what} must be distinct non-empty words")
            object.__setattr__(self, what, words)
        shape = (len(self.states), len(self.inputs))
        for what, bound in (("transition", len(self.states)), ("output", len(self.outputs))):
            a = np.array(getattr(self, what), dtype=np.int64)
            if a.shape != shape:
                raise ValueError(f"{self.name}: {what} must have shape {shape}, got {a.shape}")
            if a.min() < 0 or a.max() >= bound:
                raise ValueError(f"{self.name}: {what} holds indices outside 0..{bound - 1}")
            a.setflags(write=False)
            object.__setattr__(self, what, a)
        if any(w not in self.inputs for w in self.example) or not self.example:
            raise ValueError(f"{self.name}: the example must be a non-empty list of input words")
        object.__setattr__(self, "example", tuple(self.example))

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    @property
    def doc(self) -> str:
        """Human description: the machine's size, its words and a worked example."""
        return (
            f"{self.name}: {self.summary}\n"
            f"{self.n_states} states; inputs: {', '.join(self.inputs)}; "
            f"outputs: {', '.join(self.outputs)}.\n"
            f"Example: x = {list(self.example)}\n"
            f"      -> y = {self.respond(self.example)}\n"
            f"Source: {self.source}, family {self.family}."
        )

    def listing(self) -> dict[str, str]:
        """The columns ``mips tasks`` shows for this task."""
        return {
            "states": str(self.n_states),
            "inputs": str(self.n_inputs),
            "outputs": str(self.n_outputs),
            "T": f"1..{MAX_TRAIN_LENGTH}",
            "family": self.family,
        }

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """States before each step and outputs, both (N, T), for input indices ``x`` (N, T)."""
        x = np.asarray(x, dtype=np.int64)
        states = np.zeros(x.shape, dtype=np.int64)
        outputs = np.zeros(x.shape, dtype=np.int64)
        state = np.zeros(x.shape[0], dtype=np.int64)
        for t in range(x.shape[1]):
            states[:, t] = state
            outputs[:, t] = self.output[state, x[:, t]]
            state = self.transition[state, x[:, t]]
        return states, outputs

    def respond(self, words: Sequence[str]) -> list[str]:
        """The output words for one trace of input words from reset."""
        index = {w: a for a, w in enumerate(self.inputs)}
        _, out = self.run(np.array([[index[w] for w in words]], dtype=np.int64))
        return [self.outputs[o] for o in out[0].tolist()]

    def sample(self, rng: np.random.Generator, n: int, longest: int) -> list[np.ndarray]:
        """``n`` traces of input indices, lengths uniform in 1..``longest``, words uniform."""
        lengths = rng.integers(1, longest, size=n, endpoint=True)
        x = rng.integers(0, self.n_inputs, size=(n, longest))
        return [x[i, :k] for i, k in enumerate(lengths.tolist())]

    def generate(self, n: int, seed: int, length: int | None = None) -> SequenceData:
        """``n`` traces from reset of 1..``length`` (default 20) random input words, as words.

        The data are built by the CSV / JSON Lines readers' own assembly, so a program learns from
        what a user's log file of the same traces would give: sorted word vocabularies of the
        words that occur, ragged lengths.
        """
        from mips.formats import from_rows

        longest = MAX_TRAIN_LENGTH if length is None else length
        if n < 1 or longest < 1:
            raise ValueError(f"need n >= 1 and length >= 1, got n={n}, length={longest}")
        traces = self.sample(np.random.default_rng(seed), n, longest)
        rows = []
        for x in traces:
            _, y = self.run(x[None])
            rows.append(
                ([[self.inputs[a]] for a in x.tolist()], [[self.outputs[o]] for o in y[0].tolist()])
            )
        return from_rows(rows, f"<{self.name} traces>")

    def judge(self, program: Program, seed: int, train: SequenceData) -> TraceJudgement:
        """Replay fresh traces up to their first step no trace of ``train`` exercised."""
        from mips.bench.trace_judge import judge_traces

        return judge_traces(self, program, seed, train)

    def reachable(self) -> np.ndarray:
        """(n_states,) True for the states some input sequence reaches from state 0."""
        seen = np.zeros(self.n_states, dtype=bool)
        seen[0] = True
        frontier = [0]
        while frontier:
            nxt = np.unique(self.transition[frontier].reshape(-1))
            frontier = nxt[~seen[nxt]].tolist()
            seen[frontier] = True
        return seen

    def equivalence_classes(self) -> np.ndarray:
        """(n_states,) class ids of Moore's partition refinement: equal ids, equal behaviour."""
        # Start from the output rows, then split by the classes of the successors until stable.
        classes = np.unique(self.output, axis=0, return_inverse=True)[1].reshape(-1)
        while True:
            keys = np.concatenate([classes[:, None], classes[self.transition]], axis=1)
            refined = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
            if refined.max() == classes.max():
                return refined
            classes = refined

    def is_minimal(self) -> bool:
        """True when no two states behave alike on every input sequence."""
        return int(self.equivalence_classes().max()) + 1 == self.n_states


def random_mealy(
    n_states: int, n_inputs: int, n_outputs: int, seed: int, name: str | None = None
) -> MealyTask:
    """A random minimal Mealy machine with every state reachable, deterministic for ``seed``.

    Each state after the initial one hangs off a random free (state, input) slot of a state
    placed before it (a random spanning tree from the initial state); the other transitions go
    to uniform random states. Outputs are uniform, with each output word used at least once. A
    machine that is not minimal is re-drawn from the next stream of the seed.
    """
    if n_states < 1 or n_inputs < 1 or n_outputs < 1:
        raise ValueError("a machine needs at least one state, input and output")
    if n_outputs > n_states * n_inputs:
        raise ValueError(f"{n_outputs} outputs cannot all occur on {n_states * n_inputs} cells")
    name = name or f"R_Mealy_{n_states}s_{n_inputs}i_{n_outputs}o"
    for attempt in itertools.count():
        rng = np.random.default_rng([seed, attempt])
        transition = rng.integers(0, n_states, size=(n_states, n_inputs))
        free = [(0, a) for a in range(n_inputs)]
        for s in range(1, n_states):
            parent, a = free.pop(int(rng.integers(len(free))))
            transition[parent, a] = s
            free.extend((s, b) for b in range(n_inputs))
        output = rng.integers(0, n_outputs, size=(n_states, n_inputs))
        cells = rng.choice(n_states * n_inputs, size=n_outputs, replace=False)
        output.reshape(-1)[cells] = np.arange(n_outputs)
        example = tuple(f"i{a:02d}" for a in rng.integers(0, n_inputs, size=6).tolist())
        task = MealyTask(
            name=name,
            inputs=tuple(f"i{a:02d}" for a in range(n_inputs)),
            outputs=tuple(f"o{o:02d}" for o in range(n_outputs)),
            states=tuple(f"s{s}" for s in range(n_states)),
            transition=transition,
            output=output,
            summary=(
                f"random minimal Mealy machine, {n_states} states, {n_inputs} inputs, "
                f"{n_outputs} outputs (seed {seed}, draw {attempt})"
            ),
            family="random",
            example=example,
        )
        if task.is_minimal():
            return task
    raise AssertionError("unreachable")


Step = Callable[[Hashable, str], tuple[Hashable, str]]


def explore(
    name: str,
    summary: str,
    inputs: Sequence[str],
    initial: Hashable,
    step: Step,
    example: Sequence[str],
    show: Callable[[Hashable], str] = str,
) -> MealyTask:
    """The machine of ``step`` (state, input word) -> (next state, output word) from ``initial``,
    its states numbered in breadth-first order, so every state is reachable by construction."""
    index: dict[Hashable, int] = {initial: 0}
    rows: list[list[tuple[Hashable, str]]] = []
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        row = [step(state, word) for word in inputs]
        for nxt, _ in row:
            if nxt not in index:
                index[nxt] = len(index)
                queue.append(nxt)
        rows.append(row)
    outputs = tuple(sorted({out for row in rows for _, out in row}))
    code = {w: o for o, w in enumerate(outputs)}
    return MealyTask(
        name=name,
        inputs=tuple(inputs),
        outputs=outputs,
        states=tuple(show(s) for s in index),
        transition=np.array([[index[nxt] for nxt, _ in row] for row in rows]),
        output=np.array([[code[out] for _, out in row] for row in rows]),
        summary=summary,
        family="protocol",
        example=tuple(example),
    )

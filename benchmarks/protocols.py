"""The data-only peer on the protocols suite: AALpy's RPNI beside mips, same traces, same judge.

For each Mealy machine of the protocols suite (or the names given), RPNI learns a Mealy machine
from exactly the training traces a ``mips bench --suite protocols`` job of the same seed gets
(3,000 traces of 1..20 words), and the suite's trace judge replays 1,000 fresh traces with the
bench job's judge seed, each up to its first step no training trace exercised. A model lacking a
transition on a judged prefix gets that trace wrong. RPNI runs in a child process and is
stopped after ``--timeout`` seconds per machine: on traces that do not characterise a large
machine it merges wrongly early and then promotes state after state. With ``--mips-results``, the
table shows mips's figures from that run's records beside RPNI's.

Usage: python benchmarks/protocols.py [TASK ...] [--seed 0] [--timeout 120]
                                      [--mips-results DIR/results.jsonl]
Needs AALpy (pip install -e '.[peer]').
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mips.bench.record import BenchRecord
from mips.bench.runner import judge_seed, read_results
from mips.bench.trace_judge import TraceJudgement
from mips.data import SequenceData
from mips.tasks import suite_n, suite_task_names, suite_tasks
from mips.tasks.mealy import MealyTask

SUITE = "protocols"


@dataclass(frozen=True)
class PeerResult:
    """RPNI on one machine: the learned model's size, the judge's verdict, learning seconds;
    ``judgement`` is None when RPNI did not finish in time."""

    states: int | None
    judgement: TraceJudgement | None
    seconds: float


def data(task: MealyTask, seed: int) -> SequenceData:
    """The training traces of the bench job of ``task`` and ``seed``."""
    return task.generate(suite_n(SUITE), seed)


def machine_program(task: MealyTask):
    """The machine itself as a program over word steps."""
    return lambda seq: [[word] for word in task.respond([step[0] for step in seq])]


def rpni_data(data: SequenceData) -> list[tuple[tuple[str, ...], str]]:
    """The traces as RPNI's Mealy samples: each input prefix with the output of its last step
    (AALpy's Mealy RPNI needs the data prefix-closed)."""
    x_words, y_words = data.x_vocab[0].words, data.y_vocab[0].words
    samples = []
    for x, y in data.sequences():
        inputs = tuple(x_words[step[0]] for step in x)
        samples += [(inputs[: t + 1], y_words[step[0]]) for t, step in enumerate(y)]
    return samples


def as_program(model: Any):
    """The learned Mealy machine as a program over word steps; a missing transition raises
    KeyError, which the judge counts as a wrong trace."""

    def program(seq: list[list[str]]) -> list[list[str]]:
        state, out = model.initial_state, []
        for (word,) in seq:
            out.append([state.output_fun[word]])
            state = state.transitions[word]
        return out

    return program


def run_rpni(task: MealyTask, seed: int) -> PeerResult:
    """Learn from the bench job's training traces, judge as the bench job judges."""
    from aalpy.learning_algs import run_RPNI

    train = data(task, seed)
    start = time.perf_counter()
    model = run_RPNI(rpni_data(train), automaton_type="mealy", print_info=False)
    seconds = time.perf_counter() - start
    if model is None:  # AALpy's answer to contradictory data, which a machine's traces never are
        raise RuntimeError(f"{task.name}: RPNI found the traces non-deterministic")
    judgement = task.judge(as_program(model), judge_seed(seed), train)
    return PeerResult(len(model.states), judgement, seconds)


def _child(conn, name: str, seed: int) -> None:
    tasks = {t.name: t for t in suite_tasks(SUITE)}
    conn.send(run_rpni(tasks[name], seed))
    conn.close()


def run_rpni_limited(task: MealyTask, seed: int, timeout: float) -> PeerResult:
    """:func:`run_rpni` in a child process, killed after ``timeout`` seconds."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(theirs, task.name, seed))
    start = time.perf_counter()
    process.start()
    theirs.close()
    try:
        if ours.poll(timeout):
            return ours.recv()
        return PeerResult(None, None, time.perf_counter() - start)
    except EOFError:
        raise RuntimeError(f"{task.name}: the RPNI process died") from None
    finally:
        process.kill()
        process.join()


def mips_cells(record: BenchRecord | None) -> tuple[str, str, str]:
    """mips's replayed traces, seconds and a note, from its bench record."""
    if record is None:
        return "-", "-", "not run"
    seconds = record.seconds.total
    shown = "-" if seconds is None else f"{float(seconds):.0f}"
    judgement = record.judgement
    if isinstance(judgement, TraceJudgement):
        replayed = f"{judgement.n_checked - judgement.n_wrong}/{judgement.n_checked}"
    else:
        replayed = "-"
    note = "" if record.correct else f"{record.failed_stage}: {record.reason}"
    return replayed, shown, " ".join(str(note).split())[:80].replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="machines of the protocols suite (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="the bench job's seed")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds RPNI may take")
    parser.add_argument(
        "--mips-results", type=Path, help="results.jsonl of a mips bench --suite protocols run"
    )
    args = parser.parse_args()
    try:
        import aalpy  # noqa: F401
    except ImportError:
        sys.exit(
            "benchmarks/protocols.py needs AALpy, which is not installed: pip install -e '.[peer]'"
        )
    try:
        names = suite_task_names(SUITE, ",".join(args.tasks) if args.tasks else None)
    except ValueError as e:
        sys.exit(f"error: {e}")
    tasks = {t.name: t for t in suite_tasks(SUITE)}
    mips: dict[str, BenchRecord] = {}
    if args.mips_results is not None:
        for record in read_results(args.mips_results):
            if record.seed == args.seed:
                mips.setdefault(record.task, record)

    print(
        "| machine | states | inputs | outputs | pairs exercised | judged steps "
        "| RPNI states | RPNI replayed | RPNI s | mips replayed | mips s | mips note |"
    )
    print("|---|" + "---:|" * 10 + "---|")
    summary: list[dict] = []
    for name in names:
        task = tasks[name]
        peer = run_rpni_limited(task, args.seed, args.timeout)
        j = peer.judgement
        # The machine itself as the program: what the judge checks, whoever answers.
        reference = task.judge(machine_program(task), judge_seed(args.seed), data(task, args.seed))
        if j is None:
            rpni = f"- | timed out | >{args.timeout:.0f}"
        else:
            rpni = f"{peer.states} | {j.n_checked - j.n_wrong}/{j.n_checked} | {peer.seconds:.1f}"
        replayed, mips_seconds, note = mips_cells(mips.get(name))
        print(
            f"| {name} | {task.n_states} | {task.n_inputs} | {task.n_outputs} "
            f"| {reference.exercised_pairs}/{reference.total_pairs} "
            f"| {reference.share_judged:.0%} "
            f"| {rpni} | {replayed} | {mips_seconds} | {note} |",
            flush=True,
        )
        correct = j is not None and j.correct
        summary.append({"task": name, "states": task.n_states, "rpni_correct": correct})
    small = [s for s in summary if s["states"] <= 100]
    large = [s for s in summary if s["states"] > 100]
    print()
    print(
        f"RPNI replays every judged trace on {sum(s['rpni_correct'] for s in small)}/{len(small)} "
        f"machines of up to 100 states and {sum(s['rpni_correct'] for s in large)}/{len(large)} "
        "of 101-200 states."
    )
    if args.mips_results is not None:
        done = [mips[s["task"]] for s in summary if s["task"] in mips]
        print(f"mips: {sum(bool(r.get('correct')) for r in done)}/{len(done)} run judged correct.")


if __name__ == "__main__":
    main()

"""Benchmark sequences of different lengths: each task's data cut to random lengths 3..10.

For each task, the task's data are generated as for ``mips bench`` and every sequence is cut to a
length drawn uniformly from 3..10 (never more than the task's own length); the synthesizer sees
only these ragged data. The program is then judged exactly as the benchmark judges it, on fresh
full-length data, longer sequences and every short sequence: a correct program generalises from
the short traces.

Usage: python benchmarks/ragged.py [TASK ...] [--n 4000] [--seed 0] [--jobs 1]
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from common import task_args

from mips.bench.judge import judge
from mips.bench.runner import judge_seed
from mips.data import SequenceData
from mips.pipeline import SynthConfig, synthesize
from mips.tasks import all_tasks, get_task

SHORTEST, LONGEST = 3, 10


def ragged(data: SequenceData, seed: int) -> SequenceData:
    """``data`` with each sequence cut to a random length in SHORTEST..LONGEST."""
    rng = np.random.default_rng([seed, 16])
    lengths = np.minimum(rng.integers(SHORTEST, LONGEST + 1, data.n), data.length)
    return SequenceData(data.x, data.y, lengths)


def run_one(name: str, n: int, seed: int) -> tuple[str, bool, str, float]:
    """Task name, judged correct, the form or the failing stage, seconds."""
    task = get_task(name)
    data = ragged(task.generate(n, seed), seed)
    t0 = time.perf_counter()
    synthesis = synthesize(data, SynthConfig(seed=seed))
    if not synthesis.ok:
        return name, False, f"failed: {synthesis.failed_stage}", time.perf_counter() - t0
    verdict = judge(task, synthesis.program, judge_seed(seed))
    what = synthesis.form if verdict.correct else f"judged wrong ({verdict.summary()[:80]})"
    return name, verdict.correct, what, time.perf_counter() - t0


def main() -> None:
    args = task_args(__doc__)
    names = args.tasks or [t.name for t in all_tasks()]
    print(f"{'task':<28} {'correct':<8} {'result':<40} {'seconds':>8}")
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, name, args.n, args.seed) for name in names]
        for future in futures:
            name, correct, what, seconds = future.result()
            rows.append(correct)
            print(
                f"{name:<28} {'yes' if correct else 'NO':<8} {what:<40} {seconds:8.1f}", flush=True
            )
    print(
        f"total: {sum(rows)}/{len(rows)} correct from sequences cut to {SHORTEST}..{LONGEST} steps"
    )


if __name__ == "__main__":
    main()

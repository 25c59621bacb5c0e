"""Benchmark a few wrong labels: 0.1% of each task's labels changed at random.

For each task, the task's data are generated as for ``mips bench`` and 0.1% of the labelled
steps get a wrong output (one output value moved to another value of the task's output range, or
by one when the range is a single value). The synthesizer runs with ``max_label_errors`` 0.002 and
the program is judged as the benchmark judges it, on fresh clean data. Reported per task: judged
correct, and the share of the changed labels that are among the synthesis's suspects.

Usage: python benchmarks/noisy.py [TASK ...] [--n 4000] [--seed 0] [--jobs 1]
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

FLIP = 0.001
ALLOWED = 0.002


def flipped(data: SequenceData, seed: int) -> tuple[SequenceData, set[tuple[int, int]]]:
    """``data`` with FLIP of its steps given a wrong output, and those (sequence, step)."""
    rng = np.random.default_rng([seed, 3])
    n_flip = max(1, round(FLIP * data.steps))
    cells = rng.choice(data.n * data.length, n_flip, replace=False)
    y = data.y.copy()
    lo, hi = data.y.min(axis=(0, 1)), data.y.max(axis=(0, 1))
    for c in cells.tolist():
        i, t = divmod(c, data.length)
        j = int(rng.integers(data.d_out))
        old = int(y[i, t, j])
        choices = [v for v in range(int(lo[j]), int(hi[j]) + 1) if v != old][:1000]
        y[i, t, j] = int(rng.choice(choices)) if choices else old + 1
    return SequenceData(data.x, y), {divmod(c, data.length) for c in cells.tolist()}


def run_one(name: str, n: int, seed: int) -> tuple[str, bool, str, int, float, float]:
    """Task, judged correct, form or failing stage, labels flipped, share found, seconds."""
    task = get_task(name)
    data, changed = flipped(task.generate(n, seed), seed)
    t0 = time.perf_counter()
    synthesis = synthesize(data, SynthConfig(seed=seed, max_label_errors=ALLOWED))
    seconds = time.perf_counter() - t0
    if not synthesis.ok:
        return name, False, f"failed: {synthesis.failed_stage}", len(changed), 0.0, seconds
    suspects = {(s.sequence, s.step) for s in synthesis.suspects}
    found = len(changed & suspects) / len(changed)
    verdict = judge(task, synthesis.program, judge_seed(seed))
    what = synthesis.form if verdict.correct else "judged wrong"
    what += f", {len(suspects)} suspects"
    return name, verdict.correct, what, len(changed), found, seconds


def main() -> None:
    args = task_args(__doc__)
    names = args.tasks or [t.name for t in all_tasks()]
    print(f"{'task':<28} {'correct':<8} {'result':<32} {'flipped':>7} {'found':>6} {'seconds':>8}")
    correct, shares = 0, []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, name, args.n, args.seed) for name in names]
        for future in futures:
            name, ok, what, n_flip, found, seconds = future.result()
            correct += ok
            shares.append(found)
            print(
                f"{name:<28} {'yes' if ok else 'NO':<8} {what:<32} {n_flip:>7} {found:>6.0%} "
                f"{seconds:8.1f}",
                flush=True,
            )
    print(
        f"total: {correct}/{len(names)} correct with {FLIP:.1%} of labels flipped "
        f"(max_label_errors {ALLOWED}); flipped labels among the suspects: mean "
        f"{np.mean(shares):.0%}, tasks at >= 90%: {sum(s >= 0.9 for s in shares)}/{len(names)}"
    )


if __name__ == "__main__":
    main()

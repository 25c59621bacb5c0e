"""Benchmark the network stage alone: hidden size found vs the authors', seconds per task.

Usage: python benchmarks/network.py [TASK ...] [--n 4000] [--seed 0] [--device cpu] [--jobs 2]

With --jobs J, J tasks train at once in separate processes (one core each); seconds are per task.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from mips.bench.peers import load_peers
from mips.network.search import NoExactNetwork, SearchConfig, search
from mips.network.train import TrainConfig
from mips.tasks import all_tasks, get_task


def run_one(name: str, n: int, seed: int, config: SearchConfig) -> tuple[int | None, str, float]:
    """Hidden size (None if nothing was exact), architecture and seconds for one task."""
    data = get_task(name).generate(n, seed)
    t0 = time.perf_counter()
    try:
        net = search(data, config)
        hidden, arch = net.hidden, net.arch.describe()
    except NoExactNetwork:
        hidden, arch = None, "none exact"
    return hidden, arch, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="task names (default: all 62)")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--jobs", type=int, default=1, help="tasks trained at once")
    args = parser.parse_args()
    tasks = [get_task(t) for t in args.tasks] if args.tasks else all_tasks()
    peers = load_peers().tasks
    config = SearchConfig(seed=args.seed, train=TrainConfig(device=args.device))
    times, no_larger, exact = [], 0, 0
    print(f"{'task':26} {'ours':>4} {'authors':>7}  {'architecture':28} {'seconds':>8}")
    t_start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = [pool.submit(run_one, t.name, args.n, args.seed, config) for t in tasks]
        for task, run in zip(tasks, runs, strict=True):
            hidden, arch, seconds = run.result()
            times.append(seconds)
            theirs = peers[task.name].authors_hidden
            no_larger += hidden is not None and hidden <= theirs
            exact += hidden is not None
            print(
                f"{task.name:26} {hidden or '-':>4} {theirs:>7}  {arch:28} {seconds:8.1f}",
                flush=True,
            )
    print(
        f"{len(tasks)} tasks: exact on {exact}, hidden size <= authors' on {no_larger}; "
        f"median {statistics.median(times):.1f} s, total {sum(times):.0f} s, "
        f"wall {time.perf_counter() - t_start:.0f} s with {args.jobs} job(s)"
    )


if __name__ == "__main__":
    main()

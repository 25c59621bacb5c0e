"""Benchmark the network stage alone: hidden size found vs the authors', seconds per task.

Usage: python benchmarks/network.py [TASK ...] [--n 4000] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

from mips.bench.report import load_peers
from mips.network.search import NoExactNetwork, SearchConfig, search
from mips.network.train import TrainConfig
from mips.tasks import all_tasks, get_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="task names (default: all 62)")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    tasks = [get_task(t) for t in args.tasks] if args.tasks else all_tasks()
    peers = load_peers()["tasks"]
    config = SearchConfig(seed=args.seed, train=TrainConfig(device=args.device))
    times, no_larger = [], 0
    print(f"{'task':26} {'ours':>4} {'authors':>7}  {'architecture':28} {'seconds':>8}")
    for task in tasks:
        data = task.generate(args.n, args.seed)
        t0 = time.perf_counter()
        try:
            net = search(data, config)
            hidden, arch = net.hidden, net.arch.describe()
        except NoExactNetwork:
            hidden, arch = None, "none exact"
        seconds = time.perf_counter() - t0
        times.append(seconds)
        theirs = peers[task.name]["authors_hidden"]
        no_larger += hidden is not None and hidden <= theirs
        print(
            f"{task.name:26} {hidden or '-':>4} {theirs:>7}  {arch:28} {seconds:8.1f}", flush=True
        )
    print(
        f"{len(tasks)} tasks: hidden size <= authors' on {no_larger}; "
        f"median {statistics.median(times):.1f} s, total {sum(times):.0f} s"
    )


if __name__ == "__main__":
    main()

"""Benchmark the state-machine stage: network, simplify and extract per task, then replay.

For each task the machines are read from the training split only; the first one that replays the
held-out split without a single wrong output is reported (the data's outputs, and so the
network's, which is exact on them), preferring one with no more state variables than the
network has hidden units, with the share of held-out sequences it could replay (the others use a
transition the training split never showed and no affine rule of the machine covers), its kind,
its number of state variables against the network's hidden size, and seconds.

Usage: python benchmarks/extract.py [TASK ...] [--n 4000] [--seed 0] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from mips.extract import ExtractionError, extract
from mips.network.search import NoExactNetwork, SearchConfig, search_ranked
from mips.simplify import simplify
from mips.tasks import all_tasks, get_task


def run_one(
    name: str, n: int, seed: int
) -> tuple[int | None, int | None, float, str, float, str | None]:
    """Hidden size, state variables, held-out cover, reading, seconds, and why the cover is
    short of 100% when it is, for one task."""
    data = get_task(name).generate(n, seed)
    config = SearchConfig(seed=seed)
    train, heldout = data.split(config.test_fraction, seed)
    t0 = time.perf_counter()
    reading, n_vars, hidden, cover, why = "-", None, None, 0.0, None
    try:
        network = search_ranked(train, heldout, config)[0]
        hidden = network.hidden
        simplified = simplify(network, train)
        for net in (simplified.network, network):
            try:
                machines = extract(net, train)
            except ExtractionError as e:
                reading = f"none: {e}"
                continue
            replays = [(m, _replay(m, heldout)) for m in machines]
            good = [(m, c) for m, c in replays if c is not None]
            if good:
                m, cover = min(good, key=lambda mc: mc[0].n_vars > hidden)
                reading, n_vars = f"{m.kind}: {m.reading.describe()}", m.n_vars
                why = m.check(heldout)
                break
            reading = "no machine replays the held-out split"
    except NoExactNetwork:
        reading = "no exact network"
    return hidden, n_vars, cover, reading, time.perf_counter() - t0, why


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="task names (default: all 62)")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="tasks run at once")
    args = parser.parse_args()
    tasks = [get_task(t) for t in args.tasks] if args.tasks else all_tasks()
    replayed = full = within_hidden = most_vars = 0
    short: list[str] = []
    print(f"{'task':26} {'hidden':>6} {'vars':>4} {'cover':>5}  {'reading':48} {'seconds':>7}")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = [pool.submit(run_one, t.name, args.n, args.seed) for t in tasks]
        for task, run in zip(tasks, runs, strict=True):
            hidden, n_vars, cover, reading, seconds, why = run.result()
            if why is not None:
                short.append(f"{task.name}: {why}")
            if n_vars is not None:
                replayed += 1
                full += cover == 1.0
                within_hidden += n_vars <= hidden
                most_vars = max(most_vars, n_vars)
            print(
                f"{task.name:26} {hidden or '-':>6} {'-' if n_vars is None else n_vars:>4} "
                f"{cover:5.0%}  {reading[:48]:48} {seconds:7.1f}",
                flush=True,
            )
    print(
        f"{len(tasks)} tasks: a machine never wrong on the held-out split on {replayed} "
        f"({full} replaying all of it), with no more variables than hidden units on "
        f"{within_hidden}; most variables {most_vars}"
    )
    for line in short:
        print(line)


def _replay(machine, heldout) -> float | None:
    """Share of held-out sequences replayed, or None if any replayed output is wrong."""
    out, known = machine.replay(heldout.x)
    if not np.array_equal(out[known], heldout.y[known]):
        return None
    return float(known.mean())


if __name__ == "__main__":
    main()

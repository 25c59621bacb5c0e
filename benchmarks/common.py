"""What the per-task benchmark scripts share: their command line."""

import argparse


def task_args(doc: str) -> argparse.Namespace:
    """Task names (default: all 62), --n sequences, --seed and --jobs, parsed from sys.argv."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="task names (default: all 62)")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    return parser.parse_args()

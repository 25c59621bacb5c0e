"""Generate examples/coffee/traces.jsonl: random input traces of a coffee machine (a Mealy machine).

An example-side script, like the benchmark's task definitions: the synthesizer never imports it.
It only sees the traces, words and all, and must find a program that replays them.

The machine: a coin buys one coffee. ``coin`` when a coin is already in gives ``error`` (the
coin comes back), else ``nothing``; ``button`` with a coin in gives ``coffee``, without one
``nothing``; ``clean`` gives ``nothing``, but ``error`` while a coin is in (it would be lost).

    .venv/bin/python examples/coffee/generate.py          # rewrites traces.jsonl (seed 0)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

INPUTS = ("coin", "button", "clean")


def coffee_machine(inputs: list[str]) -> list[str]:
    """The machine's output for each input, starting with no coin in."""
    paid, out = False, []
    for a in inputs:
        if a == "coin":
            out.append("error" if paid else "nothing")
            paid = True
        elif a == "button":
            out.append("coffee" if paid else "nothing")
            paid = False
        else:  # clean
            out.append("error" if paid else "nothing")
    return out


def traces(n: int, seed: int, max_length: int = 30) -> list[dict[str, list[str]]]:
    """``n`` traces of uniformly random inputs, each of a random length 1..``max_length``."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x = [rng.choice(INPUTS) for _ in range(rng.randint(1, max_length))]
        out.append({"x": x, "y": coffee_machine(x)})
    return out


def main() -> None:
    path = Path(__file__).with_name("traces.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for rec in traces(600, seed=0):
            f.write(json.dumps(rec) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

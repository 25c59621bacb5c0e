"""Benchmark mips explain on small causal transformers trained the usual way, beside AALpy's L*.

Models: the issue's CausalTransformer (a linear embedding, learned positions, pre-norm encoder
layers under a causal mask, a linear head) with 1 or 2 layers and d_model 16 to 64, trained on
each of the 7 Tomita grammars (per-prefix acceptance, argmax over 2 classes, 16 steps) and on 14
benchmark and generality tasks with small alphabets (10 steps), counters and sums among them
(``round(out)``), with Adam at 3e-3, batches of 64, until every training label is right or 1,000
steps. ``max_len`` is twice the training length: the positions past it were never trained.

Each model that fits its training data (sequence accuracy >= 99.9%) is read by ``mips.explain``
(its data: the training inputs and labels); its report compares the program with the model on
2,000 fresh sequences of the training length, on longer ones up to ``max_len`` and on every short
sequence. AALpy's L* (when installed: pip install 'mips[peer]') reads the same model as a Mealy
machine, with the same oracle budget as benchmarks/explain.py, never querying past ``max_len``
and stopped after 10 s; both are checked on fresh sequences of the training length and every
sequence of length 12 (or the longest with at most 4,096 sequences).

One JSON record per model is appended to results/explain_transformers/<date>-<commit>.jsonl as it
finishes, and a summary is printed at the end.

Usage: OMP_NUM_THREADS=1 python benchmarks/explain_transformers.py [NAME ...] [--seed 0]
       [--no-lstar] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch
from explain import MINIMAL, TOMITA, fit, results_file, tomita_data

from mips.data import SequenceData
from mips.explanation import ExplainError, explain
from mips.network.foreign import encode
from mips.network.transformer import CausalTransformer, TransformerNetwork, from_transformer
from mips.tasks import get_task
from mips.verify import load_program

# Task -> output; "round" for counts and sums, which no finite automaton computes at any length.
TASKS = {
    "Parity_Last2": "argmax",
    "Parity_Last3": "argmax",
    "Bitwise_Xor": "argmax",
    "Bit_Shift_Right": "argmax",
    "Alternating_Last3": "argmax",
    "Max_Seen": "round",
    "Min_Seen": "round",
    "Majority_0_1": "argmax",
    "Evens_Counter": "round",
    "G_Bit_Balance_Positive": "argmax",
    "G_Ones_At_Least_Twos": "argmax",
    "G_Sum_Since_Zero": "round",
    "G_Count_Since_Zero": "round",
    "G_Sum_Above_10": "argmax",
}
COUNTERS = {"Evens_Counter", "G_Sum_Since_Zero", "G_Count_Since_Zero"}
# (layers, d_model, heads, ff) per model, cycled.
SHAPES = ((1, 32, 2, 64), (2, 16, 2, 32), (1, 64, 4, 128), (2, 32, 4, 64))
N, STEPS, FIT = 2000, 1000, 0.999
LSTAR_SECONDS = 10
CHECK_LENGTH, FRESH = 12, 2000


def one_hot_symbols(data: SequenceData) -> tuple[tuple[int, ...], ...]:
    """Each input column's symbols: the models see their inputs one-hot, as tokens."""
    return tuple(tuple(np.unique(data.x[..., j]).tolist()) for j in range(data.d_in))


def train(data: SequenceData, shape: tuple[int, int, int, int], output: str, seed: int):
    """A module trained by the usual recipe; its share of sequences right on the training data."""
    layers, d_model, heads, ff = shape
    torch.manual_seed(seed)
    classes = int(data.y.max()) + 1 if output == "argmax" else data.d_out
    symbols = one_hot_symbols(data)
    d_in = sum(map(len, symbols))
    module = CausalTransformer(d_in, d_model, heads, layers, ff, 2 * data.length, classes)
    x = torch.tensor(encode(data.x, symbols))
    right = fit(module, x, torch.tensor(data.y), output, classes, steps=STEPS, every=100)
    return module.eval(), float(right.all(-1).float().mean())


def checks(net: TransformerNetwork, data: SequenceData, run, rng) -> tuple[float, float]:
    """Share of sequences where ``run`` agrees with the model at every step: FRESH fresh ones of
    the training length (inputs drawn from the data's steps), and every one of a length."""
    rows = data.x.reshape(-1, data.d_in)
    symbols = np.unique(rows, axis=0)
    length = max(1, int(np.log(2**CHECK_LENGTH) / np.log(len(symbols)) + 1e-9))
    every = symbols[np.array(list(itertools.product(range(len(symbols)), repeat=length)))]
    fresh = rows[rng.integers(len(rows), size=(FRESH, data.length))]
    shares = []
    for x in (fresh, every):
        want = net.predict(x).tolist()
        agree = sum(run(seq) == w for seq, w in zip(x.tolist(), want, strict=True))
        shares.append(agree / len(x))
    return shares[0], shares[1]


def lstar(net: TransformerNetwork, symbols: np.ndarray, seed: int):
    """AALpy's L* with the model as its system under learning, each step a run of the prefix;
    past max_len it answers a constant, never running the model there. A model whose untrained
    positions answer erratically can keep L* adding states for minutes: it stops after
    LSTAR_SECONDS, and (None, None, seconds) says so."""
    import random

    from aalpy.base import SUL
    from aalpy.learning_algs import run_Lstar
    from aalpy.oracles import RandomWMethodEqOracle

    class PrefixSUL(SUL):
        def pre(self):
            self.prefix = []

        def post(self):
            pass

        def step(self, letter):
            if time.perf_counter() > deadline:
                raise TimeoutError
            self.prefix.append(symbols[letter])
            if len(self.prefix) > net.max_len:
                return "past max_len"
            x = np.array(self.prefix, dtype=np.float64)[None]
            return tuple(net.predict(x)[0, -1].tolist())

    random.seed(seed)
    sul = PrefixSUL()
    alphabet = list(range(len(symbols)))
    oracle = RandomWMethodEqOracle(alphabet, sul, walks_per_state=20, walk_len=12)
    t0 = time.perf_counter()
    deadline = t0 + LSTAR_SECONDS
    try:
        model = run_Lstar(alphabet, sul, oracle, "mealy", max_learning_rounds=25, print_level=0)
    except TimeoutError:
        return None, None, time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    index = {tuple(s): i for i, s in enumerate(symbols.tolist())}

    def run(seq):
        model.reset_to_initial()
        return [list(model.step(index[tuple(row)])) for row in seq]

    return len(model.states), run, seconds


def one(name: str, index: int, seed: int, with_lstar: bool, read_all: bool) -> dict:
    rng = np.random.default_rng(seed)
    if name.startswith("Tomita"):
        data, output = tomita_data(int(name.split("_")[1]), rng), "argmax"
    else:
        data, output = get_task(name).generate(N, seed), TASKS[name]
    shape = SHAPES[index % len(SHAPES)]
    t0 = time.perf_counter()
    module, accuracy = train(data, shape, output, seed)
    layers, d_model, heads, ff = shape
    row = {
        "name": name,
        "model": f"transformer {layers}x{d_model} ({heads} heads, ff {ff})",
        "output": output,
        "length": data.length,
        "max_len": 2 * data.length,
        "accuracy": accuracy,
        "fits": accuracy >= FIT,
        "train_s": round(time.perf_counter() - t0, 2),
    }
    if name.startswith("Tomita"):
        row["minimal_states"] = MINIMAL[int(name.split("_")[1])]
    net = from_transformer(module, output, one_hot_symbols(data))
    if not row["fits"] and not read_all:
        row["mips_s"], row["mips_form"] = 0.0, "not read: does not fit"
        return row
    t0 = time.perf_counter()
    try:
        e = explain(net, data)
    except ExplainError as error:  # a regression head that does not answer integers
        row["mips_s"] = round(time.perf_counter() - t0, 2)
        row["mips_form"], row["mips_reason"] = "refused", str(error)
        return row
    row["mips_s"] = round(time.perf_counter() - t0, 2)
    if e.ok:
        machine = e.machine
        visited = np.unique(np.concatenate([machine.z_prev, machine.z_next]), axis=0)
        row["mips_states"] = len(visited)
        row["mips_kind"] = machine.kind
        row["mips_reading"] = machine.reading.describe()
        row["mips_form"] = e.chosen.program.form
        row["mips_checks"] = [c.describe() for c in e.fidelity.checks]
        row["mips_limits"] = list(e.fidelity.limits)
        row["mips_counterexample"] = next((c.describe() for c in e.fidelity.counterexamples), None)
        fresh = e.fidelity.checks[0]
        row["mips_agree_fresh"] = 1 - fresh.disagreeing / fresh.sequences
        run = load_program(e.source)
        row["mips_fresh"], row["mips_every"] = checks(net, data, run, rng)
        row["program"] = e.source.split('"""', 2)[2].strip()
    else:
        row["mips_form"] = "failed"
        row["mips_reason"] = (e.reason or "")[:300]
    if with_lstar:
        symbols = np.unique(data.x.reshape(-1, data.d_in), axis=0)
        states, run, seconds = lstar(net, symbols, seed)
        row["lstar_states"], row["lstar_s"] = states, round(seconds, 2)
        if run is None:
            row["lstar_states"] = f"none in {LSTAR_SECONDS} s"
        else:
            row["lstar_fresh"], row["lstar_every"] = checks(net, data, run, rng)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="Tomita_K or task names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-lstar", action="store_true", help="skip AALpy's L*")
    parser.add_argument(
        "--read-all", action="store_true", help="read models that do not fit their data too"
    )
    parser.add_argument("--out", type=Path, help="results file (default: results/...)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with_lstar = not args.no_lstar
    if with_lstar:
        try:
            import aalpy  # noqa: F401
        except ImportError:
            print("AALpy is not installed: L* is left out (pip install 'mips[peer]')")
            with_lstar = False
    names = args.names or [f"Tomita_{k}" for k in TOMITA] + list(TASKS)
    out = args.out or results_file("explain_transformers")
    out.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"{'model':<24} {'shape':<30} {'acc':>6} | {'states':>6} {'form':<8} {'fresh':>7} "
        f"{'every':>7} {'s':>5} | {'L* st':>6} {'fresh':>7} {'every':>7} {'s':>5}"
    )
    rows = []
    for i, name in enumerate(names):
        r = one(name, i, args.seed, with_lstar, args.read_all)
        r["seed"] = args.seed
        rows.append(r)
        with out.open("a") as f:
            f.write(json.dumps(r) + "\n")
        minimal = f" (min {r['minimal_states']})" if "minimal_states" in r else ""
        print(
            f"{name + minimal:<24} {r['model']:<30} {r['accuracy']:>6.1%} | "
            f"{str(r.get('mips_states', '-')):>6} {r['mips_form'][:8]:<8} "
            f"{r.get('mips_fresh', 0):>7.2%} {r.get('mips_every', 0):>7.2%} {r['mips_s']:>5.1f} | "
            f"{str(r.get('lstar_states', '-')):>6} {r.get('lstar_fresh', 0):>7.2%} "
            f"{r.get('lstar_every', 0):>7.2%} {r.get('lstar_s', 0):>5.1f}",
            flush=True,
        )
    fit = [r for r in rows if r["fits"]]
    read = [r for r in fit if r.get("mips_fresh", 0) >= FIT]
    formulas = [r for r in read if r["mips_form"] == "formula"]
    tomita = [r for r in read if "minimal_states" in r]
    minimal = [r for r in tomita if r["mips_states"] == r["minimal_states"]]
    counters = [r for r in read if r["name"] in COUNTERS]
    print(
        f"{len(fit)}/{len(rows)} models fit their training data; {len(read)}/{len(fit)} of those "
        f"read as a program agreeing with the model on >= {FIT:.1%} of fresh sequences "
        f"({len(formulas)} as formulas; Tomita: {len(minimal)}/{len(tomita)} minimal; "
        f"counters and sums: {len(counters)}/{sum(r['name'] in COUNTERS for r in fit)}); "
        f"mips {np.mean([r['mips_s'] for r in rows]):.1f} s per model on average, "
        f"{max(r['mips_s'] for r in rows):.1f} s at most; results: {out}"
    )
    if with_lstar:
        agree = sum(r.get("lstar_fresh", 0) >= FIT for r in fit)
        print(
            f"L*: a Mealy machine agreeing on >= {FIT:.1%} of fresh sequences for {agree}/{len(fit)}"
            f" fitting models, {np.mean([r.get('lstar_s', 0) for r in fit]):.1f} s on average"
        )


if __name__ == "__main__":
    main()

"""Benchmark mips explain against AALpy's L* on networks trained the usual way, outside mips.

Networks: a GRU, an LSTM and an Elman RNN on each of the 7 Tomita grammars (per-prefix
acceptance, argmax over 2 classes), and one network on each of 12 benchmark tasks with small
alphabets (round(out)), cycling through the three cells; hidden sizes 16 to 64, 1 or 2 layers,
Adam at 3e-3, batches of 64, until every training label is right or 3,000 steps.

Each network is read twice: by ``mips.explain`` (its data: the training inputs and labels) and by
AALpy's L* (a Mealy machine, the network as the system under learning, a random W-method
equivalence oracle). Both are then compared with the network on the same sequences: every
sequence of length 12 (so every prefix up to 12; with more symbols, the longest length with at
most 4,096 sequences) and 10,000 random ones of length 50.

One JSON record per network is appended to results/explain/<date>-<commit>.jsonl as it is read.

Usage: python benchmarks/explain.py [NAME ...] [--seed 0] [--no-lstar] [--out FILE]
       (L* needs the optional dependency: pip install 'mips[peer]')
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from mips.data import SequenceData
from mips.explanation import explain
from mips.network.foreign import ForeignNetwork, from_module
from mips.tasks import get_task
from mips.verify import load_program

# Tomita grammars as DFAs over {0, 1}: transitions[state][symbol], accepting states; state 0
# starts and the last state of the rejecting ones is a sink where there is one.
TOMITA = {
    1: ([[1, 0], [1, 1]], {0}),  # 1*
    2: ([[2, 1], [0, 2], [2, 2]], {0}),  # (10)*
    3: ([[0, 1], [2, 0], [3, 4], [2, 1], [4, 4]], {0, 1, 3}),  # no odd 1-run then odd 0-run
    4: ([[1, 0], [2, 0], [3, 0], [3, 3]], {0, 1, 2}),  # no 000
    5: ([[2, 1], [3, 0], [0, 3], [1, 2]], {0}),  # even 0s and even 1s
    6: ([[1, 2], [2, 0], [0, 1]], {0}),  # (#0 - #1) mod 3 == 0
    7: ([[0, 1], [2, 1], [2, 3], [4, 3], [4, 4]], {0, 1, 2, 3}),  # 0*1*0*1*
}
MINIMAL = {1: 2, 2: 3, 3: 5, 4: 4, 5: 4, 6: 3, 7: 5}
TASKS = (
    "Binary_Addition", "Bitwise_Xor", "Parity_Last2", "Parity_Last3", "Parity_All",
    "Parity_Zeros", "Add_Mod_3", "Div_3", "Alternating_Last3", "Bit_Shift_Right",
    "Max_Seen", "Majority_0_1",
)  # fmt: skip
CELLS = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}
# (cell, hidden, layers) per network, cycled.
SHAPES = (("gru", 32, 1), ("lstm", 64, 1), ("rnn", 16, 2))
LENGTH, N = 16, 2000
CHECK_LENGTH, RANDOM, RANDOM_LENGTH = 12, 10_000, 50
LSTAR_SECONDS = 60


class Net(torch.nn.Module):
    """The module people train: a recurrent cell and a linear head."""

    def __init__(self, cell, d_in, hidden, layers, d_out):
        super().__init__()
        self.rnn = cell(d_in, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def tomita_data(k: int, rng: np.random.Generator) -> SequenceData:
    """Per-prefix acceptance on strings that stay out of the sink about half of the time: half
    uniform, half drawn by a walk that prefers symbols leading to accepting states."""
    trans, accept = TOMITA[k]
    x = rng.integers(0, 2, (N, LENGTH))
    for i in range(N // 2):
        state = 0
        for t in range(LENGTH):
            good = [s for s in (0, 1) if trans[state][s] in accept]
            if good and rng.random() < 0.9:
                x[i, t] = good[rng.integers(len(good))]
            state = trans[state][x[i, t]]
    y = np.empty_like(x)
    for i in range(N):
        state = 0
        for t in range(LENGTH):
            state = trans[state][x[i, t]]
            y[i, t] = state in accept
    return SequenceData(x[..., None], y[..., None])


def train(data: SequenceData, shape: tuple[str, int, int], output: str, seed: int):
    """A module trained by the usual recipe; its share of right labels on the training data."""
    cell, hidden, layers = shape
    torch.manual_seed(seed)
    d_out = 2 if output == "argmax" else data.d_out
    module = Net(CELLS[cell], data.d_in, hidden, layers, d_out)
    x = torch.tensor(data.x, dtype=torch.float32)
    right = fit(module, x, torch.tensor(data.y), output, 2, steps=3000, every=250)
    return module, float(right.float().mean())


def fit(module, x, y, output: str, classes: int, steps: int, every: int) -> torch.Tensor:
    """Train ``module`` by Adam on batches of 64 sequences of ``x`` (N, T, d) for labels ``y``
    (N, T, d_out), up to ``steps`` steps or the first check (every ``every`` steps) at which it
    answers every step of every sequence; (N, T) True where it did at the last check."""
    opt = torch.optim.Adam(module.parameters(), 3e-3)
    right = torch.zeros(y.shape[:2], dtype=torch.bool)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (64,))
        out = module(x[idx])
        if output == "argmax":
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, classes), y[idx].reshape(-1))
        else:
            loss = torch.nn.functional.mse_loss(out, y[idx].float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0:
            with torch.no_grad():
                out = module(x)
            got = out.argmax(-1, keepdim=True) if output == "argmax" else out.round()
            right = (got == y).all(-1)
            if right.all():
                break
    return right


def checks(net: ForeignNetwork, symbols: np.ndarray, run, rng) -> tuple[float, float]:
    """Share of sequences where ``run`` (a list of input rows -> a list of output rows) agrees
    with the network at every step: every one of a length, and RANDOM random ones."""
    # 4,096 sequences of one length: length 12 for 2 symbols, 6 for 4.
    length = max(1, int(np.log(2**CHECK_LENGTH) / np.log(len(symbols)) + 1e-9))
    every = np.array(list(itertools.product(range(len(symbols)), repeat=length)))
    random = rng.integers(0, len(symbols), (RANDOM, RANDOM_LENGTH))
    shares = []
    for ids in (every, random):
        x = symbols[ids]
        want = net.predict(x).tolist()
        agree = sum(run(seq) == w for seq, w in zip(x.tolist(), want, strict=True))
        shares.append(agree / len(x))
    return shares[0], shares[1]


def lstar(net: ForeignNetwork, symbols: np.ndarray, seed: int):
    """AALpy's L* with the network as its system under learning: (states, runner, seconds). A
    network whose states drift can keep L* adding states for many minutes: it stops after
    LSTAR_SECONDS, and (None, None, seconds) says so."""
    from aalpy.base import SUL
    from aalpy.learning_algs import run_Lstar
    from aalpy.oracles import RandomWMethodEqOracle

    class NetworkSUL(SUL):
        def pre(self):
            self.h = np.zeros((1, net.hidden))

        def post(self):
            pass

        def step(self, letter):
            if time.perf_counter() > deadline:
                raise TimeoutError
            self.h = net.step(self.h, np.array([symbols[letter]], dtype=np.float64))
            return tuple(np.rint(net.readout(self.h))[0].astype(int).tolist())

    import random

    random.seed(seed)
    sul = NetworkSUL()
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


def one(name: str, seed: int, with_lstar: bool) -> dict:
    rng = np.random.default_rng(seed)
    if name.startswith("Tomita"):
        k, cell = int(name.split("_")[1]), name.split("_")[2]
        data, output = tomita_data(k, rng), "argmax"
        shape = next(s for s in SHAPES if s[0] == cell)
    else:
        data, output = get_task(name).generate(N, seed), "round"
        shape = SHAPES[TASKS.index(name) % len(SHAPES)]
    t0 = time.perf_counter()
    module, accuracy = train(data, shape, output, seed)
    row = {"name": name, "net": f"{shape[0]} {shape[2]}x{shape[1]}", "acc": accuracy}
    row["train_s"] = time.perf_counter() - t0
    net = from_module(module, output)
    symbols = np.unique(data.x.reshape(-1, data.d_in), axis=0)
    t0 = time.perf_counter()
    e = explain(net, data)
    row["mips_s"] = time.perf_counter() - t0
    if e.ok:
        machine = e.machine
        # Distinct states the machine was read to visit: a lattice of two bits mod 2 has 4.
        visited = np.unique(np.concatenate([machine.z_prev, machine.z_next]), axis=0)
        row["mips_states"] = len(visited)
        row["mips_kind"] = machine.kind
        row["mips_form"] = e.chosen.program.form
        row["mips_faithful"] = e.faithful
        row["mips_every"], row["mips_random"] = checks(net, symbols, load_program(e.source), rng)
    else:
        row["mips_form"] = "failed: " + (e.reason or "")[:60]
    if with_lstar:
        states, run, seconds = lstar(net, symbols, seed)
        row["lstar_states"], row["lstar_s"] = states, seconds
        if run is None:
            row["lstar_states"] = f"none in {LSTAR_SECONDS} s"
        else:
            row["lstar_every"], row["lstar_random"] = checks(net, symbols, run, rng)
    return row


def results_file(suite: str) -> Path:
    """results/<suite>/<date>-<commit>.jsonl beside this script's repository."""
    root = Path(__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    day = datetime.date.today().isoformat()
    return root / "results" / suite / f"{day}-{commit or 'unknown'}.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="Tomita_K_CELL or task names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-lstar", action="store_true", help="skip AALpy's L*")
    parser.add_argument("--out", type=Path, help="results file (default: results/...)")
    args = parser.parse_args()
    out = args.out or results_file("explain")
    out.parent.mkdir(parents=True, exist_ok=True)
    names = args.names or [
        f"Tomita_{k}_{cell}" for k in TOMITA for cell in ("gru", "lstm", "rnn")
    ] + list(TASKS)
    head = (
        f"{'network':<26} {'cell':<10} {'acc':>6} | {'states':>6} {'form':<8} {'<=12':>6} "
        f"{'rand50':>6} {'s':>5} | {'L* st':>6} {'<=12':>6} {'rand50':>6} {'s':>6}"
    )
    print(head)
    rows = []
    for name in names:
        r = one(name, args.seed, not args.no_lstar) | {"seed": args.seed}
        rows.append(r)
        with out.open("a") as f:
            f.write(json.dumps(r) + "\n")
        minimal = ""
        if name.startswith("Tomita"):
            minimal = f" (min {MINIMAL[int(name.split('_')[1])]})"
        print(
            f"{name + minimal:<26} {r['net']:<10} {r['acc']:>6.1%} | "
            f"{str(r.get('mips_states', '-')):>6} {r['mips_form'][:8]:<8} "
            f"{r.get('mips_every', 0):>6.1%} {r.get('mips_random', 0):>6.1%} {r['mips_s']:>5.1f} | "
            f"{str(r.get('lstar_states', '-')):>6} {r.get('lstar_every', 0):>6.1%} "
            f"{r.get('lstar_random', 0):>6.1%} {r.get('lstar_s', 0):>6.1f}",
            flush=True,
        )
    tomita = [r for r in rows if r["name"].startswith("Tomita")]
    minimal_read = sum(
        r.get("mips_states") == MINIMAL[int(r["name"].split("_")[1])] for r in tomita
    )
    tasks = [r for r in rows if not r["name"].startswith("Tomita")]
    print(
        f"Tomita: minimal machine read from {minimal_read}/{len(tomita)} networks; "
        f"tasks: a formula for {sum(r['mips_form'] == 'formula' for r in tasks)}/{len(tasks)}; "
        f"mips {np.mean([r['mips_s'] for r in rows]):.1f} s per network on average; "
        f"results: {out}"
    )


if __name__ == "__main__":
    main()

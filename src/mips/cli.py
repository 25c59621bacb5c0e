"""The ``mips`` command line: thin commands that parse options, call the library and print.

Torch-using modules are imported inside the commands, so ``mips --help`` stays instant. A bad data
file is one ``error:`` line on stderr and exit status 2; nothing is written until a run succeeds.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mips import __version__
from mips.console import (
    check_contradictions,
    check_device,
    check_out_file,
    data_errors,
    fail,
    job_bar,
    print_explanation,
    print_program,
    print_summary,
    print_suspects,
    progress_bars,
    say,
    stdout,
    suspects_csv,
    write_pictures,
    write_text,
    writing,
)
from mips.data import FORMATS, DataError, SequenceData

if TYPE_CHECKING:
    from mips.tasks import Task


app = typer.Typer(
    name="mips",
    help=(
        "Turn integer input/output sequence data into a verified Python program: train the "
        "smallest exact RNN, read its state machine, regress formulas, emit and verify code."
    ),
    no_args_is_help=True,
    add_completion=False,
)


class Device(StrEnum):
    """Where the network trains."""

    cpu = "cpu"
    cuda = "cuda"


class Backend(StrEnum):
    """How benchmark jobs run."""

    local = "local"
    ray = "ray"


FORMATS_HELP = (
    "Data file: .npz (integer arrays x (N, T, d_in) and y (N, T, d_out); 2-D means dimension 1), "
    ".csv (columns seq, x or x0.., y or y0..; one row per step) or .jsonl "
    '(one {"x": [...], "y": [...]} per line), chosen by suffix.'
)
DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help=FORMATS_HELP + " Give this or --task.", show_default=False),
]
TaskOpt = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="Benchmark task to generate data from instead of --data (list: mips tasks).",
        show_default=False,
    ),
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed for data generation, the split and training.")
]
NOpt = Annotated[
    int,
    typer.Option("--n", min=2, help="Sequences to generate with --task (ignored with --data)."),
]
DeviceOpt = Annotated[
    Device, typer.Option("--device", help="Train on the CPU or a CUDA GPU (cuda needs one).")
]
MaxHiddenOpt = Annotated[
    int, typer.Option("--max-hidden", min=1, help="Largest RNN hidden size the search tries.")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mips {__version__}")
        raise typer.Exit()


def _known_task(name: str) -> Task:
    """The benchmark task ``name``, or one error line naming the known ones."""
    from mips.tasks import get_task

    try:
        return get_task(name)
    except KeyError as e:
        fail(str(e.args[0]).replace("all_tasks()", "mips tasks"))


def _input_data(
    data: Path | None, task: str | None, n: int, seed: int
) -> tuple[SequenceData, Task | None]:
    """The sequences to learn from: a data file, or ``n`` fresh ones from a benchmark task."""
    if (data is None) == (task is None):
        fail("give exactly one of --data FILE or --task NAME")
    if task is not None:
        t = _known_task(task)
        return t.generate(n, seed), t
    with data_errors():
        seqs = SequenceData.load(data)
        if seqs.n < 2:
            raise DataError(f"{data}: {seqs.n} sequence; need at least 2 to hold some out")
    return seqs, None


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Program synthesis by mechanistic interpretability (arXiv 2402.05110)."""


SuiteOpt = Annotated[
    str,
    typer.Option(
        "--suite",
        help="Task suite: benchmark (the paper's 62) or generality (our own, outside the 62).",
    ),
]


@app.command()
def tasks(suite: SuiteOpt = "benchmark") -> None:
    """List a suite's tasks: name, input range (each input dim), length T, d_in, d_out, family."""
    from mips.tasks import suite_tasks

    try:
        everything = suite_tasks(suite)
    except ValueError as e:
        fail(str(e))
    table = Table(title=f"{suite.capitalize()} tasks")
    for column in ("name", "input range", "T", "d_in", "d_out", "family"):
        table.add_column(column, justify="left" if column == "name" else "right", no_wrap=True)
    for t in everything:
        row = (t.name, f"{t.low}..{t.high}", t.length, t.d_in, t.d_out, t.family or "-")
        table.add_row(*map(str, row))
    stdout.print(table)
    say(f"{len(everything)} tasks")


@app.command()
def data(
    task: Annotated[str, typer.Argument(help="Benchmark task name (list: mips tasks).")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help=f"File to write; the suffix picks the format ({', '.join(FORMATS)}).",
            show_default=False,
        ),
    ],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of sequences.")] = 4000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed; the same seed gives the same data.")
    ] = 0,
    length: Annotated[
        int | None,
        typer.Option(
            "--length", min=1, help="Steps per sequence (default: the task's own length T)."
        ),
    ] = None,
) -> None:
    """Generate a task's input/output sequences and save them as .npz, .csv or .jsonl."""
    t = _known_task(task)
    check_out_file(out)
    seqs = t.generate(n, seed, length)
    with data_errors(), writing(out):
        seqs.save(out)
    say(
        f"wrote {seqs.n} sequences of {seqs.length} steps "
        f"(d_in={seqs.d_in}, d_out={seqs.d_out}) from {t.name} to {out}"
    )


@app.command()
def train(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Directory for the network (weights.safetensors + network.json); made if absent.",
            show_default=False,
        ),
    ],
    data: DataOpt = None,
    task: TaskOpt = None,
    seed: SeedOpt = 0,
    n: NOpt = 4000,
    max_hidden: MaxHiddenOpt = 8,
    device: DeviceOpt = Device.cpu,
    steps: Annotated[
        int, typer.Option("--steps", min=1, help="Most optimiser steps per candidate network.")
    ] = 3000,
    l1: Annotated[
        float,
        typer.Option(
            "--l1",
            min=0.0,
            help="Then fine-tune with this L1 penalty and prune, keeping exactness (the paper's "
            "sparsity step; 1e-3 is a good start). 0: off.",
        ),
    ] = 0.0,
) -> None:
    """Search for the smallest RNN that fits the data exactly on a held-out split, and save it."""
    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a directory, --out needs a directory")
    seqs, _ = _input_data(data, task, n, seed)
    check_device(device)
    from mips.network.search import NoExactNetwork, SearchConfig, search
    from mips.network.train import TrainConfig

    config = SearchConfig(
        max_hidden=max_hidden, seed=seed, train=TrainConfig(steps=steps, device=device.value)
    )
    try:
        with progress_bars() as progress:
            net = search(seqs, config, progress)
    except NoExactNetwork as e:
        typer.echo(f"no exact network: {e}", err=True)
        raise typer.Exit(1) from None
    from mips.network import TrainedNetwork, save_network

    active = ""
    if l1 > 0 and isinstance(net, TrainedNetwork):  # a scale-up network is kept as trained
        from mips.network.train import sparsify

        net = sparsify(net, seqs, l1=l1, seed=seed)
        zeros = net.metrics.get("zero_weights", 0)
        active = f", {net.n_parameters() - zeros} active after L1"
    with writing(out):
        save_network(net, out)
    m = net.metrics
    say(
        f"{net.describe()} (hidden {net.hidden}, {net.n_parameters()} parameters{active}): "
        f"exact after {m.get('steps')} steps, {m.get('seconds')} s search, held-out "
        f"accuracy {m.get('heldout_accuracy', float('nan')):.2%}; saved to {out}"
    )


@app.command()
def synth(
    data: DataOpt = None,
    task: TaskOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the program here (a .py file), only once synthesis has succeeded; its"
            " hidden-state picture (.png) and, for a finite machine, state graph (.dot) go beside it.",
            show_default=False,
        ),
    ] = None,
    seed: SeedOpt = 0,
    n: NOpt = 4000,
    device: DeviceOpt = Device.cpu,
    max_hidden: MaxHiddenOpt = 8,
    save_network: Annotated[
        Path | None,
        typer.Option(
            "--save-network",
            help="Also save the trained, simplified network to this directory.",
            show_default=False,
        ),
    ] = None,
    max_label_errors: Annotated[
        float,
        typer.Option(
            "--max-label-errors",
            min=0.0,
            max=0.49,
            metavar="FRACTION",
            help="Fraction of labelled steps that may be wrong (e.g. 0.002). The network may "
            "miss that many; the steps the program contradicts are listed as suspect labels "
            "(and written to PROGRAM.suspects.csv). 0: the labels are exact.",
        ),
    ] = 0.0,
) -> None:
    """Synthesize a verified Python program from sequence data and print it.

    With --task, the program is made from the task's data alone, then judged on fresh data.

    Exit status: 0 success; 1 synthesis failed or JUDGED WRONG; 2 bad input (one error: line).
    """
    check_out_file(out)
    seqs, t = _input_data(data, task, n, seed)
    check_contradictions(seqs, data or task, max_label_errors)
    check_device(device)
    from mips.network.search import SearchConfig
    from mips.network.train import TrainConfig
    from mips.pipeline import SynthConfig, synthesize

    search = SearchConfig(max_hidden=max_hidden, train=TrainConfig(device=device.value))
    config = SynthConfig(seed=seed, search=search, max_label_errors=max_label_errors)
    with progress_bars("synthesize") as progress:
        result = synthesize(seqs, config, progress)
    if save_network is not None and result.network is not None:
        from mips.network import save_network as save

        with writing(save_network):
            save(result.network, save_network)
    if not result.ok:
        typer.echo(
            f"synthesis failed at the {result.failed_stage} stage: {result.reason}", err=True
        )
        raise typer.Exit(1)
    print_program(result.source)
    pictures = write_pictures(result.network, result.machine, seqs, out) if out is not None else []
    suspects_file = (
        out.with_suffix(".suspects.csv") if out is not None and result.suspects else None
    )
    print_summary(result, out, save_network, pictures)
    print_suspects(result, seqs, suspects_file)
    if out is not None:
        with writing(out):
            write_text(out, result.source)
    if suspects_file is not None:
        with writing(suspects_file):
            write_text(suspects_file, suspects_csv(result.suspects, seqs))
    if t is not None:
        from mips.bench.judge import judge
        from mips.bench.runner import judge_seed

        # The bench's seed derivation, so this verdict matches `mips bench` for the same seed.
        verdict = judge(t, result.program, judge_seed(seed))
        say(f"judge: {verdict.summary()}")
        if not verdict.correct:
            typer.echo(f"JUDGED WRONG: {verdict.summary()}", err=True)
            raise typer.Exit(1)


@app.command()
def explain(
    network: Annotated[
        Path,
        typer.Option(
            "--network",
            help="The trained network as .safetensors: the state_dict of a module with .rnn "
            "(torch.nn.RNN, GRU or LSTM, batch_first) and .head (Linear), with metadata cell "
            "(rnn|gru|lstm), d_in, hidden, layers, d_out and output (round|argmax). Pickles "
            "(.pt, .pth) are refused.",
            show_default=False,
        ),
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help=FORMATS_HELP + " Its inputs are fed to the network as floats; its labels "
            "are only compared with the network's answers.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the program here (a .py file), with its hidden-state picture (.png) "
            "and, for a finite machine, state graph (.dot) beside it.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed for the split and the sequences the checks draw.")
    ] = 0,
) -> None:
    """Read the program inside a recurrent network trained elsewhere, and check it against the
    network on fresh, 5x longer and (small alphabets) every short sequence.

    Exit status: 0 the program agrees with the network on everything checked; 1 no program was
    read, or it disagrees somewhere (the counterexamples are printed); 2 bad input.
    """
    check_out_file(out)
    from mips.explanation import ExplainConfig, ExplainError, check_fit
    from mips.explanation import explain as explain_network
    from mips.network.foreign import ForeignNetworkError, load_foreign

    try:
        net = load_foreign(network)
    except ForeignNetworkError as e:
        fail(str(e))
    seqs, _ = _input_data(data, None, 0, seed)
    try:
        check_fit(net, seqs)
    except ExplainError as e:
        fail(f"{network}: {e}")
    with progress_bars("explain"):
        result = explain_network(net, seqs, config=ExplainConfig(seed=seed))
    if not result.ok:
        typer.echo(f"no program read from {network}: {result.reason}", err=True)
        raise typer.Exit(1)
    print_program(result.source)
    pictures = write_pictures(net, result.machine, seqs, out) if out is not None else []
    print_explanation(result, out, pictures)
    if out is not None:
        with writing(out):
            write_text(out, result.source)
    if not result.faithful:
        raise typer.Exit(1)


@app.command()
def bench(
    tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks",
            help="Comma-separated task names of the suite, e.g. Parity_Last3,Bitwise_Not "
            "(default: all of the suite).",
            show_default=False,
        ),
    ] = None,
    suite: SuiteOpt = "benchmark",
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, help="Seeds per task (0, 1, ..., K-1).")
    ] = 1,
    backend: Annotated[
        Backend,
        typer.Option("--backend", help="Run jobs in local processes or on a Ray cluster."),
    ] = Backend.local,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Parallel jobs (default: the number of CPU cores).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Results directory; one JSON record per (task, seed), so a rerun resumes.",
        ),
    ] = Path("bench_out"),
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Ray cluster address for --backend ray (default: start or find a local one).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds allowed per (task, seed) job.")
    ] = 900.0,
) -> None:
    """Run the benchmark: synthesize a program per task and seed from data, then judge it."""
    from mips.tasks import suite_task_names

    try:
        names = suite_task_names(suite, tasks)
    except ValueError as e:  # an unknown suite or task name
        fail(str(e))
    if backend is Backend.ray:
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            fail("--backend ray needs Ray: pip install 'mips[ray]'")
    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a directory, --out needs a directory")
    from mips.bench.runner import run_bench

    with job_bar("bench") as progress:
        try:
            records = run_bench(
                names,
                seeds,
                backend.value,
                jobs or os.cpu_count() or 1,
                out,
                address,
                timeout,
                progress,
            )
        except ValueError as e:  # a results file that does not fit this run
            fail(str(e))
    correct = sum(1 for r in records if r.get("correct"))
    say(f"{correct}/{len(records)} judged correct; results in {out} (see: mips report {out})")


@app.command()
def report(
    directory: Annotated[
        Path, typer.Argument(help="Results directory written by mips bench (e.g. bench_out).")
    ],
) -> None:
    """Summarise a benchmark run as report.md and report.html inside its directory."""
    if not directory.is_dir():
        fail(f"{directory}: no such directory")
    from mips.bench.report import write_report

    try:
        md, html = write_report(directory)
    except ValueError as e:  # no results yet, or a damaged results file
        fail(str(e))
    say(f"wrote {md} and {html}")


def main() -> None:
    """Entry point of the ``mips`` console script and ``python -m mips``."""
    app(prog_name="mips")

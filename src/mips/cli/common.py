"""What the commands share: the app, option types, and reading the data a command is given."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mips import __version__
from mips.console import (
    data_errors,
    fail,
)
from mips.data import DataError, SequenceData

if TYPE_CHECKING:
    from mips.tasks import SuiteTask


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
    int,
    typer.Option(
        "--max-hidden",
        min=1,
        help="Largest hidden size of the small networks tried first; when none is exact, the "
        "scale-up family trains 32 and 64 units.",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mips {__version__}")
        raise typer.Exit()


def known_task(name: str) -> SuiteTask:
    """The benchmark task ``name``, or one error line naming the known ones."""
    from mips.tasks import get_task

    try:
        return get_task(name)
    except KeyError as e:
        fail(str(e.args[0]).replace("all_tasks()", "mips tasks"))


def input_data(
    data: Path | None, task: str | None, n: int, seed: int
) -> tuple[SequenceData, SuiteTask | None]:
    """The sequences to learn from: a data file, or ``n`` fresh ones from a benchmark task."""
    if (data is None) == (task is None):
        fail("give exactly one of --data FILE or --task NAME")
    if task is not None:
        t = known_task(task)
        return t.generate(n, seed), t
    with data_errors():
        seqs = SequenceData.load(data)
        if seqs.n < 2:
            raise DataError(f"{data}: {seqs.n} sequence; need at least 2 to hold some out")
    return seqs, None


def data_like(path: Path, seqs: SequenceData) -> SequenceData:
    """The data file ``path`` coded in the words of ``seqs`` (for checks on data of the same
    system); a file that does not fit is a one-line error."""
    with data_errors():
        other = SequenceData.load(path)
        try:
            return other.in_words_of(seqs)
        except ValueError as e:
            raise DataError(f"{path}: {e}") from None


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
        help="Task suite: benchmark (the paper's 62), generality (our own, outside the 62) or "
        "protocols (Mealy machines over words, trained on 3,000 traces).",
    ),
]

"""The commands that learn from data: ``data``, ``train`` and ``synth``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mips.cli.common import (
    DataOpt,
    Device,
    DeviceOpt,
    MaxHiddenOpt,
    NOpt,
    SeedOpt,
    TaskOpt,
    app,
    data_like,
    input_data,
    known_task,
)
from mips.console import (
    check_contradictions,
    check_device,
    check_out_file,
    data_errors,
    fail,
    print_program,
    print_summary,
    print_suspects,
    print_unseen,
    progress_bars,
    say,
    suspects_csv,
    write_pictures,
    write_text,
    writing,
)
from mips.data import FORMATS

if TYPE_CHECKING:
    from mips.data import SequenceData
    from mips.synthesis import Synthesis


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
    t = known_task(task)
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
    seqs, _ = input_data(data, task, n, seed)
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
        zeros = net.sparsity.zero_weights if net.sparsity else 0
        active = f", {net.n_parameters() - zeros} active after L1"
    with writing(out):
        save_network(net, out)
    r = net.report
    trained = (
        f"exact after {r.steps} steps, {r.seconds} s search, held-out accuracy "
        f"{r.heldout_accuracy:.2%}"
        if r
        else "not trained by the search"
    )
    say(
        f"{net.describe()} (hidden {net.hidden}, {net.n_parameters()} parameters{active}): "
        f"{trained}; saved to {out}"
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
    unseen: Annotated[
        str,
        typer.Option(
            "--unseen",
            metavar="error|keep|VALUE",
            help="For data that are all words (logs of a system), the program is a Mealy table; "
            "on a (state, input) the logs never showed it raises UnseenStep (error), keeps its "
            "state and answers None (keep), or keeps its state and answers VALUE.",
        ),
    ] = "error",
    verify_data: Annotated[
        Path | None,
        typer.Option(
            "--verify-data",
            metavar="FILE",
            help="Also replay the chosen program on this data file (same columns and words), "
            "beside the 10% of sequences held back from every stage; a program it contradicts "
            "is not returned.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Synthesize a verified Python program from sequence data and print it.

    With --task, the program is made from the task's data alone, then judged on fresh data.

    Exit status: 0 success; 1 synthesis failed or JUDGED WRONG; 2 bad input (one error: line).
    """
    check_out_file(out)
    seqs, t = input_data(data, task, n, seed)
    check_contradictions(seqs, data or task, max_label_errors)
    check_device(device)
    extra = None if verify_data is None else data_like(verify_data, seqs)
    from mips.network.search import SearchConfig
    from mips.network.train import TrainConfig
    from mips.pipeline import SynthConfig, synthesize

    search = SearchConfig(max_hidden=max_hidden, train=TrainConfig(device=device.value))
    from mips.regress import RegressConfig

    if not unseen.strip():
        fail("--unseen needs error, keep or a value to answer")
    config = SynthConfig(
        seed=seed,
        search=search,
        regress=RegressConfig(unseen=unseen),
        max_label_errors=max_label_errors,
    )
    with progress_bars("synthesize") as progress:
        result = synthesize(seqs, config, progress, verify_data=extra)
    if save_network is not None and result.network is not None:
        from mips.network import save_network as save

        with writing(save_network):
            save(result.network, save_network)
    if not result.ok:
        typer.echo(
            f"synthesis failed at the {result.failed_stage} stage: {result.reason}", err=True
        )
        raise typer.Exit(1)
    _show_and_write(result, seqs, out, save_network)
    if t is not None:
        from mips.bench.runner import judge_seed

        # The bench's seed derivation, so this verdict matches `mips bench` for the same seed.
        verdict = t.judge(result.program, judge_seed(seed), seqs)
        say(f"judge: {verdict.summary()}")
        if not verdict.correct:
            typer.echo(f"JUDGED WRONG: {verdict.summary()}", err=True)
            raise typer.Exit(1)


def _show_and_write(
    result: Synthesis, seqs: SequenceData, out: Path | None, save_network: Path | None
) -> None:
    """Print the program and its summary, then write the program, its pictures and its
    suspect labels beside ``out``."""
    print_program(result.source)
    pictures = (
        write_pictures(result.network, result.machine, seqs, out, result.program_ir)
        if out is not None
        else []
    )
    suspects_file = (
        out.with_suffix(".suspects.csv") if out is not None and result.suspects else None
    )
    print_summary(result, out, save_network, pictures)
    print_unseen(result.program_ir, out.with_suffix(".unseen.csv") if out is not None else None)
    print_suspects(result, seqs, suspects_file)
    if out is not None:
        with writing(out):
            write_text(out, result.source)
    if suspects_file is not None:
        with writing(suspects_file):
            write_text(suspects_file, suspects_csv(result.suspects, seqs))

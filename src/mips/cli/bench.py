"""The benchmark side: ``tasks``, ``bench`` and ``report``."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mips.bench.variants import VARIANTS
from mips.cli.common import (
    Backend,
    SuiteOpt,
    app,
)
from mips.console import (
    fail,
    job_bar,
    say,
    stdout,
)

# The registry's names as a choice, so that --help lists them and a typo fails in one line.
VariantName = StrEnum("VariantName", [(name, name) for name in VARIANTS])


@app.command()
def tasks(suite: SuiteOpt = "benchmark") -> None:
    """List a suite's tasks: name, input range (each input dim), length T, d_in, d_out, family
    (for word machines: states, input and output words, trace lengths, family)."""
    from mips.tasks import suite_tasks

    try:
        everything = suite_tasks(suite)
    except ValueError as e:
        fail(str(e))
    table = Table(title=f"{suite.capitalize()} tasks")
    columns = list(dict.fromkeys(c for t in everything for c in t.listing()))
    for column in ("name", *columns):
        table.add_column(column, justify="left" if column == "name" else "right", no_wrap=True)
    for t in everything:
        listing = t.listing()
        table.add_row(t.name, *(listing.get(c, "-") for c in columns))
    stdout.print(table)
    say(f"{len(everything)} tasks")


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
    resume_any: Annotated[
        bool,
        typer.Option(
            "--resume-any",
            help="Add to a results file even when its records were made by other code "
            "(another commit or other uncommitted changes); refused without it.",
        ),
    ] = False,
    variant: Annotated[
        VariantName | None,
        typer.Option(
            "--variant",
            help="Alter each job's data before synthesis; the judge is unchanged (default: "
            "none). " + "; ".join(f"{v.name}: {v.summary}" for v in VARIANTS.values()) + ".",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the benchmark: synthesize a program per task and seed from data, then judge it."""
    from mips.tasks import suite_n, suite_task_names

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
    from mips.bench.runner import RESULTS, refuse_other_code, refuse_other_variant, run_bench

    variant_name = None if variant is None else variant.value
    try:  # before the progress bar, so that a refusal is the only line
        refuse_other_variant(out / RESULTS, variant_name)
        if not resume_any:
            refuse_other_code(out / RESULTS)
    except ValueError as e:
        fail(str(e))
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
                n=suite_n(suite),
                resume_any=resume_any,
                variant=variant_name,
            )
        except ValueError as e:  # a results file that does not fit this run
            fail(str(e))
    correct = sum(1 for r in records if r.correct)
    say(f"{correct}/{len(records)} judged correct; results in {out} (see: mips report {out})")


@app.command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Results directory written by mips bench (e.g. bench_out), or a results file "
            "(.jsonl, e.g. one committed under results/<suite>/), whose report is printed."
        ),
    ],
) -> None:
    """Summarise a benchmark run as report.md and report.html inside its directory, or print
    the markdown report of one results file."""
    from mips.bench.report import results_markdown, write_report

    if directory.is_file():
        try:
            typer.echo(results_markdown(directory))
        except ValueError as e:
            fail(str(e))
        return
    if not directory.is_dir():
        fail(f"{directory}: no such directory or results file")

    try:
        md, html = write_report(directory)
    except ValueError as e:  # no results yet, or a damaged results file
        fail(str(e))
    say(f"wrote {md} and {html}")

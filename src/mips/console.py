"""What the command line shows: plain lines, error lines, progress bars, the program and summary."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mips.data import DataError, SequenceData
from mips.io import write_atomic
from mips.program import Program

if TYPE_CHECKING:
    from mips.bench.record import BenchRecord
    from mips.explanation import Explanation
    from mips.machine import StateMachine
    from mips.network.artifact import Recurrent
    from mips.suspects import Suspect
    from mips.synthesis import Synthesis

Progress = Callable[[str, int, int], None]

stdout = Console()
stderr = Console(stderr=True)


def say(line: str) -> None:
    """One line of plain text on stdout, never wrapped or read as markup."""
    stdout.print(Text(line), soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """One ``error:`` line on stderr (plain text: no wrapping, no markup), then exit."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


@contextmanager
def progress_bars(activity: str | None = None) -> Iterator[Progress]:
    """A rich progress display on stderr; yields ``progress(description, advance, total)``.

    Each new description gets its own bar (one per network family searched); ``activity`` adds
    a pulsing line for work that reports no progress of its own (the later pipeline stages).
    """
    from rich.progress import BarColumn, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    class Count(ProgressColumn):
        def render(self, task) -> Text:
            done = "" if task.total is None else f"{int(task.completed)}/{int(task.total)}"
            return Text(done, style="progress.download")

    bars: dict[str, int] = {}
    events = nullcontext() if stderr.is_terminal else stage_events()
    with (
        events,
        Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            Count(),
            TimeElapsedColumn(),
            console=stderr,
            # Off a terminal the stage events say what happened; a bar's last frame adds nothing.
            disable=not stderr.is_terminal,
        ) as display,
    ):
        pulse = None if activity is None else display.add_task(activity, total=None)

        def update(description: str, advance: int, total: int) -> None:
            if description not in bars:
                for bar in bars.values():  # a family stops early once a network is exact
                    display.stop_task(bar)
                bars[description] = display.add_task(f"train {description}", total=total)
            display.update(bars[description], advance=advance, total=total)

        yield update
        if pulse is not None:
            display.update(pulse, total=1, completed=1)


class _Elapsed(logging.Formatter):
    """``[  12.3 s] message``: seconds since the log began, so a log shows where time went."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.perf_counter()

    def format(self, record: logging.LogRecord) -> str:
        return f"[{time.perf_counter() - self.start:7.1f} s] {record.getMessage()}"


@contextmanager
def stage_events() -> Iterator[None]:
    """The pipeline's stage events (the ``mips`` logger: a network found or given up, each
    reading tried and why it failed, each program verified or refused) as one plain line each
    on stderr. Used when stderr is not a terminal, where progress bars show nothing: a log of a
    long run then says what happened and when."""
    logger = logging.getLogger("mips")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Elapsed())
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def print_program(source: str) -> None:
    """The program on stdout: highlighted on a terminal, exact text when piped."""
    if stdout.is_terminal:
        from rich.syntax import Syntax

        stdout.print(Syntax(source, "python", word_wrap=True))
    else:  # piped: the exact source, neither wrapped nor cropped
        typer.echo(source.rstrip("\n"))


def describe_machine(machine: StateMachine) -> str:
    """How the machine was read, its size, and its rule if it has one."""
    rule = ""
    if machine.modulus is not None:
        rule = f"; state mod {machine.modulus}"
    elif machine.next_rule is not None and machine.out_rule is not None:
        rule = "; one integer affine rule"
    return f"{machine.kind} ({machine.reading.describe()}), {machine.n_rows} transitions{rule}"


def describe_network(net) -> str:
    """Its architecture, and how near exact it was when it was not exact."""
    text = f"{net.describe()} (hidden {net.hidden})"
    if net.report is None or net.report.exact:
        return text
    share = net.report.sequence_accuracy
    return f"{text}, near-exact: right on {share:.1%} of held-out sequences"


def print_summary(
    result: Synthesis, out: Path | None, save_network: Path | None, pictures: list[Path]
) -> None:
    """The synthesis in a few rows: form, network, machine, checks, seconds, files written."""
    net, machine, program = result.network, result.machine, result.program_ir
    rows = [
        ("form", result.form),
        ("network", describe_network(net) if net else "-"),
        ("state machine", describe_machine(machine) if machine else "-"),
        ("state vars", (", ".join(program.state) or "none") if program else "-"),
        ("verified", result.verification.summary() if result.verification else "-"),
        *(("independent", c.summary()) for c in result.independent),
        *_beyond_rows(result),
        ("seconds", _seconds(result.seconds)),
    ]
    if out is not None:
        rows.append(("program", str(out)))
    if save_network is not None:
        rows.append(("network dir", str(save_network)))
    if pictures:
        rows.append(("pictures", ", ".join(map(str, pictures))))
    _print_rows(rows)


def _beyond_rows(result: Synthesis) -> list[tuple[str, str]]:
    """How the chosen formula compares with its network past the data's length, and the
    verified formulas passed over because the network contradicts them there."""
    chosen = result.chosen
    if chosen is None or chosen.beyond is None:
        return []
    passed = [a for a in result.attempts if a.verified_formula and not a.generalises]
    text = chosen.beyond.describe()
    if passed and chosen.generalises:
        text += f"; chosen over {len(passed)} verified formula(s) it contradicts there"
    return [("longer", text)]


def print_unseen(program: Program | None, path: Path | None) -> None:
    """For a Mealy table over words: how many (state, input) pairs the logs never showed, the
    first few with the shortest trace that would test each, and all of them in ``path`` (CSV:
    state, input, trace) when given."""
    from mips.regress.mealy import unseen_steps

    steps = unseen_steps(program) if program is not None else []
    if not steps:
        return
    say(
        f"unseen: {len(steps)} (state, input) pairs the logs never showed; "
        "the program does not guess there (--unseen). Shortest traces that would test them:"
    )
    for step in steps[:5]:
        say(
            f"  {step.state} on {' '.join(step.inputs)}: {' '.join('+'.join(s) for s in step.trace)}"
        )
    if len(steps) > 5:
        say(f"  ... {len(steps) - 5} more" + (f" in {path}" if path else ""))
    if path is not None:
        rows = ["state,input,trace"] + [
            f"{s.state},{'+'.join(s.inputs)},{' '.join('+'.join(w) for w in s.trace)}"
            for s in steps
        ]
        with writing(path):
            write_text(path, "\n".join(rows) + "\n")


def print_explanation(result: Explanation, out: Path | None, pictures: list[Path]) -> None:
    """The explanation in a few rows: network, machine, fidelity checks, counterexamples, labels."""
    net = result.network
    rows = [("network", f"{net.describe()}, {net.n_parameters()} parameters, state {net.hidden}")]
    if result.chosen is not None:
        rows.append(("form", result.chosen.program.form))
        rows.append(("state machine", describe_machine(result.chosen.machine)))
        report = result.chosen.verification
        rows.append(("held-out", report.summary()))
        if result.by_majority:
            rows.append(
                (
                    "by majority",
                    "no machine gives all the network's answers on the data; this one differs on "
                    f"{report.heldout_wrong_steps} of {report.heldout_steps} held-out steps",
                )
            )
    if result.fidelity is not None:
        verdict = "FAITHFUL" if result.faithful else "NOT FAITHFUL"
        rows.append(("vs network", f"{verdict}: program and network compared"))
        rows += [("", check.describe()) for check in result.fidelity.checks]
        rows += [("limit", text) for text in result.fidelity.limits]
        rows += [("counterexample", c.describe()) for c in result.fidelity.counterexamples]
    if result.label_steps:
        misses = result.label_misses
        text = f"the network misses {len(misses)} of {result.label_steps} labelled steps"
        if misses:
            m = misses[0]
            text += f" (first: sequence {m.sequence} step {m.step}, label {list(m.label)}, "
            text += f"network {list(m.network)})"
        rows.append(("labels", text))
    rows.append(("seconds", _seconds(result.seconds)))
    if out is not None and result.ok:
        rows.append(("program", str(out)))
    if pictures:
        rows.append(("pictures", ", ".join(map(str, pictures))))
    _print_rows(rows)


def _seconds(seconds: dict[str, float]) -> str:
    parts = ", ".join(f"{k} {v:.1f}" for k, v in seconds.items())
    return f"{parts}; total {sum(seconds.values()):.1f}"


def _print_rows(rows: list[tuple[str, object]]) -> None:
    """Rows of (label, value) as a two-column grid on stdout, labels in bold."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for k, v in rows:
        grid.add_row(k, Text(str(v)))
    stdout.print(grid)


@contextmanager
def job_bar(description: str) -> Iterator[Callable[[int, int, BenchRecord], None]]:
    """One bar of finished jobs on stderr, and a line per job as it finishes; yields
    ``progress(done, total, record)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bars(*columns, console=stderr, disable=not stderr.is_terminal) as display:
        bar = display.add_task(description, total=None)

        def progress(done: int, total: int, record: BenchRecord) -> None:
            display.update(bar, completed=done, total=total)
            verdict = "correct" if record.correct else f"failed ({record.failed_stage})"
            if (c := record.noisy_labels) is not None:
                verdict += f"; wrong labels among the suspects: {c.found} of {c.changed}"
            display.console.print(Text(f"{record.task} seed {record.seed}: {verdict}"))

        yield progress


# --- input checks: bad input becomes one error line and exit status 2 ---------------------


@contextmanager
def data_errors() -> Iterator[None]:
    """Turn a bad data file into one error line and exit status 2, never a traceback."""
    try:
        yield
    except DataError as e:
        fail(str(e))


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a failed write (permissions, a file where a directory should be) into one line."""
    try:
        yield
    except OSError as e:
        fail(f"{path}: cannot write ({e.strerror or e})")


def check_contradictions(data: SequenceData, source: object, max_label_errors: float) -> None:
    """Refuse, before any training, labels no program can give (the same inputs so far,
    different outputs), unless ``max_label_errors`` allows that many."""
    from mips.data import contradictions

    clash = contradictions(data)
    if clash.fraction > max_label_errors:
        fail(
            f"{source}: {clash.describe(data)}; no program gives both "
            f"(--max-label-errors {clash.fraction:.3g} or more would allow it)"
        )


def suspects_csv(suspects: tuple[Suspect, ...], data: SequenceData) -> str:
    """The suspect labels as CSV: sequence, step, label, the program's value, distance."""
    from mips.data import show_values

    lines = ["sequence,step,label,program,distance"]
    for s in suspects:
        label = show_values(data, "y", s.label).replace('"', '""')
        value = show_values(data, "y", s.value).replace('"', '""')
        lines.append(f'{s.sequence},{s.step},"{label}","{value}",{s.distance}')
    return "\n".join(lines) + "\n"


def print_suspects(result: Synthesis, data: SequenceData, path: Path | None) -> None:
    """One line on the labelled steps the program contradicts, and the most suspect few."""
    if not result.ok or not result.config.max_label_errors:
        return
    from mips.data import show_values

    n = len(result.suspects)
    where = f"; all in {path}" if path is not None else ""
    say(f"suspect labels: {n} of {data.steps} labelled steps ({n / data.steps:.3%}){where}")
    for s in result.suspects[:5]:
        say(
            f"  sequence {s.sequence} step {s.step}: label {show_values(data, 'y', s.label)}, "
            f"program {show_values(data, 'y', s.value)}"
        )


def check_device(device: str) -> None:
    """Refuse ``cuda`` where no GPU is, before any work."""
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            fail("--device cuda: no CUDA GPU is available here")


def check_out_file(out: Path | None) -> None:
    """Refuse an --out that could never be written, before spending any time."""
    if out is not None and out.is_dir():
        fail(f"{out}: is a directory, --out needs a file name")


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically, so a failed write leaves any old file whole."""
    write_atomic(path, text.encode("utf-8"))


def write_pictures(
    network: Recurrent,
    machine: StateMachine,
    data: SequenceData,
    out: Path,
    program: Program | None = None,
) -> list[Path]:
    """Beside the program: the hidden states as PROGRAM.png, a finite machine as PROGRAM.dot
    (a Mealy table over words in the DOT form automata-learning tools load, with its words)."""
    from mips.pictures import hidden_states_png, mealy_dot, state_graph_dot

    written = []
    with writing(out.with_suffix(".png")):
        written.append(hidden_states_png(network, data, machine, out.with_suffix(".png")))
    if program is not None and program.state_names:
        dot = mealy_dot(program)
    else:
        dot = state_graph_dot(machine) if machine.kind == "finite" else None
    if dot is not None:
        with writing(out.with_suffix(".dot")):
            write_text(out.with_suffix(".dot"), dot)
        written.append(out.with_suffix(".dot"))
    return written

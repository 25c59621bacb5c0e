"""Benchmark report: this run's judged results next to GPT-4's and the authors' MIPS, as md + html.

Reads ``<dir>/results.jsonl`` (see :mod:`mips.bench.runner`) and the peers' figures shipped in
``peers.json``; writes ``report.md``, ``report.html`` (self-contained: inline CSS, the chart as a
base64 PNG) and ``solved.png``. With several seeds a task counts as solved if any seed solved it.
The peers ran only the paper's 62: a run of another suite gets "-" in their columns, no peer
totals, and the solved count per family instead. Each row names the code (commit) that made its
seeds' records, and the headline counts the records per code. A run of a variant says so first,
and a noisy run how many of its changed labels the synthesis named among its suspects.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from mips.bench.peers import PeerComparison, Peers, PeerTask, load_peers
from mips.bench.record import BenchRecord, NoisyLabels
from mips.bench.runner import RESULTS, picture_path, program_path, read_results
from mips.bench.variants import VARIANTS
from mips.tasks import SUITES, get_task, suite_tasks

__all__ = ["ReportTotals", "Solved", "TaskRow", "summarise", "write_report"]

_Key = TypeVar("_Key", int, str)


@dataclass(frozen=True, kw_only=True)
class TaskRow:
    """One task in the report: this run's representative record and the peers' results."""

    task: str
    record: BenchRecord  # the first correct seed's record, else the first seed's
    seeds_solved: int
    seeds_run: int
    peer: PeerTask | None  # None for a task the peers never ran
    program: str | None  # relative link, when the file exists
    picture: str | None
    code: tuple[str, ...] = ()  # the commits that made its seeds' records, in seed order

    @property
    def solved(self) -> bool:
        return self.seeds_solved > 0


@dataclass(frozen=True)
class Solved:
    """How many of ``run`` tasks (or jobs) were solved."""

    solved: int
    run: int

    def __post_init__(self) -> None:
        if not 0 <= self.solved <= self.run:
            raise ValueError(f"solved {self.solved} of {self.run}")


@dataclass(frozen=True, kw_only=True)
class ReportTotals:
    """The headline of a report. Counts are ordered as shown: the most frequent first (then by
    name), seeds and families in the order they come."""

    tasks: int
    solved: int  # tasks any seed of which was judged correct
    per_seed: tuple[tuple[int, Solved], ...]
    families: tuple[tuple[str, Solved], ...]  # only tasks of the current registry have one
    forms: tuple[tuple[str, int], ...]  # of the solved tasks
    failed_stages: tuple[tuple[str, int], ...]  # of the unsolved tasks
    # Programs replayed on the sequences held back from every stage, and how many passed.
    held_back_checked: int
    held_back_passed: int
    code: tuple[tuple[str, int], ...]  # records per commit
    seconds: float  # every record's, in all
    peers: PeerComparison | None  # None when the peers ran none of these tasks
    variant: str | None = None  # the benchmark variant the records are of; None: the plain one
    noisy_labels: NoisyLabels | None = None  # every record's, summed; None where none counted

    def __post_init__(self) -> None:
        if not 0 <= self.solved <= self.tasks:
            raise ValueError(f"solved {self.solved} of {self.tasks} tasks")
        if not 0 <= self.held_back_passed <= self.held_back_checked:
            raise ValueError("more programs passed the held-back check than it checked")


def summarise(records: list[BenchRecord], directory: Path) -> tuple[list[TaskRow], ReportTotals]:
    """Rows in the peers' task order, then the other suites' in declaration order (unknown tasks
    after, by name), and the totals for the report."""
    peers = load_peers()
    by_task: dict[str, dict[int, BenchRecord]] = {}
    for record in records:
        by_task.setdefault(record.task, {}).setdefault(record.seed, record)  # first wins
    order = list(peers.tasks) + [
        t.name for suite in SUITES if suite != "benchmark" for t in suite_tasks(suite)
    ]
    names = [t for t in order if t in by_task] + sorted(set(by_task) - set(order))
    rows = [_row(name, by_task[name], peers, directory) for name in names]
    every = [r for seeds in by_task.values() for r in seeds.values()]
    checked = [r for r in every if r.independent]
    totals = ReportTotals(
        tasks=len(rows),
        solved=sum(r.solved for r in rows),
        per_seed=_tally(sorted((r.seed, r.correct) for r in every)),
        families=_tally((f, row.solved) for row in rows if (f := _family(row.task))),
        forms=_count(r.record.form or "other" for r in rows if r.solved),
        failed_stages=_count(r.record.failed_stage or "?" for r in rows if not r.solved),
        held_back_checked=len(checked),
        held_back_passed=sum(all(c.passed for c in r.independent) for r in checked),
        code=_count(_code_label(r) for r in every),
        seconds=sum(float(r.seconds.total or 0) for r in every),
        peers=_peer_comparison(rows, peers),
        variant=_variant(records),
        noisy_labels=_noisy_labels(every),
    )
    return rows, totals


def _variant(records: list[BenchRecord]) -> str | None:
    """The variant all ``records`` are of; a ValueError for records of several, whose figures
    do not add up."""
    variants = {r.variant for r in records}
    if len(variants) > 1:
        names = sorted(v or "plain" for v in variants)
        raise ValueError(f"records of several variants ({', '.join(names)}): report each alone")
    return variants.pop() if variants else None


def _noisy_labels(records: list[BenchRecord]) -> NoisyLabels | None:
    """The changed labels of every record that counted them, and how many were found."""
    counted = [r.noisy_labels for r in records if r.noisy_labels is not None]
    if not counted:
        return None
    return NoisyLabels(sum(c.changed for c in counted), sum(c.found for c in counted))


def _row(name: str, seeds: dict[int, BenchRecord], peers: Peers, directory: Path) -> TaskRow:
    """The row of task ``name`` from its records by seed."""
    records = [seeds[s] for s in sorted(seeds)]
    solved = [r for r in records if r.correct]
    record = (solved or records)[0]
    return TaskRow(
        task=name,
        record=record,
        seeds_solved=len(solved),
        seeds_run=len(records),
        peer=peers.tasks.get(name),
        program=_existing(directory, record.program_file)
        or _existing(directory, program_path(name, record.seed)),
        picture=_existing(directory, picture_path(name, record.seed)),
        code=tuple(dict.fromkeys(_code_label(r) for r in records)),
    )


def _tally(outcomes: Iterable[tuple[_Key, bool]]) -> tuple[tuple[_Key, Solved], ...]:
    """Solved of run per key (a seed, a family), keys in the order they first come."""
    counts: dict[_Key, tuple[int, int]] = {}
    for key, solved in outcomes:
        done, run = counts.get(key, (0, 0))
        counts[key] = (done + solved, run + 1)
    return tuple((key, Solved(*c)) for key, c in counts.items())


def _peer_comparison(rows: list[TaskRow], peers: Peers) -> PeerComparison | None:
    peered = [(r, r.peer) for r in rows if r.peer is not None]
    if not peered:
        return None
    return PeerComparison(
        tasks_here=len(peered),
        all_tasks=len(peered) == peers.totals.tasks,
        gpt4_solved=sum(p.gpt4_solved for _, p in peered),
        authors_solved=sum(p.authors_mips for _, p in peered),
        solved_not_gpt4=sum(r.solved and not p.gpt4_solved for r, p in peered),
        solved_by_no_peer=tuple(
            r.task for r, p in peered if r.solved and not p.gpt4_solved and not p.authors_mips
        ),
        authors_solved_not_here=tuple(r.task for r, p in peered if p.authors_mips and not r.solved),
        totals=peers.totals,
    )


def write_report(directory: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (and ``solved.png``) for the run in ``directory``."""
    directory = Path(directory)
    records = read_results(directory / RESULTS)
    if not records:
        raise ValueError(f"{directory / RESULTS}: no results to report")
    rows, totals = summarise(records, directory)
    png = _chart(totals)
    (directory / "solved.png").write_bytes(png)
    md, page = directory / "report.md", directory / "report.html"
    md.write_text(_markdown(rows, totals), encoding="utf-8")
    page.write_text(_html(rows, totals, png), encoding="utf-8")
    return md, page


def results_markdown(path: Path) -> str:
    """The markdown report of a results file (a run's ``results.jsonl``, or one committed under
    ``results/<suite>/``), for a page of figures."""
    records = read_results(Path(path))
    if not records:
        raise ValueError(f"{path}: no results to report")
    return _markdown(*summarise(records, Path(path).parent))


def _family(task: str) -> str | None:
    try:
        return get_task(task).family
    except KeyError:  # a task of an older or newer registry
        return None


def _code_label(record: BenchRecord) -> str:
    """The commit that made a record, short; "not recorded" for a record that names none."""
    return record.code.label() if record.code else "not recorded"


def _existing(directory: Path, relative: str | None) -> str | None:
    return relative if relative and (directory / relative).is_file() else None


def _count(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """How often each value occurs, the most frequent first, then by value."""
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _headline(t: ReportTotals) -> list[str]:
    """The totals as sentences (plain text; the renderers add markup)."""
    lines = _variant_lines(t) + [
        f"Judged correct: {t.solved} of {t.tasks} tasks"
        + (" (a task counts if any seed is correct)" if len(t.per_seed) > 1 else ""),
        "Per seed: " + ", ".join(f"seed {s}: {c.solved}/{c.run}" for s, c in t.per_seed),
        "Solved tasks by program form: " + (", ".join(f"{k} {v}" for k, v in t.forms) or "none"),
    ]
    passed, checked = t.held_back_passed, t.held_back_checked
    if checked:
        lines.append(
            f"Held-back check: {passed} of {checked} programs replayed every sequence no stage "
            f"saw ({checked - passed} refused)"
        )
    if t.families:
        lines.append(
            "Solved by family: " + ", ".join(f"{k} {c.solved}/{c.run}" for k, c in t.families)
        )
    if t.peers is None:
        lines.append("Peers: none ran these tasks (GPT-4 and the authors' MIPS ran the paper's 62)")
    else:
        lines += _peer_lines(t.peers)
    return lines + [
        "Unsolved tasks by failed stage: "
        + (", ".join(f"{k} {v}" for k, v in t.failed_stages) or "none"),
        f"Compute: {t.seconds / 3600:.2f} job-hours in all",
        "Made by code (commit): "
        + ", ".join(f"{k} ({v} record{'s' * (v != 1)})" for k, v in t.code),
    ]


def _variant_lines(t: ReportTotals) -> list[str]:
    """What a variant's run changed, and for a noisy one how many changed labels were found."""
    if t.variant is None:
        return []
    known = VARIANTS.get(t.variant)
    lines = [f"Variant: {t.variant}" + (f" ({known.summary})" if known else "")]
    if t.noisy_labels is not None:
        c = t.noisy_labels
        share = f" ({c.found / c.changed:.0%})" if c.changed else ""
        lines.append(f"Wrong labels found among the suspects: {c.found} of {c.changed}{share}")
    return lines


def _peer_lines(c: PeerComparison) -> list[str]:
    """The headline's comparisons with the peers, over the tasks of this run they ran."""
    p = c.totals
    here = "" if c.all_tasks else f" of the {c.tasks_here} run"
    return [
        f"Solved here and by no peer (neither GPT-4 nor the authors' MIPS): "
        f"{len(c.solved_by_no_peer)}" + _names(c.solved_by_no_peer),
        f"Solved here but not by GPT-4: {c.solved_not_gpt4} "
        f"(the paper: {p.authors_mips_only_paper} for the authors' MIPS)",
        f"GPT-4 solves {p.gpt4}/{p.tasks} of all tasks" + (here and f", {c.gpt4_solved}{here}"),
        f"The authors' MIPS solves {p.authors_mips_paper}/{p.tasks} (paper); the Jan-22 "
        f"reconstruction passes {p.authors_mips_reconstruction}/{p.tasks}"
        + (here and f", {c.authors_solved}{here}"),
        "Solved by the authors' reconstruction but not here: "
        f"{len(c.authors_solved_not_here)}" + _names(c.authors_solved_not_here),
    ]


def _names(names: tuple[str, ...]) -> str:
    return f" ({', '.join(names)})" if names else ""


_COLUMNS = (
    "#",
    "Task",
    "Correct",
    "Seeds",
    "Form",
    "Lines",
    "State vars",
    "Network",
    "Hidden (ours / authors')",
    "Seconds",
    "GPT-4",
    "Authors' MIPS",
    "Program",
    "Picture",
    "Note",
    "Code",
)


def _cells(i: int, row: TaskRow) -> list[str]:
    """Plain-text cells of one row; the program and picture cells are relative links or ''."""
    r, peer = row.record, row.peer

    def show(value: object) -> str:
        return "" if value is None else str(value)

    seconds = r.seconds.total
    note = "" if row.solved else f"{show(r.failed_stage)}: {show(r.reason)}"
    return [
        str(i),
        row.task,
        "yes" if row.solved else "no",
        f"{row.seeds_solved}/{row.seeds_run}",
        show(r.form),
        show(r.program_lines),
        show(r.state_vars),
        show(r.architecture),
        f"{show(r.hidden) or '-'} / {peer.authors_hidden if peer else '-'}",
        "" if seconds is None else f"{float(seconds):.0f}",
        "-" if peer is None else ("yes" if peer.gpt4_solved else "no"),
        "-" if peer is None else ("yes" if peer.authors_mips else "no"),
        row.program or "",
        row.picture or "",
        " ".join(note.split())[:160],
        ", ".join(row.code),
    ]


def _markdown(rows: list[TaskRow], totals: ReportTotals) -> str:
    def md(text: str) -> str:
        return text.replace("|", "\\|")

    out = ["# mips benchmark report", ""]
    out += [f"- {md(line)}" for line in _headline(totals)]
    out += ["", "![solved counts](solved.png)", ""]
    out += ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for i, row in enumerate(rows, 1):
        cells = [md(c) for c in _cells(i, row)]
        cells[12] = f"[program]({cells[12]})" if cells[12] else ""
        cells[13] = f"[picture]({cells[13]})" if cells[13] else ""
        out.append("| " + " | ".join(cells) + " |")
    out += ["", _sources_note(totals), ""]
    return "\n".join(out)


def _sources_note(totals: ReportTotals) -> str:
    if totals.peers is None:
        return ""
    s = load_peers().sources
    return (
        f"Peers. GPT-4: {s['gpt4_solved']} Authors' MIPS: {s['authors_mips']} "
        f"Authors' hidden size: {s['authors_hidden']}"
    )


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.yes { background: #d9f2d9; } td.no { background: #f8dcdc; }
td.note { max-width: 30em; color: #555; }
ul.totals li { margin: 0.2em 0; }
p.sources { font-size: 0.8em; color: #555; max-width: 60em; }
"""


def _html(rows: list[TaskRow], totals: ReportTotals, png: bytes) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in _COLUMNS)
    body = []
    for i, row in enumerate(rows, 1):
        cells = _cells(i, row)
        tds = []
        for j, text in enumerate(cells):
            if j in (2, 10, 11) and text in ("yes", "no"):
                tds.append(f'<td class="{text}">{text}</td>')
            elif j in (12, 13) and text:
                label = "program" if j == 12 else "picture"
                tds.append(f'<td><a href="{esc(text)}">{label}</a></td>')
            elif j == 14:
                tds.append(f'<td class="note">{esc(text)}</td>')
            else:
                tds.append(f"<td>{esc(text)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    items = "".join(f"<li>{esc(line)}</li>" for line in _headline(totals))
    chart = base64.b64encode(png).decode("ascii")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>mips benchmark report</title><style>{_CSS}</style></head><body>\n"
        f"<h1>mips benchmark report</h1>\n<ul class='totals'>{items}</ul>\n"
        f"<img alt='solved counts' src='data:image/png;base64,{chart}'>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>\n"
        f"<p class='sources'>{esc(_sources_note(totals))}</p>\n</body></html>\n"
    )


def _chart(totals: ReportTotals) -> bytes:
    """Bar chart of solved counts, over the tasks of this run, as PNG bytes (Agg, no pyplot)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    peers = totals.peers
    bars = [("mips (this run)", totals.solved, "#2a7ab0")]
    if peers is not None:
        bars += [
            ("GPT-4", peers.gpt4_solved, "#999999"),
            ("authors' MIPS\n(Jan-22 reconstruction)", peers.authors_solved, "#c98b2b"),
        ]
        if peers.all_tasks:
            bars.append(("authors' MIPS\n(paper)", peers.totals.authors_mips_paper, "#e0b060"))
    fig = Figure(figsize=(1.6 + 1.6 * len(bars), 3.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    xs = range(len(bars))
    ax.bar(xs, [b[1] for b in bars], color=[b[2] for b in bars])
    for x, (_, value, _) in zip(xs, bars, strict=True):
        ax.text(x, value, str(value), ha="center", va="bottom")
    ax.set_xticks(list(xs), [b[0] for b in bars], fontsize=8)
    ax.set_ylim(0, totals.tasks * 1.12 + 1)
    ax.axhline(totals.tasks, color="#444", lw=0.8, ls="--")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("tasks solved")
    ax.set_title(f"Solved, of the {totals.tasks} tasks in this run", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

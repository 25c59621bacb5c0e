"""Benchmark report: this run's judged results next to GPT-4's and the authors' MIPS, as md + html.

Reads ``<dir>/results.jsonl`` (see :mod:`mips.bench.runner`) and the peers' figures shipped in
``peers.json``; writes ``report.md``, ``report.html`` (self-contained: inline CSS, the chart as a
base64 PNG) and ``solved.png``. With several seeds a task counts as solved if any seed solved it.
The peers ran only the paper's 62: a run of another suite gets "-" in their columns, no peer
totals, and the solved count per family instead. Each row names the code (commit) that made its
seeds' records, and the headline counts the records per code.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from mips.bench.runner import RESULTS, picture_path, program_path, read_results
from mips.provenance import recorded_code
from mips.tasks import SUITES, get_task, suite_tasks

__all__ = ["TaskRow", "load_peers", "summarise", "write_report"]


@cache
def _peers_text() -> str:
    return resources.files("mips.bench").joinpath("peers.json").read_text(encoding="utf-8")


def load_peers() -> dict:
    """The peers' figures: ``sources``, ``totals`` and per-task ``tasks`` (see peers.json)."""
    return json.loads(_peers_text())


@dataclass(frozen=True)
class TaskRow:
    """One task in the report: this run's representative record and the peers' results."""

    task: str
    record: dict  # the first correct seed's record, else the first seed's
    seeds_solved: int
    seeds_run: int
    peer: dict | None  # the task's entry in peers.json, None for a task the peers never ran
    program: str | None  # relative link, when the file exists
    picture: str | None
    code: tuple[str, ...] = ()  # the commits that made its seeds' records, in seed order

    @property
    def solved(self) -> bool:
        return self.seeds_solved > 0


def summarise(records: list[dict], directory: Path) -> tuple[list[TaskRow], dict]:
    """Rows in the peers' task order, then the other suites' in declaration order (unknown tasks
    after, by name), and the totals for the report."""
    peers = load_peers()
    by_task: dict[str, dict[int, dict]] = {}
    for record in records:
        by_task.setdefault(record["task"], {}).setdefault(record["seed"], record)  # first wins
    order = list(peers["tasks"]) + [
        t.name for suite in SUITES if suite != "benchmark" for t in suite_tasks(suite)
    ]
    names = [t for t in order if t in by_task] + sorted(set(by_task) - set(order))
    rows = []
    for name in names:
        seeds = [by_task[name][s] for s in sorted(by_task[name])]
        solved = [r for r in seeds if r.get("correct")]
        record = (solved or seeds)[0]
        rows.append(
            TaskRow(
                task=name,
                record=record,
                seeds_solved=len(solved),
                seeds_run=len(seeds),
                peer=peers["tasks"].get(name),
                program=_existing(directory, record.get("program_file"))
                or _existing(directory, program_path(name, record["seed"])),
                picture=_existing(directory, picture_path(name, record["seed"])),
                code=tuple(dict.fromkeys(_code_label(r) for r in seeds)),
            )
        )
    per_seed: dict[int, list[int]] = {}
    for seeds in by_task.values():
        for seed, record in seeds.items():
            per_seed.setdefault(seed, [0, 0])
            per_seed[seed][0] += bool(record.get("correct"))
            per_seed[seed][1] += 1
    peered = [r for r in rows if r.peer is not None]
    solved_rows = [r for r in rows if r.solved]
    families: dict[str, list[int]] = {}
    for row in rows:
        if family := _family(row.task):
            counts = families.setdefault(family, [0, 0])
            counts[0] += row.solved
            counts[1] += 1
    checked = [r for seeds in by_task.values() for r in seeds.values() if r.get("independent")]
    totals = {
        "tasks": len(rows),
        # Programs replayed on the sequences held back from every stage, and how many passed.
        "held_back": (
            sum(all(c["passed"] for c in r["independent"]) for r in checked),
            len(checked),
        ),
        "solved": len(solved_rows),
        "families": families,
        "per_seed": dict(sorted(per_seed.items())),
        "forms": _count(r.record.get("form") or "other" for r in solved_rows),
        "failed_stages": _count(r.record.get("failed_stage") or "?" for r in rows if not r.solved),
        "solved_by_no_peer": [
            r.task
            for r in solved_rows
            if r.peer is not None and not r.peer["gpt4_solved"] and not r.peer["authors_mips"]
        ],
        "solved_not_gpt4": sum(r.solved and not r.peer["gpt4_solved"] for r in peered),
        "gpt4_here": sum(r.peer["gpt4_solved"] for r in peered),
        "authors_here": sum(r.peer["authors_mips"] for r in peered),
        "authors_solved_not_here": [
            r.task for r in peered if r.peer["authors_mips"] and not r.solved
        ],
        "peer_tasks_here": len(peered),
        "all_peer_tasks": len(peered) == peers["totals"]["tasks"],
        "peers": peers["totals"],
        "code": _count(_code_label(r) for seeds in by_task.values() for r in seeds.values()),
        "seconds": sum(
            float((r.get("seconds") or {}).get("total") or 0)
            for seeds in by_task.values()
            for r in seeds.values()
        ),
    }
    return rows, totals


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


def _code_label(record: dict) -> str:
    """The commit that made a record, short; "not recorded" for a record that names none."""
    code = recorded_code(record)
    return code.label() if code else "not recorded"


def _existing(directory: Path, relative: str | None) -> str | None:
    return relative if relative and (directory / relative).is_file() else None


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _headline(t: dict) -> list[str]:
    """The totals as sentences (plain text; the renderers add markup)."""
    p, n = t["peers"], t["tasks"]
    here = "" if t["all_peer_tasks"] else f" of the {t['peer_tasks_here']} run"
    lines = [
        f"Judged correct: {t['solved']} of {n} tasks"
        + (" (a task counts if any seed is correct)" if len(t["per_seed"]) > 1 else ""),
        "Per seed: " + ", ".join(f"seed {s}: {c}/{m}" for s, (c, m) in t["per_seed"].items()),
        "Solved tasks by program form: "
        + (", ".join(f"{k} {v}" for k, v in t["forms"].items()) or "none"),
    ]
    passed, checked = t["held_back"]
    if checked:
        lines.append(
            f"Held-back check: {passed} of {checked} programs replayed every sequence no stage "
            f"saw ({checked - passed} refused)"
        )
    if t["families"]:
        lines.append(
            "Solved by family: " + ", ".join(f"{k} {s}/{m}" for k, (s, m) in t["families"].items())
        )
    if not t["peer_tasks_here"]:
        lines.append("Peers: none ran these tasks (GPT-4 and the authors' MIPS ran the paper's 62)")
    else:
        lines += _peer_lines(t, p, here)
    return lines + [
        "Unsolved tasks by failed stage: "
        + (", ".join(f"{k} {v}" for k, v in t["failed_stages"].items()) or "none"),
        f"Compute: {t['seconds'] / 3600:.2f} job-hours in all",
        "Made by code (commit): "
        + ", ".join(f"{k} ({v} record{'s' * (v != 1)})" for k, v in t["code"].items()),
    ]


def _peer_lines(t: dict, p: dict, here: str) -> list[str]:
    """The headline's comparisons with the peers, over the tasks of this run they ran."""
    return [
        f"Solved here and by no peer (neither GPT-4 nor the authors' MIPS): "
        f"{len(t['solved_by_no_peer'])}" + _names(t["solved_by_no_peer"]),
        f"Solved here but not by GPT-4: {t['solved_not_gpt4']} "
        f"(the paper: {p['authors_mips_only_paper']} for the authors' MIPS)",
        f"GPT-4 solves {p['gpt4']}/{p['tasks']} of all tasks"
        + (here and f", {t['gpt4_here']}{here}"),
        f"The authors' MIPS solves {p['authors_mips_paper']}/{p['tasks']} (paper); the Jan-22 "
        f"reconstruction passes {p['authors_mips_reconstruction']}/{p['tasks']}"
        + (here and f", {t['authors_here']}{here}"),
        "Solved by the authors' reconstruction but not here: "
        f"{len(t['authors_solved_not_here'])}" + _names(t["authors_solved_not_here"]),
    ]


def _names(names: list[str]) -> str:
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

    def show(value) -> str:
        return "" if value is None else str(value)

    seconds = (r.get("seconds") or {}).get("total")
    note = "" if row.solved else f"{show(r.get('failed_stage'))}: {show(r.get('reason'))}"
    return [
        str(i),
        row.task,
        "yes" if row.solved else "no",
        f"{row.seeds_solved}/{row.seeds_run}",
        show(r.get("form")),
        show(r.get("program_lines")),
        show(r.get("state_vars")),
        show(r.get("architecture")),
        f"{show(r.get('hidden')) or '-'} / {peer['authors_hidden'] if peer else '-'}",
        "" if seconds is None else f"{float(seconds):.0f}",
        "-" if peer is None else ("yes" if peer["gpt4_solved"] else "no"),
        "-" if peer is None else ("yes" if peer["authors_mips"] else "no"),
        row.program or "",
        row.picture or "",
        " ".join(note.split())[:160],
        ", ".join(row.code),
    ]


def _markdown(rows: list[TaskRow], totals: dict) -> str:
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


def _sources_note(totals: dict) -> str:
    if not totals["peer_tasks_here"]:
        return ""
    s = load_peers()["sources"]
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


def _html(rows: list[TaskRow], totals: dict, png: bytes) -> str:
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


def _chart(totals: dict) -> bytes:
    """Bar chart of solved counts, over the tasks of this run, as PNG bytes (Agg, no pyplot)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    bars = [("mips (this run)", totals["solved"], "#2a7ab0")]
    if totals["peer_tasks_here"]:
        bars += [
            ("GPT-4", totals["gpt4_here"], "#999999"),
            ("authors' MIPS\n(Jan-22 reconstruction)", totals["authors_here"], "#c98b2b"),
        ]
    if totals["all_peer_tasks"]:
        bars.append(("authors' MIPS\n(paper)", totals["peers"]["authors_mips_paper"], "#e0b060"))
    fig = Figure(figsize=(1.6 + 1.6 * len(bars), 3.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    xs = range(len(bars))
    ax.bar(xs, [b[1] for b in bars], color=[b[2] for b in bars])
    for x, (_, value, _) in zip(xs, bars, strict=True):
        ax.text(x, value, str(value), ha="center", va="bottom")
    ax.set_xticks(list(xs), [b[0] for b in bars], fontsize=8)
    ax.set_ylim(0, totals["tasks"] * 1.12 + 1)
    ax.axhline(totals["tasks"], color="#444", lw=0.8, ls="--")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("tasks solved")
    ax.set_title(f"Solved, of the {totals['tasks']} tasks in this run", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

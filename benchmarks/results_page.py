"""Write docs/results.md from the results files committed under results/: one dated section per suite.

Each section is generated from the newest ``results/<suite>/<date>-<commit>.jsonl`` (names sort
by date): a link to the file, the run's conditions from ``<same name>.about.md`` (the machine, the
command, what else shared the cores: facts the records cannot hold), the table ``mips report``
makes from the records, and ``<same name>.peer.md`` when a peer ran on the same tasks (a table
written by that peer's benchmark script). A suite without a committed file says so and gives the
command that would make one.

Usage: python benchmarks/results_page.py [--check]
  --check: exit 1 when docs/results.md differs from what the files give (for CI or review).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from mips.bench.report import results_markdown

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "results.md"

INTRO = """# Results

Every figure on this page comes from a results file committed to this repository under
`results/<suite>/<date>-<commit>.jsonl`: the records of one run, one JSON line per (task, seed),
each carrying its config and the code (commit) that made it. Each section is generated from its
file by `benchmarks/results_page.py` (the tables are `mips report`'s), and names the file, the
commit and the machine the run ran on (cores, memory, GPU, and what else shared them). A figure
without a committed file behind it is not quoted here or anywhere else in the documentation.

To add a run: run the suite with `mips bench --out DIR` on a clean checkout, copy
`DIR/results.jsonl` to `results/<suite>/<date>-<commit>.jsonl` (date `YYYY-MM-DD`, the short
commit the records name), describe the run in `<date>-<commit>.about.md` beside it, and run
`python benchmarks/results_page.py`. How the suites and the judge are defined:
[benchmark.md](benchmark.md).
"""


@dataclass(frozen=True)
class Section:
    suite: str
    title: str
    command: str
    # Where the records are not ``mips bench``'s, the page where they are summarised instead.
    summarised_in: str | None = None


SECTIONS = (
    Section(
        "benchmark",
        "Benchmark (the paper's 62 tasks, seeds 0-2)",
        ".venv/bin/mips bench --suite benchmark --seeds 3 --jobs 2 --timeout 120 --out bench_out",
    ),
    Section(
        "generality",
        "Generality (tasks of our own)",
        ".venv/bin/mips bench --suite generality --jobs 2 --timeout 120 --out gen_out",
    ),
    Section(
        "protocols",
        "Protocols (17 Mealy machines over words)",
        ".venv/bin/mips bench --suite protocols --jobs 2 --timeout 300 --out proto_out",
    ),
    Section(
        "ragged",
        "Ragged (the 62 tasks cut to 3..10 steps)",
        ".venv/bin/mips bench --variant ragged --jobs 2 --timeout 120 --out ragged_out",
    ),
    Section(
        "noisy",
        "Noisy (0.1% of the labels changed)",
        ".venv/bin/mips bench --variant noisy --jobs 2 --timeout 120 --out noisy_out",
    ),
    Section(
        "explain",
        "Explain (mips explain against AALpy's L\\*)",
        "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/explain.py",
        summarised_in="[explain.md](explain.md#against-aalpys-l)",
    ),
    Section(
        "explain_transformers",
        "Explain transformers (mips explain on small causal transformers)",
        "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/explain_transformers.py",
        summarised_in="[explain.md](explain.md#transformers)",
    ),
)


def section(s: Section, root: Path = ROOT) -> str:
    """The markdown of one suite's section, from its newest committed results file."""
    files = sorted((root / "results" / s.suite).glob("*.jsonl"))
    lines = [f"## {s.title}", ""]
    if not files:
        lines += ["Not yet measured with committed results. The run:", ""]
        lines += ["```bash", s.command, "```", ""]
        return "\n".join(lines)
    newest = files[-1]
    link = newest.relative_to(root).as_posix()
    lines += [f"File: [`{link}`](../{link}).", ""]
    about = newest.with_suffix(".about.md")
    if about.exists():
        lines += [about.read_text(encoding="utf-8").strip(), ""]
    if s.summarised_in is not None:
        lines += ["```bash", s.command, "```", ""]
        lines += [f"One record per network; {s.summarised_in} gives the figures.", ""]
        return "\n".join(lines)
    lines += ["```bash", s.command, f".venv/bin/mips report {link}", "```", ""]
    # The report's own title would be a second page title: the section heading names it.
    report = results_markdown(newest).splitlines()
    lines += ["\n".join(r for r in report if not r.startswith("# ")).strip(), ""]
    peer = newest.with_suffix(".peer.md")
    if peer.exists():
        lines += [peer.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)


def page(root: Path = ROOT) -> str:
    return "\n".join([INTRO, *(section(s, root) for s in SECTIONS)]).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with docs/results.md")
    args = parser.parse_args()
    text = page()
    if args.check:
        if PAGE.read_text(encoding="utf-8") != text:
            sys.exit("docs/results.md differs from the committed results files")
        return
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

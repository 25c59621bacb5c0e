"""docs/results.md is generated from the committed results files, and says which file made what."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "results_page", ROOT / "benchmarks" / "results_page.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["results_page"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_what_the_committed_files_give():
    assert (ROOT / "docs" / "results.md").read_text(encoding="utf-8") == _script().page()


def test_a_section_comes_from_the_newest_file_with_its_conditions_and_peer(tmp_path):
    script = _script()
    folder = tmp_path / "results" / "benchmark"
    folder.mkdir(parents=True)
    record = {"task": "Bitwise_Not", "seed": 0, "n": 100, "ok": True, "correct": True}
    for name, rec in (
        ("2026-01-01-aaaaaaa", {**record, "correct": False, "failed_stage": "x"}),
        ("2026-02-01-bbbbbbb", record),
    ):
        (folder / f"{name}.jsonl").write_text(json.dumps(rec) + "\n")
    (folder / "2026-02-01-bbbbbbb.about.md").write_text("Run on a test machine.\n")
    (folder / "2026-02-01-bbbbbbb.peer.md").write_text("| peer | table |\n")
    text = script.section(script.SECTIONS[0], tmp_path)
    assert "results/benchmark/2026-02-01-bbbbbbb.jsonl" in text
    assert "Run on a test machine." in text and "| peer | table |" in text
    assert "Judged correct: 1 of 1 tasks" in text
    assert "Not yet measured" in script.section(script.SECTIONS[3], tmp_path)


def test_the_variant_sections_read_their_variants_runs(tmp_path):
    script = _script()
    sections = {s.suite: s for s in script.SECTIONS}
    for variant in ("ragged", "noisy"):
        command = sections[variant].command
        assert f"mips bench --variant {variant} " in command
        assert "Not yet measured" in script.section(sections[variant], tmp_path)
    folder = tmp_path / "results" / "noisy"
    folder.mkdir(parents=True)
    record = {"task": "Sum_All", "seed": 0, "n": 100, "variant": "noisy", "failed_stage": "x"}
    record["noisy_labels"] = {"changed": 4, "found": 3}
    (folder / "2026-03-01-ccccccc.jsonl").write_text(json.dumps(record) + "\n")
    text = script.section(sections["noisy"], tmp_path)
    assert "mips report results/noisy/2026-03-01-ccccccc.jsonl" in text
    assert "- Variant: noisy (" in text
    assert "- Wrong labels found among the suspects: 3 of 4 (75%)" in text


def test_each_suite_keeps_one_results_file_per_date():
    # The page takes the last file by name, and names order runs only by date: a second run of
    # one day must replace the first, or the page may show the older of the two.
    for folder in (ROOT / "results").iterdir():
        dates = [f.name[:10] for f in folder.glob("*.jsonl")]
        assert len(dates) == len(set(dates)), folder.name

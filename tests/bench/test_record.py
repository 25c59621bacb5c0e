"""One record schema for every benchmark outcome, read back exactly as it was written."""

import json
from pathlib import Path

import pytest

from mips.bench.record import BenchRecord, StageSeconds
from mips.bench.runner import read_results

ROOT = Path(__file__).resolve().parents[2]


def test_records_round_trip():
    record = BenchRecord(
        task="Sum_All",
        seed=0,
        n=100,
        failed_stage="network",
        reason="no exact network",
        seconds=StageSeconds((("generate", 0.5), ("network", 9.0)), 9.5),
        attempts=("finite: table, verified",),
    )
    written = record.to_dict()
    assert written["seconds"] == {"generate": 0.5, "network": 9.0, "total": 9.5}
    assert BenchRecord.from_dict(json.loads(json.dumps(written))) == record


def test_every_committed_record_reads_back_as_the_same_json_line():
    files = [
        f
        for f in sorted((ROOT / "results").glob("*/*.jsonl"))
        # The explain benchmarks write one record per network, not mips bench records.
        if f.parent.name not in ("explain", "explain_transformers")
    ]
    assert files
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        records = read_results(path)
        assert [json.dumps(r.to_dict()) for r in records] == lines, path
    judged = [r for r in records if r.judgement is not None]
    assert judged and all(r.correct == r.judgement.correct for r in judged)


def test_inconsistent_outcomes_are_refused():
    with pytest.raises(ValueError, match="no failed stage"):
        BenchRecord(task="Sum_All", seed=0, n=100)
    with pytest.raises(ValueError, match="correct, yet"):
        BenchRecord(task="Sum_All", seed=0, n=100, correct=True, ok=False)
    with pytest.raises(ValueError, match="unknown record fields"):
        BenchRecord.from_dict({"task": "Sum_All", "seed": 0, "n": 1, "colour": "red"})
    with pytest.raises(ValueError, match="not a record"):
        BenchRecord.from_dict({"task": "Sum_All", "seed": 0, "failed_stage": "job"})
    with pytest.raises(ValueError, match="'code'"):
        BenchRecord.from_dict({"task": "A", "seed": 0, "n": 1, "failed_stage": "job", "code": 1})
    with pytest.raises(ValueError, match="total"):
        StageSeconds((("total", 1.0),))


def test_a_damaged_record_names_its_file_and_line(tmp_path):
    path = tmp_path / "results.jsonl"
    good = {"task": "Prev1", "seed": 0, "n": 10, "failed_stage": "job"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "seconds": [1]}) + "\n")
    with pytest.raises(ValueError, match=r"results.jsonl:2: record field 'seconds'"):
        read_results(path)

"""One record schema for every benchmark outcome."""

import pytest

from mips.bench.record import BenchRecord


def test_records_round_trip():
    record = BenchRecord("Sum_All", 0, 100, failed_stage="network", reason="no exact network")
    assert BenchRecord.from_dict(record.to_dict()) == record


def test_inconsistent_outcomes_are_refused():
    with pytest.raises(ValueError, match="no failed stage"):
        BenchRecord("Sum_All", 0, 100)
    with pytest.raises(ValueError, match="correct, yet"):
        BenchRecord("Sum_All", 0, 100, correct=True, ok=False)
    with pytest.raises(ValueError, match="unknown record fields"):
        BenchRecord.from_dict({"task": "Sum_All", "seed": 0, "n": 1, "colour": "red"})

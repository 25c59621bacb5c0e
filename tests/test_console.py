"""The console off a terminal: plain lines a log file can keep, no bars."""

from mips.bench.record import BenchRecord
from mips.console import job_bar


def test_the_job_bar_writes_one_plain_line_per_job_and_no_bar_off_a_terminal(capsys):
    with job_bar("bench") as progress:
        progress(1, 2, BenchRecord(task="Sum_All", seed=0, n=10, failed_stage="network"))
    err = capsys.readouterr().err
    assert err.splitlines() == ["Sum_All seed 0: failed (network)"]

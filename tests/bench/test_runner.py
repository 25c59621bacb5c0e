"""Benchmark runner and report: resume, failures, seeds independent of workers, peers' data.

The runner tests use fake jobs (module-level, so spawned workers can import them); real synthesis
runs belong to the benchmark command, not the default test run.
"""

import functools
import json
import os
import sys
import time
from dataclasses import replace

import pytest

from mips.bench import runner
from mips.bench.judge import Judgement
from mips.bench.peers import load_peers
from mips.bench.record import BenchRecord, IndependentVerdict
from mips.bench.report import Solved, summarise, write_report
from mips.bench.runner import read_results, run_bench
from mips.provenance import CodeIdentity, code_identity
from mips.tasks import all_tasks
from mips.verify import IndependentCheck


def fake_job(task, seed, n=4000, out=None, log=None):
    """A deterministic stand-in for run_job that writes a program file like the real one."""
    if log is not None:
        with open(log, "a") as f:
            f.write(f"{task} {seed}\n")
    (out / "programs").mkdir(parents=True, exist_ok=True)
    (out / runner.program_path(task, seed)).write_text(f"# {task} {seed}\n")
    correct = (len(task) + seed) % 2 == 0
    return BenchRecord(
        task=task,
        seed=seed,
        n=n,
        correct=correct,
        ok=True,
        form="formula",
        hidden=len(task) * 100 + seed,
        program_file=runner.program_path(task, seed),
        failed_stage=None if correct else "judge",
    )


def misbehaving_job(task, seed, n=4000, out=None):
    """Raises for Prev2, hangs for Prev3, dies for Prev4, else behaves like fake_job."""
    if task == "Prev2":
        raise ValueError("no luck\nat all")
    if task == "Prev3":
        time.sleep(600)
    if task == "Prev4":
        os._exit(3)
    return fake_job(task, seed, n, out)


def test_peers_cover_the_62_tasks_with_the_published_totals():
    peers = load_peers()
    tasks = peers.tasks
    assert list(tasks) == [t.name for t in all_tasks()]
    assert sum(t.gpt4_solved for t in tasks.values()) == 30 == peers.totals.gpt4
    reconstruction = sum(t.authors_mips for t in tasks.values())
    assert reconstruction == 30 == peers.totals.authors_mips_reconstruction
    assert peers.totals.authors_mips_paper == 32
    # The paper's 13 tasks solved by MIPS and not by GPT-4 are all in the reconstruction.
    mips_only = [n for n, t in tasks.items() if t.authors_mips and not t.gpt4_solved]
    assert len(mips_only) == 13 == peers.totals.authors_mips_only_paper
    assert "Binary_Addition" in mips_only
    hidden = {n: t.authors_hidden for n, t in tasks.items()}
    assert all(isinstance(h, int) and h >= 1 for h in hidden.values())
    assert (hidden["Binary_Addition"], hidden["Dithering"], hidden["Newton_Magnetic"]) == (2, 81, 4)
    assert {"gpt4_solved", "authors_mips", "authors_hidden"} <= set(peers.sources)


def test_resume_skips_finished_jobs_and_drops_a_torn_last_line(tmp_path):
    out, log = tmp_path / "run", tmp_path / "calls.txt"
    job = functools.partial(fake_job, log=log)
    first = run_bench(["Prev1", "Prev2"], 2, "local", 2, out, job=job)
    assert [(r.task, r.seed) for r in first] == [
        ("Prev1", 0),
        ("Prev1", 1),
        ("Prev2", 0),
        ("Prev2", 1),
    ]
    results = out / "results.jsonl"
    with open(results, "ab") as f:
        f.write(b'{"task": "Prev3", "seed": 0, "corr')  # a writer killed mid-line
    assert len(read_results(results)) == 4

    seen = []
    records = run_bench(
        ["Prev1", "Prev2", "Prev3"],
        2,
        "local",
        2,
        out,
        job=job,
        progress=lambda done, total, record: seen.append((done, total, record.task)),
    )
    assert log.read_text().split("\n").count("Prev1 0") == 1  # not run again
    assert sorted(log.read_text().split()[8:]) == ["0", "1", "Prev3", "Prev3"]
    assert records[:4] == first and [r.task for r in records[4:]] == ["Prev3", "Prev3"]
    assert sorted(seen) == [(5, 6, "Prev3"), (6, 6, "Prev3")]
    assert results.read_bytes().endswith(b"\n")
    lines = results.read_text().splitlines()
    assert len(lines) == 6 and all(json.loads(line)["task"] for line in lines)
    assert (out / "programs" / "Prev3__1.py").read_text() == "# Prev3 1\n"
    # Nothing left to do: no job runs at all.
    assert run_bench(["Prev3"], 2, "local", 1, out, job=job) == records[4:]
    assert len(log.read_text().splitlines()) == 6


def test_failing_hanging_and_dying_jobs_are_recorded_and_the_run_goes_on(tmp_path):
    tasks = ["Prev1", "Prev2", "Prev3", "Prev4", "Prev5"]
    start = time.monotonic()
    records = run_bench(tasks, 1, "local", 2, tmp_path, timeout=5.0, job=misbehaving_job)
    assert time.monotonic() - start < 60
    by_task = {r.task: r for r in records}
    assert by_task["Prev1"].correct is False and by_task["Prev1"].hidden == 500
    assert by_task["Prev5"].correct is False and by_task["Prev5"].form == "formula"
    raised = by_task["Prev2"]
    assert (raised.failed_stage, raised.correct) == ("job", False)
    assert raised.reason == "raised ValueError: no luck at all"
    assert "ValueError" in raised.traceback
    assert by_task["Prev3"].failed_stage == "timeout"
    assert by_task["Prev3"].reason == "timed out after 5 s"
    assert by_task["Prev3"].seconds.total >= 5.0
    assert by_task["Prev4"].failed_stage == "job"
    assert "exit code 3" in by_task["Prev4"].reason
    assert len(read_results(tmp_path / "results.jsonl")) == 5


def pid_job(task, seed, n=4000, out=None):
    """fake_job whose record says which process ran it; dies for Prev4."""
    if task == "Prev4":
        os._exit(3)
    return replace(fake_job(task, seed, n, out), hidden=os.getpid())


def test_a_worker_runs_job_after_job_and_one_that_died_is_replaced(tmp_path):
    tasks = ["Prev1", "Prev2", "Prev3", "Prev4", "Prev5", "Sum_Last2"]
    by_task = {r.task: r for r in run_bench(tasks, 1, "local", 1, tmp_path, job=pid_job)}
    assert by_task["Prev4"].failed_stage == "job"
    before = {by_task[t].hidden for t in ["Prev1", "Prev2", "Prev3"]}
    after = {by_task[t].hidden for t in ["Prev5", "Sum_Last2"]}
    assert len(before) == 1 and len(after) == 1 and before != after
    assert os.getpid() not in before | after


def test_records_do_not_depend_on_the_number_of_workers(tmp_path):
    tasks = ["Bitwise_Xor", "Sum_Last2"]
    one = run_bench(tasks, 2, "local", 1, tmp_path / "one", job=fake_job)
    two = run_bench(tasks, 2, "local", 2, tmp_path / "two", job=fake_job)
    assert one == two and len(one) == 4
    assert {r.seed for r in one} == {0, 1}
    programs = sorted(p.name for p in (tmp_path / "one" / "programs").iterdir())
    assert programs == sorted(p.name for p in (tmp_path / "two" / "programs").iterdir())


def test_bad_arguments_fail_before_anything_runs(tmp_path, monkeypatch):
    with pytest.raises(KeyError, match="unknown task"):
        run_bench(["Prev_1"], 1, "local", 1, tmp_path, job=fake_job)
    with pytest.raises(ValueError, match="backend"):
        run_bench(["Prev1"], 1, "slurm", 1, tmp_path, job=fake_job)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(RuntimeError, match=r"pip install 'mips\[ray\]'"):
        run_bench(["Prev1"], 1, "ray", 1, tmp_path, job=fake_job)
    assert not (tmp_path / "results.jsonl").exists()


def test_judge_seed_is_derived_and_distinct_from_the_data_seed():
    seeds = [runner.judge_seed(s) for s in range(5)]
    assert len(set(seeds)) == 5 and not set(seeds) & set(range(5))
    assert seeds == [runner.judge_seed(s) for s in range(5)]


def _record(task, seed, correct, form="formula", **extra):
    return {
        "task": task,
        "seed": seed,
        "n": 4000,
        "correct": correct,
        "ok": correct,
        "form": form if correct else None,
        "hidden": 2,
        "architecture": "hidden 2, hidden MLP 1x0, output MLP 1x0",
        "state_vars": 2 if correct else None,
        "program_lines": 12 if correct else None,
        "program_file": f"programs/{task}__{seed}.py" if correct else None,
        "seconds": {"total": 30.0},
        "failed_stage": None if correct else "verify",
        "reason": None if correct else "held-out 10/800 | wrong",
        "judgement": None,
        **extra,
    }


def test_report_shows_totals_and_one_row_per_task(tmp_path):
    records = [
        _record("Binary_Addition", 0, True),  # solved by GPT-4? no; authors: yes
        _record("Binary_Addition", 1, False),
        _record("Base_3_Addition", 0, False),  # solved by no peer
        _record("Base_3_Addition", 1, True, form="table"),
        _record("Sum_All", 0, False),
        _record("Sum_All", 1, False),
    ]
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "Binary_Addition__0.py").write_text("def f(): pass\n")
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "Binary_Addition__0.png").write_bytes(b"\x89PNG")
    lines = "".join(json.dumps(r) + "\n" for r in records) + '{"task": "Sum_'
    (tmp_path / "results.jsonl").write_text(lines)

    md_path, html_path = write_report(tmp_path)
    md, page = md_path.read_text(), html_path.read_text()
    assert "Judged correct: 2 of 3 tasks" in md
    assert "seed 0: 1/3, seed 1: 1/3" in md
    assert "formula 1, table 1" in md
    assert "by no peer (neither GPT-4 nor the authors' MIPS): 1 (Base_3_Addition)" in md
    assert "GPT-4 solves 30/62 of all tasks, 1 of the 3 run" in md
    assert "32/62 (paper)" in md and "reconstruction passes 30/62" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "Task" not in line]
    names = [row.split(" | ")[1] for row in rows]
    assert names == ["Binary_Addition", "Base_3_Addition", "Sum_All"]
    assert "| yes | 1/2 | formula | 12 | 2 |" in rows[0]
    assert "[program](programs/Binary_Addition__0.py)" in rows[0]
    assert "[picture](pictures/Binary_Addition__0.png)" in rows[0]
    assert "2 / 2" in rows[0] and "| no | yes |" in rows[0]  # hidden; GPT-4 no, authors yes
    assert "[program]" not in rows[1]  # the program file is missing, so no link
    assert "verify: held-out 10/800 \\| wrong" in rows[2]
    assert page.count("<tr>") == 4 and "data:image/png;base64," in page
    assert 'href="programs/Binary_Addition__0.py"' in page and "<style>" in page
    assert (tmp_path / "solved.png").read_bytes().startswith(b"\x89PNG")


def test_report_counts_the_programs_the_held_back_check_refused(tmp_path):
    records = [
        _record("Binary_Addition", 0, True, independent=_held_back(wrong=0)),
        _record("Sum_All", 0, False, failed_stage="independent check", independent=_held_back(1)),
        _record("Prev1", 0, True),  # made before records carried the check
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    md = write_report(tmp_path)[0].read_text()
    assert "Held-back check: 1 of 2 programs replayed every sequence no stage saw (1 refused)" in md


def _held_back(wrong, passed=None):
    """A record's held-back check with ``wrong`` wrong sequences; ``passed`` as recorded."""
    check = IndependentCheck(
        where="400 sequences held back", sequences=400, wrong=wrong, steps=4000, wrong_steps=wrong
    )
    verdict = IndependentVerdict.of(check)
    return [(verdict if passed is None else replace(verdict, passed=passed)).to_dict()]


def test_summarise_gives_typed_totals_and_keeps_recorded_verdicts(tmp_path):
    code = CodeIdentity("0.1.0", "a" * 40)
    records = [
        BenchRecord.from_dict(r)
        for r in [
            _record("Binary_Addition", 0, True, code=code.to_dict()),
            _record("Binary_Addition", 1, False, independent=_held_back(0)),
            # A verdict as its code gave it: figures that would pass today do not rewrite it.
            _record("Parity_Last3", 0, True, independent=_held_back(0, passed=False)),
            _record("Sum_All", 0, False, failed_stage="network"),
            _record("G_Sum_Mod_9", 0, True, form="table"),
            _record("Not_A_Task", 0, False, seconds={}),
        ]
    ]
    rows, totals = summarise(records, tmp_path)
    names = ["Binary_Addition", "Parity_Last3", "Sum_All", "G_Sum_Mod_9", "Not_A_Task"]
    assert [r.task for r in rows] == names
    assert rows[0].record == records[0] and rows[0].peer == load_peers().tasks["Binary_Addition"]
    assert rows[3].peer is None and rows[0].code == ("aaaaaaaaaaaa", "not recorded")
    assert (totals.tasks, totals.solved) == (5, 3)
    assert totals.per_seed == ((0, Solved(3, 5)), (1, Solved(0, 1)))
    assert totals.forms == (("formula", 2), ("table", 1))
    assert totals.failed_stages == (("network", 1), ("verify", 1))
    assert (totals.held_back_passed, totals.held_back_checked) == (1, 2)
    assert totals.code == (("not recorded", 5), ("aaaaaaaaaaaa", 1))
    assert totals.seconds == 150.0 and totals.families == (("modular", Solved(1, 1)),)
    peers = totals.peers
    assert peers is not None and (peers.tasks_here, peers.all_tasks) == (3, False)
    assert peers.solved_by_no_peer == () and peers.authors_solved_not_here == ()
    assert (peers.gpt4_solved, peers.authors_solved, peers.solved_not_gpt4) == (1, 2, 2)
    _, alone = summarise([records[-1]], tmp_path)
    assert alone.peers is None and alone.families == () and alone.seconds == 0
    with pytest.raises(ValueError, match="solved 3 of 2"):
        Solved(3, 2)


def test_report_needs_results(tmp_path):
    with pytest.raises(ValueError, match="no results"):
        write_report(tmp_path)


@pytest.mark.slow
def test_ray_backend_gives_the_local_backend_records(tmp_path):
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers lack tests/
    tasks = ["Prev1", "Prev2"]
    local = run_bench(tasks, 1, "local", 2, tmp_path / "local", job=fake_job)
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        remote = run_bench(tasks, 1, "ray", 2, tmp_path / "ray", job=fake_job)
        assert ray.is_initialized()  # run_bench leaves a caller's Ray instance running
    finally:
        ray.shutdown()
    assert remote == local
    assert (tmp_path / "ray" / "programs" / "Prev2__0.py").read_text() == "# Prev2 0\n"


def test_records_name_the_code_and_the_config_that_made_them(tmp_path):
    from mips.synthesis import SynthConfig

    records = run_bench(["Prev1", "Prev2"], 1, "local", 1, tmp_path, job=misbehaving_job)
    assert [r.code for r in records] == [code_identity()] * 2  # a failure too
    assert records[1].failed_stage == "job"
    assert records[1].config_digest == SynthConfig(seed=0).digest()


def test_a_results_file_made_by_other_code_is_refused_unless_told(tmp_path):
    out, log = tmp_path / "run", tmp_path / "calls.txt"
    job = functools.partial(fake_job, log=log)
    run_bench(["Prev1"], 1, "local", 1, out, job=job)
    results = out / "results.jsonl"
    mine = code_identity()
    other = CodeIdentity(mine.version, "f" * 40 if mine.commit != "f" * 40 else "e" * 40)
    record = json.loads(results.read_text())
    for code in (other.to_dict(), None):  # another commit; a record naming no code
        results.write_text(json.dumps({**record, "code": code}) + "\n")
        with pytest.raises(ValueError, match="other code") as refused:
            run_bench(["Prev1", "Prev2"], 1, "local", 1, out, job=job)
        assert ("ffffffffffff" in str(refused.value)) == (code is not None)
        assert "--resume-any" in str(refused.value)
        assert len(log.read_text().splitlines()) == 1 and len(read_results(results)) == 1
    records = run_bench(["Prev1", "Prev2"], 1, "local", 1, out, job=job, resume_any=True)
    assert [r.task for r in records] == ["Prev1", "Prev2"]
    assert records[0].code is None and records[1].code == mine


def test_bench_refuses_another_codes_results_in_one_error_line(tmp_path):
    from typer.testing import CliRunner

    from mips.cli import app

    record = {**_record("Prev1", 0, True), "code": CodeIdentity("0.0.1").to_dict()}
    (tmp_path / "results.jsonl").write_text(json.dumps(record) + "\n")
    result = CliRunner().invoke(app, ["bench", "--tasks", "Prev1", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "mips 0.0.1" in lines[0]
    assert "--resume-any" in lines[0]


def test_report_shows_the_code_of_each_row_and_counts_records_per_code(tmp_path):
    a = CodeIdentity("0.1.0", "a" * 40)
    b = CodeIdentity("0.1.0", "b" * 40, True, "0badf00d")
    records = [
        _record("Binary_Addition", 0, True, code=a.to_dict()),
        _record("Binary_Addition", 1, False, code=b.to_dict()),
        _record("Sum_All", 0, False, code=a.to_dict()),
        _record("Prev1", 0, False),  # made before records named their code
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    md = write_report(tmp_path)[0].read_text()
    assert "Made by code (commit): aaaaaaaaaaaa (2 records), " in md
    assert "bbbbbbbbbbbb+dirty.0badf00d (1 record), not recorded (1 record)" in md
    rows = {line.split(" | ")[1]: line for line in md.splitlines() if line.startswith("| ")}
    assert rows["Binary_Addition"].endswith("| aaaaaaaaaaaa, bbbbbbbbbbbb+dirty.0badf00d |")
    assert rows["Sum_All"].endswith("| aaaaaaaaaaaa |")
    assert rows["Prev1"].endswith("| not recorded |")


def test_a_real_job_names_the_same_code_and_config_in_its_record_and_program(tmp_path):
    record = runner.run_job("Bitwise_Not", 0, n=200, out=tmp_path)
    assert record.correct and record.code == code_identity()
    header = (tmp_path / record.program_file).read_text().splitlines()[3]
    assert header == f"{code_identity().describe()}; seed 0, config {record.config_digest}."
    assert isinstance(record.judgement, Judgement) and record.judge_seed is not None
    assert record.verification.verified and all(c.passed for c in record.independent)
    assert record.form == "formula" and record.program_lines and record.state_vars is not None
    stages = [name for name, _ in record.seconds.stages]
    assert stages[0] == "generate" and stages[-1] == "judge" and "network" in stages
    line = json.dumps(record.to_dict())
    assert json.dumps(BenchRecord.from_dict(json.loads(line)).to_dict()) == line

"""Run the benchmark: one synthesis job per (task, seed), locally or on Ray, resumable.

Every finished job appends one JSON line to ``<out>/results.jsonl``; a run that is killed resumes
where it stopped. Jobs run in worker processes that write into a private temporary directory; the
driver alone writes into ``out`` (program files first, then the record), so a record never points
to a missing file and the same code works on a Ray cluster without a shared filesystem. A run of
a variant (:mod:`mips.bench.variants`) alters each job's data before synthesis, and its results
file holds that variant's records only.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mips import __version__
from mips.bench.record import BenchRecord, NoisyLabels, StageSeconds
from mips.bench.variants import Altered, get_variant
from mips.io import to_jsonable, write_atomic
from mips.provenance import code_identity

if TYPE_CHECKING:
    from mips.data import SequenceData
    from mips.synthesis import SynthConfig, Synthesis
    from mips.tasks import SuiteTask

__all__ = [
    "RESULTS",
    "judge_seed",
    "read_results",
    "refuse_other_code",
    "refuse_other_variant",
    "run_bench",
    "run_job",
]

RESULTS = "results.jsonl"
BACKENDS = ("local", "ray")
# Salt that separates the judge's random stream from the training data's (same job seed).
_JUDGE_STREAM = 0x6A756467

Job = Callable[..., BenchRecord]
Progress = Callable[[int, int, BenchRecord], None]


def judge_seed(seed: int) -> int:
    """The judge's seed for job ``seed``: derived, so judging data never repeats training data."""
    import numpy as np

    return int(np.random.SeedSequence([_JUDGE_STREAM, seed]).generate_state(1)[0])


def program_path(task: str, seed: int) -> str:
    """Where a job's program lives, relative to the output directory."""
    return f"programs/{task}__{seed}.py"


def picture_path(task: str, seed: int) -> str:
    """Where a job's hidden-state picture lives, relative to the output directory."""
    return f"pictures/{task}__{seed}.png"


def run_job(
    task_name: str,
    seed: int,
    n: int = 4000,
    out: Path | None = None,
    variant: str | None = None,
) -> BenchRecord:
    """Generate ``n`` sequences of the task, alter them as ``variant`` does (if any), synthesize
    from the data alone, judge the program (written to ``out/programs/<task>__<seed>.py`` with
    an ``out``)."""
    from mips.pipeline import synthesize
    from mips.tasks import get_task

    start = time.perf_counter()
    task = get_task(task_name)
    altered, config = _generate(task, n, seed, variant), _config(seed, variant)
    data, generated = altered.data, time.perf_counter()
    synthesis = synthesize(data, config)  # sees the data only, never the task
    summary = synthesis.record()
    stages = [("generate", round(generated - start, 3)), *summary["seconds"].items()]
    if out is not None and synthesis.network is not None:
        _draw_states(synthesis, data, Path(out) / picture_path(task_name, seed))
    program_file = judged_by = judgement = None
    failed_stage, reason = summary["failed_stage"], summary["reason"]
    if synthesis.ok:
        program_file = _write_program(synthesis, out, task_name, seed)
        judged_by = judge_seed(seed)
        judgement, seconds = _judge(task, synthesis, judged_by, data)
        stages.append(("judge", seconds))
        if not judgement.correct:
            failed_stage, reason = "judge", judgement.summary()
    return BenchRecord.from_summary(
        summary,
        task=task_name,
        seed=seed,
        n=n,
        variant=variant,
        noisy_labels=_found(altered.changed, synthesis),
        correct=judgement is not None and judgement.correct,
        program_file=program_file,
        seconds=StageSeconds(tuple(stages), round(time.perf_counter() - start, 3)),
        failed_stage=failed_stage,
        reason=reason,
        judge_seed=judged_by,
        judgement=judgement,
        config=config.to_dict(),
        config_digest=config.digest(),
        version=__version__,
        code=code_identity(),
    )


def _write_program(synthesis: Synthesis, out: Path | None, task: str, seed: int) -> str | None:
    """Where the program was written, relative to ``out``; None without ``out``."""
    if out is None:
        return None
    write_atomic(Path(out) / program_path(task, seed), synthesis.source.encode())
    return program_path(task, seed)


def _judge(
    task: SuiteTask, synthesis: Synthesis, judged_by: int, data: SequenceData
) -> tuple[Any, float]:
    """The judgement of ``synthesis``'s program, and the seconds it took. The judge is given
    the data the synthesizer saw: a word machine is judged as far as they exercised it."""
    clock = time.perf_counter()
    judgement = task.judge(synthesis.program, judged_by, data)
    return judgement, round(time.perf_counter() - clock, 3)


def _generate(task: SuiteTask, n: int, seed: int, variant: str | None) -> Altered:
    """The task's ``n`` sequences of ``seed``, as ``variant`` alters them (if any)."""
    data = task.generate(n, seed)
    return Altered(data) if variant is None else get_variant(variant).alter(data, seed)


def _found(changed: frozenset[tuple[int, int]] | None, synthesis: Synthesis) -> NoisyLabels | None:
    """How many of the ``changed`` labels are among the synthesis's suspects."""
    if changed is None:
        return None
    suspects = {(s.sequence, s.step) for s in synthesis.suspects}
    return NoisyLabels(len(changed), len(changed & suspects))


def _draw_states(synthesis: Synthesis, data: SequenceData, path: Path) -> None:
    from mips.pictures import hidden_states_png

    hidden_states_png(synthesis.network, data, synthesis.machine, path)


def _config(seed: int, variant: str | None) -> SynthConfig:
    """The config a job of ``seed`` synthesizes with, in the plain benchmark or ``variant``."""
    if variant is not None:
        return get_variant(variant).config(seed)
    from mips.synthesis import SynthConfig

    return SynthConfig(seed=seed)


def read_results(path: Path) -> list[BenchRecord]:
    """The records in a results file, in file order; a trailing partial line is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    lines = path.read_bytes().split(b"\n")
    for lineno, line in enumerate(lines[:-1], 1):  # the last piece never ended with a newline
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{lineno}: not a JSON record ({e.msg})") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}:{lineno}: a record is a JSON object")
        try:
            records.append(BenchRecord.from_dict(record))
        except ValueError as e:
            raise ValueError(f"{path}:{lineno}: {e}") from None
    return records


def run_bench(
    tasks: list[str],
    seeds: int,
    backend: str,
    jobs: int,
    out: Path,
    address: str | None = None,
    timeout: float = 900.0,
    progress: Progress | None = None,
    *,
    n: int = 4000,
    job: Job = run_job,
    resume_any: bool = False,
    variant: str | None = None,
) -> list[BenchRecord]:
    """Run ``job(task, seed, n=n, out=dir)`` for every task and seed 0..seeds-1, skipping done ones.

    ``backend`` is "local" (a process per job, ``jobs`` at a time) or "ray" (``jobs`` tasks in
    flight on ``ray.init(address=address)``). A job that raises, dies or runs past ``timeout``
    seconds is recorded as a failure. ``progress(done, total, record)`` is called as each job
    finishes; ``done`` and ``total`` count the finished jobs from earlier runs too. Returns the
    records of all requested (task, seed) pairs, old and new, in task then seed order.

    A results file whose records name other code than this process's (another commit, other
    uncommitted changes, or no code at all) is refused with a ValueError, unless ``resume_any``.

    With a ``variant`` (a name of :data:`mips.bench.variants.VARIANTS`) the job is called with
    ``variant=variant`` too, and every record says so; a results file of another variant (or of
    the plain benchmark) is refused with a ValueError.
    """
    _check_arguments(tasks, backend, variant, seeds, jobs, timeout, n)
    if variant is not None:
        job = partial(job, variant=variant)
    # Job seeds are fixed before dispatch, so results never depend on backend or worker count.
    wanted = [(task, seed) for task in dict.fromkeys(tasks) for seed in range(seeds)]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / RESULTS
    refuse_other_variant(results, variant)
    if not resume_any:
        refuse_other_code(results)
    _drop_partial_tail(results)
    done = _done(results, set(wanted), n)
    pending = [key for key in wanted if key not in done]

    finish = _finisher(out, done, len(wanted), progress, variant)
    if pending:
        run = _run_local if backend == "local" else _run_ray
        run(pending, job, n, jobs, timeout, finish, address)
    return [done[key] for key in wanted]


def _check_arguments(tasks: list[str], backend: str, variant: str | None, *counts: float) -> None:
    """Refuse unknown tasks, backends and variants and counts that are not positive, before
    anything runs."""
    if variant is not None:
        get_variant(variant)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if min(counts) <= 0:
        raise ValueError("seeds, jobs, timeout and n must be positive")
    from mips.tasks import get_task

    for name in tasks:
        get_task(name)


def _finisher(
    out: Path,
    done: dict[tuple[str, int], BenchRecord],
    total: int,
    progress: Progress | None,
    variant: str | None,
) -> Finish:
    """What is done with each finished job's record: completed with the variant, and with the
    config and code where the job died before saying, its files written, appended to the
    results file, and counted in ``done``."""

    def finish(task: str, seed: int, record: BenchRecord, files: dict[str, bytes]) -> None:
        record = replace(record, task=task, seed=seed, variant=variant)
        if record.config is None:
            config = _config(seed, variant)
            record = replace(
                record, config=config.to_dict(), config_digest=config.digest(), version=__version__
            )
        if record.code is None:
            record = replace(record, code=code_identity())
        line = json.dumps(record.to_dict(), default=to_jsonable)
        for rel, content in files.items():
            write_atomic(out / rel, content)
        _append(out / RESULTS, line)
        # As it reads back from the file: JSON types throughout (lists, not tuples).
        record = BenchRecord.from_dict(json.loads(line))
        done[(task, seed)] = record
        if progress is not None:
            progress(len(done), total, record)

    return finish


def _done(
    results: Path, wanted: set[tuple[str, int]], n: int
) -> dict[tuple[str, int], BenchRecord]:
    """The first record of each wanted (task, seed) in ``results``; one made with another
    ``n`` is refused, as its jobs saw other data."""
    done: dict[tuple[str, int], BenchRecord] = {}
    for record in read_results(results):
        key = (record.task, record.seed)
        if key in wanted and key not in done:
            if record.n != n:
                raise ValueError(
                    f"{results} holds {key[0]} seed {key[1]} made with n={record.n}, not "
                    f"n={n}; use another output directory or the same n"
                )
            done[key] = record
    return done


def refuse_other_code(results: Path, records: list[BenchRecord] | None = None) -> None:
    """Raise a ValueError when any record of ``results`` (or ``records``, read from it) names
    other code than this process's."""
    records = read_results(results) if records is None else records
    mine = code_identity()
    others = [r for r in records if r.code != mine]
    if not others:
        return
    labels = dict.fromkeys(r.code.describe() if r.code else "code not recorded" for r in others)
    raise ValueError(
        f"{results}: {len(others)} of its {len(records)} records were made by other code "
        f"({'; '.join(list(labels)[:3])}{'; ...' if len(labels) > 3 else ''}), not by this "
        f"code ({mine.describe()}); use another output directory, or --resume-any to add to it"
    )


def refuse_other_variant(results: Path, variant: str | None) -> None:
    """Raise a ValueError when any record of ``results`` is of another variant than ``variant``
    (None: the plain benchmark): a results file holds one variant's records."""
    records = read_results(results)
    others = [r for r in records if r.variant != variant]
    if not others:
        return
    kinds = ", ".join(dict.fromkeys(_variant_label(r.variant) for r in others))
    raise ValueError(
        f"{results}: {len(others)} of its {len(records)} records are of {kinds}, not of "
        f"{_variant_label(variant)}; use another output directory"
    )


def _variant_label(variant: str | None) -> str:
    return "the plain benchmark" if variant is None else f"variant {variant}"


# ---- job execution in a worker


# What a worker sends the driver: ("ok", the record as ``to_dict`` writes it, the job's files),
# or ("error", {"reason", "traceback"}, {}). The record travels (a pipe, or Ray) in the form the
# results file holds, and the driver reads it back as it would read a line of that file.
Result = tuple[str, dict[str, Any], dict[str, bytes]]


def _execute(job: Job, task: str, seed: int, n: int) -> Result:
    """Run one job in a private directory."""
    try:
        with tempfile.TemporaryDirectory(prefix="mips-job-") as tmp:
            record = job(task, seed, n=n, out=Path(tmp))
            if not isinstance(record, BenchRecord):
                raise TypeError(f"job returned {type(record).__name__}, not a BenchRecord")
            files = {
                p.relative_to(tmp).as_posix(): p.read_bytes()
                for p in sorted(Path(tmp).rglob("*"))
                if p.is_file()
            }
        return "ok", record.to_dict(), files
    except Exception as e:
        reason = f"raised {type(e).__name__}: {' '.join(str(e).split())}"[:500]
        return "error", {"reason": reason, "traceback": traceback.format_exc()[-4000:]}, {}


def _serve(conn: Connection, job: Job) -> None:
    """A worker's loop: run each (task, seed, n) the driver sends, until it sends None."""
    # Ctrl-C is the driver's to handle: it kills its workers, so no interrupted job is recorded.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while (item := conn.recv()) is not None:
        conn.send(_execute(job, *item))
    conn.close()


def _failure(
    task: str,
    seed: int,
    n: int,
    stage: str,
    reason: str,
    seconds: float,
    traceback_text: str | None = None,
) -> BenchRecord:
    """The record of a job that ended without one of its own (``finish`` adds the config and
    the code)."""
    return BenchRecord(
        task=task,
        seed=seed,
        n=n,
        seconds=StageSeconds(total=round(seconds, 3)),
        failed_stage=stage,
        reason=reason,
        traceback=traceback_text,
    )


def _outcome(
    task: str, seed: int, n: int, result: Result, seconds: float
) -> tuple[BenchRecord, dict[str, bytes]]:
    status, payload, files = result
    if status == "ok":
        return BenchRecord.from_dict(payload), files
    return _failure(task, seed, n, "job", payload["reason"], seconds, payload["traceback"]), {}


def _timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g} s"


# ---- backends

Finish = Callable[[str, int, BenchRecord, dict[str, bytes]], None]


class _Worker:
    """A spawned process that runs jobs one after another, so torch and the pipeline are imported
    once per worker (4-6 s each) rather than once per job."""

    def __init__(self, ctx: Any, job: Job) -> None:
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(theirs, job), name="mips-worker")
        self.process.start()
        theirs.close()  # the worker holds the only other end: EOF means it died
        self.job: tuple[str, int, float] | None = None  # task, seed, start while busy

    def start(self, task: str, seed: int, n: int) -> None:
        self.conn.send((task, seed, n))
        self.job = (task, seed, time.monotonic())

    def stop(self, grace: float) -> None:
        """Ask the worker to exit, and kill it if it has not within ``grace`` seconds."""
        if grace > 0:
            try:
                self.conn.send(None)
            except OSError:  # it died already
                pass
        _reap(self.process, grace)
        self.conn.close()


def _run_local(
    pending: list[tuple[str, int]],
    job: Job,
    n: int,
    jobs: int,
    timeout: float,
    finish: Finish,
    address: str | None,
) -> None:
    """``jobs`` worker processes (spawned: torch and fork do not mix), each running one job after
    another; a worker whose job dies or runs past its timeout is killed and replaced."""
    ctx = multiprocessing.get_context("spawn")
    queue = list(reversed(pending))
    workers: list[_Worker] = []
    try:
        while queue or any(w.job for w in workers):
            for worker in workers:
                if worker.job is None and queue:
                    worker.start(*queue.pop(), n)
            while queue and len(workers) < jobs:
                workers.append(_Worker(ctx, job))
                workers[-1].start(*queue.pop(), n)
            busy = {w.conn: w for w in workers if w.job}
            nearest = min(w.job[2] + timeout for w in busy.values())
            for conn in wait(list(busy), timeout=max(0.0, nearest - time.monotonic())):
                if not _collect(busy[conn], n, finish):  # the worker is gone
                    workers.remove(busy[conn])
            now = time.monotonic()
            for worker in [w for w in workers if w.job and now - w.job[2] >= timeout]:
                task, seed, start = worker.job
                worker.stop(grace=0.0)
                workers.remove(worker)
                failed = _failure(task, seed, n, "timeout", _timed_out(timeout), now - start)
                finish(task, seed, failed, {})
    finally:
        for worker in workers:
            worker.stop(grace=0.0 if worker.job else 10.0)


def _collect(worker: _Worker, n: int, finish: Finish) -> bool:
    """Finish the job ``worker`` answered; False, with the worker stopped, when it died or its
    answer cannot be read."""
    task, seed, start = worker.job
    worker.job = None
    try:
        result, problem = worker.conn.recv(), None
    except EOFError:
        result, problem = None, "worker died"
    except Exception as e:  # e.g. a record that cannot be unpickled here
        result, problem = None, f"unreadable result: {type(e).__name__}: {e}"
    elapsed = time.monotonic() - start
    if result is None:
        worker.stop(grace=10.0)
        reason = f"{problem} (exit code {worker.process.exitcode})"[:500]
        finish(task, seed, _failure(task, seed, n, "job", reason, elapsed), {})
        return False
    finish(task, seed, *_outcome(task, seed, n, result, elapsed))
    return True


def _reap(process: multiprocessing.process.BaseProcess, grace: float = 10.0) -> None:
    """Wait up to ``grace`` seconds for a worker to exit, then kill it."""
    process.join(grace)
    if process.is_alive():
        process.kill()
        process.join()


def _run_ray(
    pending: list[tuple[str, int]],
    job: Job,
    n: int,
    jobs: int,
    timeout: float,
    finish: Finish,
    address: str | None,
) -> None:
    """Ray tasks, ``jobs`` in flight; a task past its timeout is cancelled (its worker killed)."""
    ray = _ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address)
    remote = ray.remote(num_cpus=1, max_retries=0)(_execute)
    queue = list(reversed(pending))
    running: dict[Any, tuple[str, int, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < jobs:
                task, seed = queue.pop()
                running[remote.remote(job, task, seed, n)] = (task, seed, time.monotonic())
            now = time.monotonic()
            nearest = min(start + timeout for *_, start in running.values())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=max(0.0, nearest - now))
            for ref in ready:
                task, seed, start = running.pop(ref)
                elapsed = time.monotonic() - start
                try:
                    record, files = _outcome(task, seed, n, ray.get(ref), elapsed)
                except Exception as e:  # the worker died: Ray raises instead of returning
                    reason = f"worker failed: {type(e).__name__}: {' '.join(str(e).split())}"
                    record, files = _failure(task, seed, n, "job", reason[:500], elapsed), {}
                finish(task, seed, record, files)
            now = time.monotonic()
            for ref, (task, seed, start) in list(running.items()):
                if now - start >= timeout:
                    del running[ref]
                    ray.cancel(ref, force=True)
                    failed = _failure(task, seed, n, "timeout", _timed_out(timeout), now - start)
                    finish(task, seed, failed, {})
    finally:
        for ref in running:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            "the ray backend needs Ray, which is not installed: pip install 'mips[ray]'"
        ) from None
    return ray


# ---- files


def _append(path: Path, record: str) -> None:
    """Append one record (JSON) as one line with a single write, so a kill never leaves half a
    record."""
    line = (record + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
    finally:
        os.close(fd)
    if written != len(line):
        raise OSError(f"{path}: short write ({written} of {len(line)} bytes); disk full?")


def _drop_partial_tail(path: Path) -> None:
    """Cut a torn last line (no newline: the writer was killed) so the next append starts clean."""
    content = path.read_bytes() if path.exists() else b""
    if content and not content.endswith(b"\n"):
        os.truncate(path, content.rfind(b"\n") + 1)

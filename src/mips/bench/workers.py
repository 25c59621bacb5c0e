"""Where benchmark jobs run: worker processes on this machine, or Ray tasks, each job in a
private directory, its record and files sent back to the driver, which alone writes them.

A job that raises, dies or runs past its timeout gets a failure record of its own.
"""

from __future__ import annotations

import multiprocessing
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from mips.bench.record import BenchRecord, StageSeconds

__all__ = ["Finish", "Job", "run_local", "run_ray"]

Job = Callable[..., BenchRecord]
# What the driver does with each finished job: (task, seed, record, files) -> None.
Finish = Callable[[str, int, BenchRecord, dict[str, bytes]], None]

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


def run_local(
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


def run_ray(
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

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
import os
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mips import __version__
from mips.bench.record import BenchRecord, NoisyLabels, StageSeconds
from mips.bench.variants import Altered, get_variant
from mips.bench.workers import Finish, Job, run_local, run_ray
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
    stages = [("generate", round(generated - start, 3)), *synthesis.seconds.items()]
    if out is not None and synthesis.network is not None:
        _draw_states(synthesis, data, Path(out) / picture_path(task_name, seed))
    program_file = judged_by = judgement = None
    failed_stage, reason = synthesis.failed_stage, synthesis.reason
    if synthesis.ok:
        program_file = _write_program(synthesis, out, task_name, seed)
        judged_by = judge_seed(seed)
        judgement, seconds = _judge(task, synthesis, judged_by, data)
        stages.append(("judge", seconds))
        if not judgement.correct:
            failed_stage, reason = "judge", judgement.summary()
    return BenchRecord.of_synthesis(
        synthesis,
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
        run = run_local if backend == "local" else run_ray
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

"""Benchmark variants: what they do to a job's data, the records that say so, one variant a file.

The runner test uses a stand-in job (module-level, so spawned workers can import it) that alters
the data as a real job does; real synthesis runs belong to the benchmark command.
"""

import json
import os
from dataclasses import replace

import numpy as np
import pytest

from mips.bench.record import BenchRecord, NoisyLabels
from mips.bench.report import summarise, write_report
from mips.bench.runner import read_results, refuse_other_variant, run_bench
from mips.bench.variants import NOISY, RAGGED, VARIANTS, get_variant
from mips.tasks import get_task, suite_tasks


def test_ragged_cuts_each_sequence_to_3_to_10_steps_never_longer_than_the_task():
    for name, seed in (("Sum_All", 0), ("Bitwise_Not", 1)):
        data = get_task(name).generate(500, seed)
        cut = RAGGED.alter(data, seed)
        lengths = cut.data.seq_lengths
        assert lengths.min() >= 3 and lengths.max() <= min(10, data.length)
        assert cut.changed is None and RAGGED.config(seed).max_label_errors == 0
        # Drawn from the job's seed alone, so a rerun or a resumed run cuts the same data.
        drawn = np.random.default_rng([seed, 16]).integers(3, 11, data.n)
        assert (lengths == np.minimum(drawn, data.length)).all()
        kept = cut.data.mask
        assert (cut.data.x[kept] == data.x[kept]).all() and (cut.data.y[kept] == data.y[kept]).all()
    short = get_task("Prev1").generate(50, 0, length=4)
    assert RAGGED.alter(short, 0).data.seq_lengths.max() <= 4


def test_ragged_word_traces_keep_only_the_words_that_still_occur():
    task = suite_tasks("protocols")[0]
    data = task.generate(40, 0)
    cut = RAGGED.alter(data, 0).data
    assert (cut.seq_lengths <= np.minimum(data.seq_lengths, 10)).all()
    for name, vocab in (("x", cut.x_vocab[0]), ("y", cut.y_vocab[0])):
        codes = getattr(cut, name)[:, :, 0][cut.mask]
        assert set(codes.tolist()) == set(range(len(vocab)))


def test_noisy_changes_the_intended_share_of_labels_and_names_those_steps():
    data = get_task("Sum_Last2").generate(1000, 2)
    noisy = NOISY.alter(data, 2)
    count = max(1, round(0.001 * data.steps))
    differs = np.argwhere((noisy.data.y != data.y).any(axis=2))
    assert len(noisy.changed) == count == len(differs)
    assert noisy.changed == {(int(i), int(t)) for i, t in differs}
    assert (noisy.data.x == data.x).all()
    assert NOISY.config(2).max_label_errors == 0.002 and NOISY.config(2).seed == 2
    assert NOISY.alter(data, 2).changed == noisy.changed  # seeded by the job's seed
    # Padding is never a label: only the steps that hold data are changed.
    ragged = RAGGED.alter(data, 2).data
    assert all(ragged.mask[i, t] for i, t in NOISY.alter(ragged, 2).changed)
    with pytest.raises(ValueError, match="known: ragged, noisy"):
        get_variant("shuffled")


def variant_job(task, seed, n=4000, out=None, variant=None):
    """A stand-in for run_job that alters the data as the variant does; dies for Prev4."""
    if task == "Prev4":
        os._exit(3)
    altered = get_variant(variant).alter(get_task(task).generate(n, seed), seed)
    labels = None if altered.changed is None else NoisyLabels(len(altered.changed), 1)
    return BenchRecord(
        task=task, seed=seed, n=n, failed_stage="network", reason="stand-in", noisy_labels=labels
    )


def test_a_variant_run_records_its_variant_and_a_file_holds_one_variant(tmp_path):
    out = tmp_path / "noisy_out"
    records = run_bench(
        ["Bitwise_Not", "Prev4"], 1, "local", 1, out, n=500, job=variant_job, variant="noisy"
    )
    assert [r.variant for r in records] == ["noisy", "noisy"]
    assert records[0].noisy_labels == NoisyLabels(5, 1) and records[1].noisy_labels is None
    assert records[1].failed_stage == "job"  # died: its record still names the variant's config
    assert records[1].config["max_label_errors"] == NOISY.max_label_errors
    for other in (None, "ragged"):
        with pytest.raises(ValueError, match="2 records are of variant noisy") as refused:
            run_bench(["Sum_All"], 1, "local", 1, out, n=500, job=variant_job, variant=other)
        assert "use another output directory" in str(refused.value)
    assert len(read_results(out / "results.jsonl")) == 2
    md = write_report(out)[0].read_text()
    assert f"- Variant: noisy ({NOISY.summary})" in md
    assert "- Wrong labels found among the suspects: 1 of 5 (20%)" in md


def test_a_plain_results_file_refuses_a_variant_in_one_error_line(tmp_path):
    from typer.testing import CliRunner

    from mips.cli import app

    plain = BenchRecord(task="Prev1", seed=0, n=4000, failed_stage="network")
    (tmp_path / "results.jsonl").write_text(json.dumps(plain.to_dict()) + "\n")
    refuse_other_variant(tmp_path / "results.jsonl", None)
    args = ["bench", "--tasks", "Prev1", "--variant", "ragged", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "of the plain benchmark, not of variant ragged" in lines[0]
    help_text = " ".join(CliRunner().invoke(app, ["bench", "--help"]).output.split())
    assert "--variant" in help_text and all(name in help_text for name in VARIANTS)


def test_plain_records_read_as_before_and_variant_records_round_trip(tmp_path):
    plain = BenchRecord(task="Sum_All", seed=0, n=100, failed_stage="network")
    assert "variant" not in plain.to_dict() and "noisy_labels" not in plain.to_dict()
    noisy = replace(plain, variant="noisy", noisy_labels=NoisyLabels(4, 3))
    written = json.loads(json.dumps(noisy.to_dict()))
    assert written["noisy_labels"] == {"changed": 4, "found": 3}
    assert BenchRecord.from_dict(written) == noisy
    with pytest.raises(ValueError, match="found 5 of 4"):
        NoisyLabels(4, 5)
    with pytest.raises(ValueError, match="several variants"):
        summarise([plain, noisy], tmp_path)

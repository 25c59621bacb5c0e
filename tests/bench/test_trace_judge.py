"""The trace judge: fresh traces judged up to the first step the training traces never exercised."""

import json

import numpy as np
import pytest

from mips.bench.record import BenchRecord
from mips.bench.trace_judge import N_TRACES, exercised, judge_traces, judged_length
from mips.data import SequenceData
from mips.tasks import get_task

TASK = get_task("P_Ticket_Machine")


class Unseen(LookupError):
    """What an emitted program raises on a (state, input) its logs never showed."""


def replay(task, seen=None, wrong_at=None, calls=None):
    """The machine as a program over word steps. With ``seen``, it raises Unseen on a pair not
    in it; with ``wrong_at`` (state, input), it answers a wrong word there."""

    def program(seq):
        if calls is not None:
            calls.append(len(seq))
        state, out = 0, []
        for (word,) in seq:
            a = task.inputs.index(word)
            if seen is not None and not seen[state, a]:
                raise Unseen(f"no transition from state {state} on {word}")
            o = task.output[state, a]
            if (state, a) == wrong_at:
                o = (o + 1) % task.n_outputs
            out.append([task.outputs[o]])
            state = int(task.transition[state, a])
        return out

    return program


@pytest.fixture(scope="module")
def sparse():
    """Few short training traces: many (state, input) pairs are never exercised."""
    return TASK.generate(6, seed=1, length=4)


def test_the_machine_itself_replays_every_trace_of_full_logs():
    train = TASK.generate(3000, seed=0)
    verdict = judge_traces(TASK, replay(TASK), seed=5, train=train)
    assert verdict.correct and verdict.n_checked == N_TRACES and verdict.counterexample is None
    assert verdict.exercised_pairs == verdict.total_pairs == TASK.n_states * TASK.n_inputs
    assert verdict.n_cut == 0 and verdict.share_judged == 1.0
    assert 19 < verdict.mean_prefix < 22  # lengths uniform in 1..40
    assert "CORRECT" in verdict.summary() and "\n" not in verdict.summary()


def test_a_program_that_raises_past_what_its_logs_showed_is_correct(sparse):
    seen = exercised(TASK, sparse)
    assert 0 < seen.sum() < seen.size
    calls: list[int] = []
    verdict = judge_traces(TASK, replay(TASK, seen=seen, calls=calls), seed=2, train=sparse)
    assert verdict.correct, verdict.summary()
    assert verdict.n_cut > 0 and 0 < verdict.share_judged < 1
    assert verdict.exercised_pairs == int(seen.sum())
    assert len(calls) == N_TRACES - sum(
        judged_length(TASK, seen, x) == 0
        for x in TASK.sample(np.random.default_rng(2), N_TRACES, 40)
    )
    # The same program on traces it was not cut for raises, and so fails: the cut matters.
    full = TASK.generate(3000, seed=0)
    assert not judge_traces(TASK, replay(TASK, seen=seen), seed=2, train=full).correct


def test_one_wrong_exercised_step_makes_the_program_wrong(sparse):
    seen = exercised(TASK, sparse)
    first_input = TASK.inputs.index(sparse.x_vocab[0].words[sparse.x[0, 0, 0]])
    assert seen[0, first_input]
    verdict = judge_traces(TASK, replay(TASK, wrong_at=(0, first_input)), seed=2, train=sparse)
    assert not verdict.correct and 0 < verdict.n_wrong < N_TRACES
    example = verdict.counterexample
    assert example.reason == "wrong values" and example.got != example.expected
    assert [TASK.inputs[first_input]] in example.input
    # A wrong word on a pair the training traces never exercised is never judged.
    unseen = [tuple(p) for p in np.argwhere(~seen).tolist()]
    quiet = judge_traces(TASK, replay(TASK, wrong_at=unseen[0]), seed=2, train=sparse)
    assert quiet.correct


def test_malformed_outputs_and_crashes_are_wrong_with_a_reason(sparse):
    cases = {
        "output is a str": lambda seq: "TICKET",
        "steps, expected": lambda seq: [],
        "raised ZeroDivisionError": lambda seq: 1 / 0,
        "wrong values": lambda seq: [["NIL"]] * len(seq),
    }
    for reason, program in cases.items():
        verdict = judge_traces(TASK, program, seed=2, train=sparse)
        assert not verdict.correct and reason in verdict.counterexample.reason


def test_training_data_must_be_word_traces_of_the_machine():
    numbers = SequenceData(np.zeros((2, 3, 1), dtype=int), np.zeros((2, 3, 1), dtype=int))
    with pytest.raises(ValueError, match="words"):
        exercised(TASK, numbers)
    other = get_task("P_TLS_Server").generate(5, seed=0)
    with pytest.raises(ValueError, match="lacks"):
        exercised(TASK, other)


def test_tasks_dispatch_to_their_judge_and_the_record_holds_the_verdict(sparse):
    verdict = TASK.judge(replay(TASK), 3, sparse)
    assert verdict.correct and verdict.seed == 3
    record = BenchRecord.from_dict(
        {
            "task": TASK.name,
            "seed": 0,
            "n": 6,
            "ok": True,
            "correct": verdict.correct,
            "judgement": verdict.to_dict(),
        }
    )
    back = json.loads(json.dumps(record.to_dict()))["judgement"]
    assert back["correct"] and back["n_checked"] == N_TRACES and back["n_wrong"] == 0
    assert 0 < back["share_judged"] <= 1 and back["mean_prefix"] > 0
    wrong = TASK.judge(lambda seq: [["NIL"]] * len(seq), 3, sparse).to_dict()
    assert json.loads(json.dumps(wrong))["counterexample"]["expected"]
    integer = get_task("Parity_Last3")
    crash = integer.judge(lambda seq: 1 / 0, 0)
    assert not crash.correct and crash.exhaustive.n_checked  # the integer judge, same method

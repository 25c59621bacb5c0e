"""Reading a network under a plan: the passes it runs, the programs each machine gets."""

from dataclasses import replace

import numpy as np
import pytest

import mips.reading
from mips.data import SequenceData
from mips.explanation import ExplainConfig
from mips.extract import NEAR_EXACT
from mips.machine import Reading, StateMachine
from mips.reading import Attempt, Clock, ReadingPlan, best_attempt, read_network
from mips.regress import RegressConfig
from mips.suspects import contradicted_steps, fewest_contradictions
from mips.synthesis import SynthConfig


class StandIn:
    """A recurrent network (it steps, so runs at any length) whose answers are |x|."""

    step = None

    def describe(self) -> str:
        return "a stand-in"

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)


def test_with_wrong_labels_the_majority_reading_follows_and_competes():
    exact, noisy = SynthConfig().reading_plan(), SynthConfig(max_label_errors=0.01).reading_plan()
    assert len(exact.passes) == 1 and not exact.compete and exact.enough == "formula"
    assert [p.readers for p in noisy.passes] == [None, NEAR_EXACT] and noisy.compete
    assert all(p.extract.majority_tolerance == 0.01 for p in noisy.passes)


def test_explain_reads_the_table_of_the_data_last():
    plan = ExplainConfig(max_disagreement=0.02).reading_plan()
    kinds = [{r.kind for r in p.readers} for p in plan.passes]
    assert kinds == [{"exact", "majority"}, {"majority"}, {"table"}]
    assert [p.tolerance for p in plan.passes] == [0.0, 0.02, 0.0] and plan.enough == "program"
    assert len(ExplainConfig(max_disagreement=0.0).reading_plan().passes) == 2
    # An explanation follows its network everywhere; a synthesis, the data.
    assert not plan.beside_guesses and SynthConfig().reading_plan().beside_guesses
    # An explanation names its network's machine in its fewest states; a synthesis keeps the
    # count that generalises.
    assert plan.fewest_states and not SynthConfig().reading_plan().fewest_states


def _stateless(monkeypatch, answer) -> StateMachine:
    """A stateless machine over the inputs -5..5 that answers ``answer(x)``, handed out by every
    extraction."""
    xs = np.arange(-5, 6)
    empty = np.zeros((len(xs), 0), dtype=np.int64)
    machine = StateMachine(
        kind="finite",
        initial=(),
        z_prev=empty,
        x=xs[:, None],
        z_next=empty,
        y=answer(xs)[:, None],
        reading=Reading("test", "t"),
    )
    monkeypatch.setattr(mips.reading, "extract", lambda *args: [machine])
    return machine


def test_with_wrong_labels_a_machine_also_gets_a_program_that_misses_its_rarest_rows(monkeypatch):
    """A machine whose one rare row says |0| = 1 (a network that learned a wrong label): the
    exact program spells the row out; the tolerant one is |x|, checked against its own IR, and
    contradicts fewer labels."""
    machine = _stateless(monkeypatch, lambda xs: np.where(xs == 0, 1, np.abs(xs)))
    rng = np.random.default_rng(0)
    x = rng.choice(np.array([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5]), (2000, 5, 1))
    x[:3, 2] = 0  # three steps of 10,000 take the rare row
    data = SequenceData(x, np.abs(x))
    plan = ReadingPlan(
        passes=SynthConfig(max_label_errors=0.002).reading_plan().passes[:1],
        regress=RegressConfig(work_budget=30_000_000),
    )
    read = read_network(StandIn(), plan, Clock(), states_on=data, data=data, heldout=data)
    exact, tolerant = read.attempts
    assert read.machine is machine and read.reasons == ()
    assert exact.verification.exhaustive_against == "the state machine"
    assert tolerant.verification.exhaustive_against == "the IR"
    assert "y = abs(x)" in tolerant.source and "y = abs(x)" not in exact.source
    assert exact.verification.verified and tolerant.verification.verified
    chosen = fewest_contradictions(list(read.attempts), "formula", data)
    assert chosen is tolerant and contradicted_steps(chosen.program, data).count == 0


def _guessed(x: np.ndarray) -> np.ndarray:
    """|x| except on two rows: |0| = 37, |4| = -9."""
    return np.select([x == 0, x == 4], [37, -9], np.abs(x))


@pytest.mark.parametrize("zeros", [False, True])
def test_a_formula_may_depart_from_rows_the_data_never_take_and_no_others(monkeypatch, zeros):
    """Rows probed past the data are the network's guesses: where the data never take x = 0 or
    4, the program |x| answers every row they take and wins over the table; where they take
    them, with the machine's answers as labels, no program departs from it."""
    _stateless(monkeypatch, _guessed)
    rng = np.random.default_rng(0)
    x = rng.choice(np.array([-5, -3, -1, 2, 3, 5]), (500, 5, 1))
    if zeros:
        x[:3, 2], x[3:6, 1] = 0, 4
    data = SequenceData(x, _guessed(x))
    plan = replace(SynthConfig().reading_plan(), regress=RegressConfig(work_budget=30_000_000))
    read = read_network(StandIn(), plan, Clock(), states_on=data, data=data, heldout=data)
    forms = [a.program.form for a in read.attempts]
    if zeros:
        assert forms == ["table"]
        return
    assert forms == ["table", "formula"]
    departs = read.attempts[1]
    assert "y = abs(x)" in departs.source and departs.verification.verified
    assert departs.verification.exhaustive_against == "the IR"
    assert best_attempt(list(read.attempts)) is departs


def test_a_plan_needs_a_pass():
    with pytest.raises(ValueError, match="at least one pass"):
        ReadingPlan(passes=(), regress=RegressConfig())


def test_clock_adds_up_each_stage():
    clock = Clock()
    for _ in range(2):
        with clock("extract"):
            pass
    with pytest.raises(KeyError):
        with clock("regress"):
            raise KeyError
    assert set(clock.seconds) == {"extract", "regress"}


def test_a_verified_formula_its_network_contradicts_past_the_data_loses_to_one_that_agrees():
    from types import SimpleNamespace

    from mips.reading import Beyond, best_attempt

    def attempt(differs_at, form="formula", verified=True):
        return Attempt(
            network=None, machine=None, program=SimpleNamespace(form=form), source="", verification=SimpleNamespace(verified=verified),
            beyond=None if differs_at is False else Beyond(40, 256, differs_at),
        )  # fmt: skip

    bounded, count, unchecked = attempt((3, 12)), attempt(None), attempt(False)
    assert best_attempt([bounded, count]) is count
    assert best_attempt([bounded, unchecked, count]) is unchecked
    assert best_attempt([bounded, attempt(None, form="table")]) is bounded
    plan = SynthConfig().reading_plan()
    assert not plan.satisfied([bounded]) and plan.satisfied([bounded, count])


def test_a_program_is_compared_with_its_network_past_the_data(monkeypatch):
    """A count the network holds at any length, read as a machine the data bound at 3: its
    program replays every sequence of the data and differs from the network beyond them."""
    x = np.random.default_rng(0).integers(0, 2, (300, 3, 1))
    data = SequenceData(x, np.cumsum(x, axis=1))
    counts = np.arange(4)
    rows = np.array([(c, i) for c in counts for i in (0, 1)])
    saturated = np.minimum(rows[:, :1] + rows[:, 1:], 3)
    bounded = StateMachine(
        kind="finite",
        initial=(0,),
        z_prev=rows[:, :1],
        x=rows[:, 1:],
        z_next=saturated,
        y=saturated,
        reading=Reading("test", "t", n_states=4),
    )

    class Count(StandIn):
        def predict(self, x):
            return np.cumsum(x, axis=1)

    monkeypatch.setattr(mips.reading, "extract", lambda *args: [bounded])
    plan = ReadingPlan(passes=SynthConfig().reading_plan().passes, regress=RegressConfig())
    read = read_network(Count(), plan, Clock(), states_on=data, data=data, heldout=data)
    (only,) = read.attempts
    assert only.verification.verified and only.program.form == "formula"
    assert only.beyond.length == 12 and not only.generalises
    assert "differs from its network" in only.describe()

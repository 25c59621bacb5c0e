"""The whole pipeline from data: a running sum comes out as a verified formula."""

import numpy as np

from mips.data import SequenceData
from mips.pipeline import SynthConfig, synthesize


def test_end_to_end_running_sum_from_data():
    x = np.random.default_rng(1).integers(0, 20, (1500, 8, 1))
    synthesis = synthesize(SequenceData(x, np.cumsum(x, axis=1)))
    assert synthesis.ok and synthesis.form == "formula", synthesis.reason
    # A tenth of the sequences played no part in any stage; the program is replayed on them.
    (check,) = synthesis.independent
    assert check.passed and check.sequences == 150 and check.wrong == 0
    assert synthesis.verification.heldout_sequences == 270
    longer = np.random.default_rng(2).integers(0, 20, (20, 40, 1))
    expected = np.cumsum(longer, axis=1).tolist()
    assert [synthesis.program(s) for s in longer.tolist()] == expected


def test_a_runner_up_network_is_read_when_the_smallest_gives_no_program(
    monkeypatch, counter_network
):
    # The search's first network is unreadable (here: wrong from step 1 on every sequence, so
    # not even a machine read by majority replays the data); the pipeline then reads the
    # runner-up, a hand-built running sum.
    import mips.network.search as search_module

    net = counter_network
    x = np.random.default_rng(1).integers(0, 20, (500, 8, 1))
    data = SequenceData(x, np.cumsum(x, axis=1))
    monkeypatch.setattr(search_module, "search_rounds", lambda *a, **k: iter([[net(0.3)]]))
    alone = synthesize(data)
    assert alone.failed_stage == "extract" and "no machine read by majority" in alone.reason
    monkeypatch.setattr(
        search_module, "search_rounds", lambda *a, **k: iter([[net(0.3), net(0.0)]])
    )
    synthesis = synthesize(data)
    assert synthesis.ok and synthesis.form == "formula", synthesis.reason
    assert synthesis.network.weights["f.0.bias"][0] == 0.0


def test_sequences_of_different_lengths():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, (1500, 8, 1))
    data = SequenceData(x, np.cumsum(x, axis=1), lengths=rng.integers(1, 9, 1500))
    synthesis = synthesize(data)
    assert synthesis.ok and synthesis.form == "formula", synthesis.reason
    assert synthesis.verification.heldout_steps < 300 * 8
    longer = rng.integers(0, 20, (20, 30, 1))
    assert [synthesis.program(s) for s in longer.tolist()] == np.cumsum(longer, axis=1).tolist()


def test_contradictory_labels_stop_before_training():
    x = np.random.default_rng(1).integers(0, 3, (200, 5, 1))
    y = np.cumsum(x, axis=1)
    y[7, 2] += 1
    same = x[7, :3, 0].tolist()
    assert any(x[i, :3, 0].tolist() == same for i in range(200) if i != 7)
    synthesis = synthesize(SequenceData(x, y))
    assert synthesis.failed_stage == "data" and "step 2" in synthesis.reason
    assert "no network" not in synthesis.reason


def test_a_few_wrong_labels_are_tolerated_and_reported_as_suspects():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 20, (1500, 8, 1))
    y = np.cumsum(x, axis=1)
    flipped = [(5, 3), (700, 6), (1400, 0)]
    for i, t in flipped:
        y[i, t] += 7
    data = SequenceData(x, y)
    exact = synthesize(data)
    assert not exact.ok
    noisy = synthesize(data, SynthConfig(max_label_errors=0.002))
    assert noisy.ok and noisy.form == "formula", noisy.reason
    found = {(s.sequence, s.step) for s in noisy.suspects}
    assert found == set(flipped)
    assert all(s.label[0] == s.value[0] + 7 for s in noisy.suspects)


def test_with_wrong_labels_a_reading_without_a_formula_falls_back_to_the_majority(monkeypatch):
    """A count of every symbol reads a parity network's answers too, as a lattice whose output
    has no formula; the majority reading, skipped beside a lattice reading, is then read."""
    import mips.reading
    from mips.extract import NEAR_EXACT
    from mips.machine import Reading, StateMachine

    x = np.random.default_rng(0).integers(0, 2, (400, 6, 1))
    parity = np.cumsum(x, axis=1) % 2

    def rows(*columns):
        return np.array(columns, dtype=np.int64).T.reshape(-1, 1)

    finite = StateMachine(
        kind="finite", initial=(0,), z_prev=rows(0, 0, 1, 1), x=rows(0, 1, 0, 1), z_next=rows(0, 1, 1, 0), y=rows(0, 1, 1, 0),
        reading=Reading("finite", "test", n_states=2),
    )  # fmt: skip
    noise = np.random.default_rng(1).integers(0, 2, 60)
    counts = np.arange(60)
    lattice = StateMachine(
        kind="lattice", initial=(0,), z_prev=counts[:, None], x=counts[:, None] % 2, z_next=counts[:, None] + 1,
        y=noise[:, None], reading=Reading("counts", "test"),
    )  # fmt: skip

    class Network:
        report = None
        step = None  # a recurrent network: it runs at any length

        def predict(self, x):
            return np.cumsum(x, axis=1) % 2

        def run(self, x):
            return self.predict(x).astype(float), np.zeros((*x.shape[:2], 1))

        def describe(self):
            return "a stand-in"

    read = []

    def extract(net, answers, config, readers=None):
        read.append("majority" if readers is NEAR_EXACT else "exact")
        return [finite] if readers is NEAR_EXACT else [lattice]

    monkeypatch.setattr(mips.reading, "extract", extract)
    config = SynthConfig(max_label_errors=0.01)
    result = synthesize(SequenceData(x, parity), config, network=Network())
    assert read == ["exact", "majority"]
    assert result.ok and result.form == "formula" and result.machine is finite


def test_a_program_the_verify_data_contradict_is_not_returned():
    x = np.random.default_rng(1).integers(0, 20, (1500, 8, 1))
    other = np.random.default_rng(4).integers(0, 20, (50, 8, 1))
    y = np.cumsum(other, axis=1)
    y[3, 5] += 1
    synthesis = synthesize(
        SequenceData(x, np.cumsum(x, axis=1)), verify_data=SequenceData(other, y)
    )
    assert synthesis.failed_stage == "independent check"
    assert "--verify-data: 49/50 sequences right" in synthesis.reason
    assert [c.passed for c in synthesis.independent] == [True, False]

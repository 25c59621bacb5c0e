"""The whole pipeline from data: a running sum comes out as a verified formula."""

import numpy as np

from mips.data import SequenceData
from mips.pipeline import synthesize


def test_end_to_end_running_sum_from_data():
    x = np.random.default_rng(1).integers(0, 20, (1500, 8, 1))
    synthesis = synthesize(SequenceData(x, np.cumsum(x, axis=1)))
    assert synthesis.ok and synthesis.form == "formula", synthesis.reason
    longer = np.random.default_rng(2).integers(0, 20, (20, 40, 1))
    expected = np.cumsum(longer, axis=1).tolist()
    assert [synthesis.program(s) for s in longer.tolist()] == expected


def test_a_runner_up_network_is_read_when_the_smallest_gives_no_program(
    monkeypatch, counter_network
):
    # The search's first network is unreadable (here: not exact on the data, so extraction
    # refuses it); the pipeline then reads the runner-up, a hand-built running sum.
    import mips.network.search as search_module

    net = counter_network
    x = np.random.default_rng(1).integers(0, 20, (500, 8, 1))
    data = SequenceData(x, np.cumsum(x, axis=1))
    monkeypatch.setattr(search_module, "search_ranked", lambda *a, **k: [net(0.3)])
    alone = synthesize(data)
    assert alone.failed_stage == "extract" and "does not reproduce" in alone.reason
    monkeypatch.setattr(search_module, "search_ranked", lambda *a, **k: [net(0.3), net(0.0)])
    synthesis = synthesize(data)
    assert synthesis.ok and synthesis.form == "formula", synthesis.reason
    assert synthesis.network.weights["f.0.bias"][0] == 0.0

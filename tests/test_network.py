"""Network stage: exactness detection, determinism, save/load, and the size order of the search."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.network import Architecture, TrainedNetwork
from mips.network.realize import realize
from mips.network.search import SearchConfig, search, smallest_exact
from mips.network.train import CandidateResult, TrainConfig, train_pack


def running_sum(n: int = 600, seed: int = 0) -> SequenceData:
    x = np.random.default_rng(seed).integers(0, 10, (n, 6, 1))
    return SequenceData(x, np.cumsum(x, axis=1))


def counter_network(offset: float = 0.0) -> TrainedNetwork:
    # h_t = h_{t-1} + x_t (+ offset), y_t = h_t: a running sum, exact by construction.
    w = {
        "f.0.weight": np.array([[1.0], [1.0]]),
        "f.0.bias": np.array([offset]),
        "g.0.weight": np.array([[1.0]]),
        "g.0.bias": np.array([0.0]),
    }
    return TrainedNetwork(Architecture(1), 1, 1, w)


def test_hand_built_network_is_exact_and_a_perturbed_one_is_not():
    data = running_sum()
    assert np.array_equal(counter_network().predict(data.x), data.y)
    assert not np.array_equal(counter_network(offset=0.2).predict(data.x), data.y)


def test_training_stops_when_exact_on_held_out_and_train():
    data = running_sum()
    train, test = data.split(0.2, 0)
    results = train_pack(
        train, test, Architecture(2), [1, 2], [False, True], [0, 1], TrainConfig(steps=3000), 0
    )
    exact = [r for r in results if r.exact]
    assert exact, "a linear RNN learns a running sum"
    for r in exact:
        net = TrainedNetwork(r.arch, 1, 1, r.weights)
        assert np.array_equal(net.predict(data.x), data.y)


def test_training_is_deterministic_for_a_seed():
    data = running_sum(200)
    train, test = data.split(0.2, 0)
    cfg = TrainConfig(steps=60, eval_every=20)
    a = train_pack(train, test, Architecture(2), [1, 2], [True, True], [0, 1], cfg, 3)
    b = train_pack(train, test, Architecture(2), [1, 2], [True, True], [0, 1], cfg, 3)
    for ra, rb in zip(a, b, strict=True):
        for k in ra.weights:
            np.testing.assert_array_equal(ra.weights[k], rb.weights[k])


def test_save_load_round_trip(tmp_path):
    net = counter_network(0.5).replace(counter_network(0.5).weights, steps=12)
    net.save(tmp_path / "net")
    back = TrainedNetwork.load(tmp_path / "net")
    assert back.arch == net.arch and back.metrics["steps"] == 12
    for k, v in net.weights.items():
        np.testing.assert_array_equal(back.weights[k], v)
    assert not list(tmp_path.glob("**/*.pt")) and not list(tmp_path.glob("**/*.pkl"))


def test_search_prefers_the_smaller_of_two_exact_candidates():
    def cand(arch: Architecture, exact: bool) -> CandidateResult:
        return CandidateResult(arch, 0, exact, 10, 1.0 if exact else 0.5, {})

    big, small = Architecture(3), Architecture(2, 2, 8)
    assert smallest_exact([cand(big, True), cand(small, True)]).arch == small
    assert smallest_exact([cand(big, True), cand(small, False)]).arch == big
    assert smallest_exact([cand(small, False)]) is None


def test_search_finds_a_one_unit_network_for_a_running_sum():
    net = search(running_sum(), SearchConfig(families=("linear",), max_hidden=2))
    assert net.hidden == 1
    assert net.metrics["heldout_accuracy"] == 1.0


def windows(k: int, offset: int = 0, n: int = 400, length: int = 12) -> SequenceData:
    x = np.random.default_rng(k).integers(0, 50, (n, length, 1))
    y = sum(np.pad(x, ((0, 0), (j, 0), (0, 0)))[:, :length] for j in range(k)) + offset
    return SequenceData(x, y)


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("offset", [0, 7])
def test_closed_form_finds_the_minimal_linear_network(k: int, offset: int):
    # The sum of the last k inputs needs exactly k states (and no more with an output bias).
    train, test = windows(k, offset).split(0.2, 0)
    net = realize(train, test, 8)
    assert net.hidden == k
    for part in (train, test):
        assert np.array_equal(net.predict(part.x), part.y)
    assert realize(train, test, k - 1) is None


def test_closed_form_declines_a_nonlinear_task():
    x = np.random.default_rng(0).integers(0, 2, (300, 10, 1))
    train, test = SequenceData(x, np.cumsum(x, axis=1) % 2).split(0.2, 0)
    assert realize(train, test, 8) is None


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError):
        TrainConfig(loss="hinge")
    with pytest.raises(ValueError):
        SearchConfig(families=("transformer",))
    with pytest.raises(ValueError):
        Architecture(0)


def test_sparsify_keeps_exactness_with_fewer_active_weights():
    # A running sum through two duplicate ReLU units, each carrying half: L1 fine-tuning and
    # pruning must leave fewer nonzero weights and the same answers.
    from mips.network.train import sparsify

    w = {
        "f.0.weight": np.array([[1.0, 1.0, 0.3], [1.0, 1.0, -0.2]]),
        "f.0.bias": np.array([0.0, 0.0, -5.0]),
        "f.1.weight": np.array([[0.5], [0.5], [0.0]]),
        "f.1.bias": np.array([0.0]),
        "g.0.weight": np.array([[1.0]]),
        "g.0.bias": np.array([0.0]),
    }
    net = TrainedNetwork(Architecture(1, 2, 3), 1, 1, w)
    data = running_sum(300)
    assert np.array_equal(net.predict(data.x), data.y)
    sparse = sparsify(net, data, l1=1e-2, steps=300)
    nonzero = [int(sum((v != 0).sum() for v in n.weights.values())) for n in (net, sparse)]
    assert nonzero[1] < nonzero[0]
    assert np.array_equal(sparse.predict(data.x), data.y)
    assert sparse.metrics["zero_weights"] == sum(v.size for v in w.values()) - nonzero[1]


def test_search_ranked_keeps_each_familys_smallest_exact_network(monkeypatch) -> None:
    # Stand-in training: the narrow family is exact only at 3 units, the wide one at 2.
    from dataclasses import replace

    import mips.network.search as search_module
    from mips.network.search import search_ranked

    def fake_pack(train, test, arch, sizes, bias, seeds, config, pack_seed, progress=None):
        out = []
        for h, seed in zip(sizes, seeds, strict=True):
            a = replace(arch, hidden=h)
            exact = h == (2 if arch.hidden_width == 64 else 3)
            f, g = a.layer_sizes(1, 1)
            w = {}
            for name, layers in (("f", f), ("g", g)):
                for j, (m, n) in enumerate(zip(layers[:-1], layers[1:], strict=True)):
                    w[f"{name}.{j}.weight"], w[f"{name}.{j}.bias"] = np.zeros((m, n)), np.zeros(n)
            out.append(CandidateResult(a, seed, exact, 10, 1.0 if exact else 0.5, w))
        return out

    monkeypatch.setattr(search_module, "train_pack", fake_pack)
    config = SearchConfig(families=("relu", "relu-wide"), max_hidden_nonlinear=3)
    ranked = search_ranked(running_sum(), config)
    assert [(n.hidden, n.arch.hidden_width) for n in ranked] == [(2, 64), (3, 16)]
    assert search(running_sum(), config).hidden == 2

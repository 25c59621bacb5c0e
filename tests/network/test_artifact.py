"""TrainedNetwork: the numpy forward pass, shape checks, pruning, and save/load without pickle."""

import json
from dataclasses import replace

import numpy as np
import pytest

from mips.data import SequenceData
from mips.network import Architecture, TrainedNetwork
from mips.network.artifact import META_FILE, WEIGHTS_FILE, Sparsity
from mips.network.report import TrainingReport

ARCHS = [
    Architecture(1),
    Architecture(3, hidden_bias=False),
    Architecture(2, hidden_depth=2, hidden_width=5),
    Architecture(4, hidden_depth=2, hidden_width=3, output_depth=2, output_width=6),
]


def test_hand_built_network_is_exact_and_a_perturbed_one_is_not(running_sum, counter_network):
    assert np.array_equal(counter_network().predict(running_sum.x), running_sum.y)
    assert counter_network().is_exact(running_sum)
    assert not np.array_equal(counter_network(offset=0.2).predict(running_sum.x), running_sum.y)
    assert not counter_network(offset=0.2).is_exact(running_sum)


@pytest.mark.parametrize("arch", ARCHS, ids=Architecture.describe)
def test_run_is_step_then_readout(arch: Architecture, random_network) -> None:
    net = random_network(arch, d_in=2, d_out=3, seed=1)
    x = np.random.default_rng(0).integers(-5, 6, (4, 6, 2))
    y, hidden = net.run(x)
    assert y.shape == (4, 6, 3) and hidden.shape == (4, 6, arch.hidden)
    h = np.zeros((4, arch.hidden))
    for t in range(6):
        h = net.step(h, x[:, t])
        np.testing.assert_array_equal(hidden[:, t], h)
        np.testing.assert_array_equal(y[:, t], net.readout(h))
    assert np.array_equal(net.predict(x), np.rint(y).astype(np.int64))


@pytest.mark.parametrize("arch", ARCHS, ids=Architecture.describe)
def test_save_load_round_trip_keeps_weights_config_report_and_outputs(
    tmp_path, arch: Architecture, random_network
) -> None:
    net = random_network(arch, d_in=2, d_out=1, seed=5)
    report = TrainingReport(
        family="relu",
        exact=True,
        steps=np.int64(12),
        sequence_accuracy=1.0,
        heldout_accuracy=1.0,
        pack_seed=3,
        place_in_pack=0,
    )
    net = TrainedNetwork(
        arch=net.arch,
        d_in=2,
        d_out=1,
        weights=net.weights,
        config={"train": {"lr": 0.003}},
        report=report,
    )
    directory = net.save(tmp_path / "net")
    assert sorted(p.name for p in directory.iterdir()) == sorted([WEIGHTS_FILE, META_FILE])
    meta = json.loads((directory / META_FILE).read_text())  # plain JSON, readable anywhere
    assert meta["metrics"]["steps"] == 12 and meta["d_in"] == 2
    assert "seed" not in meta["metrics"]  # a field that does not apply is left out
    back = TrainedNetwork.load(directory)
    assert back.arch == net.arch and (back.d_in, back.d_out) == (2, 1)
    assert back.config == {"train": {"lr": 0.003}} and back.report == report
    assert back.weights.keys() == net.weights.keys()
    for k, v in net.weights.items():
        np.testing.assert_array_equal(back.weights[k], v)
    x = np.random.default_rng(0).integers(-5, 6, (3, 4, 2))
    np.testing.assert_array_equal(back.run(x)[0], net.run(x)[0])
    assert not list(tmp_path.glob("**/*.pt")) and not list(tmp_path.glob("**/*.pkl"))


def test_a_network_saved_with_the_metrics_dict_reads_back_and_saves_the_same(
    tmp_path, counter_network
) -> None:
    # network.json's metrics as the search and L1 sparsification wrote them.
    metrics = {
        "family": "relu",
        "pack_seed": 2,
        "place_in_pack": 5,
        "steps": 850,
        "heldout_accuracy": 1.0,
        "exact": True,
        "sequence_accuracy": 1.0,
        "candidates_trained": 4,
        "search_steps": 3000,
        "seconds": 12.345,
        "sparsified": {"l1": 0.001, "tol": 0.05},
        "zero_weights": 3,
    }
    directory = counter_network().save(tmp_path / "old")
    meta = json.loads((directory / META_FILE).read_text())
    (directory / META_FILE).write_text(json.dumps({**meta, "metrics": metrics}))
    back = TrainedNetwork.load(directory)
    assert back.report.family == "relu" and back.report.place_in_pack == 5
    assert back.sparsity == Sparsity(0.001, 0.05, 3)
    again = json.loads((back.save(tmp_path / "again") / META_FILE).read_text())
    assert again["metrics"] == metrics
    hand_built = TrainedNetwork.load(counter_network().save(tmp_path / "hand"))
    assert hand_built.report is None and hand_built.sparsity is None


def test_replace_keeps_the_architecture_and_the_report(counter_network) -> None:
    report = TrainingReport(
        family="linear", exact=True, steps=0, sequence_accuracy=1.0, heldout_accuracy=1.0
    )
    net = replace(counter_network(0.5), report=report)
    again = net.replace({**net.weights, "f.0.bias": np.array([0.0])})
    assert again.report == report
    assert again.arch == net.arch and again.weights["f.0.bias"][0] == 0.0
    assert net.weights["f.0.bias"][0] == 0.5


def test_missing_or_misshapen_weights_are_rejected(counter_network) -> None:
    weights = counter_network().weights
    without = {k: v for k, v in weights.items() if k != "g.0.bias"}
    with pytest.raises(ValueError, match="missing weight 'g.0.bias'"):
        TrainedNetwork(arch=Architecture(1), d_in=1, d_out=1, weights=without)
    with pytest.raises(ValueError, match=r"f.0.weight has shape \(2, 1\), expected \(3, 1\)"):
        TrainedNetwork(arch=Architecture(1), d_in=2, d_out=1, weights=weights)
    with pytest.raises(ValueError, match="f.0.weight"):
        TrainedNetwork(arch=Architecture(2), d_in=1, d_out=1, weights=weights)


@pytest.mark.parametrize(
    "kwargs", [{"hidden": 0}, {"hidden": 1, "output_depth": 0}, {"hidden": 2, "hidden_depth": 2}]
)
def test_bad_architectures_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Architecture(**kwargs)


def test_rank_orders_by_hidden_size_first() -> None:
    archs = [
        Architecture(3),
        Architecture(2, hidden_depth=2, hidden_width=8, output_depth=2, output_width=8),
        Architecture(2, hidden_depth=2, hidden_width=8),
        Architecture(2),
    ]
    order = sorted(archs, key=Architecture.rank)
    assert order == [
        Architecture(2),
        Architecture(2, hidden_depth=2, hidden_width=8),
        Architecture(2, hidden_depth=2, hidden_width=8, output_depth=2, output_width=8),
        archs[0],
    ]
    assert Architecture(2, hidden_bias=False).rank() < Architecture(2).rank()


def test_pruned_zeroes_small_weights_relative_to_their_matrix(counter_network) -> None:
    net = counter_network().replace(
        {
            "f.0.weight": np.array([[1.0], [0.02]]),
            "f.0.bias": np.array([0.03]),
            "g.0.weight": np.array([[0.001]]),
            "g.0.bias": np.array([0.0]),
        }
    )
    pruned = net.pruned(0.05)
    assert pruned.weights["f.0.weight"].ravel().tolist() == [1.0, 0.0]
    assert pruned.weights["f.0.bias"].tolist() == [0.0]
    # A matrix is measured against itself: a lone small readout weight stays.
    assert pruned.weights["g.0.weight"].ravel().tolist() == [0.001]
    assert net.weights["f.0.weight"][1, 0] == 0.02


def test_padding_is_never_wrong_and_a_few_errors_may_be_allowed(counter_network, running_sum):
    net = counter_network()
    lengths = np.arange(len(running_sum)) % 6 + 1
    y = running_sum.y.copy()
    y[:, 5] += 100  # wrong only at the last step, which most sequences do not have
    short = SequenceData(running_sum.x, y, lengths=lengths)
    wrong = net.wrong_steps(short)
    assert wrong.sum() == (lengths == 6).sum() and not wrong[lengths < 6].any()
    assert not net.is_exact(short)
    assert net.is_exact(short, max_errors=(lengths == 6).sum() / short.steps)
    assert net.is_exact(SequenceData(running_sum.x, y, lengths=np.minimum(lengths, 5)))

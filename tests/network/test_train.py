"""Training: stopping at exactness, determinism, the loss, finetuning and sparsification."""

import math

import numpy as np
import pytest
import torch

from mips.data import SequenceData
from mips.network import Architecture, TrainedNetwork
from mips.network.train import TrainConfig, finetune, log_loss, pack_rounds, sparsify


def train_pack(*args, **kwargs) -> list:
    """The pack's results when it stops."""
    return list(pack_rounds(*args, **kwargs))[-1]


def head(data: SequenceData, n: int) -> tuple[SequenceData, SequenceData]:
    """The first ``n`` sequences, split 80/20."""
    return SequenceData(data.x[:n], data.y[:n]).split(0.2, 0)


def test_training_stops_when_exact_on_held_out_and_train(running_sum):
    train, test = running_sum.split(0.2, 0)
    results = train_pack(
        train, test, Architecture(2), [1, 2], [False, True], [0, 1], TrainConfig(steps=3000), 0
    )
    exact = [r for r in results if r.exact]
    assert exact, "a linear RNN learns a running sum"
    for r in exact:
        assert r.steps < 3000 and r.heldout_accuracy == 1.0
        net = TrainedNetwork(arch=r.arch, d_in=1, d_out=1, weights=r.weights)
        assert np.array_equal(net.predict(running_sum.x), running_sum.y)


def test_candidates_keep_their_own_size_seed_and_bias(running_sum):
    train, test = head(running_sum, 200)
    cfg = TrainConfig(steps=20, eval_every=10)
    results = train_pack(
        train,
        test,
        Architecture(3, hidden_depth=2, hidden_width=4),
        [1, 3, 2],
        [False, True, False],
        [7, 8, 9],
        cfg,
        0,
    )
    assert [(r.arch.hidden, r.arch.hidden_bias, r.seed) for r in results] == [
        (1, False, 7),
        (3, True, 8),
        (2, False, 9),
    ]
    for r in results:
        assert (r.arch.hidden_depth, r.arch.hidden_width) == (2, 4)
        net = TrainedNetwork(
            arch=r.arch, d_in=1, d_out=1, weights=r.weights
        )  # shapes match the candidate's own size
        if not r.arch.hidden_bias:
            assert np.all(net.weights["f.1.bias"] == 0)


def test_training_is_deterministic_for_a_seed(running_sum):
    train, test = head(running_sum, 200)
    cfg = TrainConfig(steps=60, eval_every=20)
    a = train_pack(train, test, Architecture(2), [1, 2], [True, True], [0, 1], cfg, 3)
    b = train_pack(train, test, Architecture(2), [1, 2], [True, True], [0, 1], cfg, 3)
    c = train_pack(train, test, Architecture(2), [1, 2], [True, True], [0, 1], cfg, 4)
    for ra, rb, rc in zip(a, b, c, strict=True):
        for k in ra.weights:
            np.testing.assert_array_equal(ra.weights[k], rb.weights[k])
        assert any(not np.array_equal(ra.weights[k], rc.weights[k]) for k in ra.weights)


def test_progress_is_called_once_per_step(running_sum):
    train, test = head(running_sum, 100)
    ticks = []
    cfg = TrainConfig(steps=15, eval_every=5, plateau=10**6)
    train_pack(train, test, Architecture(1), [1], [True], [0], cfg, 0, ticks.append)
    assert ticks == [1] * 15


@pytest.mark.parametrize(
    "kwargs", [{"steps": 0}, {"batch_size": 0}, {"eval_every": 0}, {"loss": "mse"}]
)
def test_bad_train_configs_are_rejected(kwargs: dict):
    with pytest.raises((ValueError, TypeError)):
        TrainConfig(**kwargs)


def test_log_loss_is_elementwise_symmetric_and_logarithmic():
    y = torch.zeros(2, 3, 1)
    err = torch.tensor([0.0, 1.0, -1.0, 100.0, -100.0, 3.0]).reshape(2, 3, 1)
    loss = log_loss(err, y)
    assert loss.shape == y.shape
    expected = [0.0, 0.5 * math.log(2), 0.5 * math.log(2), 0.5 * math.log(10001)]
    assert torch.allclose(loss.flatten()[:4], torch.tensor(expected))
    assert loss.flatten()[3] == loss.flatten()[4]
    assert torch.equal(log_loss(y, err), loss)


def test_finetune_moves_only_free_weights_and_repairs_a_perturbed_network(
    running_sum, counter_network
):
    # The readout scale is off by 5%: freezing the (correct) transition, finetuning the readout
    # must bring it back to exactness without touching the frozen weights.
    net = counter_network()
    w = {**net.weights, "g.0.weight": np.array([[1.05]])}
    broken = net.replace(w)
    assert not broken.is_exact(running_sum)
    frozen = {k: k.startswith("f.") for k in w}
    frozen = {k: np.full(v.shape, frozen[k]) for k, v in w.items()}
    tuned = finetune(w, frozen, (1, 1), running_sum, steps=300, lr=1e-2)
    for k in ("f.0.weight", "f.0.bias"):
        np.testing.assert_array_equal(tuned[k], w[k])
    assert tuned["g.0.weight"][0, 0] != 1.05
    assert net.replace(tuned).is_exact(running_sum)
    again = finetune(w, frozen, (1, 1), running_sum, steps=300, lr=1e-2)
    for k in tuned:
        np.testing.assert_array_equal(again[k], tuned[k])


def test_finetune_with_every_weight_frozen_changes_nothing(running_sum, random_network):
    net = random_network(
        Architecture(2, hidden_depth=2, hidden_width=3, output_depth=2, output_width=3), seed=2
    )
    frozen = {k: np.ones(v.shape, dtype=bool) for k, v in net.weights.items()}
    tuned = finetune(net.weights, frozen, (2, 2), running_sum, steps=5, l1=1e-2)
    for k, v in net.weights.items():
        np.testing.assert_array_equal(tuned[k], v)


def test_sparsify_keeps_exactness_with_fewer_active_weights(running_sum):
    # A running sum through two duplicate ReLU units, each carrying half: L1 fine-tuning and
    # pruning must leave fewer nonzero weights and the same answers.
    w = {
        "f.0.weight": np.array([[1.0, 1.0, 0.3], [1.0, 1.0, -0.2]]),
        "f.0.bias": np.array([0.0, 0.0, -5.0]),
        "f.1.weight": np.array([[0.5], [0.5], [0.0]]),
        "f.1.bias": np.array([0.0]),
        "g.0.weight": np.array([[1.0]]),
        "g.0.bias": np.array([0.0]),
    }
    net = TrainedNetwork(
        arch=Architecture(1, hidden_depth=2, hidden_width=3), d_in=1, d_out=1, weights=w
    )
    data = SequenceData(running_sum.x[:300], running_sum.y[:300])
    assert np.array_equal(net.predict(data.x), data.y)
    sparse = sparsify(net, data, l1=1e-2, steps=300)
    nonzero = [int(sum((v != 0).sum() for v in n.weights.values())) for n in (net, sparse)]
    assert nonzero[1] < nonzero[0]
    assert np.array_equal(sparse.predict(data.x), data.y)
    assert sparse.sparsity.zero_weights == sum(v.size for v in w.values()) - nonzero[1]


def test_masked_mean_counts_only_real_steps() -> None:
    from mips.network.train import masked_mean, step_mask

    x = np.ones((2, 3, 1), dtype=np.int64)
    data = SequenceData(x, x, lengths=np.array([1, 3]))
    loss = torch.arange(12, dtype=torch.float32).reshape(2, 2, 3, 1)  # (K, N, T, d_out)
    means = masked_mean(loss, step_mask(data))  # per candidate: steps (0,0), (1,0..2)
    assert means.tolist() == [(0 + 3 + 4 + 5) / 4, (6 + 9 + 10 + 11) / 4]
    assert step_mask(SequenceData(x, x)) is None


def test_a_pack_trains_on_sequences_of_different_lengths(running_sum) -> None:
    # Padding is masked out of the loss and the exactness check: a running sum on sequences
    # of 1..6 steps becomes exact like on full ones.
    lengths = np.arange(300) % 6 + 1
    data = SequenceData(running_sum.x[:300], running_sum.y[:300], lengths=lengths)
    train, test = data.split(0.2, 0)
    results = train_pack(
        train, test, Architecture(1), [1], [False], [0], TrainConfig(steps=1500), pack_seed=0
    )
    assert results[0].exact


def test_an_inexact_candidate_comes_back_at_its_best_evaluation(parity):
    # A one-unit ReLU network cannot hold a running parity over 10 steps: nothing becomes exact,
    # and each candidate's weights, step and scores are those of its best evaluation.
    train, test = parity.split(0.2, 0)
    config = TrainConfig(steps=300, eval_every=25, plateau=300)
    results = train_pack(
        train,
        test,
        Architecture(1, hidden_depth=2, hidden_width=4),
        [1, 1],
        [True, True],
        [0, 1],
        config,
        3,
    )
    for r in results:
        assert not r.exact and r.steps % 25 == 0
        net = TrainedNetwork(arch=r.arch, d_in=1, d_out=1, weights=r.weights)
        right = (net.predict(test.x) == test.y).all(axis=(1, 2)).mean()
        assert right == pytest.approx(r.sequence_accuracy, abs=1e-9)
        assert (net.predict(test.x) == test.y).mean() == pytest.approx(r.heldout_accuracy, abs=1e-6)

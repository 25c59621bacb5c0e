"""The finite reader: clusters and labels to a minimised, breadth-first numbered machine."""

import numpy as np

from mips.extract.finite import bfs_numbering, cluster, finite_from_labels, finite_machine, minimise
from mips.extract.trajectory import ExtractConfig, Trajectory
from mips.machine import Reading


def parity_trajectory(copies: int) -> Trajectory:
    """Running parity whose two states are each stored as ``copies`` distinct labels (by the
    time step mod ``copies``, so that the labels still form a machine)."""
    x = np.random.default_rng(0).integers(0, 2, (300, 8, 1))
    parity = np.concatenate([np.zeros((300, 1), dtype=np.int64), np.cumsum(x[..., 0], 1) % 2], 1)
    phase = np.arange(9)[None, :] % copies
    hidden = (parity + 2 * phase)[..., None].astype(float)
    return Trajectory(x, parity[:, 1:, None], hidden)


def test_redundant_labels_are_minimised_to_two_states():
    traj = parity_trajectory(copies=3)
    labels = np.rint(traj.hidden[..., 0]).astype(np.int64)
    machine, numbered = finite_from_labels(labels, traj, ExtractConfig(), Reading("t", "t"))
    assert machine.reading.n_states == 2 and machine.reading.complete
    assert machine.initial == (0,) and set(numbered.ravel().tolist()) == {0, 1}
    seqs = np.random.default_rng(1).integers(0, 2, (50, 30, 1))
    assert np.array_equal(machine.run(seqs), np.cumsum(seqs, axis=1) % 2)


def test_labels_that_are_no_machine_are_refused():
    traj = parity_trajectory(copies=1)
    labels = np.zeros(traj.hidden.shape[:2], dtype=np.int64)  # one state cannot emit parity
    assert finite_from_labels(labels, traj, ExtractConfig(), Reading("t", "t")) is None


def test_clusters_of_noisy_states_give_the_machine():
    traj = parity_trajectory(copies=1)
    noisy = traj.hidden + np.random.default_rng(2).normal(0, 1e-4, traj.hidden.shape)
    why: list[str] = []
    machine, clusters = finite_machine(Trajectory(traj.x, traj.y, noisy), ExtractConfig(), why)
    assert machine is not None and not why
    assert machine.reading.source == "clusters" and machine.reading.n_states == 2
    assert clusters[3].shape == traj.hidden.shape[:2]


def test_cluster_links_points_within_the_radius():
    points = np.array([[0.0], [0.05], [1.0], [1.04], [3.0]])
    labels = cluster(points, 0.1)
    assert labels[0] == labels[1] and labels[2] == labels[3]
    assert len(set(labels.tolist())) == 3


def test_minimise_merges_states_that_behave_alike():
    # States 0 and 2 both output 1 on symbol (0,) and go to 1; 1 loops outputting 0.
    trans = {(0, (0,)): (1, (1,)), (2, (0,)): (1, (1,)), (1, (0,)): (1, (0,))}
    block = minimise(3, trans)
    assert block[0] == block[2] != block[1]
    assert bfs_numbering(1, trans, 3)[1] == 0


def test_cluster_separates_blobs_of_many_states_in_many_dimensions():
    # Over 2,000 cells in 12 dimensions: the linked pairs are estimated from a sample and the
    # tree works on the principal axes; neither may change which points link.
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, (5, 12))
    which = rng.integers(0, 5, 3000)
    points = centres[which] + rng.normal(0, 0.01, (3000, 12))
    labels = cluster(points, 1.0)
    assert len(set(labels.tolist())) == 5
    assert len(set(zip(labels.tolist(), which.tolist(), strict=True))) == 5


def test_cluster_refuses_a_radius_that_links_most_of_a_large_cloud():
    points = np.random.default_rng(1).uniform(0, 1, (3000, 12))
    assert cluster(points, 2.0, max_pairs=100_000) is None
    assert cluster(points, 0.01) is not None

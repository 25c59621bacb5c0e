"""The finite reader: clusters and labels to a minimised, breadth-first numbered machine."""

import numpy as np

from mips.extract.finite import (
    Ambiguous,
    Clusters,
    FiniteReading,
    bfs_numbering,
    cluster,
    finite_from_labels,
    finite_machine,
    minimise,
)
from mips.extract.trajectory import ExtractConfig, Refusal, Trajectory
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
    read = finite_from_labels(labels, traj, ExtractConfig(), Reading("t", "t"))
    assert isinstance(read, FiniteReading)
    machine, numbered = read.machine, read.labels
    assert machine.reading.n_states == 2 and machine.reading.complete
    assert machine.initial == (0,) and set(numbered.ravel().tolist()) == {0, 1}
    seqs = np.random.default_rng(1).integers(0, 2, (50, 30, 1))
    assert np.array_equal(machine.run(seqs), np.cumsum(seqs, axis=1) % 2)


def test_labels_that_are_no_machine_are_refused():
    traj = parity_trajectory(copies=1)
    labels = np.zeros(traj.hidden.shape[:2], dtype=np.int64)  # one state cannot emit parity
    assert isinstance(
        finite_from_labels(labels, traj, ExtractConfig(), Reading("t", "t")), Ambiguous
    )


def test_labels_of_too_many_states_are_refused_with_the_limit():
    traj = parity_trajectory(copies=3)
    labels = np.rint(traj.hidden[..., 0]).astype(np.int64)
    read = finite_from_labels(labels, traj, ExtractConfig(max_states=1), Reading("t", "t"))
    assert isinstance(read, Refusal) and not isinstance(read, Ambiguous)
    assert read.why == "more than 1 states"
    found = finite_machine(parity_trajectory(copies=1), ExtractConfig(max_states=1))
    assert isinstance(found, Refusal) and found.why == "no finite machine: more than 1 states"


def test_clusters_of_noisy_states_give_the_machine():
    traj = parity_trajectory(copies=1)
    noisy = traj.hidden + np.random.default_rng(2).normal(0, 1e-4, traj.hidden.shape)
    clusters = finite_machine(Trajectory(traj.x, traj.y, noisy), ExtractConfig())
    assert isinstance(clusters, Clusters)
    machine = clusters.machine
    assert machine.reading.source == "clusters" and machine.reading.n_states == 2
    assert clusters.labels.shape == traj.hidden.shape[:2]
    # Each state snaps to its cluster's centre, within the noise of the centre.
    assert np.abs(clusters.snapped() - noisy.reshape(-1, 1)).max() < 1e-3


def test_states_that_no_clustering_reads_say_where_the_finest_breaks():
    traj = parity_trajectory(copies=1)
    one = Trajectory(traj.x, traj.y, np.zeros_like(traj.hidden))  # every state alike
    found = finite_machine(one, ExtractConfig())
    assert isinstance(found, Refusal)
    assert found.why.startswith("no finite machine: 1 clusters at radius 0.001 of the spread, ")
    assert "cluster [0] on input" in found.why


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

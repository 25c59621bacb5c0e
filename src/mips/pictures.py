"""Pictures of a run: the network's hidden states with the state reading drawn over them, and the
state graph of a finite machine as Graphviz DOT text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mips.data import SequenceData
from mips.io import write_atomic
from mips.machine import StateMachine
from mips.naming import LatticeCoordinates
from mips.network.artifact import Recurrent
from mips.program import Program


def _projection(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-D coordinates of ``points`` (n, H) and the (H, 2) map: the axes themselves up to H = 2,
    else the two principal directions of the uncentred states (h_{-1} = 0 stays at the origin)."""
    h = points.shape[1]
    if h <= 2:
        m = np.eye(h, min(h, 2))
    else:
        _, _, vt = np.linalg.svd(points, full_matrices=False)
        m = vt[:2].T
    return points @ m, m


def hidden_states_png(
    network: Recurrent,
    data: SequenceData,
    machine: StateMachine | None,
    path: str | Path,
    max_sequences: int = 400,
    seed: int = 0,
) -> Path:
    """Scatter the hidden states (all real steps, coloured by the finite state they were read as,
    else by the output they emit) with h_{-1} marked and, for a lattice reading, its basis
    vectors drawn from the origin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if data.n > max_sequences:
        idx = np.sort(np.random.default_rng(seed).choice(data.n, max_sequences, replace=False))
        data = data.subset(idx)
    _, hidden = network.run(data.x)
    real = data.mask  # a padded step is no state of the network's
    flat = hidden[real]
    xy, m = _projection(flat)
    if xy.shape[1] == 1:  # one hidden unit: spread the states over time instead
        steps = np.broadcast_to(np.arange(hidden.shape[1]), real.shape)[real]
        xy = np.column_stack([xy[:, 0], steps])
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    colour, label = data.y[..., 0][real], "output y_t (first component)"
    if machine is not None and machine.kind == "finite" and machine.n_vars == 1:
        states, _, known = machine.trace(data.x)
        if known.all():  # each hidden state coloured by the machine state it was read as
            colour, label = states[..., 0][real], "state read"
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=colour, s=8, cmap="viridis", alpha=0.7, linewidths=0)
    fig.colorbar(sc, ax=ax, label=label)
    ax.scatter([0], [0], marker="*", s=160, c="red", label="h_{-1} = 0", zorder=3)
    title = network.describe()
    if machine is not None:
        title += f"\n{machine.kind} reading, {machine.n_vars} state variable(s)"
        _draw_basis(ax, machine, m)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("hidden direction 1")
    ax.set_ylabel("hidden direction 2" if network.hidden > 1 else "time step")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    try:
        return write_atomic(path, fig.savefig)  # savefig reads the format off the .png suffix
    finally:
        plt.close(fig)


def _draw_basis(ax: Any, machine: StateMachine, projection: np.ndarray) -> None:
    """A lattice reading's basis vectors, projected as the states are, drawn from the origin."""
    lattice = machine.reading.naming
    basis = np.asarray(
        lattice.basis if isinstance(lattice, LatticeCoordinates) else (), dtype=np.float64
    )
    if machine.kind != "lattice" or not basis.size or basis.shape[1] != projection.shape[0]:
        return
    for i, v in enumerate(basis @ projection):
        end = (v[0], v[1] if len(v) > 1 else 0.0)
        ax.annotate("", xy=end, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "red"})
        ax.text(*end, f"a{i}", color="red")


def state_graph_dot(machine: StateMachine, max_states: int = 64) -> str | None:
    """The machine's transitions as DOT text (edges labelled ``input / output``), or None when
    it has more than ``max_states`` states, where a drawing would not be read."""
    states = sorted({tuple(r) for r in machine.z_prev.tolist()} | {machine.initial})
    states += sorted({tuple(r) for r in machine.z_next.tolist()} - set(states))
    if len(states) > max_states:
        return None
    index = {s: i for i, s in enumerate(states)}
    edges: dict[tuple[int, int], list[str]] = {}
    for (zp, x), (zn, y) in machine.table().items():
        label = f"{','.join(map(str, x))} / {','.join(map(str, y))}"
        edges.setdefault((index[zp], index[zn]), []).append(label)
    lines = ["digraph machine {", "  rankdir=LR;", '  start [shape=point, label=""];']
    for s, i in index.items():
        shape = "doublecircle" if s == machine.initial else "circle"
        lines.append(f'  q{i} [shape={shape}, label="{",".join(map(str, s)) or "()"}"];')
    lines.append(f"  start -> q{index[machine.initial]};")
    for (a, b), labels in sorted(edges.items()):
        text = "\\n".join(labels)
        lines.append(f'  q{a} -> q{b} [label="{text}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def mealy_dot(program: Program) -> str:
    """A Mealy table over words (``program.state_names`` set) as DOT in the form automata-learning
    tools read and write (AALpy's ``load_automaton_from_file(path, "mealy")``): nodes ``s0``,
    ``s1``, ... labelled by the states' names, edges labelled ``input/output`` with the words,
    the initial state marked by an edge from ``__start0``. Several input or output columns are
    joined by ``+``."""
    update = dict(program.updates[0].table or ())
    outs = [dict(o.table or ()) for o in program.outputs]

    def words(codes: tuple[int, ...], vocabs: tuple) -> str:
        return "+".join(str(c if w is None else w[c]) for c, w in zip(codes, vocabs, strict=True))

    vocab_in = program.words_in or (None,) * len(program.inputs)
    vocab_out = program.words_out or (None,) * len(program.outputs)
    lines = ["digraph learnedModel {"]
    lines += [f's{i} [label="{name}"];' for i, name in enumerate(program.state_names)]
    for key in sorted(update):
        said = tuple(o[key] for o in outs)
        label = f"{words(key[1:], vocab_in)}/{words(said, vocab_out)}"
        lines.append(f's{key[0]} -> s{update[key]}  [label="{label}"];')
    lines += ['__start0 [label="", shape=none];', '__start0 -> s0  [label=""];', "}"]
    return "\n".join(lines) + "\n"

"""Fidelity checks: disagreements are counted per sequence and the shortest ones are shown."""

import numpy as np

from mips.data import SequenceData
from mips.explanation import FidelityConfig
from mips.explanation.fidelity import fidelity
from mips.program import Formula, Program
from mips.regress.expr import var


class SlipsLate:
    """A stand-in network: running parity, except that from step 7 on it answers the opposite
    for sequences that start with a 1 (a network breaking past its training length)."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        y = np.cumsum(x, axis=1) % 2
        y[:, 6:] ^= x[:, :1]
        return y


def parity_program(seq: list[list[int]]) -> list[list[int]]:
    out, s = [], 0
    for (x,) in seq:
        s ^= x
        out.append([s])
    return out


IDENTITY = Program(
    inputs=("x",), state=(), initial=(), updates=(), outputs=(Formula("y", ("x",), expr=var(0)),)
)


def test_disagreements_only_past_the_data_length_and_the_shortest_first() -> None:
    x = np.random.default_rng(0).integers(0, 2, (50, 5, 1))
    data = SequenceData(x, np.cumsum(x, axis=1) % 2)
    config = FidelityConfig(fresh=200, long=100, long_factor=3, exhaustive_budget=256)
    report = fidelity(parity_program, IDENTITY, SlipsLate(), data, config)
    checks = {c.name: c for c in report.checks}
    assert checks["fresh sequences"].disagreeing == 0
    assert checks["3x longer"].length == 15 and checks["3x longer"].disagreeing > 0
    every = checks["every sequence up to length 8"]
    assert (every.sequences, every.disagreeing) == (256, 128)  # those that start with a 1
    assert not report.faithful
    assert len(report.counterexamples) == config.counterexamples
    for c in report.counterexamples:
        assert len(c.inputs) == 7 and c.inputs[0] == (1,)
        assert c.network != c.program


def test_a_program_that_raises_disagrees_where_it_raises() -> None:
    x = np.random.default_rng(0).integers(0, 2, (20, 4, 1))
    data = SequenceData(x, np.cumsum(x, axis=1) % 2)

    def fussy(seq):
        if len(seq) > 4:
            raise KeyError("unseen row")
        return parity_program(seq)

    config = FidelityConfig(fresh=50, long=20, exhaustive_budget=16)
    report = fidelity(fussy, IDENTITY, SlipsLate(), data, config)
    checks = {c.name: c for c in report.checks}
    assert checks["5x longer"].disagreeing == 20
    assert report.counterexamples
    assert all(
        c.program == "raised KeyError" and len(c.inputs) == 5 for c in report.counterexamples
    )

"""Wrong labels: the verified program contradicting fewest labels, and where it contradicts them."""

from types import SimpleNamespace

import numpy as np

from mips.data import SequenceData
from mips.suspects import contradicted_steps, fewest_contradictions


def test_with_wrong_labels_the_verified_formula_contradicting_fewest_labels_wins():
    x = np.arange(12).reshape(4, 3, 1)
    y = x.copy()
    y[2, 1] += 1  # one wrong label
    data = SequenceData(x, y)

    def attempt(shift_at: int | None, verified: bool = True, form: str = "formula"):
        def run_batch(x, lengths):  # the identity, off by one wherever the input is shift_at
            return x + (x == shift_at), np.ones(len(x), dtype=bool)

        program = SimpleNamespace(form=form, run_batch=run_batch)
        return SimpleNamespace(program=program, verification=SimpleNamespace(verified=verified))

    memorised, clean = attempt(0), attempt(None)
    unverified, table = attempt(None, verified=False), attempt(None, form="table")
    chosen = fewest_contradictions([memorised, unverified, clean, table], "formula", data)
    found = contradicted_steps(chosen.program, data)
    assert chosen is clean and found.count == 1 and found.steps[0][:2] == (2, 1)
    chosen = fewest_contradictions([memorised, table], "formula", data)
    found = contradicted_steps(chosen.program, data)
    assert chosen is memorised and found.count == len(found.steps) > 0

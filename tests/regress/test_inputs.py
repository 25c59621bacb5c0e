"""The regressors' shared input check: both refuse the same bad tables with the same words."""

import numpy as np
import pytest

from mips.regress.boolean import BooleanRegressor
from mips.regress.inputs import RESERVED_NAMES, checked_array, checked_table
from mips.regress.integer import IntegerRegressor


@pytest.mark.parametrize(
    ("X", "y", "names", "message"),
    [
        ([[0, 1]], [1, 0], None, "X has 1 rows but y has 2"),
        (np.zeros((0, 2)), [], None, "empty table"),
        ([0, 1], [1, 0], None, "X must be 2-D"),
        ([[0, 1]], [1], ["a"], "1 feature names for 2 columns"),
        ([[0, 1]], [1], ["a", "a"], "repeat"),
        ([[0, 1]], [1], ["a", "class"], "Python variable"),
        *[([[0, 1]], [1], ["a", name], "Python variable") for name in RESERVED_NAMES],
    ],
)
def test_both_regressors_refuse_a_bad_table_alike(X, y, names, message):
    for bits in (True, False):
        with pytest.raises(ValueError, match=message):
            checked_table(X, y, names, bits=bits)
    for regressor in (BooleanRegressor, IntegerRegressor):
        with pytest.raises(ValueError, match=message):
            regressor(feature_names=names).fit(X, y)


def test_values_are_bits_or_integers():
    assert checked_array([[0, 1]], "X", 2, bits=True).dtype == np.uint8
    assert checked_array([2.0, -3.0], "y", 1, bits=False).tolist() == [2, -3]
    with pytest.raises(ValueError, match="only 0 and 1"):
        checked_array([0, 2], "y", 1, bits=True)
    with pytest.raises(ValueError, match="y must hold integers"):
        checked_array([0.5], "y", 1, bits=False)


def test_a_fitted_formula_is_evaluated_on_rows_of_its_width():
    X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    for regressor in (BooleanRegressor(), IntegerRegressor(work_budget=1_000_000)):
        fitted = regressor.fit(X, y)
        assert fitted.score(X, y) == 1.0
        with pytest.raises(ValueError, match="X has 3 columns, the formula 2"):
            fitted.predict([[0, 1, 1]])

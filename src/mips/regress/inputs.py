"""The regressors' one check of what they are given: a table of integer (or 0/1) rows, a target
per row, and a name per column that a rendered formula can use."""

from __future__ import annotations

import keyword
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["RESERVED_NAMES", "checked_array", "checked_names", "checked_rows", "checked_table"]

# Functions a rendered formula calls, and the name eval looks builtins up by: a column may not
# shadow them.
RESERVED_NAMES = ("abs", "int", "max", "min", "__builtins__")


def checked_array(a: ArrayLike, name: str, ndim: int, *, bits: bool) -> np.ndarray:
    """``a`` as an ``ndim``-D array: of 0 and 1 (uint8) when ``bits``, else of integers (int64),
    floats of integer value included."""
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if bits:
        if a.size and not np.isin(a, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0 and 1")
        return a.astype(np.uint8)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.asarray(a, dtype=np.float64) % 1 == 0):
            raise ValueError(f"{name} must hold integers")
    return a.astype(np.int64)


def checked_names(feature_names: Sequence[str] | None, k: int) -> list[str]:
    """One distinct Python variable name per column; ``x0, x1, ...`` by default."""
    names = [f"x{j}" for j in range(k)] if feature_names is None else list(feature_names)
    if len(names) != k:
        raise ValueError(f"{len(names)} feature names for {k} columns")
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name) or name in RESERVED_NAMES:
            raise ValueError(f"feature name {name!r} is not usable as a Python variable")
    if len(set(names)) != k:
        raise ValueError(f"feature names repeat: {names}")
    return names


def checked_rows(X: ArrayLike, n_features: int, *, bits: bool) -> np.ndarray:
    """Rows to evaluate a fitted formula on: ``X`` (n, ``n_features``)."""
    X = checked_array(X, "X", 2, bits=bits)
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} columns, the formula {n_features}")
    return X


def checked_table(
    X: ArrayLike, y: ArrayLike, feature_names: Sequence[str] | None, *, bits: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The table a regressor fits: ``X`` (n, k) and ``y`` (n,) with as many rows, at least one,
    and the names of the k columns (see :func:`checked_array`, :func:`checked_names`)."""
    X, y = checked_array(X, "X", 2, bits=bits), checked_array(y, "y", 1, bits=bits)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0:
        raise ValueError("empty table: no rows to fit")
    return X, y, checked_names(feature_names, X.shape[1])

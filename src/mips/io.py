"""Shared file helpers: atomic writes and JSON for numpy values."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["dumps", "to_jsonable", "write_atomic"]


def write_atomic(path: str | os.PathLike[str], content: bytes | Callable[[Path], None]) -> Path:
    """Write ``content`` (bytes, or a function writing a given file) to a temporary file beside
    ``path``, then rename it over ``path``: a failed or killed write leaves any old file whole
    and no half-written one behind. The temporary file keeps ``path``'s suffix, which some
    writers (numpy's) insist on."""
    path = Path(path)
    write = content if callable(content) else (lambda tmp: tmp.write_bytes(content))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def to_jsonable(value: Any) -> Any:
    """``json.dumps`` default for numpy values, sets, tuples and paths; refuses anything else."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def dumps(value: Any, **kw: Any) -> str:
    """JSON text of ``value``, numpy values included."""
    return json.dumps(value, default=to_jsonable, **kw)

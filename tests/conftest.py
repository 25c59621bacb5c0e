"""Shared fixtures: small data sets, hand-built and random networks, and broken data files.

Test modules are imported with ``--import-mode=importlib`` and cannot import each other; what
several of them need lives here, as fixtures.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from mips.data import MAX_VOCABULARY, SequenceData
from mips.network import Architecture, TrainedNetwork

# Property tests draw the same examples on every run ("deterministic"), so that the default run
# passes or fails for the code, not for the draw. `make test-slow` runs them with fresh draws
# (`--hypothesis-profile=fresh`, which the Hypothesis plugin loads after this file) to find what
# the fixed draws miss; a failure prints the blob that replays it.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("fresh", derandomize=False, print_blob=True)
settings.load_profile("deterministic")

# --- data sets --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def running_sum() -> SequenceData:
    """y_t = x_1 + ... + x_t for 600 sequences of 6 digits; a slice [:n] is the same task."""
    x = np.random.default_rng(0).integers(0, 10, (600, 6, 1))
    return SequenceData(x, np.cumsum(x, axis=1))


@pytest.fixture(scope="session")
def parity() -> SequenceData:
    """y_t = (x_1 + ... + x_t) mod 2 for 300 bit sequences of length 10: not linear."""
    x = np.random.default_rng(0).integers(0, 2, (300, 10, 1))
    return SequenceData(x, np.cumsum(x, axis=1) % 2)


# --- networks ---------------------------------------------------------------------------------


def _counter(offset: float = 0.0) -> TrainedNetwork:
    # h_t = h_{t-1} + x_t (+ offset), y_t = h_t: a running sum, exact by construction at 0.
    w = {
        "f.0.weight": np.array([[1.0], [1.0]]),
        "f.0.bias": np.array([offset]),
        "g.0.weight": np.array([[1.0]]),
        "g.0.bias": np.array([0.0]),
    }
    return TrainedNetwork(arch=Architecture(1), d_in=1, d_out=1, weights=w)


@pytest.fixture(scope="session")
def counter_network() -> Callable[..., TrainedNetwork]:
    """Factory: ``counter_network(offset=0.0)``, the one-unit running sum h_t = h_{t-1} + x_t +
    offset, y_t = h_t (exact on ``running_sum`` at offset 0, wrong from t = 1 at 0.2)."""
    return _counter


def _random_network(
    arch: Architecture, d_in: int = 1, d_out: int = 1, seed: int = 0, scale: float = 1.0
) -> TrainedNetwork:
    rng = np.random.default_rng(seed)
    f_sizes, g_sizes = arch.layer_sizes(d_in, d_out)
    w = {}
    for name, sizes in (("f", f_sizes), ("g", g_sizes)):
        for j, (m, n) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w[f"{name}.{j}.weight"] = rng.normal(0.0, scale / np.sqrt(m), (m, n))
            w[f"{name}.{j}.bias"] = rng.normal(0.0, scale / np.sqrt(m), n)
    if not arch.hidden_bias:
        w[f"f.{arch.hidden_depth - 1}.bias"] = np.zeros(arch.hidden)
    return TrainedNetwork(arch=arch, d_in=d_in, d_out=d_out, weights=w)


@pytest.fixture(scope="session")
def random_network() -> Callable[..., TrainedNetwork]:
    """Factory: ``random_network(arch, d_in=1, d_out=1, seed=0, scale=1.0)``, Gaussian weights of
    standard deviation scale / sqrt(fan_in); f's last bias is 0 when ``arch.hidden_bias`` is off."""
    return _random_network


# --- broken data files: each writer makes one kind -------------------------------------------


def _npz(**arrays: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with open(path, "wb") as f:  # np.savez would append .npz to other suffixes
            np.savez(f, **arrays)

    return write


def _text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content, encoding="utf-8")


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _valid_npz_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        x = np.arange(60).reshape(6, 10, 1) % 3
        path = SequenceData(x, x).save(Path(tmp) / "ok.npz")
        return path.read_bytes()


def _corrupt_npz(path: Path) -> None:
    raw = bytearray(_valid_npz_bytes())
    raw[len(raw) // 3 : len(raw) // 3 + 8] = b"\xff" * 8  # inside the compressed x stream
    path.write_bytes(bytes(raw))


def _save_npy(path: Path) -> None:
    with open(path, "wb") as f:
        np.save(f, _GOOD_X)


_GOOD_X = np.zeros((3, 4, 1), dtype=np.int64)

# kind -> (file name, writer, a fragment the one-line error message must contain)
_BAD_FILES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "npz missing x": ("no_x.npz", _npz(y=_GOOD_X), "missing array 'x'"),
    "npz missing y": ("no_y.npz", _npz(x=_GOOD_X), "missing array 'y'"),
    "npz non-integer": ("frac.npz", _npz(x=_GOOD_X + 0.5, y=_GOOD_X), "non-integer"),
    "npz NaN": ("nan.npz", _npz(x=np.full((3, 4, 1), np.nan), y=_GOOD_X), "NaN"),
    "npz strings": ("str.npz", _npz(x=np.full((3, 4, 1), "a"), y=_GOOD_X), "non-numeric"),
    "npz shape mismatch": ("shape.npz", _npz(x=_GOOD_X, y=np.zeros((3, 5, 1))), "disagree"),
    "npz one-dimensional": ("flat.npz", _npz(x=np.zeros(4), y=np.zeros(4)), "shape"),
    "npz empty": ("empty.npz", _bytes(b""), "empty"),
    "npz random bytes": ("noise.npz", _bytes(bytes(range(256)) * 3), "not an .npz"),
    "npz is .npy": ("array.npz", _save_npy, "not an .npz"),
    "npz truncated": ("cut.npz", lambda p: p.write_bytes(_valid_npz_bytes()[:200]), ".npz"),
    "npz corrupted": ("bad.npz", _corrupt_npz, "damaged"),
    "csv non-integer": ("frac.csv", _text("seq,x,y\n0,1.5,0\n1,1,1\n"), "non-integer"),
    "csv NaN": ("nan.csv", _text("seq,x,y\n0,nan,0\n1,1,1\n"), "NaN"),
    "csv words and numbers": (
        "word.csv",
        _text("seq,x,y\n0,one,0\n1,1,1\n"),
        "column x mixes words and numbers",
    ),
    "csv missing y": ("no_y.csv", _text("seq,x\n0,1\n"), "'y'"),
    "csv missing seq": ("no_seq.csv", _text("x,y\n0,1\n"), "'seq'"),
    "csv short row": ("short.csv", _text("seq,x,y\n0,1\n"), "fields"),
    "csv header only": ("header.csv", _text("seq,x,y\n"), "header only"),
    "csv empty": ("empty.csv", _bytes(b""), "empty"),
    "csv blank lines": ("blank.csv", _text("\n \n"), "empty"),
    "csv out of int64": ("huge.csv", _text(f"seq,x,y\n0,{2**63},0\n"), "64-bit"),
    "csv binary": ("noise.csv", _bytes(b"\xff\xfe\x00" * 50), "codec"),
    "jsonl non-integer": ("frac.jsonl", _text('{"x": [1.5], "y": [0]}\n'), "non-integer"),
    "jsonl NaN": ("nan.jsonl", _text('{"x": [NaN], "y": [0]}\n'), "NaN"),
    "jsonl words and numbers": (
        "mixed.jsonl",
        _text('{"x": ["coin", 2], "y": [1, 2]}\n{"x": [1], "y": [1]}\n'),
        "column x mixes words and numbers",
    ),
    "jsonl too many words": (
        "words.jsonl",
        _text("".join(f'{{"x": ["w{i}"], "y": [0]}}\n' for i in range(MAX_VOCABULARY + 1))),
        "distinct words",
    ),
    "npz lengths too long": (
        "long.npz",
        _npz(x=_GOOD_X, y=_GOOD_X, lengths=np.array([4, 5, 1])),
        "longer than the 4 steps",
    ),
    "npz lengths below 1": (
        "short.npz",
        _npz(x=_GOOD_X, y=_GOOD_X, lengths=np.array([4, 0, 1])),
        "at least 1 step",
    ),
    "npz lengths wrong shape": (
        "lshape.npz",
        _npz(x=_GOOD_X, y=_GOOD_X, lengths=np.array([4, 2])),
        "lengths must have shape",
    ),
    "jsonl ragged dims": ("dims.jsonl", _text('{"x": [1, [2, 3]], "y": [1, 2]}\n'), "ragged"),
    "jsonl x/y mismatch": ("xy.jsonl", _text('{"x": [1, 2], "y": [1]}\n'), "steps"),
    "jsonl invalid JSON": ("broken.jsonl", _text('{"x": [1], "y": [1]}\n{"x": [1\n'), "JSON"),
    "jsonl not an object": ("list.jsonl", _text("[1, 2]\n"), "object"),
    "jsonl missing y": ("no_y.jsonl", _text('{"x": [1]}\n'), "'y'"),
    "jsonl null": ("null.jsonl", _text('{"x": [null], "y": [1]}\n'), "64-bit"),
    "jsonl out of int64": ("huge.jsonl", _text(f'{{"x": [{2**63}], "y": [1]}}\n'), "64-bit"),
    "jsonl empty": ("empty.jsonl", _bytes(b""), "empty"),
    "jsonl whitespace": ("space.jsonl", _text("\n\n  \n"), "empty"),
    "jsonl no steps": ("nosteps.jsonl", _text('{"x": [], "y": []}\n'), "empty sequence"),
    "directory": ("folder.npz", lambda p: p.mkdir(), "directory"),
    "missing file": ("absent.csv", lambda p: None, "no such file"),
    "unknown suffix": ("data.txt", _text("seq,x,y\n0,1,0\n"), "unknown format"),
}


@pytest.fixture(scope="session")
def valid_npz_bytes() -> bytes:
    """The bytes of a small valid .npz file: x = y = arange(60).reshape(6, 10, 1) % 3."""
    return _valid_npz_bytes()


@pytest.fixture(scope="session")
def bad_file_message() -> Callable[[str], str]:
    """Factory: the fragment the error message for a bad file of ``kind`` must contain."""
    return lambda kind: _BAD_FILES[kind][2]


@pytest.fixture(scope="session")
def make_bad_file() -> Callable[[Path, str], Path]:
    """Factory: ``make_bad_file(directory, kind)`` writes the bad file of ``kind`` there and
    returns its path (for "missing file", a path that does not exist)."""

    def make(directory: Path, kind: str) -> Path:
        name, write, _ = _BAD_FILES[kind]
        path = directory / name
        write(path)
        return path

    return make


@pytest.fixture(params=list(_BAD_FILES))
def bad_file_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of bad data file in turn (a test using it runs once per kind)."""
    return request.param

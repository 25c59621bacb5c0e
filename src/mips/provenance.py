"""Which code is running: the package version, and the git commit when it runs from a checkout.

Records and program headers name the code that made them, so that a result can be traced to
its source and a results file is never silently extended by other code. "Dirty" means the
package's own files (``src/mips``, untracked ones included) differ from the commit; the digest
of that difference tells two dirty trees apart. Outside a checkout, or without git, the commit
is "unknown": asking never fails.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["UNKNOWN", "CodeIdentity", "code_identity"]

UNKNOWN = "unknown"
_GIT_SECONDS = 10.0


@dataclass(frozen=True)
class CodeIdentity:
    """The package version, the commit (40 hex digits, or "unknown"), and whether the package
    differs from that commit; ``changes`` is a short digest of the difference ("" when clean)."""

    version: str
    commit: str = UNKNOWN
    dirty: bool = False
    changes: str = ""

    def __post_init__(self) -> None:
        if self.dirty != bool(self.changes):
            raise ValueError("a dirty tree has a digest of its changes, a clean one none")

    def describe(self) -> str:
        """One line: ``mips 0.1.0, commit 1a2b3c4d5e6f`` (``+dirty.<digest>`` when dirty)."""
        return f"mips {self.version}, commit {self.label()}"

    def label(self) -> str:
        """The commit, short: ``1a2b3c4d5e6f``, ``1a2b3c4d5e6f+dirty.<digest>`` or ``unknown``."""
        if self.commit == UNKNOWN:
            return UNKNOWN
        return self.commit[:12] + (f"+dirty.{self.changes}" if self.dirty else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodeIdentity:
        return cls(**d)


@functools.cache
def code_identity() -> CodeIdentity:
    """The running code's identity, computed once per process."""
    from mips import __version__

    package = Path(__file__).resolve().parent
    try:
        return _from_git(__version__, package)
    except (OSError, subprocess.SubprocessError, ValueError):
        return CodeIdentity(__version__)


def _git(package: Path, *args: str) -> bytes:
    # No optional locks: asking must never take the index lock a concurrent commit needs.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    done = subprocess.run(
        ["git", "-C", str(package), *args],
        capture_output=True,
        env=env,
        timeout=_GIT_SECONDS,
        check=True,
    )
    return done.stdout


def _from_git(version: str, package: Path) -> CodeIdentity:
    top = Path(_git(package, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    if top / "src" / "mips" != package:
        # An installed copy that merely sits inside some other repository: not its commit.
        return CodeIdentity(version)
    commit = _git(package, "rev-parse", "--verify", "HEAD").decode().strip()
    if len(commit) != 40:
        return CodeIdentity(version)
    digest = hashlib.sha256(_git(package, "diff", "--no-ext-diff", "--binary", "HEAD", "--", "."))
    untracked = _git(package, "ls-files", "-z", "--others", "--exclude-standard", "--", ".")
    names = sorted(n for n in untracked.decode(errors="surrogateescape").split("\0") if n)
    for name in names:
        digest.update(b"\0" + name.encode(errors="surrogateescape") + b"\0")
        digest.update((package / name).read_bytes())
    dirty = bool(names) or digest.digest() != hashlib.sha256(b"").digest()
    return CodeIdentity(version, commit, dirty, digest.hexdigest()[:8] if dirty else "")

"""The code identity: version and commit from a checkout, dirty when the package differs, and
"unknown" (never an error) outside a checkout or without git."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import mips
from mips import provenance
from mips.provenance import UNKNOWN, CodeIdentity, code_identity

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository holding a package at src/mips, one commit, clean; returns the package dir."""
    package = tmp_path / "repo" / "src" / "mips"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("X = 1\n")
    (tmp_path / "repo" / "README.md").write_text("readme\n")
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".")
    git(tmp_path / "repo", "commit", "-q", "-m", "one")
    return package


def test_the_running_code_names_its_version_and_is_computed_once():
    code = code_identity()
    assert code.version == mips.__version__
    assert code.commit == UNKNOWN or re.fullmatch("[0-9a-f]{40}", code.commit)
    assert code_identity() is code
    assert code.describe().startswith(f"mips {mips.__version__}, commit ")
    assert CodeIdentity.from_dict(code.to_dict()) == code


@needs_git
def test_a_clean_checkout_names_its_commit_and_a_change_makes_it_dirty(checkout: Path):
    clean = provenance._from_git("9.9", checkout)
    assert re.fullmatch("[0-9a-f]{40}", clean.commit) and not clean.dirty
    assert clean.describe() == f"mips 9.9, commit {clean.commit[:12]}"
    (checkout.parent.parent / "README.md").write_text("changed outside the package\n")
    assert provenance._from_git("9.9", checkout) == clean
    (checkout / "__init__.py").write_text("X = 2\n")
    edited = provenance._from_git("9.9", checkout)
    assert edited.commit == clean.commit and edited.dirty and len(edited.changes) == 8
    assert edited.label() == f"{clean.commit[:12]}+dirty.{edited.changes}"
    (checkout / "new.py").write_text("Y = 1\n")  # an untracked module is code too
    added = provenance._from_git("9.9", checkout)
    assert added.dirty and added.changes != edited.changes
    (checkout / "__init__.py").write_text("X = 1\n")
    (checkout / "new.py").unlink()
    assert provenance._from_git("9.9", checkout) == clean


@needs_git
def test_outside_a_checkout_of_the_package_the_commit_is_unknown(tmp_path: Path):
    alone = tmp_path / "site-packages" / "mips"
    alone.mkdir(parents=True)
    with pytest.raises(subprocess.CalledProcessError):
        provenance._from_git("9.9", alone)  # not a repository: code_identity falls back
    git(tmp_path / "site-packages", "init", "-q")  # a repository, but not the package's own
    assert provenance._from_git("9.9", alone) == CodeIdentity("9.9")


@pytest.mark.parametrize("error", [FileNotFoundError("git"), subprocess.TimeoutExpired("git", 10)])
def test_without_git_the_commit_is_unknown_and_nothing_fails(monkeypatch, error):
    def run(*args, **kwargs):
        raise error

    monkeypatch.setattr(provenance.subprocess, "run", run)
    code_identity.cache_clear()
    try:
        assert code_identity() == CodeIdentity(mips.__version__)
        assert code_identity().describe() == f"mips {mips.__version__}, commit unknown"
    finally:
        code_identity.cache_clear()


def test_a_code_identity_with_uncommitted_changes_names_them():
    code = CodeIdentity("0.1.0", "a" * 40, True, "12345678")
    assert CodeIdentity.from_dict(code.to_dict()) == code
    with pytest.raises(ValueError, match="dirty"):
        CodeIdentity("0.1.0", "a" * 40, True, "")

"""The peers' published figures (GPT-4's and the authors' MIPS on the paper's 62 tasks), shipped
in ``peers.json``, and a run's comparison with them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["PeerComparison", "PeerTask", "PeerTotals", "Peers", "load_peers"]


@dataclass(frozen=True)
class PeerTask:
    """One task as the peers ran it (see ``sources`` in peers.json for where each comes from)."""

    gpt4_solved: bool
    authors_mips: bool  # the authors' Jan-22 reconstruction passed it
    authors_hidden: int
    authors_program: str


@dataclass(frozen=True, kw_only=True)
class PeerTotals:
    """The peers' published counts over all their tasks."""

    tasks: int
    gpt4: int
    authors_mips_paper: int
    authors_mips_reconstruction: int
    authors_mips_only_paper: int  # solved by the authors' MIPS and not by GPT-4, per the paper


@dataclass(frozen=True)
class Peers:
    """The peers' figures: per task, in their row order, their totals, and their sources."""

    description: str
    sources: dict[str, str]
    totals: PeerTotals
    tasks: dict[str, PeerTask]


@cache
def load_peers() -> Peers:
    """The peers' figures shipped in peers.json."""
    text = resources.files("mips.bench").joinpath("peers.json").read_text(encoding="utf-8")
    d = json.loads(text)
    return Peers(
        description=d["description"],
        sources=d["sources"],
        totals=PeerTotals(**d["totals"]),
        tasks={name: PeerTask(**task) for name, task in d["tasks"].items()},
    )


@dataclass(frozen=True, kw_only=True)
class PeerComparison:
    """This run beside the peers, over the ``tasks_here`` tasks of it they ran."""

    tasks_here: int
    all_tasks: bool  # the run holds every task the peers ran
    gpt4_solved: int  # of the tasks here
    authors_solved: int  # by the authors' reconstruction, of the tasks here
    solved_not_gpt4: int  # solved in this run and not by GPT-4
    solved_by_no_peer: tuple[str, ...]
    authors_solved_not_here: tuple[str, ...]
    totals: PeerTotals

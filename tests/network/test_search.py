"""Architecture search: the size order, families, and the smallest exact network."""

from dataclasses import dataclass, replace

import numpy as np
import pytest

import mips.network.families as families_module
from mips.network import Architecture, TrainedNetwork
from mips.network.families import FAMILIES, Candidate, FamilyTask, smallest_exact
from mips.network.report import TrainingReport
from mips.network.search import NoExactNetwork, SearchConfig, search, search_rounds
from mips.network.train import CandidateResult


def _zeros(arch: Architecture) -> dict[str, np.ndarray]:
    """All-zero weights of a network of ``arch`` with one input and one output."""
    f, g = arch.layer_sizes(1, 1)
    return {
        f"{name}.{j}.{kind}": np.zeros((a, b) if kind == "weight" else b)
        for name, sizes in (("f", f), ("g", g))
        for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        for kind in ("weight", "bias")
    }


def test_search_prefers_the_smaller_of_two_exact_candidates():
    def cand(arch: Architecture, exact: bool) -> CandidateResult:
        return CandidateResult(
            arch=arch,
            seed=0,
            exact=exact,
            steps=10,
            heldout_accuracy=1.0 if exact else 0.5,
            weights={},
        )

    big, small = Architecture(3), Architecture(2, hidden_depth=2, hidden_width=8)
    assert smallest_exact([cand(big, True), cand(small, True)]).arch == small
    assert smallest_exact([cand(big, True), cand(small, False)]).arch == big
    assert smallest_exact([cand(small, False)]) is None


def test_search_finds_a_one_unit_network_for_a_running_sum(running_sum):
    net = search(running_sum, SearchConfig(families=("linear",), max_hidden=2))
    assert net.hidden == 1
    assert net.report.heldout_accuracy == 1.0 and net.report.family == "linear"


def test_bad_search_configs_are_rejected():
    with pytest.raises(ValueError):
        SearchConfig(families=("transformer",))


def test_search_ranked_keeps_each_familys_smallest_exact_network(monkeypatch, running_sum) -> None:
    # Stand-in training: the narrow family is exact only at 3 units, the wide one at 2.
    from dataclasses import replace

    from mips.network.search import search_ranked

    def fake_pack(train, test, arch, sizes, bias, seeds, config, pack_seed, progress=None):
        out = []
        for h, seed in zip(sizes, seeds, strict=True):
            a = replace(arch, hidden=h)
            exact = h == (2 if arch.hidden_width == 64 else 3)
            out.append(
                CandidateResult(
                    arch=a,
                    seed=seed,
                    exact=exact,
                    steps=10,
                    heldout_accuracy=1.0 if exact else 0.5,
                    weights=_zeros(a),
                )
            )
        return out

    monkeypatch.setattr(families_module, "pack_rounds", lambda *a: iter([fake_pack(*a)]))
    config = SearchConfig(families=("relu", "relu-wide"), max_hidden_nonlinear=3)
    train, test = running_sum.split(config.test_fraction, config.seed)
    ranked = search_ranked(train, test, config)
    assert [(n.hidden, n.arch.hidden_width) for n in ranked] == [(2, 64), (3, 16)]
    assert search(running_sum, config).hidden == 2


def test_near_exact_networks_are_returned_when_none_is_exact(monkeypatch, running_sum) -> None:
    from mips.network.search import NoExactNetwork, search_ranked

    def pack(train, test, arch, sizes, biases, places, config, pack_seed, tick):
        # Nothing is exact; the wide family's candidate is right on 99% of the sequences.
        share = 0.99 if arch.hidden_width > 16 else 0.9
        one = Architecture(
            1,
            hidden_depth=arch.hidden_depth,
            hidden_width=arch.hidden_width,
            output_depth=arch.output_depth,
            output_width=arch.output_width,
        )
        return [
            CandidateResult(
                arch=one,
                seed=0,
                exact=False,
                steps=9,
                heldout_accuracy=0.5,
                weights=_zeros(one),
                sequence_accuracy=share,
            )
        ]

    monkeypatch.setattr(families_module, "pack_rounds", lambda *a: iter([pack(*a)]))
    monkeypatch.setattr(families_module, "realize", lambda *a, **k: None)
    config = SearchConfig(families=("linear", "relu", "relu-wide"), max_hidden_nonlinear=2)
    train, test = running_sum.split(config.test_fraction, config.seed)
    ranked = search_ranked(train, test, config)
    assert [n.report.sequence_accuracy for n in ranked] == [0.99]
    assert not ranked[0].report.exact
    with pytest.raises(NoExactNetwork, match="right on 99.0% of its sequences"):
        search(running_sum, config)
    # With nothing near exact, the networks above the last resort are read, most often right
    # first; below it, the search gives up.
    strict = SearchConfig(families=config.families, near_exact=1.0)
    assert [n.report.sequence_accuracy for n in search_ranked(train, test, strict)] == [0.99, 0.9]
    with pytest.raises(NoExactNetwork, match="below the 100% read when nothing is exact"):
        search_ranked(train, test, replace(strict, last_resort=1.0))
    with pytest.raises(ValueError, match="between 0 and 1"):
        SearchConfig(last_resort=1.5)


def test_each_smaller_exact_network_is_a_round_before_anything_trains_on(
    monkeypatch, running_sum
) -> None:
    # A pack whose 3-unit candidate is exact first and its 2-unit one after training on.
    from dataclasses import replace

    import mips.network.search as search_module

    log = []

    def candidate(arch: Architecture, h: int, exact: bool) -> CandidateResult:
        a = replace(arch, hidden=h)
        share = 0.5 + 0.5 * exact
        return CandidateResult(
            arch=a,
            seed=h,
            exact=exact,
            steps=10 * h,
            heldout_accuracy=1.0 if exact else 0.5,
            weights=_zeros(a),
            sequence_accuracy=share,
        )

    def rounds(train, test, arch, sizes, bias, seeds, config, pack_seed, progress=None):
        log.append(f"{arch.hidden_width} h<={arch.hidden}")
        if arch.hidden == 3:
            yield [candidate(arch, 2, False), candidate(arch, 3, True)]
            log.append("trains on")
        yield [candidate(arch, h, h in (2, 3)) for h in range(1, arch.hidden + 1)]

    monkeypatch.setattr(families_module, "pack_rounds", rounds)
    config = SearchConfig(families=("relu", "relu-wide"), max_hidden_nonlinear=3)
    train, test = running_sum.split(config.test_fraction, config.seed)
    found = search_rounds(train, test, config)
    assert [n.hidden for n in next(found)] == [3] and log == ["16 h<=3"]
    assert [n.hidden for n in next(found)] == [2] and log[-1] == "trains on"
    assert list(found) == [] and log[-1] == "64 h<=1"  # the wide family looks below 2 units
    assert [n.hidden for n in search_module.search_ranked(train, test, config)] == [2, 3]


@dataclass(frozen=True)
class _Sized:
    """A stand-in family: exact at ``exact_at`` units when its cap allows, recording its caps."""

    name: str
    exact_at: int
    caps: list
    linear: bool = False
    last_resort: bool = False
    below_linear: int = 1

    def largest(self, config: SearchConfig) -> int:
        return 8

    def candidates(self, task: FamilyTask):
        self.caps.append(task.cap)
        if self.exact_at <= task.cap:
            arch = Architecture(self.exact_at)
            report = TrainingReport(
                family=self.name, exact=True, steps=10, sequence_accuracy=1.0, heldout_accuracy=1.0
            )
            yield Candidate(
                TrainedNetwork(arch=arch, d_in=1, d_out=1, weights=_zeros(arch), report=report)
            )


def test_the_search_runs_the_families_registered_under_the_configs_names(
    monkeypatch, running_sum
) -> None:
    caps: list[int] = []
    monkeypatch.setitem(FAMILIES, "four", _Sized("four", 4, caps))
    train, test = running_sum.split(0.2, 0)
    rounds = list(search_rounds(train, test, SearchConfig(families=("four",))))
    assert [[n.hidden for n in r] for r in rounds] == [[4]] and caps == [8]
    assert rounds[0][0].report.family == "four" and rounds[0][0].report.seconds is not None


def test_each_family_looks_only_below_the_smallest_exact_network(monkeypatch, running_sum) -> None:
    caps: dict[str, list[int]] = {}
    for family in (
        _Sized("four", 4, caps.setdefault("four", [])),
        _Sized("linear three", 3, caps.setdefault("linear three", []), linear=True),
        _Sized("none below linear", 1, caps.setdefault("none below linear", []), below_linear=0),
        _Sized("one below linear", 1, caps.setdefault("one below linear", [])),
        _Sized("last resort", 1, caps.setdefault("last resort", []), last_resort=True),
    ):
        monkeypatch.setitem(FAMILIES, family.name, family)
    train, test = running_sum.split(0.2, 0)
    config = SearchConfig(families=tuple(caps))
    found = [n.hidden for r in search_rounds(train, test, config) for n in r]
    assert found == [4, 3, 1]
    assert caps == {
        "four": [8],
        "linear three": [3],
        "none below linear": [],  # below a linear network only as far as below_linear
        "one below linear": [1],
        "last resort": [],  # runs only while nothing is exact
    }


def test_a_last_resorts_exact_network_ends_the_search(monkeypatch, running_sum) -> None:
    caps: dict[str, list[int]] = {"last resort": [], "four": []}
    monkeypatch.setitem(
        FAMILIES, "last resort", _Sized("last resort", 6, caps["last resort"], last_resort=True)
    )
    monkeypatch.setitem(FAMILIES, "four", _Sized("four", 4, caps["four"]))
    train, test = running_sum.split(0.2, 0)
    rounds = list(search_rounds(train, test, SearchConfig(families=("last resort", "four"))))
    assert [[n.hidden for n in r] for r in rounds] == [[6]] and caps["four"] == []


def test_each_packs_seed_is_spawned_from_the_one_seed(monkeypatch, running_sum) -> None:
    seeds: dict[int, list[int]] = {}

    def pack(train, test, arch, sizes, biases, places, config, pack_seed, tick):
        seeds.setdefault(search_seed, []).append(pack_seed)
        return iter([[]])

    monkeypatch.setattr(families_module, "pack_rounds", pack)
    train, test = running_sum.split(0.2, 0)
    for search_seed in (0, 1):
        config = SearchConfig(families=("relu", "relu-wide"), seed=search_seed)
        with pytest.raises(NoExactNetwork):  # the stand-in packs train nothing
            list(search_rounds(train, test, config))
        expected = [
            np.random.SeedSequence([search_seed, place]).generate_state(1)[0] for place in (0, 1)
        ]
        assert seeds[search_seed] == expected
    assert len({s for pair in seeds.values() for s in pair}) == 4

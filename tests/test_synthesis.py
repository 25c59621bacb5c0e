"""The synthesis artifacts: one seed reaches every stage, configs hash, results are consistent."""

import pytest

from mips.network.search import SearchConfig
from mips.synthesis import SynthConfig, Synthesis


def test_every_stage_seed_derives_from_the_one_seed():
    a, b = SynthConfig(seed=0).seeded(), SynthConfig(seed=1).seeded()
    assert a.search.seed == 0 and b.search.seed == 1
    for stage in ("simplify", "extract", "regress"):
        assert getattr(a, stage).seed != getattr(b, stage).seed
    assert len({a.simplify.seed, a.extract.seed, a.regress.seed}) == 3
    assert SynthConfig(seed=0).seeded() == a  # derived, not drawn


def test_a_stage_seed_set_by_hand_is_overwritten():
    config = SynthConfig(seed=5, search=SearchConfig(seed=99, max_hidden=3))
    assert config.seeded().search.seed == 5 and config.seeded().search.max_hidden == 3


def test_digest_tells_configs_apart():
    assert SynthConfig().digest() == SynthConfig().digest()
    assert SynthConfig().digest() != SynthConfig(search=SearchConfig(max_hidden=3)).digest()
    assert SynthConfig().digest() != SynthConfig(seed=1).digest()


def test_a_synthesis_either_succeeds_or_names_a_failed_stage():
    with pytest.raises(ValueError):
        Synthesis(config=SynthConfig(), seconds={})
    failed = Synthesis(
        config=SynthConfig(), seconds={"network": 1.0}, failed_stage="network", reason="none"
    )
    assert not failed.ok and failed.source is None and failed.failed_stage == "network"
    with pytest.raises(RuntimeError, match="network failed: none"):
        failed.program  # noqa: B018

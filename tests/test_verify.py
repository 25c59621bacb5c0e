"""verify.paused_gc is scoped: it restores what it found (the checks are tested in test_emit.py)."""

import gc

import pytest

from mips.verify import paused_gc


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_gc_restores_what_it_found(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled
        with pytest.raises(ValueError), paused_gc():
            raise ValueError("a failing check")
        assert gc.isenabled() == enabled
    finally:
        gc.enable()

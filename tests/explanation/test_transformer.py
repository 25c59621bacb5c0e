"""mips explain on a small causal transformer trained in the test, from Python and the CLI."""

from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mips.cli import app
from mips.data import SequenceData
from mips.explanation import ExplainConfig, ExplainError, FidelityConfig, explain
from mips.network.causal import CausalModel
from mips.network.transformer import CausalTransformer, from_transformer
from mips.verify import load_program

QUICK = ExplainConfig(fidelity=FidelityConfig(fresh=500, long=200))
LENGTH, MAX_LEN = 8, 10


def seen_one(n: int = 300, length: int = LENGTH, seed: int = 1) -> SequenceData:
    """Whether a 1 has been seen so far: two states, held by attending to the whole prefix."""
    x = np.random.default_rng(seed).integers(0, 2, (n, length, 1))
    x[: n // 3] = 0  # sequences that stay at 0 for long, so both states are well seen
    x[: n // 3, -2:] = np.random.default_rng(seed + 1).integers(0, 2, (n // 3, 2, 1))
    return SequenceData(x, np.maximum.accumulate(x, axis=1))


@pytest.fixture(scope="module")
def module() -> CausalTransformer:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = seen_one(200, seed=5)
    module = CausalTransformer(1, 16, 2, 1, 32, MAX_LEN, 2)
    opt = torch.optim.Adam(module.parameters(), 2e-2)
    x, y = torch.tensor(data.x, dtype=torch.float32), torch.tensor(data.y)
    for _ in range(120):
        loss = torch.nn.functional.cross_entropy(module(x).reshape(-1, 2), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert (module(x).argmax(-1, keepdim=True) == y).all()
    return module.eval()


def test_a_transformer_reads_as_two_states_and_an_or(module) -> None:
    e = explain(module, seen_one(), output="argmax", config=QUICK)
    assert e.ok and e.machine.kind == "finite", e.reason
    assert e.chosen.program.form == "formula"
    run = load_program(e.source)
    assert run([[0], [0], [1], [0]]) == [[0], [0], [1], [1]]
    fresh = {c.name: c for c in e.fidelity.checks}["fresh sequences"]
    assert fresh.disagreeing == 0
    # Checks stop at the model's positions, and the report says so.
    assert all(c.length <= MAX_LEN for c in e.fidelity.checks)
    assert any("max_len 10" in text for text in e.fidelity.limits)


def test_any_causal_model_is_read_through_two_functions(module) -> None:
    def vectors(x):
        found = []
        hook = module.encoder.layers[0].register_forward_hook(lambda m, i, out: found.append(out))
        module(torch.from_numpy(x))
        hook.remove()
        return found[0]

    with torch.no_grad():
        model = CausalModel(
            outputs=lambda x: module(torch.from_numpy(x)),
            vectors=vectors,
            d_in=1,
            max_len=MAX_LEN,
            output="argmax",
        )
        e = explain(model, seen_one(), config=QUICK)
    assert e.ok and e.fidelity.checks[0].disagreeing == 0, e.reason


def test_sequences_longer_than_max_len_are_refused(module) -> None:
    with pytest.raises(ExplainError, match="longer than the network's max_len 10"):
        explain(module, seen_one(20, length=12), output="argmax")


runner = CliRunner()


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_the_cli_reads_a_transformer_saved_as_safetensors(module, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    net = from_transformer(module, "argmax")
    path = tmp_path / "tf.safetensors"
    save_file(module.state_dict(), path, metadata=net.spec.metadata())
    data = seen_one().save(tmp_path / "seen.npz")
    out = tmp_path / "seen.py"
    result = runner.invoke(
        app, ["explain", "--network", str(path), "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    assert "transformer 1x16" in result.stdout and "max_len 10" in result.stdout
    assert out.exists()

    def explain_file(meta: dict, data: Path) -> str:
        bad = tmp_path / "bad.safetensors"
        save_file(module.state_dict(), bad, metadata=meta)
        return _error_line(
            runner.invoke(app, ["explain", "--network", str(bad), "--data", str(data)])
        )

    meta = net.spec.metadata()
    assert "metadata lacks max_len" in explain_file(
        {k: v for k, v in meta.items() if k != "max_len"}, data
    )
    assert "has shape" in explain_file({**meta, "d_model": "8"}, data)
    too_long = seen_one(20, length=12).save(tmp_path / "long.npz")
    assert "longer than the network's max_len 10" in explain_file(meta, too_long)

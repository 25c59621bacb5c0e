"""The causal transformer adapter: the module's own function in numpy, read through prefixes."""

import numpy as np
import pytest
import torch

from mips.network.causal import CausalModel, SequenceTooLong
from mips.network.foreign import ForeignNetworkError, load_foreign
from mips.network.transformer import CausalTransformer, from_transformer


@pytest.fixture(scope="module")
def module() -> CausalTransformer:
    torch.manual_seed(0)
    return CausalTransformer(1, 8, 2, 2, 16, 6, 2).eval()


def test_run_is_the_modules_forward_and_states_hold_every_layer(module) -> None:
    net = from_transformer(module, "argmax")
    x = np.random.default_rng(0).integers(0, 2, (5, 6, 1))
    with torch.no_grad():
        logits = module(torch.tensor(x, dtype=torch.float32)).numpy()
    out, states = net.run(x)
    assert states.shape == (5, 6, 16) and net.hidden == 16
    np.testing.assert_array_equal(out[..., 0], logits.argmax(-1))
    np.testing.assert_allclose(net.logits(states), logits, atol=1e-5)
    # Causal: a prefix's outputs do not depend on what follows it.
    np.testing.assert_allclose(net.run(x[:, :3])[1], states[:, :3], atol=1e-5)


def test_longer_sequences_than_max_len_are_refused_not_run(module) -> None:
    net = from_transformer(module, "argmax")
    with pytest.raises(SequenceTooLong, match="longer than the model's max_len 6"):
        net.run(np.zeros((1, 7, 1)))
    assert net.within(4).horizon == 4 and net.within(9).horizon == 6


def test_a_saved_transformer_loads_back_with_the_same_answers(module, tmp_path) -> None:
    net = from_transformer(module, "argmax")
    back = load_foreign(net.save(tmp_path / "tf.safetensors"))
    x = np.random.default_rng(1).integers(0, 2, (4, 6, 1))
    np.testing.assert_array_equal(back.predict(x), net.predict(x))
    assert back.describe().startswith("transformer 2x8 (2 heads, ff 16, max_len 6)")


def test_metadata_and_shapes_that_do_not_fit_are_refused(module, tmp_path) -> None:
    from safetensors.torch import save_file

    net = from_transformer(module, "argmax")
    meta = net.spec.metadata()
    path = tmp_path / "tf.safetensors"
    save_file(module.state_dict(), path, metadata={k: v for k, v in meta.items() if k != "ff"})
    with pytest.raises(ForeignNetworkError, match="metadata lacks ff"):
        load_foreign(path)
    save_file(module.state_dict(), path, metadata={**meta, "d_model": "12", "heads": "3"})
    with pytest.raises(ForeignNetworkError, match="embed.weight has shape"):
        load_foreign(path)


def test_any_causal_model_plugs_in_as_two_functions(module) -> None:
    def vectors(x):
        return module.embed(torch.from_numpy(x))  # (N, T, 8): any per-position vectors

    model = CausalModel(
        outputs=lambda x: module(torch.from_numpy(x)),
        vectors=vectors,
        d_in=1,
        max_len=6,
        output="argmax",
    )
    x = np.random.default_rng(2).integers(0, 2, (3, 5, 1))
    out, states = model.run(x)
    assert model.hidden == 8 + 2 and model.d_out == 1
    np.testing.assert_array_equal(model.readout(states), out)
    np.testing.assert_array_equal(model.predict(x), from_transformer(module, "argmax").predict(x))

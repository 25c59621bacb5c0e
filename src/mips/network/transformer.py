"""A small causal transformer trained outside mips, read through its prefixes.

The module people train is :class:`CausalTransformer`: a linear embedding of the inputs plus a
learned position embedding, a ``torch.nn.TransformerEncoder`` of pre-norm layers under a causal
mask, and a linear head; its integer answer is ``round(out)`` or ``argmax(out)``, as for the
recurrent networks of :mod:`mips.network.foreign`. It has no recurrence: what it holds after a
prefix is its residual stream at the prefix's last position (every layer's output, side by
side), and what a state does next is read by running the prefix and a continuation. Sequences
longer than ``max_len`` (its positions) are refused, never run.

Weights come as the module's ``state_dict`` names, from a live module or from a safetensors file
whose metadata gives the sizes (``cell=transformer``); never from a pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import torch
from torch import nn

from mips.network.causal import answer, check_length
from mips.network.foreign import (
    OUTPUTS,
    ForeignNetworkError,
    check_head,
    checked_weights,
    encode,
    inputs_per_step,
    outputs_per_step,
    symbols_metadata,
)
from mips.network.report import TrainingReport

ACTIVATIONS = ("relu", "gelu")
# Sequences run through torch at once: bounds the attention scores held in memory.
_CHUNK = 4096


class CausalTransformer(nn.Module):
    """The module :func:`from_transformer` and :func:`load_transformer` read (pre-norm encoder
    layers, no dropout, a causal mask, learned positions)."""

    def __init__(
        self,
        d_in: int,
        d_model: int,
        heads: int,
        layers: int,
        ff: int,
        max_len: int,
        d_out: int,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.embed = nn.Linear(d_in, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, heads, ff, dropout=0.0, activation=activation, batch_first=True,
            norm_first=True,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        h = self.embed(x) + self.pos(torch.arange(t, device=x.device))  # (B, T, d_model)
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=x.device)
        return self.head(self.encoder(h, mask=mask, is_causal=True))  # (B, T, d_out)


@dataclass(frozen=True, kw_only=True)
class TransformerSpec:
    """The module's sizes, as :class:`CausalTransformer` takes them, and how it answers."""

    d_in: int
    d_model: int
    heads: int
    layers: int
    ff: int
    max_len: int
    d_out: int
    output: str = "round"
    activation: str = "relu"
    # As in ForeignSpec: one-hot input columns, and one block of classes per output column.
    symbols_in: tuple[tuple[int, ...], ...] = ()
    symbols_out: tuple[tuple[int, ...], ...] = ()
    cell: str = field(default="transformer", init=False)

    def __post_init__(self) -> None:
        for name in ("d_in", "d_model", "heads", "layers", "ff", "max_len", "d_out"):
            if getattr(self, name) < 1:
                raise ForeignNetworkError(f"{name} must be a positive integer")
        if self.d_model % self.heads:
            raise ForeignNetworkError(f"d_model {self.d_model} is not a multiple of heads")
        if self.output not in OUTPUTS:
            raise ForeignNetworkError(f"output must be round or argmax, not {self.output!r}")
        if self.activation not in ACTIVATIONS:
            raise ForeignNetworkError(f"activation must be relu or gelu: {self.activation!r}")
        check_head(self)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every state_dict entry's shape."""
        d, f = self.d_model, self.ff
        out: dict[str, tuple[int, ...]] = {
            "embed.weight": (d, self.d_in),
            "embed.bias": (d,),
            "pos.weight": (self.max_len, d),
        }
        for i in range(self.layers):
            p = f"encoder.layers.{i}."
            out |= {
                p + "self_attn.in_proj_weight": (3 * d, d),
                p + "self_attn.in_proj_bias": (3 * d,),
                p + "self_attn.out_proj.weight": (d, d),
                p + "self_attn.out_proj.bias": (d,),
                p + "linear1.weight": (f, d),
                p + "linear1.bias": (f,),
                p + "linear2.weight": (d, f),
                p + "linear2.bias": (d,),
                **{p + f"norm{j}.{w}": (d,) for j in (1, 2) for w in ("weight", "bias")},
            }
        return out | {"head.weight": (self.d_out, d), "head.bias": (self.d_out,)}

    def metadata(self) -> dict[str, str]:
        """The safetensors metadata that describes this module."""
        sizes = ("d_in", "d_model", "heads", "layers", "ff", "max_len", "d_out")
        return {
            "cell": "transformer",
            **{name: str(getattr(self, name)) for name in sizes},
            "output": self.output,
            "activation": self.activation,
            **symbols_metadata(self),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str], weights: dict[str, Any]) -> TransformerSpec:
        """The spec a safetensors file's metadata gives (``cell=transformer``)."""
        from mips.network.foreign import _symbols

        sizes = ("d_in", "d_model", "heads", "layers", "ff", "max_len", "d_out")
        missing = [k for k in (*sizes, "output") if k not in meta]
        if missing:
            raise ForeignNetworkError(f"metadata lacks {', '.join(missing)}")
        try:
            values = {k: int(meta[k]) for k in sizes}
        except ValueError:
            raise ForeignNetworkError(f"{', '.join(sizes)} must be integers") from None
        return cls(
            **values,
            output=meta["output"].lower(),
            activation=meta.get("activation", "relu").lower(),
            symbols_in=_symbols(meta.get("symbols_in")),
            symbols_out=_symbols(meta.get("symbols_out")),
        )


@dataclass(frozen=True, eq=False)
class TransformerNetwork:
    """The module as a function of numpy arrays, read through prefixes: ``run``, ``predict``,
    ``readout`` (the head on the last layer's part of a state) and ``horizon``, the longest
    input readers may run (``max_len``, or less: the positions it was trained on)."""

    spec: TransformerSpec
    weights: dict[str, np.ndarray]
    report: TrainingReport | None = None
    horizon: int = 0

    def __post_init__(self) -> None:
        s = self.spec
        w = checked_weights(
            self.weights,
            s.shapes(),
            f"a causal transformer with {s.layers} layer(s) (embed, pos, encoder.layers.N, head)",
            f"d_in={s.d_in}, d_model={s.d_model}, layers={s.layers}, ff={s.ff}, "
            f"max_len={s.max_len}, d_out={s.d_out}",
        )
        object.__setattr__(self, "weights", w)
        if not 1 <= self.horizon <= self.spec.max_len:
            object.__setattr__(self, "horizon", self.spec.max_len)

    @property
    def max_len(self) -> int:
        return self.spec.max_len

    @property
    def hidden(self) -> int:
        """Size of a state: every layer's residual stream at one position."""
        return self.spec.d_model * self.spec.layers

    @property
    def d_in(self) -> int:
        return inputs_per_step(self.spec)

    @property
    def d_out(self) -> int:
        return outputs_per_step(self.spec)

    def within(self, horizon: int) -> TransformerNetwork:
        """The same network, read no further than ``horizon`` positions."""
        return replace(self, horizon=min(horizon, self.spec.max_len))

    def describe(self) -> str:
        s = self.spec
        one_hot = " one-hot in," if s.symbols_in else ""
        return (
            f"transformer {s.layers}x{s.d_model} ({s.heads} heads, ff {s.ff}, max_len "
            f"{s.max_len}),{one_hot} head {s.d_out} ({s.output})"
        )

    def n_parameters(self) -> int:
        return int(sum(v.size for v in self.weights.values()))

    @cached_property
    def _module(self) -> CausalTransformer:
        s = self.spec
        module = CausalTransformer(
            s.d_in, s.d_model, s.heads, s.layers, s.ff, s.max_len, s.d_out, s.activation
        )
        module.load_state_dict(
            {k: torch.tensor(v, dtype=torch.float32) for k, v in self.weights.items()}
        )
        return module.eval().requires_grad_(False)

    def logits(self, h: np.ndarray) -> np.ndarray:
        """The head's real outputs for states (..., hidden): it reads the last layer's part."""
        top = h[..., -self.spec.d_model :]
        return top @ self.weights["head.weight"].T + self.weights["head.bias"]

    def readout(self, h: np.ndarray) -> np.ndarray:
        """Real outputs whose rounding is the answer: the head's outputs, or the argmax class."""
        return answer(self.logits(h), self.spec.output, self.spec.symbols_out)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (N, T, d_out) and states (N, T, hidden) for inputs x (N, T, d_in)."""
        x = np.asarray(x)
        check_length(x.shape[1], self.spec.max_len)
        n, t = x.shape[:2]
        states = np.zeros((n, t, self.hidden))
        if t == 0 or n == 0:
            return self.readout(states), states
        module, found = self._module, []
        hooks = [
            layer.register_forward_hook(lambda _m, _i, out: found.append(out))
            for layer in module.encoder.layers
        ]
        try:
            with torch.no_grad():
                for start in range(0, n, _CHUNK):
                    found.clear()
                    module(
                        torch.from_numpy(encode(x[start : start + _CHUNK], self.spec.symbols_in))
                    )
                    states[start : start + _CHUNK] = torch.cat(found, dim=-1).numpy()
        finally:
            for hook in hooks:
                hook.remove()
        return self.readout(states), states

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The network's integer answers (N, T, d_out)."""
        return np.rint(self.run(x)[0]).astype(np.int64)

    def save(self, path: Any) -> Any:
        """Write the weights, under their state_dict names, and the sizes as metadata."""
        from safetensors.numpy import save_file

        tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.weights.items()}
        save_file(tensors, str(path), metadata=self.spec.metadata())
        return path


def from_transformer(
    module: nn.Module, output: str = "round", symbols_in: tuple[tuple[int, ...], ...] = ()
) -> TransformerNetwork:
    """Read a live :class:`CausalTransformer` (any module with its attributes and layers);
    ``symbols_in`` lists each input column's symbols when the module sees them one-hot."""
    embed, pos, head = (getattr(module, name, None) for name in ("embed", "pos", "head"))
    encoder = getattr(module, "encoder", None)
    if not (
        isinstance(embed, nn.Linear)
        and isinstance(pos, nn.Embedding)
        and isinstance(encoder, nn.TransformerEncoder)
        and isinstance(head, nn.Linear)
    ):
        raise ForeignNetworkError(
            "a transformer needs .embed (Linear), .pos (Embedding), .encoder "
            "(TransformerEncoder) and .head (Linear)"
        )
    first = encoder.layers[0]
    if not first.norm_first or encoder.norm is not None or not first.self_attn.batch_first:
        raise ForeignNetworkError(
            "the encoder's layers must be norm_first and batch_first, with no final norm"
        )
    activation = getattr(first.activation, "__name__", type(first.activation).__name__).lower()
    spec = TransformerSpec(
        d_in=embed.in_features,
        d_model=embed.out_features,
        heads=first.self_attn.num_heads,
        layers=len(encoder.layers),
        ff=first.linear1.out_features,
        max_len=pos.num_embeddings,
        d_out=head.out_features,
        output=output,
        activation=activation,
        symbols_in=tuple(tuple(int(v) for v in column) for column in symbols_in),
    )
    weights = {k: v.detach().cpu().double().numpy() for k, v in module.state_dict().items()}
    return TransformerNetwork(spec, weights)


def load_transformer(meta: dict[str, str], weights: dict[str, np.ndarray]) -> TransformerNetwork:
    """The network a safetensors file holds, its metadata saying ``cell=transformer``."""
    return TransformerNetwork(TransformerSpec.from_metadata(meta, weights), weights)

"""The MIPS recurrent network, K candidates at once: h_t = f([h_{t-1}, x_t]), y_t = g(h_t), h_{-1} = 0.

f and g are MLPs (depth 1 = one affine map) with ReLU between layers and none after the last. Every
weight carries a leading candidate axis K so that many seeds and hidden sizes train as one batched
computation; a candidate with a smaller hidden size than the pack uses a 0/1 mask on the hidden units,
which keeps the unused units at exactly 0.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mips.network.artifact import Architecture


class PackedMLP(nn.Module):
    """K independent MLPs evaluated together with batched matmuls."""

    def __init__(self, k: int, sizes: list[int], generator: torch.Generator) -> None:
        super().__init__()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default init
            w = (torch.rand(k, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            b = (torch.rand(k, 1, fan_out, generator=generator) * 2 - 1) * bound
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        # a: (K, B, in) -> (K, B, out)
        n = len(self.weights)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            a = torch.baddbmm(b, a, w)  # (K, B, width)
            if i < n - 1:
                a = torch.relu(a)
        return a


class PackedRNN(nn.Module):
    """K candidate RNNs sharing one architecture shape; ``hidden_sizes`` masks each to its own size.

    Inputs are multiplied by ``x_scale`` and outputs by ``y_scale`` inside the forward pass: a fixed
    diagonal reparametrisation that keeps optimisation well conditioned for inputs in the hundreds,
    folded back into the weights when a candidate is exported.
    """

    def __init__(
        self,
        arch: Architecture,
        hidden_sizes: list[int],
        hidden_bias: list[bool],
        d_in: int,
        d_out: int,
        x_scale: torch.Tensor,
        y_scale: torch.Tensor,
        seed: int,
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        k = len(hidden_sizes)
        self.arch, self.d_in, self.d_out = arch, d_in, d_out
        f_sizes, g_sizes = arch.layer_sizes(d_in, d_out)
        self.f = PackedMLP(k, f_sizes, gen)
        self.g = PackedMLP(k, g_sizes, gen)
        mask = torch.zeros(k, 1, arch.hidden)
        for i, h in enumerate(hidden_sizes):
            mask[i, :, :h] = 1.0
        self.register_buffer("mask", mask)  # (K, 1, H)
        bias_mask = torch.tensor(hidden_bias, dtype=torch.float32).reshape(k, 1, 1)
        self.register_buffer("bias_mask", bias_mask)  # (K, 1, 1)
        self.register_buffer("x_scale", x_scale.reshape(1, 1, d_in))
        self.register_buffer("y_scale", y_scale.reshape(1, 1, d_out))

    def forward(self, x: torch.Tensor, return_hidden: bool = False):
        # x: (B, T, d_in), shared by all candidates
        k, hid = self.mask.shape[0], self.arch.hidden
        b, t_len, _ = x.shape
        x = (x * self.x_scale).unsqueeze(0).expand(k, -1, -1, -1)  # (K, B, T, d_in)
        ws, bs = list(self.f.weights), list(self.f.biases)
        # The input part of f's first layer does not depend on h: one matmul for all steps.
        w0h, w0x = ws[0][:, :hid], ws[0][:, hid:]
        b0 = bs[0] * self.bias_mask if len(ws) == 1 else bs[0]
        xin = torch.bmm(x.reshape(k, b * t_len, -1), w0x).reshape(k, b, t_len, -1)
        # unbind, not xin[:, :, t]: each indexing's backward would allocate and fill a full-size
        # gradient; unbind's backward stacks the slices once.
        xin = (xin + b0.unsqueeze(2)).unbind(2)
        # Masking the last layer's outputs once keeps unused hidden units at 0 at every step.
        last_w, last_b = ws[-1] * self.mask, bs[-1] * self.mask * self.bias_mask
        h = x.new_zeros(k, b, hid)  # (K, B, H)
        hs = []
        for t in range(t_len):
            a = torch.baddbmm(xin[t], h, w0h)  # (K, B, width or H)
            for w, bias in zip(ws[1:-1], bs[1:-1], strict=True):
                a = torch.baddbmm(bias, torch.relu(a), w)
            if len(ws) > 1:
                a = torch.baddbmm(last_b, torch.relu(a), last_w)
            else:
                a = a * self.mask
            h = a
            hs.append(h)
        hidden = torch.stack(hs, dim=2)  # (K, B, T, H)
        y = self.g(hidden.reshape(k, b * t_len, -1)).reshape(k, b, t_len, -1)
        y = y * self.y_scale.unsqueeze(0)  # (K, B, T, d_out)
        return (y, hidden) if return_hidden else y

    def export(self, i: int) -> dict[str, torch.Tensor]:
        """Candidate i's weights in raw units, trimmed to its own hidden size, as (in, out) matrices."""
        h = int(self.mask[i, 0].sum().item())
        out: dict[str, torch.Tensor] = {}
        nf = len(self.f.weights)
        for j, (w, b) in enumerate(zip(self.f.weights, self.f.biases, strict=True)):
            w, b = w[i].detach().clone(), b[i, 0].detach().clone()
            if j == 0:
                w = torch.cat([w[:h], w[self.arch.hidden :] * self.x_scale.reshape(-1, 1)])
            if j == nf - 1:
                w, b = w[:, :h], b[:h] * self.bias_mask[i, 0, 0]
            out[f"f.{j}.weight"], out[f"f.{j}.bias"] = w, b
        ng = len(self.g.weights)
        for j, (w, b) in enumerate(zip(self.g.weights, self.g.biases, strict=True)):
            w, b = w[i].detach().clone(), b[i, 0].detach().clone()
            if j == 0:
                w = w[:h]
            if j == ng - 1:
                w, b = w * self.y_scale.reshape(1, -1), b * self.y_scale.reshape(-1)
            out[f"g.{j}.weight"], out[f"g.{j}.bias"] = w, b
        return out

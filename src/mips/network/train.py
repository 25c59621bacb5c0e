"""Train a pack of candidate RNNs as one batched computation, stopping each at exactness.

A candidate is exact when every rounded output equals its target on the whole held-out split; its
weights are snapshotted at that evaluation, so what is returned is exactly what was checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np
import torch

from mips.data import SequenceData
from mips.network.artifact import Architecture, Sparsity, TrainedNetwork
from mips.network.model import PackedRNN


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Optimisation settings shared by every pack."""

    steps: int = 3000
    batch_size: int = 64
    lr: float = 3e-3
    eval_every: int = 50
    # Steps a pack goes on after its first exact candidate, for smaller ones still learning: a
    # smaller network of a nonlinear map of two inputs (such as a difference of absolute
    # values) was measured becoming exact 600-1,100 steps after one of 2.5 times its size.
    patience: int = 1500
    # A pack stops once no unfinished candidate has cut its held-out error rate or loss by a
    # tenth for this many steps: a linear model of a nonlinear task plateaus within a few
    # hundred steps, while one on its way to exactness keeps cutting its error geometrically.
    plateau: int = 500
    device: str = "cpu"
    # Tiny matmuls are launch-bound: a second thread costs more than it gives, and benchmark
    # workers run one task per core.
    threads: int = 1
    # A candidate counts as exact when it misses at most this fraction of the labelled steps of
    # each split (data with a few wrong labels); 0: every step.
    max_label_errors: float = 0.0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.eval_every < 1:
            raise ValueError("steps, batch_size and eval_every must be positive")
        if not 0.0 <= self.max_label_errors < 0.5:
            raise ValueError(f"max_label_errors must lie in [0, 0.5), got {self.max_label_errors}")


@dataclass(frozen=True, kw_only=True, eq=False)
class CandidateResult:
    """One trained candidate: its size, seed, whether and when it became exact, and its weights."""

    arch: Architecture
    seed: int
    exact: bool
    steps: int
    heldout_accuracy: float
    weights: dict[str, np.ndarray]
    # Share of held-out sequences right at every step (1.0 when exact); an inexact candidate's
    # weights are those of its best evaluation by this share, so it can be read when near-exact.
    sequence_accuracy: float = 1.0


def _scales(a: np.ndarray) -> torch.Tensor:
    # Per-dimension magnitude, so inputs in the hundreds train like inputs near 1.
    m = np.abs(a).reshape(-1, a.shape[-1]).max(axis=0).astype(np.float64)
    return torch.tensor(1.0 / np.maximum(m, 1.0), dtype=torch.float32)


def log_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Elementwise 0.5 log(1 + err^2), the same shape as ``y``; the one loss of the network stage.

    Its gradient err / (1 + err^2) is at most 1/2, so outputs still far off early in training do
    not swamp those already near their integer targets.
    """
    err = y_hat - y  # (..., d_out)
    return 0.5 * torch.log1p(err * err)


# --- padding: sequences shorter than T are masked out of every loss and check -------------------


def step_mask(data: SequenceData, device: torch.device | str = "cpu") -> torch.Tensor | None:
    """(N, T, 1) 1.0 at the steps that hold data, 0.0 at padding; None when nothing is padded."""
    if data.lengths is None:
        return None
    return torch.tensor(data.mask[:, :, None], dtype=torch.float32, device=device)


def masked_mean(a: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``a`` (..., N, T, d) over its last three axes, counting only steps in ``mask``
    (N, T, 1); the plain mean when ``mask`` is None."""
    if mask is None:
        return a.mean(dim=(-3, -2, -1))
    mask = mask.to(a.dtype)
    return (a * mask).sum(dim=(-3, -2, -1)) / (mask.sum() * a.shape[-1])


def step_errors(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(..., ) fraction of labelled steps where a rounded output misses its target."""
    wrong = (torch.round(pred) != y).any(dim=-1, keepdim=True).float()  # (..., N, T, 1)
    return masked_mean(wrong, mask)


def _mlp(
    a: torch.Tensor, params: Mapping[str, torch.Tensor], name: str, depth: int
) -> torch.Tensor:
    for j in range(depth):
        a = a @ params[f"{name}.{j}.weight"] + params[f"{name}.{j}.bias"]
        a = torch.relu(a) if j < depth - 1 else a
    return a


def forward(
    params: Mapping[str, torch.Tensor], depths: tuple[int, int], x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One network's outputs (B, T, d_out) and hidden states (B, T, H) for inputs x (B, T, d_in).

    ``params`` are named as in :class:`TrainedNetwork` ((in, out) matrices, raw units) and
    ``depths`` are the layer counts of f and g; the torch twin of :meth:`TrainedNetwork.run`,
    differentiable in ``params``.
    """
    hidden = params[f"f.{depths[0] - 1}.bias"].shape[0]
    h = x.new_zeros(x.shape[0], hidden)  # (B, H)
    hs = []
    for t in range(x.shape[1]):
        h = _mlp(torch.cat([h, x[:, t]], dim=-1), params, "f", depths[0])  # (B, H)
        hs.append(h)
    states = torch.stack(hs, dim=1)  # (B, T, H)
    return _mlp(states, params, "g", depths[1]), states


def pack_rounds(
    train: SequenceData,
    test: SequenceData,
    arch: Architecture,
    hidden_sizes: list[int],
    hidden_bias: list[bool],
    seeds: list[int],
    config: TrainConfig,
    pack_seed: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[CandidateResult]]:
    """Train one candidate per (hidden size, seed) pair; sizes are masks within ``arch.hidden``.

    Yields every candidate's result when the pack stops, and before, as they stand when a first
    candidate becomes exact (before the pack trains on for smaller ones), so that a caller may
    stop there."""
    torch.manual_seed(pack_seed)
    torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    model = _packed_model(train, arch, hidden_sizes, hidden_bias, pack_seed, device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(pack_seed)
    (xs, ys, ms), (xt, yt, mt) = _tensors(train, device), _tensors(test, device)
    batch = min(config.batch_size, train.n)
    pack = _Pack(model, hidden_sizes, hidden_bias, config)
    step = 0
    for step in range(1, config.steps + 1):
        idx = torch.as_tensor(rng.integers(0, train.n, size=batch), device=device)
        loss = _pack_loss(model, xs[idx], ys[idx], None if ms is None else ms[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress(1)
        if step % config.eval_every and step != config.steps:
            continue
        with torch.no_grad():
            pack.evaluate(step, xt, yt, xs, ys, mt, ms)
        if pack.finished(step):
            break
        if pack.first_exact_step == step:
            yield pack.results(arch, seeds, step)
    yield pack.results(arch, seeds, step)


def _packed_model(
    train: SequenceData,
    arch: Architecture,
    hidden_sizes: list[int],
    hidden_bias: list[bool],
    pack_seed: int,
    device: torch.device,
) -> PackedRNN:
    """The pack's candidates, their inputs and outputs scaled by ``train``'s magnitudes."""
    x_scale = _scales(train.x)
    y_scale = 1.0 / _scales(train.y)
    model = PackedRNN(
        arch, hidden_sizes, hidden_bias, train.d_in, train.d_out, x_scale, y_scale, seed=pack_seed
    )
    return model.to(device)


def _tensors(
    data: SequenceData, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``data``'s inputs and outputs as float tensors, and its :func:`step_mask`."""
    x = torch.tensor(data.x, dtype=torch.float32, device=device)
    y = torch.tensor(data.y, dtype=torch.float32, device=device)
    return x, y, step_mask(data, device)


def _pack_loss(
    model: PackedRNN, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """The sum of the candidates' own mean losses on a batch, which trains each on its own, as
    they are independent."""
    if mask is None:
        return log_loss(model(x), y).mean(dim=(1, 2, 3)).sum()
    return masked_mean(log_loss(model(x), y), mask).sum()


def _export(model: PackedRNN, i: int) -> dict[str, np.ndarray]:
    return {n: v.cpu().numpy() for n, v in model.export(i).items()}


class _Pack:
    """Each candidate's progress on the held-out split, and when the pack may stop."""

    def __init__(
        self,
        model: PackedRNN,
        hidden_sizes: list[int],
        hidden_bias: list[bool],
        config: TrainConfig,
    ) -> None:
        k = len(hidden_sizes)
        self.model, self.config = model, config
        self.hidden_sizes, self.hidden_bias = hidden_sizes, hidden_bias
        self.exact_at = [-1] * k
        self.snapshots: dict[int, dict[str, np.ndarray]] = {}
        self.accuracy = [0.0] * k
        self.improved_at = [0] * k
        self.best_loss = [float("inf")] * k
        self.first_exact_step = -1
        self.sequence_accuracy = [-1.0] * k  # below any share: the first evaluation is kept
        # An inexact candidate's best evaluation: (step, accuracy, weights).
        self.closest: dict[int, tuple[int, float, dict[str, np.ndarray]]] = {}

    def evaluate(
        self,
        step: int,
        xt: torch.Tensor,
        yt: torch.Tensor,
        xs: torch.Tensor,
        ys: torch.Tensor,
        mt: torch.Tensor | None = None,
        ms: torch.Tensor | None = None,
    ) -> None:
        """Score every candidate on the held-out split; snapshot those that became exact.

        ``mt`` / ``ms`` (N, T, 1) mask out the padding of the held-out and training split."""
        pred = self.model(xt)
        if mt is None and ms is None and not self.config.max_label_errors:
            seq_exact, acc, held_loss = self._exact_everywhere(pred, xt, yt, xs, ys)
        else:
            seq_exact, acc, held_loss = self._exact_enough(pred, yt, xs, ys, mt, ms)
        for i in range(len(self.exact_at)):
            if self.exact_at[i] >= 0:
                continue
            error, best_error = 1.0 - acc[i], 1.0 - self.accuracy[i]
            if error < 0.9 * best_error or held_loss[i] < 0.9 * self.best_loss[i]:
                self.improved_at[i] = step
            self.best_loss[i] = min(self.best_loss[i], held_loss[i])
            self.accuracy[i] = max(self.accuracy[i], acc[i])
            if seq_exact[i] == 1.0:
                self.exact_at[i] = step
                self.snapshots[i] = _export(self.model, i)
                if self.first_exact_step < 0:
                    self.first_exact_step = step
        self._keep_closest(step, pred, yt, mt)

    def results(self, arch: Architecture, seeds: list[int], step: int) -> list[CandidateResult]:
        """Every candidate's :meth:`result`, at its own size within ``arch``."""
        sizes = zip(self.hidden_sizes, self.hidden_bias, strict=True)
        return [
            self.result(i, replace(arch, hidden=h, hidden_bias=b), seeds[i], step)
            for i, (h, b) in enumerate(sizes)
        ]

    def result(self, i: int, arch: Architecture, seed: int, step: int) -> CandidateResult:
        """Candidate i: as it became exact, else at its best evaluation, else as it ended."""
        if self.exact_at[i] >= 0:
            return CandidateResult(
                arch=arch,
                seed=seed,
                exact=True,
                steps=self.exact_at[i],
                heldout_accuracy=1.0,
                weights=self.snapshots[i],
            )
        at, accuracy, weights = self.closest[i]  # every pack ends with an evaluation
        return CandidateResult(
            arch=arch,
            seed=seed,
            exact=False,
            steps=at,
            heldout_accuracy=accuracy,
            weights=weights,
            sequence_accuracy=self.sequence_accuracy[i],
        )

    def _keep_closest(
        self, step: int, pred: torch.Tensor, yt: torch.Tensor, mt: torch.Tensor | None
    ) -> None:
        """Snapshot each inexact candidate at its best share of held-out sequences right, with
        the step and accuracy of that snapshot."""
        wrong = torch.round(pred) != yt  # (K, N, T, d_out)
        if mt is not None:
            wrong = wrong & mt.bool()
        right = (~wrong.any(dim=3).any(dim=2)).float().mean(dim=1).tolist()
        acc = masked_mean((~wrong).float(), mt).tolist()
        for i, share in enumerate(right):
            if self.exact_at[i] < 0 and share > self.sequence_accuracy[i]:
                self.sequence_accuracy[i] = share
                self.closest[i] = (step, acc[i], _export(self.model, i))

    def _exact_everywhere(
        self,
        pred: torch.Tensor,
        xt: torch.Tensor,
        yt: torch.Tensor,
        xs: torch.Tensor,
        ys: torch.Tensor,
    ) -> tuple[list[float], list[float], list[float]]:
        ok = (torch.round(pred) == yt).float()  # (K, N, T, d_out)
        acc = ok.mean(dim=(1, 2, 3)).tolist()
        held_loss = log_loss(pred, yt).mean(dim=(1, 2, 3)).tolist()
        seq_exact = ok.amin(dim=(1, 2, 3)).tolist()
        if any(e == 1.0 and self.exact_at[i] < 0 for i, e in enumerate(seq_exact)):
            # Later stages read the machine off every sequence, so training data must be
            # exact too; this costs one more pass only when a candidate passes held-out.
            train_ok = (torch.round(self.model(xs)) == ys).float().amin(dim=(1, 2, 3)).tolist()
            seq_exact = [min(a, b) for a, b in zip(seq_exact, train_ok, strict=True)]
        return seq_exact, acc, held_loss

    def _exact_enough(
        self,
        pred: torch.Tensor,
        yt: torch.Tensor,
        xs: torch.Tensor,
        ys: torch.Tensor,
        mt: torch.Tensor | None,
        ms: torch.Tensor | None,
    ) -> tuple[list[float], list[float], list[float]]:
        # Padded or noisy data: accuracy over labelled steps only, and "exact" (1.0) when at most
        # max_label_errors of the labelled steps of each split are missed.
        allowed = self.config.max_label_errors
        ok = (torch.round(pred) == yt).float()  # (K, N, T, d_out)
        acc = masked_mean(ok, mt).tolist()
        held_loss = masked_mean(log_loss(pred, yt), mt).tolist()
        held_err = step_errors(pred, yt, mt).tolist()
        seq_exact = [1.0 if e <= allowed else 0.0 for e in held_err]
        if any(e == 1.0 and self.exact_at[i] < 0 for i, e in enumerate(seq_exact)):
            train_err = step_errors(self.model(xs), ys, ms).tolist()
            seq_exact = [
                1.0 if e == 1.0 and te <= allowed else 0.0
                for e, te in zip(seq_exact, train_err, strict=True)
            ]
        return seq_exact, acc, held_loss

    def finished(self, step: int) -> bool:
        """Stop once the smallest size is exact, ``patience`` steps after the first exact one, or
        when every unfinished candidate has plateaued."""
        exact_sizes = [h for h, at in zip(self.hidden_sizes, self.exact_at, strict=True) if at >= 0]
        if exact_sizes and (
            min(exact_sizes) == min(self.hidden_sizes)
            or step - self.first_exact_step >= self.config.patience
        ):
            return True
        return all(
            at >= 0 or step - improved >= self.config.plateau
            for at, improved in zip(self.exact_at, self.improved_at, strict=True)
        )


def finetune(
    weights: dict[str, np.ndarray],
    frozen: dict[str, np.ndarray],
    depths: tuple[int, int],
    data: SequenceData,
    steps: int = 400,
    lr: float = 1e-3,
    seed: int = 0,
    l1: float = 0.0,
) -> dict[str, np.ndarray]:
    """Retrain the entries of ``weights`` not marked in ``frozen``; frozen entries keep their value.

    This is the paper's retraining after snapping: the free weights absorb the small error the
    snapped ones introduced. ``depths`` are the layer counts of f and g. ``l1`` adds that
    multiple of the free weights' absolute sum to the loss (sparsity fine-tuning).
    """
    torch.manual_seed(seed)
    params = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in weights.items()
    }
    masks = {k: torch.tensor(~frozen[k], dtype=torch.float64) for k in weights}
    opt = torch.optim.Adam(params.values(), lr=lr)
    x = torch.tensor(data.x, dtype=torch.float64)
    y = torch.tensor(data.y, dtype=torch.float64)
    mask = step_mask(data)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = torch.as_tensor(rng.integers(0, data.n, size=min(256, data.n)))
        y_hat, _ = forward(params, depths, x[idx])
        if mask is None:
            loss = log_loss(y_hat, y[idx]).mean()
        else:
            loss = masked_mean(log_loss(y_hat, y[idx]), mask[idx])
        if l1:
            loss = loss + l1 * sum((p.abs() * masks[k]).sum() for k, p in params.items())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for k, p in params.items():
            p.grad.mul_(masks[k])
        opt.step()
    return {k: p.detach().numpy().copy() for k, p in params.items()}


def sparsify(
    network: TrainedNetwork,
    data: SequenceData,
    l1: float = 1e-3,
    steps: int = 1000,
    seed: int = 0,
    tols: tuple[float, ...] = (0.05, 0.02, 0.01, 0.005),
) -> TrainedNetwork:
    """Fewer active weights, the same answers on ``data``: the paper's L1 fine-tuning.

    The network is fine-tuned with an L1 penalty, then the weights it drove below ``tol`` times
    their matrix's largest are set to 0 (largest ``tol`` first), and the rest retrained with
    those zeros frozen if that lost exactness. The first exact result is returned, else the
    network unchanged; its ``sparsity`` counts the zeros.
    """
    depths = (network.arch.hidden_depth, network.arch.output_depth)
    free = {k: np.zeros(v.shape, dtype=bool) for k, v in network.weights.items()}
    tuned = network.replace(finetune(network.weights, free, depths, data, steps, seed=seed, l1=l1))
    for tol in tols:
        pruned = tuned.pruned(tol)
        if not pruned.is_exact(data):
            zero = {k: v == 0 for k, v in pruned.weights.items()}
            pruned = pruned.replace(
                finetune(pruned.weights, zero, depths, data, steps // 2, seed=seed)
            )
        if pruned.is_exact(data):
            zeros = int(sum(int((v == 0).sum()) for v in pruned.weights.values()))
            return replace(pruned, sparsity=Sparsity(l1, tol, zeros))
    return network

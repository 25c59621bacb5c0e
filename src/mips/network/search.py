"""Architecture search: the smallest exact network, hidden size first, then MLP depth and width.

Each family (linear; ReLU transition; ReLU transition and readout) trains all hidden sizes below
the best found so far, several seeds each, as one packed computation. A later family only gets
sizes that would beat the current best, so the search order is the size order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from mips.data import SequenceData
from mips.network.artifact import Architecture, TrainedNetwork
from mips.network.train import CandidateResult, TrainConfig, train_pack


@dataclass(frozen=True)
class SearchConfig:
    """What to search over and how hard; every field is a choice a user may want to change."""

    max_hidden: int = 8
    # Nonlinear families rarely need many units, and their candidates cost most per step.
    max_hidden_nonlinear: int = 5
    linear_steps: int = 3000
    seeds_per_size: int = 4
    width: int = 16
    families: tuple[str, ...] = ("linear", "relu", "relu-readout", "relu-wide")
    test_fraction: float = 0.2
    seed: int = 0
    # Try the integer canonical form on nearly exact linear candidates (see _rescue).
    rescue: bool = True
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        unknown = set(self.families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; known: {sorted(FAMILIES)}")
        if self.max_hidden < 1 or self.seeds_per_size < 1:
            raise ValueError("max_hidden and seeds_per_size must be positive")


FAMILIES: dict[str, Callable[[int, int], Architecture]] = {
    "linear": lambda h, w: Architecture(h),
    "relu": lambda h, w: Architecture(h, 2, w),
    "relu-readout": lambda h, w: Architecture(h, 2, w, 2, w),
    # Last resort, tried only when nothing smaller is exact, for inputs that must be cut into
    # many pieces (parity of a digit, a set of squares, a modulus): four times the width,
    # three times the steps and the patience.
    "relu-wide": lambda h, w: Architecture(h, 2, 4 * w, 2, 4 * w),
}


class NoExactNetwork(RuntimeError):
    """No candidate in the search space reproduced the held-out split exactly."""


def smallest_exact(results: list[CandidateResult]) -> CandidateResult | None:
    """The exact candidate of smallest architecture rank (ties: fewest steps, then seed)."""
    exact = [r for r in results if r.exact]
    return min(exact, key=lambda r: (r.arch.rank(), r.steps, r.seed)) if exact else None


def _rescue(
    results: list[CandidateResult], data: SequenceData, best: CandidateResult | None
) -> CandidateResult | None:
    """A linear candidate made exact (or smaller) by rounding it to its integer canonical form.

    Gradient descent gets a shift register or a double integrator nearly right long before every
    output of a long sequence rounds correctly; in the Krylov basis the near-integer transition
    snaps to the exact one. Only the two most accurate candidates of each size are tried.
    """
    from mips.simplify import companion

    limit = best.arch.hidden if best is not None else max(r.arch.hidden for r in results)
    for h in range(1, limit + 1):
        same = [r for r in results if r.arch.hidden == h and r.heldout_accuracy >= 0.05]
        for r in sorted(same, key=lambda r: -r.heldout_accuracy)[:2]:
            net = TrainedNetwork(r.arch, data.d_in, data.d_out, r.weights)
            canonical = companion(net, data)
            if canonical is not None and (best is None or canonical.arch.rank() < best.arch.rank()):
                return CandidateResult(
                    canonical.arch, r.seed, True, r.steps, 1.0, canonical.weights
                )
    return None


def search(
    data: SequenceData,
    config: SearchConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainedNetwork:
    """Find and return the smallest network that is exact on the held-out split of ``data``.

    ``progress(description, advance, total)`` is called as training proceeds (for progress bars).
    Raises :class:`NoExactNetwork` when nothing in the search space is exact.
    """
    config = config or SearchConfig()
    train, test = data.split(config.test_fraction, config.seed)
    t0 = time.perf_counter()
    best: CandidateResult | None = None
    trained = 0
    total_steps = 0
    for fam_index, family in enumerate(config.families):
        limit = config.max_hidden if family == "linear" else config.max_hidden_nonlinear
        cap = limit if best is None else min(limit, best.arch.hidden - 1)
        if cap < 1 or (family == "relu-wide" and best is not None):
            continue
        sizes = [h for h in range(1, cap + 1) for _ in range(config.seeds_per_size)]
        # Half of the linear candidates train without f's bias (see Architecture.hidden_bias).
        biases = [family != "linear" or i % 2 == 1 for i in range(len(sizes))]
        seeds = [config.seed * 1000 + i for i in range(len(sizes))]
        arch = FAMILIES[family](cap, config.width)

        def tick(n: int, family: str = family, cap: int = cap) -> None:
            if progress is not None:
                progress(f"{family} h<={cap}", n, config.train.steps)

        train_config = config.train
        if family == "relu-wide":
            train_config = replace(
                train_config, steps=3 * train_config.steps, plateau=3 * train_config.plateau
            )
        if family == "linear":
            # Long sequences of large inputs make a linear fit creep for a while before it
            # locks in: twice the patience, which costs little at this size.
            train_config = replace(
                train_config,
                steps=min(train_config.steps, config.linear_steps),
                plateau=2 * train_config.plateau,
            )
        results = train_pack(
            train,
            test,
            arch,
            sizes,
            biases,
            seeds,
            train_config,
            config.seed * 7919 + fam_index,
            tick,
        )
        trained += len(results)
        total_steps += max(r.steps for r in results)
        found = smallest_exact(results)
        if family == "linear" and config.rescue:
            rescued = _rescue(results, data, found)
            found = rescued if rescued is not None else found
        if found is not None and (best is None or found.arch.rank() < best.arch.rank()):
            best = found
    seconds = time.perf_counter() - t0
    if best is None:
        raise NoExactNetwork(
            f"no network with hidden size <= {config.max_hidden} in families "
            f"{', '.join(config.families)} was exact on the held-out split"
        )
    cfg = asdict(config)
    return TrainedNetwork(
        best.arch,
        data.d_in,
        data.d_out,
        best.weights,
        config=cfg,
        metrics={
            "seed": best.seed,
            "steps": best.steps,
            "heldout_accuracy": best.heldout_accuracy,
            "candidates_trained": trained,
            "search_steps": total_steps,
            "seconds": round(seconds, 3),
        },
    )

"""Network stage: train the smallest recurrent network that reproduces the data exactly."""

from mips.network.artifact import Architecture, TrainedNetwork

__all__ = ["Architecture", "TrainedNetwork"]

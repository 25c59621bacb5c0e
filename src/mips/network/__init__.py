"""Network stage: train the smallest recurrent network that reproduces the data exactly."""

from pathlib import Path

from mips.network.artifact import Architecture, Recurrent, TrainedNetwork
from mips.network.automaton import AutomatonNetwork
from mips.network.foreign import ForeignNetwork

__all__ = ["Architecture", "TrainedNetwork", "save_network"]

# A scale-up network's file in a network directory; ``mips explain --network`` reads it.
SCALED_FILE = "network.safetensors"
# An automaton network's file (AutomatonNetwork.load reads it back).
AUTOMATON_FILE = "automaton.safetensors"


def save_network(net: Recurrent, directory: str | Path) -> Path:
    """Write a network the search returned into ``directory``: weights.safetensors and
    network.json for a network of mips's own form, network.safetensors for a scale-up one,
    automaton.safetensors for an automaton one."""
    if isinstance(net, TrainedNetwork):
        return net.save(directory)
    if isinstance(net, AutomatonNetwork):
        Path(directory).mkdir(parents=True, exist_ok=True)
        net.save(Path(directory) / AUTOMATON_FILE)
        return Path(directory)
    if not isinstance(net, ForeignNetwork):
        raise TypeError(f"cannot save a {type(net).__name__}")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    net.save(d / SCALED_FILE)
    return d

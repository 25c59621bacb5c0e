"""mips: turn a trained recurrent network into a short, verified Python program (arXiv 2402.05110)."""

from mips.data import DataError, SequenceData

__all__ = ["DataError", "SequenceData", "SynthConfig", "explain", "synthesize"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The pipeline pulls in torch; keep `import mips` light for the CLI and the data tools.
    if name == "synthesize":
        from mips.pipeline import synthesize

        return synthesize
    if name == "explain":
        from mips.explanation import explain

        return explain
    if name == "SynthConfig":
        from mips.synthesis import SynthConfig

        return SynthConfig
    raise AttributeError(name)

"""The ``mips`` command line: thin commands that parse options, call the library and print.

Torch-using modules are imported inside the commands, so ``mips --help`` stays instant. A bad data
file is one ``error:`` line on stderr and exit status 2; nothing is written until a run succeeds.
"""

import importlib

from mips.cli.common import app

# Each module registers its commands; --help lists them in this order.
for _module in ("synth", "explain", "bench"):
    importlib.import_module(f"mips.cli.{_module}")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``mips`` console script and ``python -m mips``."""
    app(prog_name="mips")

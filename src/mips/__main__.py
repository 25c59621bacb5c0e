"""``python -m mips``: the command line."""

from mips.cli import main

if __name__ == "__main__":
    main()

"""``python -m symgd``: the command-line interface."""

from symgd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

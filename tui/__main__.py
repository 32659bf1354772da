"""Lets `python -m tui` run the same command line as `outmail`."""

from tui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Lets `python -m tui` run the same command line as `outmail`."""

from tui.cli import console_main

if __name__ == "__main__":
    console_main()

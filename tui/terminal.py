"""The terminal's line discipline, taken over as soon as the console is chosen, before Textual's import (~150 ms).

Until a program switches the terminal out of its cooked mode, the kernel edits what is typed: ctrl+u erases the line
typed so far, ctrl+s and ctrl+q stop and restart output (XON/XOFF) and are never delivered, Enter arrives as a line
feed, and every key is echoed. Textual's driver switches when it starts, so keys typed while the console loads
(over SSH, or with `tmux send-keys` right after the start) lost ctrl+u, ctrl+s, ctrl+q and Enter, and with them what
they meant ("Tab ctrl+u x" left the form unchanged). `keys_as_typed()` sets the same modes Textual's driver sets
(textual/drivers/linux_driver.py 8.2.8: no ECHO, ICANON, IEXTEN, ISIG unless $TEXTUAL_ALLOW_SIGNALS; no IXON, IXOFF,
ICRNL, INLCR, IGNCR; VMIN 1) as soon as the command line says the console will run, and puts the terminal's own
modes back when the console has ended (after Textual has put back what it found, which is these). Keys typed before
the interpreter itself is up (the first ~30 ms) are still cooked: no program can take them back.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def keys_as_typed(stream: object = None) -> Iterator[bool]:
    """While inside: the terminal on `stream` (default stdin) in Textual's input modes; yields False and changes
    nothing when it is not a terminal (a pipe, a test) or its modes cannot be read or set. Output processing is left
    alone, so text printed meanwhile (an unusable settings file) still ends its lines properly."""
    try:
        import termios
    except ImportError:  # not a POSIX terminal API (Windows): Textual's own driver does its own thing there
        yield False
        return
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        if not os.isatty(fd):
            raise OSError
        before = termios.tcgetattr(fd)
    except (AttributeError, OSError, ValueError, termios.error):
        yield False
        return
    modes = termios.tcgetattr(fd)
    signals = 0 if os.environ.get("TEXTUAL_ALLOW_SIGNALS") else termios.ISIG
    modes[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | signals)  # lflag
    modes[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)  # iflag
    modes[6][termios.VMIN] = 1
    try:
        termios.tcsetattr(fd, termios.TCSANOW, modes)  # TCSANOW: what is already typed stays to be read
    except termios.error:
        yield False
        return
    try:
        yield True
    finally:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSANOW, before)

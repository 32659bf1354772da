"""tui/terminal.py: the console's terminal modes taken at once and put back, on a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import termios

from tui.terminal import keys_as_typed


def test_textuals_input_modes_inside_and_the_terminals_own_after():
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        assert before[3] & termios.ICANON and before[0] & termios.ICRNL  # a fresh pty is cooked
        with open(slave, closefd=False) as stream, keys_as_typed(stream) as taken:
            assert taken
            lflag, iflag = termios.tcgetattr(slave)[3], termios.tcgetattr(slave)[0]
            assert not lflag & (termios.ICANON | termios.ECHO | termios.IEXTEN | termios.ISIG)
            assert not iflag & (termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)
            assert termios.tcgetattr(slave)[1] == before[1]  # output processing untouched: printed lines still end
            os.write(master, b"\t\x15x\x13\r")  # Tab, ctrl+u, x, ctrl+s, Enter: read back exactly as typed
            assert os.read(slave, 100) == b"\t\x15x\x13\r"
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_not_a_terminal_changes_nothing():
    with keys_as_typed(io.StringIO()) as taken:
        assert taken is False
    read, write = os.pipe()
    try:
        with open(read, closefd=False) as pipe, keys_as_typed(pipe) as taken:
            assert taken is False
    finally:
        os.close(read)
        os.close(write)

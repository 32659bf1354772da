"""Runs a command under a pseudo-terminal of a given size and collects everything it prints."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time


def run_in_pty(argv: list[str], env: dict[str, str], *, size: tuple[int, int] = (80, 24), timeout: float = 20.0,
               keys: list[tuple[str, bytes]] | None = None) -> tuple[int, bytes]:
    """Run argv on a pty; `keys` are (text to wait for, bytes to type) pairs. Returns (exit code, output)."""
    master, slave = os.openpty()
    columns, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                            start_new_session=True)
    os.close(slave)
    output = bytearray()
    pending = list(keys or [])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if pending and pending[0][0].encode() in output:
                os.write(master, pending.pop(0)[1])
            if proc.poll() is not None and not ready:
                break
        else:
            proc.kill()
        code = proc.wait(timeout=5)
    finally:
        os.close(master)
    return code, bytes(output)

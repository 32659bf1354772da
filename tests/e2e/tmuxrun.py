"""Running the installed `outmail` in tmux at 80x24 for the end-to-end tests (a helper module, not a test module).

`OUTMAIL` is the console script next to the venv's Python (`pip install -e .` puts it there). `Tmux` is a private
tmux server (its own socket, its own TMUX_TMPDIR) running one 80x24 session named `e2e`; its waits poll the screen
every 0.1 s up to a timeout in seconds and fail with an AssertionError showing the last screen. `base_env(**extra)`
is the environment a test starts outmail with: TERM=xterm-256color, no animations, HOME and PATH from the test's
environment, LANG=C.UTF-8, then `extra`. The `tmux` fixture (one started-per-test `Tmux`, killed and its folder
removed after the test) is in tests/e2e/conftest.py.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUTMAIL = Path(sys.executable).parent / "outmail"
_SERIAL = itertools.count()


class Tmux:
    """A private tmux server (its own socket) running one 80x24 session."""

    def __init__(self) -> None:
        # One socket per test (reusing a name right after kill-server races with the dying server), in a private
        # short folder (socket paths are limited to ~100 bytes) that teardown removes.
        self.socket = f"outmail-test-{os.getpid()}-{next(_SERIAL)}"
        self.folder = tempfile.mkdtemp(prefix="omtmux")
        self.env = {**os.environ, "TMUX_TMPDIR": self.folder}
        self.env.pop("TMUX", None)

    def run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
                                env=self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex_quote(v)}" for k, v in env.items())
        line = f"env {exports} {' '.join(shlex_quote(c) for c in command)}; echo OUTMAIL-EXIT=$?; sleep 30"
        self.run("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-s", "e2e", line)
        self.run("set-option", "-g", "escape-time", "10")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; screen:\n{screen}")

    def wait_until(self, what: str, predicate, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} did not happen; screen:\n{screen}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10, env=self.env)
        shutil.rmtree(self.folder, ignore_errors=True)


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def base_env(**extra: str) -> dict[str, str]:
    env = {"TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none", "HOME": os.environ.get("HOME", "/tmp"),
           "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env

"""A save killed with SIGKILL at a random moment: the settings file is always whole and private, and the temporary
file a killed save leaves is removed by the next save. `OUTMAIL_KILL_LOOPS` sets the number of kills (default 30).

Each kill is of a real process in the middle of real saves: a fork server (tests/forkserver.py) has imported the
store once and forks a child per kill that saves the file over and over (umask 022, as on most systems); the child is
killed with SIGKILL at a moment drawn over `CYCLES_IN_RANGE` save cycles (the cycle measured by the server), so the
kill falls anywhere in a save."""

from __future__ import annotations

import os
import random
import signal
import stat
import time
from pathlib import Path

import pytest

from tests.forkserver import ForkServer
from tui.secret import Secret
from tui.settings.store import load_settings, open_settings_file, save_settings

KILLS = int(os.environ.get("OUTMAIL_KILL_LOOPS", "30"))
CYCLES_IN_RANGE = 8

SAVER = r"""
import os
os.umask(0o022)
from tui.settings.store import open_settings_file, save_settings

def cycle(path):
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=2525 if settings.port == 587 else 587))
"""


def test_kill_9_during_save_leaves_a_whole_private_file_and_the_next_save_cleans_up(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[tenants.default.smtp]\nport = 587\nclientSecret = "Kill9-Secret~value"\n')
    os.chmod(path, 0o600)
    rng = random.Random(99)
    with_temp = 0
    with ForkServer(SAVER, path, tmp_path_factory.mktemp("warm-up")) as server:
        for _ in range(KILLS):
            server.fork()
            time.sleep(rng.uniform(0.0, CYCLES_IN_RANGE * server.cycle_seconds))
            assert server.kill() == -signal.SIGKILL, "the saver stopped before it was killed"
            settings = load_settings(path, env={})  # whole: it loads, with one port or the other
            assert settings.port in (587, 2525) and settings.client_secret.reveal() == "Kill9-Secret~value"
            for p in tmp_path.iterdir():  # nothing in the folder is readable by others
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
            left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert len(left) <= 1 and all(p.name.startswith(".settings.toml.outmail-") for p in left)
            with_temp += bool(left)
        cycle = server.cycle_seconds
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(client_secret=Secret("next-save")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]
    print(f"{KILLS} kills during save (a cycle {cycle * 1000:.1f} ms, kills within {CYCLES_IN_RANGE} cycles): "
          f"{with_temp} left a temporary file, each removed by the next save")

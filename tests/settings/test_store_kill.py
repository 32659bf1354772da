"""A save killed with SIGKILL at a random moment: the settings file is always whole and private, and the temporary
file a killed save leaves is removed by the next save. `OUTMAIL_KILL_LOOPS` sets the number of kills (default 30)."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from tui.secret import Secret
from tui.settings.store import load_settings, open_settings_file, save_settings

REPO = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("OUTMAIL_KILL_LOOPS", "30"))

SAVER = r"""
import os, sys
os.umask(0o022)
from pathlib import Path
from tui.settings.store import open_settings_file, save_settings
path = Path(sys.argv[1])
print("ready", flush=True)
while True:
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=2525 if settings.port == 587 else 587))
"""


def test_kill_9_during_save_leaves_a_whole_private_file_and_the_next_save_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[tenants.default.smtp]\nport = 587\nclientSecret = "Kill9-Secret~value"\n')
    os.chmod(path, 0o600)
    rng = random.Random(99)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with_temp = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.2))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        settings = load_settings(path, env={})  # whole: it loads, with one port or the other
        assert settings.port in (587, 2525) and settings.client_secret.reveal() == "Kill9-Secret~value"
        for p in tmp_path.iterdir():  # nothing in the folder is readable by others
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
        left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(left) <= 1 and all(p.name.startswith(".settings.toml.outmail-") for p in left)
        with_temp += bool(left)
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(client_secret=Secret("next-save")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]
    print(f"{KILLS} kills during save: {with_temp} left a temporary file, each removed by the next save")

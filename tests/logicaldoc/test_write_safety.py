"""Export's writes under kill -9 and under a watching local user: a backup is never partial and never readable by
anyone the original is not readable by, and temporary files a killed export leaves are removed by the next write.

The loop: an exporter (a process, umask 022 as on most systems) writes the file over and over, a watcher polls
the folder the whole time, and the exporter is killed with SIGKILL at a random moment; after each kill every file in
the folder is checked. `OUTMAIL_KILL_LOOPS` sets the number of kills (default 30). The exporters are forked by a fork
server (tests/forkserver.py) that has imported the bridge and read both versions once; the kill moment is drawn over
`CYCLES_IN_RANGE` export cycles (the cycle measured by the server), so it falls anywhere in a write and the exporter
gets to finish a few writes (backups) first.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.forkserver import ForkServer
from tui.files import atomic_write, write_backup
from tui.logicaldoc.exporting import apply_export
from tui.logicaldoc.plans import ExportPlan

KILLS = int(os.environ.get("OUTMAIL_KILL_LOOPS", "30"))
CYCLES_IN_RANGE = 8
SECRET = b"Kill9-Secret~value"

EXPORTER = r"""
import os
os.umask(0o022)
from pathlib import Path
from tui.logicaldoc.exporting import apply_export
from tui.logicaldoc.plans import ExportPlan
a, b = Path(ARGS[0]).read_bytes(), Path(ARGS[1]).read_bytes()

def cycle(path):
    current = path.read_bytes()
    apply_export(ExportPlan(path, current, b if current == a else a, "", (), (), ()))
"""


def _contents(tmp_path: Path) -> tuple[bytes, bytes]:
    """Two versions of a large context.properties (a write takes a while) holding a client secret."""
    filler = b"".join(b"advanced.setting%06d=%s\n" % (i, b"x" * 40) for i in range(40_000))
    a = b"acme.smtp.clientSecret=" + SECRET + b"\nacme.smtp.port=587\n" + filler
    return a, a.replace(b"acme.smtp.port=587", b"acme.smtp.port=2525")


class Watcher(threading.Thread):
    """Polls the folder: every backup it ever sees must be complete and no more permissive than the original."""

    def __init__(self, folder: Path, mode: int, sizes: set[int]) -> None:
        super().__init__(daemon=True)
        self.folder, self.mode, self.sizes = folder, mode, sizes
        self.stop = threading.Event()
        self.violations: list[str] = []
        self.backups_seen = 0
        self.temps_seen = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                entries = list(os.scandir(self.folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                extra = stat.S_IMODE(st.st_mode) & ~self.mode
                if extra:
                    self.violations.append(f"{entry.name} mode {stat.S_IMODE(st.st_mode):o} wider than {self.mode:o}")
                if ".bak-" in entry.name and not entry.name.endswith(".tmp"):
                    self.backups_seen += 1
                    if st.st_size not in self.sizes:
                        self.violations.append(f"{entry.name} partial: {st.st_size} bytes")
                elif entry.name.endswith(".tmp"):
                    self.temps_seen += 1


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_kill_9_during_export_never_leaves_a_partial_or_readable_backup(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    a, b = _contents(tmp_path)
    path = folder / "context.properties"
    path.write_bytes(a)
    os.chmod(path, mode)
    (tmp_path / "a").write_bytes(a)
    (tmp_path / "b").write_bytes(b)
    watcher = Watcher(folder, mode, {len(a), len(b)})
    watcher.start()
    rng = random.Random(1234)
    kills_with_temp_left = 0
    backups_checked = 0
    warm_up = tmp_path / "warm-up"
    warm_up.mkdir()
    server = ForkServer(EXPORTER, path, warm_up, str(tmp_path / "a"), str(tmp_path / "b"))
    try:
        for _ in range(KILLS):
            server.fork()
            time.sleep(rng.uniform(0.0, CYCLES_IN_RANGE * server.cycle_seconds))
            assert server.kill() == -signal.SIGKILL, "the exporter stopped before it was killed"
            # after the kill: the file is one version or the other, whole; so is every backup
            assert path.read_bytes() in (a, b)
            assert stat.S_IMODE(path.stat().st_mode) == mode
            for backup in folder.glob("context.properties.bak-*"):
                assert backup.read_bytes() in (a, b), f"{backup.name} is partial"
                assert stat.S_IMODE(backup.stat().st_mode) == mode
                backup.unlink()
                backups_checked += 1
            left = _temps(folder)
            assert len(left) <= 1  # the next write removes what the killed one left
            assert all(p.name.startswith(".context.properties.outmail-") for p in left)
            kills_with_temp_left += bool(left)
    finally:
        server.close()
        watcher.stop.set()
        watcher.join(timeout=10)
    assert not watcher.violations, watcher.violations[:5]
    assert backups_checked > KILLS  # the exporter got to write, so the kills landed among real writes
    # a later export removes the stale temporary file of the last killed one
    current = path.read_bytes()
    apply_export(ExportPlan(path, current, a if current == b else b, "", (), (), ()))
    assert _temps(folder) == []
    print(f"{KILLS} kills (a cycle {server.cycle_seconds * 1000:.0f} ms, kills within {CYCLES_IN_RANGE} cycles): "
          f"{kills_with_temp_left} left a temporary file (removed by the next write), "
          f"{backups_checked} backups checked, watcher saw {watcher.backups_seen} backup and "
          f"{watcher.temps_seen} temporary-file sightings, 0 violations")


def test_backup_is_created_private_and_linked_into_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """How the backup is created: os.open with O_CREAT|O_EXCL and mode 0600 for the first byte, the original's mode
    set before the file gets its name, which is linked (never an existing file replaced)."""
    path = tmp_path / "context.properties"
    path.write_bytes(b"a.smtp.clientSecret=" + SECRET + b"\n")
    os.chmod(path, 0o640)
    calls: list[tuple[str, object]] = []
    real_open, real_fchmod, real_link = os.open, os.fchmod, os.link

    def spy_open(name, flags, mode=0o777, *args, **kwargs):
        calls.append(("open", (Path(name).name, flags, mode)))
        return real_open(name, flags, mode, *args, **kwargs)

    def spy_fchmod(fd, mode):
        calls.append(("fchmod", mode))
        return real_fchmod(fd, mode)

    def spy_link(src, dst, *args, **kwargs):
        calls.append(("link", (Path(src).name, Path(dst).name)))
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "fchmod", spy_fchmod)
    monkeypatch.setattr(os, "link", spy_link)
    old_umask = os.umask(0)  # even a permissive umask does not widen the first byte
    try:
        backup = write_backup(path, path.read_bytes(), path.stat())
    finally:
        os.umask(old_umask)
    monkeypatch.undo()
    opened = [c[1] for c in calls if c[0] == "open" and c[1][0].endswith(".tmp")]
    assert len(opened) == 1
    name, flags, mode = opened[0]
    assert name.startswith(".context.properties.outmail-") and mode == 0o600
    assert flags & os.O_CREAT and flags & os.O_EXCL
    kinds = [c[0] for c in calls if c[0] != "open" or c[1][0].endswith(".tmp")]
    assert kinds == ["open", "fchmod", "link"] and ("fchmod", 0o640) in calls
    assert stat.S_IMODE(backup.stat().st_mode) == 0o640 and backup.read_bytes() == path.read_bytes()
    assert _temps(tmp_path) == []
    again = write_backup(path, b"other", path.stat())  # same second: another name, the first one untouched
    assert again != backup and backup.read_bytes() == path.read_bytes()


def test_stale_temporary_files_are_removed_by_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "context.properties"
    path.write_bytes(b"x=1\n")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a process that is gone
    stale = tmp_path / f".context.properties.outmail-{dead}-abcdef.tmp"
    live = tmp_path / f".context.properties.outmail-{os.getpid()}-123456.tmp"  # a write in progress: kept
    legacy_old = tmp_path / ".context.properties.ab_cd123.tmp"  # an earlier version's, hours old
    legacy_new = tmp_path / ".context.properties.zz_cd123.tmp"  # could be in progress: kept
    other = tmp_path / ".other.properties.outmail-1-abcdef.tmp"  # another file's: not this write's business
    mine = tmp_path / "notes.tmp"
    for p in (stale, live, legacy_old, legacy_new, other, mine):
        p.write_bytes(b"partial")
    hours_ago = time.time() - 3 * 3600
    os.utime(legacy_old, (hours_ago, hours_ago))
    atomic_write(path, b"x=2\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["context.properties", live.name, legacy_new.name, other.name, mine.name])
    os.utime(live, (hours_ago, hours_ago))  # an hour old: stale whoever wrote it
    atomic_write(path, b"x=3\n")
    assert not live.exists() and path.read_bytes() == b"x=3\n"

"""tui.files: atomic, private writes, stamped names that never overwrite, backups and stale temporary files.

(Under kill -9: tests/settings/test_store_kill.py and tests/logicaldoc/test_write_safety.py.)
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui import files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_0644_whatever_the_umask_and_private_when_asked(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        files.atomic_write(tmp_path / "plain.txt", "héllo\n")
    finally:
        os.umask(old)
    assert (tmp_path / "plain.txt").read_bytes() == "héllo\n".encode("utf-8") and _mode(tmp_path / "plain.txt") == 0o644
    old = os.umask(0)
    try:
        files.atomic_write(tmp_path / "secret.toml", b"clientSecret = 'x'\n", private=True)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "secret.toml") == 0o600


def test_replacing_keeps_the_mode_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    files.atomic_write(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o640
    files.atomic_write(path, b"secret", private=True)  # the content holds a secret: narrowed
    assert _mode(path) == 0o600
    files.atomic_write(path, b"x", mode=0o604)  # an explicit mode wins
    assert _mode(path) == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # no temporary file left


def test_the_temporary_file_is_0600_from_its_first_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(name, flags, mode=0o777, *args, **kwargs):
        opened.append((Path(name).name, flags, mode))
        return real_open(name, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    files.atomic_write(tmp_path / "report.txt", "x", mode=0o644)
    monkeypatch.undo()
    [(name, flags, mode)] = [o for o in opened if o[0].endswith(".tmp")]
    assert name.startswith(".report.txt.outmail-") and mode == 0o600
    assert flags & os.O_CREAT and flags & os.O_EXCL and flags & os.O_NOFOLLOW


def test_exclusive_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "script.ps1"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        files.atomic_write(path, "theirs", exclusive=True)
    assert path.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["script.ps1"]
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):  # a symlink, even a dangling one, is a file it does not replace
        files.atomic_write(link, "x", exclusive=True)
    assert not (tmp_path / "nowhere").exists()


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("old")

    def full(fd, mode):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fchmod", full)
    with pytest.raises(OSError, match="No space"):
        files.atomic_write(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]
    with pytest.raises(FileNotFoundError):
        files.atomic_write(tmp_path / "missing" / "f", "x")


def test_stamped_names_count_from_2_within_one_second(tmp_path: Path) -> None:
    at = time.mktime((2026, 3, 1, 9, 5, 7, 0, 0, -1))
    names = files.stamped_names(tmp_path, "outmail-report-", ".txt", now=at)
    assert [next(names).name for _ in range(3)] == [
        "outmail-report-20260301-090507.txt", "outmail-report-20260301-090507-2.txt",
        "outmail-report-20260301-090507-3.txt"]
    assert files.stamp(at) == "20260301-090507"


def test_write_new_takes_the_first_free_name_and_is_private(tmp_path: Path) -> None:
    at = time.mktime((2026, 3, 1, 9, 5, 7, 0, 0, -1))
    first = files.write_new(tmp_path, "outmail-report-", ".txt", "one", now=at)
    second = files.write_new(tmp_path, "outmail-report-", ".txt", "two", now=at)
    assert (first.name, second.name) == ("outmail-report-20260301-090507.txt", "outmail-report-20260301-090507-2.txt")
    assert first.read_text() == "one" and second.read_text() == "two"
    assert _mode(first) == _mode(second) == 0o600
    with pytest.raises(FileNotFoundError):
        files.write_new(tmp_path / "gone", "x-", "", "data")


def test_names_taken_in_the_same_second_cost_a_link_each_not_a_write(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    at = time.mktime((2026, 3, 1, 9, 5, 7, 0, 0, -1))
    for n in range(20):  # twenty backups already made in that second
        (tmp_path / ("x.bak-20260301-090507" + (f"-{n + 1}" if n else ""))).write_text(f"earlier {n}")
    opened: list[str] = []
    real_open = os.open

    def counting_open(path, flags, *args):
        if flags & os.O_CREAT:
            opened.append(str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", counting_open)
    made = files.write_new(tmp_path, "x.bak-", "", b"the data " * 1000, now=at)
    assert made.name == "x.bak-20260301-090507-21" and made.read_bytes() == b"the data " * 1000
    assert len(opened) == 1  # one temporary file written, whatever the names taken
    assert (tmp_path / "x.bak-20260301-090507-5").read_text() == "earlier 4"  # none replaced
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] and _mode(made) == 0o600


def test_backup_keeps_the_originals_mode_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "context.properties"
    path.write_bytes(b"a.smtp.clientSecret=s\n")
    os.chmod(path, 0o640)
    at = time.mktime((2026, 3, 1, 9, 5, 7, 0, 0, -1))
    one = files.write_backup(path, path.read_bytes(), path.stat(), now=at)
    two = files.write_backup(path, b"later", path.stat(), now=at)
    assert one.name == "context.properties.bak-20260301-090507"
    assert two.name == "context.properties.bak-20260301-090507-2"
    assert one.read_bytes() == b"a.smtp.clientSecret=s\n" and two.read_bytes() == b"later"
    assert _mode(one) == _mode(two) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_stale_temporary_files_of_the_same_file_only(tmp_path: Path) -> None:
    family = tmp_path / "settings.toml"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    dead = tmp_path / f".settings.toml.outmail-{gone}-abcdef.tmp"
    live = tmp_path / f".settings.toml.outmail-{os.getpid()}-123456.tmp"
    other = tmp_path / f".other.toml.outmail-{gone}-abcdef.tmp"
    for p in (dead, live, other):
        p.write_bytes(b"partial")
    assert files.clean_stale_temps(family) == [dead]
    assert files.clean_stale_temps(family, now=time.time() + 2 * files.STALE_SECONDS) == [live]
    assert other.exists()
    assert files.clean_stale_temps(tmp_path / "missing-folder" / "x") == []

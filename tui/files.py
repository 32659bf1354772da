"""Writing files: the one place outmail creates or replaces a file (no Textual, no settings knowledge).

Every write goes the same way (`atomic_write`): a temporary file `.<name>.outmail-<pid>-<random>.tmp` in the target's
own folder, created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (no other user can open it, whatever the umask, and
it is never a symlink someone planted), written, given its final mode and owner, fsync'd, then renamed onto the target
(`os.replace`) or, for a file that must not replace another, hard-linked into place; then the folder is fsync'd. A
reader, or a kill -9 at any moment, sees the old file or the new one, whole, never a partial one and never the new
content under a wider mode than it ends with (tests/settings/test_store_kill.py, tests/logicaldoc/test_write_safety.py).

Mode and owner: the caller's `mode`; else 0600 when the content holds a secret (`private=True`: the caller knows,
e.g. `tui.settings.store.holds_secret`); else those of the file being replaced (its owner when running as root, its
group where this user may); else 0644 for a new file.

Names: `stamped_names` gives `<prefix>YYYYmmdd-HHMMSS<suffix>`, then `<prefix>YYYYmmdd-HHMMSS-2<suffix>`, `-3`, ...
for files written in the same second (local time); `write_new` writes under the first of them that does not exist
(never over another file), `write_backup` is `write_new` for `<name>.bak-YYYYmmdd-HHMMSS` next to a file, with that
file's mode and owner. Temporary files a killed write left behind are removed by the next write of the same file
(`clean_stale_temps`).

Errors: OSError (PermissionError, FileNotFoundError for a missing folder, ...) as the system gives it; the temporary
file is removed first. `exclusive` writes raise FileExistsError when the target exists.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

PRIVATE_MODE = 0o600  # a file that holds a secret, a report, a script, a screenshot: readable by its owner only
NEW_FILE_MODE = 0o644  # a new file without a secret (umask-independent)
TEMP_MARK = ".outmail-"  # .<name>.outmail-<pid>-<random>.tmp: the temporary files outmail writes next to <name>
STALE_SECONDS = 3600  # a temporary file this old is stale whoever wrote it (a write takes milliseconds)
STAMP_FORMAT = "%Y%m%d-%H%M%S"
_TEMP_RE = re.compile(r"^\.(?P<family>.+)\.outmail-(?P<pid>\d+)-[0-9a-f]+\.tmp$")
_LEGACY_TEMP_RE = re.compile(r"^\.(?P<family>.+)\.[a-z0-9_]{8}\.tmp$")  # tempfile.mkstemp's (earlier versions)


# ------------------------------------------------------------------------------------------------ temporary files

def temp_path(family: Path) -> Path:
    """A new temporary file name next to `family` (the file being written), naming this process:
    `.<name>.outmail-<pid>-<12 hex digits>.tmp`."""
    family = Path(family)
    return family.with_name(f".{family.name}{TEMP_MARK}{os.getpid()}-{os.urandom(6).hex()}.tmp")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:
        return False
    return True


def clean_stale_temps(family: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files a killed write left next to `family`: outmail's own names only
    (`.<name>.outmail-<pid>-<random>.tmp`, and the `.<name>.XXXXXXXX.tmp` of earlier versions), regular files owned
    by this user (any, for root), whose process is gone or which are older than STALE_SECONDS (`now`: seconds since
    the epoch, default the clock). Returns what was removed; never raises (an unreadable folder removes nothing)."""
    family = Path(family)
    folder = family.parent if str(family.parent) else Path(".")
    now = time.time() if now is None else now
    euid = os.geteuid()
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TEMP_RE.match(name)
        legacy = None if m else _LEGACY_TEMP_RE.match(name)
        match = m or legacy
        if match is None or match.group("family") != family.name:
            continue
        candidate = folder / name
        try:
            st = candidate.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (euid != 0 and st.st_uid != euid):
            continue
        old = now - st.st_mtime > STALE_SECONDS
        if not old and (m is None or _pid_alive(int(m.group("pid")))):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


# ------------------------------------------------------------------------------------------------------- writing

def _fsync_folder(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _take_owner(fd: int, like: os.stat_result) -> None:
    """Give the new file the owner and group of `like`: all of it as root, the group where this user may."""
    if os.geteuid() == 0:
        os.fchown(fd, like.st_uid, like.st_gid)
    elif like.st_gid != os.getegid():
        try:
            os.fchown(fd, -1, like.st_gid)
        except OSError:
            pass


def atomic_write(path: str | os.PathLike[str], data: str | bytes, mode: int | None = None, *,
                 private: bool = False, like: os.stat_result | None = None, exclusive: bool = False,
                 family: str | os.PathLike[str] | None = None) -> None:
    """Write `data` (str as UTF-8, or bytes, exactly) to `path` atomically and privately (see the module docstring).

    `mode`: the file's permission bits; default PRIVATE_MODE when `private` (the content holds a secret), else those
    of `like` (a stat result: the original, for a backup), else those of the file being replaced, else NEW_FILE_MODE.
    The owner is that of `like` or of the replaced file (all of it as root, the group where allowed).
    `exclusive`: `path` must not exist (FileExistsError, nothing written): the file is linked into place, never over
    another. `family`: the file the temporary name is derived from (default `path`); stale temporary files of that
    family left by a killed write are removed first (`clean_stale_temps`).
    Raises OSError; nothing is left behind then (the target is untouched).
    """
    path = Path(path)
    _write_placed(iter([path]) if exclusive else None, path, data, mode, private=private, like=like,
                  family=family)


def _write_placed(candidates: Iterator[Path] | None, path: Path, data: str | bytes, mode: int | None, *,
                  private: bool = False, like: os.stat_result | None = None,
                  family: str | os.PathLike[str] | None = None) -> Path:
    """Write `data` once to a private temporary file (fsynced, its mode and owner set), then put it in place: over
    `path` (`candidates` None), or linked under the first of `candidates` that does not exist (FileExistsError when
    they run out). Returns where it went; nothing is left behind on an error."""
    folder = path.parent if str(path.parent) else Path(".")
    family = Path(family) if family is not None else path
    clean_stale_temps(family)
    if like is None:
        try:
            like = path.stat()
        except FileNotFoundError:
            like = None
    if mode is None:
        mode = PRIVATE_MODE if private else stat.S_IMODE(like.st_mode) if like is not None else NEW_FILE_MODE
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = temp_path(family)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            if like is not None:
                _take_owner(fd, like)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        if candidates is None:
            os.replace(tmp, path)
            placed = path
        else:
            placed = _link_first_free(tmp, candidates)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)
    return placed


def _link_first_free(tmp: Path, candidates: Iterator[Path]) -> Path:
    """Link the written temporary file under the first candidate that does not exist (never over another file), then
    drop the temporary name. FileExistsError when every candidate exists."""
    for candidate in candidates:
        try:
            os.link(tmp, candidate)  # fails when the name exists: never replaces another file
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if os.path.lexists(candidate):
                continue
            os.rename(tmp, candidate)
            return candidate
        os.unlink(tmp)
        return candidate
    raise FileExistsError(errno.EEXIST, "exists", str(tmp))


# ------------------------------------------------------------------------------------------- stamped, new files

def stamp(now: float | None = None) -> str:
    """`YYYYmmdd-HHMMSS` in local time (`now`: seconds since the epoch, default the clock)."""
    return time.strftime(STAMP_FORMAT, time.localtime(now))


def stamped_names(folder: str | os.PathLike[str], prefix: str, suffix: str = "", now: float | None = None
                  ) -> Iterator[Path]:
    """`<folder>/<prefix>YYYYmmdd-HHMMSS<suffix>`, then the same with `-2`, `-3`, ... after the stamp (endless)."""
    folder = Path(folder)
    at = stamp(now)
    yield folder / f"{prefix}{at}{suffix}"
    n = 2
    while True:
        yield folder / f"{prefix}{at}-{n}{suffix}"
        n += 1


def write_new(folder: str | os.PathLike[str], prefix: str, suffix: str, data: str | bytes, *,
              mode: int | None = PRIVATE_MODE, like: os.stat_result | None = None,
              family: str | os.PathLike[str] | None = None, now: float | None = None) -> Path:
    """Write `data` under the first free stamped name (`stamped_names`) in `folder`, atomically and never over
    another file; returns its path. `mode` defaults to PRIVATE_MODE (pass None with `like` to take the mode and owner
    of `like`). `family`: see `atomic_write` (default: the new file's own name). Raises OSError (a missing or
    unwritable folder)."""
    names = stamped_names(folder, prefix, suffix, now)
    first = next(names)
    # Written once, then linked under the first free name (a name taken in the same second costs a link, not a
    # second write and fsync of the whole file).
    return _write_placed(itertools.chain([first], names), first, data, mode, like=like, family=family or first)


def write_backup(path: str | os.PathLike[str], data: bytes, like: os.stat_result, now: float | None = None) -> Path:
    """Write `data` (what `path` held) as `<name>.bak-YYYYmmdd-HHMMSS` next to `path`, the way the file itself is
    written: a private temporary file, `like`'s (the original's) mode and owner, fsync, then linked into place (never
    over another file). A backup is therefore never readable by anyone the original is not readable by, and never
    partial. Returns the backup's path; raises OSError."""
    path = Path(path)
    return write_new(path.parent, f"{path.name}.bak-", "", data, mode=None, like=like, family=path, now=now)


__all__ = [
    "NEW_FILE_MODE", "PRIVATE_MODE", "STALE_SECONDS", "TEMP_MARK", "atomic_write", "clean_stale_temps", "stamp",
    "stamped_names", "temp_path", "write_backup", "write_new",
]

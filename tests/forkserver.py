"""A fork server for the kill -9 tests: one Python process imports the code under test once, then forks a child per
kill that runs a real write loop until it is killed with a real SIGKILL.

Why: a new Python per kill pays the interpreter's start and the imports every time (some 50-100 ms, against about
1 ms for a settings save and 20 ms for a large export on this machine), and the kill moment was drawn over 0-0.2 s,
dozens of cycles. A forked child is in its loop at once, and the kill moment is drawn over a few cycles
(`ForkServer.cycle_seconds`, seconds, measured by the server under the load of the moment): still anywhere in a
cycle.

The child's code is Python source run once in the server, with `ARGS` (the extra arguments, a tuple of str) in its
namespace; it must define `cycle(path: pathlib.Path) -> None`, one complete write of `path`. The server then runs
`cycle` `WARM_UP_CYCLES` times on a copy of the target in a scratch folder (what a first call imports or caches is
then in every child too; the real folder sees only the children's writes) and reports the median time of one cycle.
Each `fork()` forks a child that calls `cycle(target)` in a loop; `kill()` has the server send it SIGKILL and reap
it, and returns its exit code as `subprocess.Popen.returncode` gives it (-9 when the signal ended it; 1 when the loop
raised first, the traceback on stderr). The server is single-threaded, so forking it is safe; a child whose server
died stops after its current cycle.

    with ForkServer(CODE, path, warm_up_folder) as server:
        server.fork()
        time.sleep(rng.uniform(0.0, 8 * server.cycle_seconds))
        assert server.kill() == -signal.SIGKILL

Protocol (lines on the server's stdin and stdout): the server prints `cycle <seconds>` once warmed up; `fork` -> the
child prints `ready <pid>` just before its loop; `kill` -> the server prints `exit <code>`; EOF ends the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[1]
WARM_UP_CYCLES = 5


class ForkServer:
    """The test's side: starts the server (`sys.executable` running this file, PYTHONPATH the repository), forks and
    kills children. Errors: AssertionError when the server or a child does not answer as the protocol says."""

    def __init__(self, code: str, target: Path, warm_up_folder: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, code, str(target), str(warm_up_folder), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
        word, seconds = self._read().split()
        assert word == "cycle", f"the fork server did not start: {word} {seconds}"
        self.cycle_seconds = float(seconds)  # the median time of one `cycle` on the scratch copy
        self.child: int | None = None

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        assert line, f"the fork server ended (exit code {self.proc.poll()})"
        return line.strip()

    def _send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def fork(self) -> int:
        """Fork a child; returns its pid once it is about to enter its write loop."""
        assert self.child is None, "kill the running child first"
        self._send("fork")
        word, pid = self._read().split()
        assert word == "ready", f"the child did not start its loop: {word} {pid}"
        self.child = int(pid)
        return self.child

    def kill(self) -> int:
        """SIGKILL the running child (sent by the server, its parent, which then reaps it); returns its exit code
        (negative: the signal that ended it)."""
        assert self.child is not None, "no child to kill"
        self._send("kill")
        word, code = self._read().split()
        assert word == "exit", f"unexpected answer to kill: {word} {code}"
        self.child = None
        return int(code)

    def close(self) -> None:
        """End the server (EOF on its stdin: it kills and reaps a running child first) and wait for it. A child whose
        server is gone stops by itself after its current cycle."""
        self.child = None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.close()
        except BrokenPipeError:  # the server is gone already
            pass
        self.proc.wait(timeout=30)
        self.proc.stdout.close()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _serve(code: str, target: Path, warm_up_folder: Path, args: tuple[str, ...]) -> None:
    """The server's side: run `code`, warm `cycle` up on a scratch copy of `target`, then answer fork and kill."""
    import shutil
    import statistics
    import time
    import traceback

    namespace: dict[str, object] = {"__name__": "__forkserver_child__", "ARGS": args}
    exec(compile(code, "<fork server code>", "exec"), namespace)
    cycle = namespace["cycle"]
    assert callable(cycle), "the code must define cycle(path)"
    scratch = warm_up_folder / target.name
    shutil.copy2(target, scratch)
    times = []
    for _ in range(WARM_UP_CYCLES):
        start = time.perf_counter()
        cycle(scratch)
        times.append(time.perf_counter() - start)
    out = sys.stdout.buffer
    out.write(b"cycle %.6f\n" % statistics.median(times))
    out.flush()
    child = None
    for line in sys.stdin.buffer:
        command = line.strip()
        if command == b"fork" and child is None:
            server = os.getpid()
            child = os.fork()
            if child == 0:  # the child: one write, the readiness line, then the loop until the kill
                try:
                    os.write(1, b"ready %d\n" % os.getpid())
                    while os.getppid() == server:  # an orphan (the server died) stops
                        cycle(target)
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(1)
        elif command == b"kill" and child is not None:
            os.kill(child, signal.SIGKILL)
            _, status = os.waitpid(child, 0)
            child = None
            out.write(b"exit %d\n" % os.waitstatus_to_exitcode(status))
            out.flush()
        else:
            out.write(b"error %s\n" % command)
            out.flush()
    if child is not None:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


if __name__ == "__main__":
    _serve(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), tuple(sys.argv[4:]))

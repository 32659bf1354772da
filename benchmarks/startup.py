"""Startup of the outmail console against a minimal Textual app, side by side, whole process, under a pty.

For each run a fresh process is started on an 80x24 pseudo-terminal; times are from just before the process starts
to the moment a known text reaches the terminal:

- first paint: outmail's first frame (the form as text: the "Protocol" label), the minimal app's Input value;
- editable and validated (outmail): both the focused Protocol field's help ("How LogicalDOC talks...") and the
  validation's count in the status line ("no problems"; "… checking" before). MainScreen.mount_form shows that help
  only once the whole editable form is mounted and Protocol has the focus (every field can take a key: keys typed
  earlier are held and played on it, tui/console/keys.py), and the status line says "no problems" only after
  validate() ran (tests/console/test_launch.py checks both);
- keys (outmail): the footer's keys (its last, the command palette's "^p palette"), drawn in the frame after the
  editable form (KeysFooter.release).

The app is then quit with ctrl+q and its peak RSS read from os.wait4. Runs alternate between the two apps (one
warm-up each, not counted, which also writes the .pyc files as an installed package has them: PYTHONDONTWRITEBYTECODE
is dropped from the children's environment) so load on the machine hits both alike; the table gives medians and the
medians of the per-pair ratios, each against the minimal app's first paint of the same pair.

    python benchmarks/startup.py [--runs 15] [--check]

Goal: first paint ratio <= 1.25, editable form ratio <= 1.5 and outmail's peak RSS <= 45 MB. --check exits 1 when
the goal is missed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MINIMAL_APP = '''
from textual.app import App
from textual.widgets import Input


class Minimal(App):
    def compose(self):
        yield Input(value="minimal-app-ready")


Minimal().run()
'''

SETTINGS = '''\
# A complete Microsoft 365 configuration, as an admin would have it.
[tenants.default.smtp]
protocol = "smtpmicrosoft365"
host = "smtp.office365.com"
port = 587
connectionSecurity = 1
authEncrypted = true
username = "noreply@contoso.com"
password = ""
clientId = "11111111-2222-3333-4444-555555555555"
clientTenant = "contoso.onmicrosoft.com"
clientSecret = "abc~not-a-real-secret"
sender = "noreply@contoso.com"
userasfrom = false
'''

GOAL_RATIO = 1.25
GOAL_EDITABLE_RATIO = 1.5
GOAL_RSS_MB = 45.0


def run_once(argv: list[str], markers: tuple[bytes, ...], env: dict[str, str],
             timeout: float = 30.0) -> tuple[list[float], float]:
    """(seconds until each marker appeared, peak RSS in MB) of one fresh process on an 80x24 pty."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: the pty is its terminal
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.close(master)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(slave)
    output = bytearray()
    seen: list[float] = []
    deadline = start + timeout
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            while len(seen) < len(markers) and markers[len(seen)] in output:
                seen.append(time.perf_counter() - start)
            if len(seen) == len(markers):
                os.write(master, b"\x11")  # ctrl+q
                break
        if len(seen) < len(markers):
            os.kill(pid, signal.SIGKILL)
        # Drain the terminal until the child exits, so its last writes do not block it.
        done = 0
        while not done:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 65536)
                except OSError:
                    pass
            done, _status, usage = os.wait4(pid, os.WNOHANG)
            if not done and time.perf_counter() > deadline + 5:
                os.kill(pid, signal.SIGKILL)
    finally:
        os.close(master)
    rss_mb = usage.ru_maxrss / 1024
    if len(seen) < len(markers):
        raise RuntimeError(f"{argv} never painted {markers[len(seen)]!r}; output tail: {bytes(output[-400:])!r}")
    return seen, rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per app (at least 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the goal is missed")
    args = parser.parse_args()
    runs = max(5, args.runs)

    folder = Path(tempfile.mkdtemp(prefix="outmail-bench-"))
    minimal = folder / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    settings = folder / "settings.toml"
    settings.write_text(SETTINGS)
    outmail = Path(sys.executable).parent / "outmail"
    outmail_argv = [str(outmail), "--config", str(settings)] if outmail.exists() else \
        [sys.executable, "-m", "tui", "--config", str(settings)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTMAIL_", "TEXTUAL_"))}
    env.update(TERM="xterm-256color", COLUMNS="80", LINES="24", PYTHONPATH=str(ROOT))
    env.pop("NO_COLOR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once by the warm-up, as an installed package is

    # outmail: the first frame (the form as text, "Protocol" label), then the editable form with Protocol
    # focused (its help line) and validation done (the problem count in the status line), then the footer's keys
    # (its last one, the command palette's).
    apps = {
        "minimal": ([sys.executable, str(minimal)], (b"minimal-app-ready",)),
        "outmail": (outmail_argv, (b"Protocol", b"How LogicalDOC talks", b"no problems", b"palette")),
    }
    results: dict[str, list[tuple[list[float], float]]] = {name: [] for name in apps}
    for name, (argv, markers) in apps.items():  # warm-up: .pyc caches, page cache
        run_once(argv, markers, env)
    for _ in range(runs):
        for name, (argv, markers) in apps.items():
            results[name].append(run_once(argv, markers, env))

    print(f"startup, 80x24 pty, {runs} interleaved runs each (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print(f"{'run':>4} {'minimal':>8} {'outmail':>8} {'ratio':>6} {'editable':>9} {'checked':>8} {'ratio':>6} "
          f"{'keys':>5} {'minimal':>8} {'outmail':>8}")
    print(f"{'':>4} {'paint ms':>8} {'paint ms':>8} {'':>6} {'ms':>9} {'ms':>8} {'':>6} {'ms':>5} {'MB':>8} {'MB':>8}")
    ratios, editable_ratios = [], []
    for i, ((m_t, m_rss), (o_t, o_rss)) in enumerate(zip(results["minimal"], results["outmail"]), start=1):
        ratios.append(o_t[0] / m_t[0])
        editable_ratios.append(max(o_t[1], o_t[2]) / m_t[0])  # editable and validated: both texts are there
        print(f"{i:>4} {m_t[0] * 1000:>8.0f} {o_t[0] * 1000:>8.0f} {ratios[-1]:>6.2f} {o_t[1] * 1000:>9.0f} "
              f"{o_t[2] * 1000:>8.0f} {editable_ratios[-1]:>6.2f} {o_t[3] * 1000:>5.0f} {m_rss:>8.1f} {o_rss:>8.1f}")

    def med(name: str, index: int) -> float:
        return statistics.median(t[index] for t, _ in results[name]) * 1000

    rss = {name: statistics.median(r for _, r in rs) for name, rs in results.items()}
    peak = max(r for _, r in results["outmail"])
    ratio = statistics.median(ratios)
    editable_ratio = statistics.median(editable_ratios)
    print(f"{'med':>4} {med('minimal', 0):>8.0f} {med('outmail', 0):>8.0f} {ratio:>6.2f} {med('outmail', 1):>9.0f} "
          f"{med('outmail', 2):>8.0f} {editable_ratio:>6.2f} {med('outmail', 3):>5.0f} {rss['minimal']:>8.1f} "
          f"{rss['outmail']:>8.1f}")
    ok = ratio <= GOAL_RATIO and editable_ratio <= GOAL_EDITABLE_RATIO and peak <= GOAL_RSS_MB
    print(f"first paint: median ratio {ratio:.2f} (goal <= {GOAL_RATIO}); editable and validated form: median ratio "
          f"{editable_ratio:.2f} to the minimal app's first paint (goal <= {GOAL_EDITABLE_RATIO}); outmail peak RSS "
          f"{peak:.1f} MB (max of runs; goal <= {GOAL_RSS_MB:.0f} MB): {'met' if ok else 'MISSED'}")
    return 1 if (args.check and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())

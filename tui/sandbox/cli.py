"""`outmail sandbox`: run the sandbox in the foreground, print one JSON line, stop on ctrl+c or SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading

from tui.sandbox.faults import FAULTS, list_faults_text

EXIT_OK = 0
EXIT_UNUSABLE = 2


def run_sandbox(args) -> int:
    """args: `fault`, `dir`, `list_faults` (from tui/cli.py)."""
    if getattr(args, "list_faults", False):
        print(list_faults_text())
        return EXIT_OK
    fault = getattr(args, "fault", None) or None
    if fault is not None and fault not in FAULTS:
        print(f"outmail sandbox: unknown fault {fault!r}. Known faults: {', '.join(FAULTS)}.\n"
              "See `outmail sandbox --list-faults`.", file=sys.stderr)
        return EXIT_UNUSABLE

    from tui.sandbox import Sandbox

    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sandbox = Sandbox(directory=getattr(args, "dir", None), fault=fault)
    try:
        try:
            sandbox.start()
        except OSError as exc:
            print(f"outmail sandbox: cannot start: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE
        info = sandbox.info
        print(json.dumps(dict(info.as_json(), fault=fault)), flush=True)
        print(f"outmail sandbox: token service {info.authority_host}, SMTP {info.smtp_host}:{info.smtp_port}"
              f"{', fault ' + fault if fault else ''}. Settings: {info.settings_path}. Stop with ctrl+c.",
              file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("outmail sandbox: stopped.", file=sys.stderr, flush=True)
    return EXIT_OK

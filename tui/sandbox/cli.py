"""`outmail sandbox`: run the sandbox in the foreground, print one JSON line, stop on ctrl+c or SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading

from tui.sandbox.faults import FAULTS, list_faults_text

from tui.exitcodes import EXIT_OK, EXIT_UNUSABLE


def describe_event(service: str, event: dict) -> str:
    """One stderr line per finished event: what the client sent and what the sandbox answered (no secrets)."""
    if service == "token":
        codes = ",".join(f"AADSTS{c}" for c in event.get("error_codes") or [])
        status = event.get("status")
        return (f"token  {event.get('method')} {event.get('path')} -> "
                f"{'(no answer: token-hang)' if status is None else status}{' ' + codes if codes else ''}")
    reply = event.get("reply")
    first = "(nothing)" if reply is None else reply.split("\n")[0]
    if reply and "\n" in reply:
        first += " ..."
    detail = f"  [{event['detail']}]" if event.get("detail") else ""
    return f"smtp#{event.get('connection')} {'TLS' if event.get('tls') else '   '} {event.get('command')} -> {first}{detail}"


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
    def log(service: str, event: dict) -> None:
        try:
            print("outmail sandbox: " + describe_event(service, event), file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass

    sandbox = Sandbox(directory=getattr(args, "dir", None), fault=fault, on_event=log)
    try:
        try:
            sandbox.start()
        except OSError as exc:
            print(f"outmail sandbox: cannot start: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE
        info = sandbox.info
        print(json.dumps(dict(info.as_json(), fault=fault)), flush=True)
        print(f"outmail sandbox: token service {info.authority_host}, SMTP {info.smtp_host}:{info.smtp_port}"
              f"{', fault ' + fault if fault else ''}.\n  Try: outmail check --config {info.settings_path}\n"
              "  Stop with ctrl+c.",
              file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("outmail sandbox: stopped.", file=sys.stderr, flush=True)
    return EXIT_OK

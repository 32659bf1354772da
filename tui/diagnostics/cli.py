"""`outmail check [--config PATH] [--tenant NAME] [--json] [--rcpt ADDR] [--fresh-token]`: the engine without the
console.

Human-readable by default (one line per step, the detail and hint under a failure or warning); `--json` prints one
document {"ok": bool, "model": "classic"|"rbac"|null, "steps": [{"id", "title", "status", "duration_ms", "detail",
"hint"}]}. The `envelope` step sends MAIL FROM and RCPT TO (`--rcpt`, default the Sender Email), then RSET: nothing
is sent.
Exit 0 when no step failed (warnings allowed), 1 when a step failed, 2 when the settings file cannot be used.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def run_check(args: Any) -> int:
    from tui.cli import resolve_config_path
    from tui.settings.store import SettingsFileError, load_settings

    path = resolve_config_path(getattr(args, "config", None))
    try:
        settings = load_settings(path, tenant=getattr(args, "tenant", None))
    except SettingsFileError as exc:
        print(f"outmail check: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        print(f"outmail check: {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE

    rcpt = (getattr(args, "rcpt", "") or "").strip()
    if rcpt:
        from tui.addresses import AddressError, check_address

        try:
            check_address(rcpt)
        except AddressError as exc:
            print(f"outmail check: --rcpt {rcpt}: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE

    from tui.diagnostics.engine import diagnose

    try:
        report = asyncio.run(diagnose(settings, rcpt=rcpt, fresh_token=bool(getattr(args, "fresh_token", False))))
    except KeyboardInterrupt:
        print("outmail check: interrupted", file=sys.stderr)
        return 130
    return print_report(report, as_json=getattr(args, "json", False))


def print_report(report: Any, as_json: bool) -> int:
    """Print a report (one JSON document, or one line per step) and return the exit code: 0 ok, 1 a step failed."""
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.to_text())
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_FAILED

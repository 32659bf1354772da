"""`outmail guide [--config PATH] [--tenant NAME] [--model classic|rbac] [--json] [--no-run] [--verify FILE]
[--from ADDR ...] [--script setup|verify] [--output PATH]`: the setup guide for a terminal or a ticket.

It first runs the diagnostics exactly as `outmail check` does (nothing is sent), unless `--no-run`, so that each
step's state comes from fresh evidence; `--verify FILE` ('-': standard input) adds the verification script's JSON.
Text by default; `--json` prints one document (`Guide.to_json()`, the scripts included); `--script setup` prints the
setup PowerShell for the steps not proven, `--script verify` the read-only verification PowerShell. `--output PATH`
writes what would be printed to PATH instead, atomically and private (0600).

Exit codes: 0 no step failed (and for --script: the script was made), 1 a step failed, 2 the settings, the arguments
or the verification paste cannot be used (stderr says why; with --json stdout holds {"ok": false, "error": {...}}).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from tui.diagnostics.unusable import Unusable

PROG = "outmail guide"
from tui.exitcodes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK


def run_guide(args: Any, invocation: Any) -> int:
    """`invocation` (tui.invocation.Invocation): the tenant's settings, loaded by the top-level CLI, or why the file
    cannot be used (exit 2)."""
    from tui.diagnostics.cli import report_unusable

    fmt = "json" if getattr(args, "json", False) else "text"

    def unusable(message: str) -> int:
        return report_unusable(Unusable.arguments(message), fmt, PROG)

    script = getattr(args, "script", None)
    if script and fmt == "json":
        return unusable("--script prints the PowerShell itself: leave out --json")

    froms: list[str] = []
    for address in getattr(args, "from_addresses", None) or []:
        from tui.addresses import AddressError, check_address

        try:
            check_address(address.strip())
        except AddressError as exc:
            return unusable(f"--from {address}: {exc}")
        froms.append(address.strip())

    if invocation.error is not None:
        return report_unusable(invocation.error, fmt, PROG)
    settings = invocation.settings

    from tui.guide.model import build_guide, is_basic_auth_exchange
    from tui.guide.verify import VerificationError, load_verification

    verification = None
    if getattr(args, "verify", None):
        try:
            verification = load_verification(args.verify)
        except VerificationError as exc:
            return unusable(f"--verify {args.verify}: {exc}")

    last_run = None
    if not getattr(args, "no_run", False) and (settings.is_m365 or is_basic_auth_exchange(settings)):
        from tui.diagnostics.engine import diagnose
        from tui.guide.evidence import LastRun

        if fmt == "text" and not getattr(args, "output", None) and not script:
            print(f"{PROG}: running the diagnostics first (nothing is sent; --no-run skips them) ...",
                  file=sys.stderr, flush=True)
        try:
            report = asyncio.run(diagnose(settings, envelope=True))
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        last_run = LastRun(report, time.time())

    try:
        guide = build_guide(settings, last_run=last_run, verification=verification,
                            model=getattr(args, "model", None), from_addresses=tuple(froms))
    except VerificationError as exc:
        return unusable(f"--verify {args.verify}: {exc}")

    if script and not guide.applicable:
        return unusable(f"--script: protocol {settings.protocol} to {settings.host} has no Microsoft setup steps")
    if script == "setup":
        text = guide.setup_script()
    elif script == "verify":
        text = guide.verify_script()
    elif fmt == "json":
        text = json.dumps(guide.to_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = guide.to_text()

    output = getattr(args, "output", None)
    if output:
        from tui.files import PRIVATE_MODE, atomic_write

        target = Path(output).expanduser()
        try:
            atomic_write(target, text, mode=PRIVATE_MODE)
        except OSError as exc:
            return unusable(f"--output {output}: {exc.strerror or exc}")
        print(f"{PROG}: wrote {target} (0600)", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if script:
        return EXIT_OK
    return EXIT_OK if guide.ok else EXIT_FAILED

"""`outmail check --until-pass [--every 5m] [--for 2h]`: check's own run, repeated until it passes (until_pass.py).

Text: one line per attempt as it ends ("attempt 2, 5 min after the change: FAILED at auth: 535 5.7.3 ...; Exchange
may not have applied the change yet; next run in 5 min"), then the last run's report as `check` prints it and one
"Until pass: ..." line. JSON: the progress lines go to stderr and stdout holds one document, the last run's
`check --json` document with "until_pass": UntilPassResult.to_json(). Exit codes as check: 0 passed, 1 a step still
fails (stopped at a failure waiting does not fix, or at the limit), 2 the settings or arguments cannot be used.
One tenant only: `--all-tenants` is refused, and so are the monitoring formats (nagios, prometheus), which are one
state per run. The change is taken to have been made when the command starts.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tui.diagnostics.unusable import Unusable
from tui.exitcodes import EXIT_FAILED, EXIT_INTERRUPTED

PROG = "outmail check"


class _Crashed(Exception):
    pass


def run_check_until_pass(args: Any, fmt: str, invocation: Any) -> int:
    """check's branch for --until-pass (also reached with --every or --for alone, which is refused); `invocation`
    (tui.invocation.Invocation): the tenant loaded by the top-level CLI, or why the file cannot be used."""
    from tui.diagnostics.cli import report_unusable
    from tui.guide.until_pass import DEFAULT_EVERY, DEFAULT_LIMIT, until_pass

    if not getattr(args, "until_pass", False):
        return report_unusable(Unusable.arguments("--every and --for go with --until-pass"), fmt)
    if getattr(args, "all_tenants", False):
        return report_unusable(Unusable.arguments("--until-pass checks one tenant: leave out --all-tenants (or use "
                                                  "--tenant NAME)"), fmt)
    if fmt not in ("text", "json"):
        return report_unusable(Unusable.arguments(f"--until-pass prints text or JSON, not --format {fmt}"), fmt)
    every = getattr(args, "every", None) or DEFAULT_EVERY
    limit = getattr(args, "until_for", None) or DEFAULT_LIMIT

    if invocation.error is not None:
        return report_unusable(invocation.error, fmt)
    settings = invocation.settings

    from tui.diagnostics.monitor import check_tenant

    rcpt = (getattr(args, "rcpt", "") or "").strip()
    fresh = [bool(getattr(args, "fresh_token", False))]
    deadline = getattr(args, "deadline", None)
    progress = sys.stdout if fmt == "text" else sys.stderr

    async def run_once() -> Any:
        result = await check_tenant(settings.tenant, settings, rcpt=rcpt, fresh_token=fresh[0], deadline=deadline)
        fresh[0] = False  # a token refused at AUTH is dropped anyway; the next runs ask Entra ID again then
        if result.report is None:
            raise _Crashed(result.error.text() if result.error is not None else "no result")
        return result.report

    def on_status(status: Any) -> None:
        if status.phase == "waiting":  # the last attempt shows in the final report instead
            print(status.text(), file=progress, flush=True)

    try:
        result = asyncio.run(until_pass(run_once, every=every, limit=limit, on_status=on_status))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Crashed as exc:
        print(f"{PROG}: outmail failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if fmt == "json":
        doc = result.report.to_json()
        doc["until_pass"] = result.to_json()
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        from tui.diagnostics.text import report_text

        sys.stdout.write(report_text(result.report))
        sys.stdout.write(result.text() + "\n")
    sys.stdout.flush()
    return result.exit_code

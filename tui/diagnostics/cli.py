"""`outmail check [--config PATH] [--tenant NAME | --all-tenants] [--json | --format FORMAT] [--rcpt ADDR]
[--fresh-token] [--jobs N] [--deadline SECONDS] [--output PATH]`: the engine without the console.

Human-readable by default (one line per step, the detail and hint under a failure or warning); `--json` (the same as
`--format json`) prints one document {"ok": bool, "model": "classic"|"rbac"|null, "steps": [{"id", "title",
"status", "duration_ms", "detail", "hint"}]}. The `envelope` step sends MAIL FROM and RCPT TO (`--rcpt`, default the
Sender Email), then RSET: nothing is sent, in every format.

Monitoring (`tui.diagnostics.monitor`): `--all-tenants` checks every `[tenants.<name>]` table, at most `--jobs` (4)
at a time: text is each tenant's report and a `Tenants: ...` line; JSON is {"ok", "tenants": [{"tenant", ...}]}.
`--format nagios` prints a monitoring plugin's output (`tui.diagnostics.nagios`), `--format prometheus` the text
exposition format (`tui.diagnostics.prometheus`), to stdout or, with `--output PATH`, into PATH atomically (a
private temporary file in the same folder, then renamed; a new file is 0644 so that node_exporter can read it, an
existing one keeps its mode). `--deadline SECONDS` bounds each tenant's whole run (every network step is already
bounded by `[console] timeout_seconds`).

`--until-pass [--every 5m] [--for 2h]` (one tenant, text or JSON) reruns the check until it passes, fails in a way
waiting for Exchange does not fix, or the time is over: `tui.guide.until_pass_cli`.

Exit codes: text, json, prometheus: 0 when no step failed (warnings allowed), 1 when a step failed, 2 when the
settings file or the arguments cannot be used (with --all-tenants the worst tenant's: 2 > 1 > 0). nagios: 0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN (settings or arguments unusable).

When the settings or the arguments cannot be used, stderr says why (`outmail check: path:line:column: message`) and
stdout still carries the format's document: JSON {"ok": false, "error": {"kind", "message", "path", "line",
"column"}} (`tui.diagnostics.unusable`), Nagios `OUTMAIL UNKNOWN - ...`; Prometheus writes
`outmail_settings_file_ok 0` for an unusable settings file and nothing for unusable arguments; text prints nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

from tui.diagnostics.unusable import Unusable, error_document

from tui.exitcodes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNUSABLE
FORMATS = ("text", "json", "nagios", "prometheus")
PROG = "outmail check"


def print_json(doc: Any) -> None:
    """One JSON document on stdout (UTF-8 as is, indented)."""
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def report_unusable(err: Unusable, fmt: str, prog: str = PROG, *, stderr: bool = True) -> int:
    """Say on stderr why the command cannot run (unless `stderr` is False: argparse said it), print the format's
    document on stdout (JSON {"ok": false, "error"}, Nagios UNKNOWN; nothing for text and prometheus) and return the
    exit code: 3 for nagios, else 2."""
    if stderr:
        print(f"{prog}: {err.text()}", file=sys.stderr)
    if fmt == "json":
        print_json(error_document(err))
    elif fmt == "nagios":
        from tui.diagnostics.nagios import EXIT_CODES, unknown

        sys.stdout.write(unknown(err))
        sys.stdout.flush()
        return EXIT_CODES["UNKNOWN"]
    return EXIT_UNUSABLE


def output_format(args: Any) -> str:
    """The format asked for: --format, else json with --json, else text."""
    return getattr(args, "format", None) or ("json" if getattr(args, "json", False) else "text")


def _argument_problem(args: Any, fmt: str) -> str | None:
    if getattr(args, "json", False) and getattr(args, "format", None) not in (None, "json"):
        return f"--json and --format {args.format} do not go together"
    if getattr(args, "all_tenants", False) and getattr(args, "tenant", None):
        return "--all-tenants and --tenant do not go together"
    if getattr(args, "output", None) and fmt != "prometheus":
        return "--output is for --format prometheus (the textfile collector's file)"
    return None


def run_check(args: Any, invocation: Any) -> int:
    """`outmail check`; `invocation` (tui.invocation.Invocation): the tenant (or with --all-tenants every tenant)
    loaded by the top-level CLI, or why the file cannot be used."""
    fmt = output_format(args)
    if fmt not in FORMATS:
        return report_unusable(Unusable.arguments(f"--format {fmt}: use one of {', '.join(FORMATS)}"), "text")
    problem = _argument_problem(args, fmt)
    if problem:
        return report_unusable(Unusable.arguments(problem), "json" if getattr(args, "json", False) else fmt)

    rcpt = (getattr(args, "rcpt", "") or "").strip()
    if rcpt:
        from tui.addresses import AddressError, check_address

        try:
            check_address(rcpt)
        except AddressError as exc:
            return report_unusable(Unusable.arguments(f"--rcpt {rcpt}: {exc}"), fmt)

    if getattr(args, "until_pass", False) or getattr(args, "every", None) or getattr(args, "until_for", None):
        from tui.guide.until_pass_cli import run_check_until_pass  # rerun until it passes (tui.guide.until_pass)

        return run_check_until_pass(args, fmt, invocation)

    from tui.diagnostics.monitor import DEFAULT_JOBS, run_monitor_loaded

    try:
        run = run_monitor_loaded(invocation, all_tenants=bool(getattr(args, "all_tenants", False)),
                          jobs=getattr(args, "jobs", None) or DEFAULT_JOBS, rcpt=rcpt,
                          fresh_token=bool(getattr(args, "fresh_token", False)),
                          deadline=getattr(args, "deadline", None))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED

    if run.error is not None and fmt != "prometheus":
        return report_unusable(run.error, fmt)
    if run.error is not None:
        print(f"{PROG}: {run.error.text()}", file=sys.stderr)
    for r in run.results:
        if r.error is not None:
            print(f"{PROG}: tenant {r.tenant}: {r.error.text()}", file=sys.stderr)

    if fmt == "json":
        print_json(run.to_json())
        return run.exit_code
    if fmt == "nagios":
        from tui.diagnostics import nagios

        sys.stdout.write(nagios.render(run))
        sys.stdout.flush()
        return nagios.exit_code(run)
    if fmt == "prometheus":
        from tui.diagnostics import prometheus

        text = prometheus.render(run)
        output = getattr(args, "output", None)
        if output:
            from tui.files import atomic_write

            try:
                atomic_write(Path(output).expanduser(), text)  # new file 0644, an existing one keeps its mode
            except OSError as exc:
                print(f"{PROG}: --output {output}: {exc.strerror or exc}", file=sys.stderr)
                return EXIT_UNUSABLE
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return run.exit_code
    sys.stdout.write(run.to_text())
    sys.stdout.flush()
    return run.exit_code


def print_report(report: Any, as_json: bool, render: Callable[[Any], str] | None = None) -> int:
    """Print a report (its to_json() document, or `render(report)`: by default `text.report_text`, one line per
    step) and return the exit code: 0 ok, 1 a step failed."""
    if as_json:
        print_json(report.to_json())
    else:
        from tui.diagnostics.text import report_text

        sys.stdout.write((render or report_text)(report))
        sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_FAILED


def arguments_error(message: str, fmt: str) -> int:
    """argparse's error for `check`/`send` (tui.cli.main has printed the usage and the error on stderr): the
    format's document on stdout and the exit code (3 for nagios, else 2)."""
    return report_unusable(Unusable.arguments(message), fmt, stderr=False)

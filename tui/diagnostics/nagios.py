"""`outmail check --format nagios`: a monitoring run as a Nagios / Icinga plugin's output and exit code.

The convention is the Monitoring Plugins Development Guidelines (https://nagios-plugins.org/doc/guidelines.html:
"Plugin Output", "Plugin Return Codes", "Performance data"), which Nagios, Icinga, Naemon, Shinken and Checkmk read:

    OUTMAIL CRITICAL - 4 tenants: 2 CRITICAL (wrong_secret: token, silent: ehlo), 1 WARNING (...), 1 OK | perfdata
    [CRITICAL] wrong_secret: FAILED at token in 0.21 s: Entra ID refused: invalid_client AADSTS7000215
        Cause: ...
        Fix: ...
    [OK] healthy: passed in 0.21 s; token expires in 59 min

- Line 1, the status line: `OUTMAIL <STATE> - <summary>`, then ` | ` and every performance datum. With one tenant
  the summary is that tenant's (`default: FAILED at auth in 0.22 s: 535 5.7.139 ...`).
- The lines after it (long output): per tenant, worst first, a `[STATE] tenant: summary` line (left out with one
  tenant: the status line says it), then each failed or warning step's first detail and its hint (Cause,
  Setup step, Fix, PowerShell), indented. Every line is redacted by the engine; no text line holds a `|` (the
  plugin output's separator before performance data): `|` becomes `¦`, so a PowerShell pipeline reads
  `Get-TransportConfig ¦ fl ...` here (`outmail check` prints it exactly).
- Performance data, space separated, `'label'=value[UOM];[warn];[crit];[min];[max]`: one datum per step that ran,
  its duration in seconds (`token=0.203s;;;0`; a skipped step has none, rather than the guidelines' `U`, which not
  every reader accepts), and `token_minutes_left=59;;;0` (whole minutes the access token was still valid, as the
  token service or msal's cache said). With --all-tenants each label is prefixed with the tenant:
  `healthy.token=0.203s;;;0`. A label holding a space, `'` or `=` is quoted (`'a b''c.token'`).
- Exit code (`EXIT_CODES`): 0 OK, 1 WARNING (a step warned, none failed), 2 CRITICAL (a step failed), 3 UNKNOWN
  (the settings or the arguments cannot be used, or outmail failed); a run's state is its worst tenant's,
  CRITICAL > UNKNOWN > WARNING > OK (`monitor.STATE_SEVERITY`).
"""

from __future__ import annotations

import re
from typing import Any

from tui.diagnostics.monitor import STATE_SEVERITY, MonitorRun, TenantResult, why_text
from tui.diagnostics.unusable import Unusable

SERVICE = "OUTMAIL"
EXIT_CODES: dict[str, int] = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9_.:/@+-]+")


def clean(text: str) -> str:
    """One line of plugin output: no line breaks, no `|` (the performance data separator)."""
    return " ".join(text.replace("|", "¦").split())


def _clean_indented(text: str) -> str:
    # keeps the leading indentation of a PowerShell line
    body = clean(text)
    indent = len(text) - len(text.lstrip(" "))
    return " " * indent + body


def perf_label(label: str) -> str:
    """A performance data label, quoted with `'` (and `'` doubled) when it holds more than [A-Za-z0-9_.:/@+-]."""
    label = clean(label)
    if _PLAIN_LABEL.fullmatch(label):
        return label
    return "'" + label.replace("'", "''") + "'"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"


def perfdata(result: TenantResult, prefix: str = "") -> list[str]:
    """The performance data of one tenant: `<prefix><step>=<seconds>s;;;0` for each step that ran, then
    `<prefix>token_minutes_left=<n>;;;0` when the run got a token."""
    report = result.report
    if report is None:
        return []
    out = [f"{perf_label(prefix + s.id)}={_seconds(s.duration_ms)}s;;;0"
           for s in report.steps if s.duration_ms is not None and s.status != "skipped"]
    if report.token is not None and report.token.expires_in is not None:
        out.append(f"{perf_label(prefix + 'token_minutes_left')}={max(report.token.expires_in, 0) // 60};;;0")
    return out


def _ordered(run: MonitorRun) -> list[TenantResult]:
    return sorted(run.results, key=lambda r: -STATE_SEVERITY[r.state])  # stable: file order within a state


def _status_summary(run: MonitorRun) -> str:
    if len(run.results) == 1 and not run.all_tenants:
        r = run.results[0]
        return f"{r.tenant}: {r.summary()}"
    counts: dict[str, list[TenantResult]] = {}
    for r in _ordered(run):
        counts.setdefault(r.state, []).append(r)
    parts = []
    for state in ("CRITICAL", "UNKNOWN", "WARNING", "OK"):
        group = counts.get(state, [])
        if not group:
            continue
        if state == "CRITICAL":
            names = ", ".join(f"{r.tenant}: {r.report.failed_step.id if r.report and r.report.failed_step else '?'}"
                              for r in group)
        else:
            names = ", ".join(r.tenant for r in group)
        parts.append(f"{len(group)} {state}" + (f" ({names})" if state != "OK" else ""))
    total = f"{len(run.results)} tenant{'s' if len(run.results) != 1 else ''}"
    return f"{total}: all passed" if run.state == "OK" else f"{total}: " + ", ".join(parts)


def _long_lines(result: TenantResult, with_header: bool) -> list[str]:
    lines = [f"[{result.state}] {result.tenant}: {result.summary()}"] if with_header else []
    report = result.report
    if report is None:
        return lines
    for s in report.steps:
        if s.status not in ("fail", "warn"):
            continue
        first = why_text(s)
        lines.append(f"  {s.id}: {'FAIL' if s.status == 'fail' else 'WARN'} {first}".rstrip())
        if s.hint is not None:
            lines.extend(f"    {line}" for line in s.hint.lines() if line != f"Reply: {first}")
    return lines


def render(run: MonitorRun) -> str:
    """The plugin output of a run (status line, long output), ending with a line break. A run whose file cannot be
    used renders as `unknown(run.error)`."""
    if run.error is not None:
        return unknown(run.error)
    prefix_tenants = run.all_tenants
    perf: list[str] = []
    for r in run.results:
        perf.extend(perfdata(r, f"{r.tenant}." if prefix_tenants else ""))
    status = f"{SERVICE} {run.state} - {clean(_status_summary(run))}"
    if perf:
        status += " | " + " ".join(perf)
    lines = [status]
    for r in _ordered(run):
        lines.extend(_clean_indented(line) for line in _long_lines(r, with_header=run.all_tenants))
    return "\n".join(lines) + "\n"


def unknown(error: Unusable) -> str:
    """`OUTMAIL UNKNOWN - settings: <path>:<line>:<column>: <message>` (or `arguments: ...`), one line."""
    return f"{SERVICE} UNKNOWN - {error.kind}: {clean(error.text())}\n"


def exit_code(run: Any) -> int:
    """0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: the run's state."""
    return EXIT_CODES[run.state]

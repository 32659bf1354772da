"""`outmail check --format prometheus`: a monitoring run in Prometheus' text exposition format (version 0.0.4), the
format node_exporter's textfile collector reads from `*.prom` files.

Format: https://prometheus.io/docs/instrumenting/exposition_formats/ ("Text-based format"): UTF-8, `\\n` line ends
(the last line too), `# HELP <name> <text>` (`\\` and line feed escaped) and `# TYPE <name> gauge` before each
family's samples, `name{label="value",...} number`, label values with `\\`, `"` and line feed escaped; no
timestamps on samples (the textfile collector refuses them). Metric and label names follow
https://prometheus.io/docs/practices/naming/ (base units: seconds; `_timestamp_seconds` for a Unix time).

Every sample carries `tenant` (the `[tenants.<name>]` table); step samples also carry `step` (the engine's step id:
settings, token, connect, ehlo, starttls, auth, envelope, quit). All gauges (`METRICS`):

    outmail_settings_file_ok                        1: the settings file was read; 0: it cannot be used (no tenant
                                                    samples then)
    outmail_check_ok{tenant}                        1: no step failed (warnings allowed); 0: a step failed, or the
                                                    tenant's settings cannot be used
    outmail_check_warnings{tenant}                  steps that ended `warn`
    outmail_check_duration_seconds{tenant}          the tenant's whole run
    outmail_check_timestamp_seconds{tenant}         Unix time the tenant's check ended (alert when it grows old)
    outmail_step_ok{tenant,step}                    1: the step passed (ok or warn); 0: it failed; skipped steps
                                                    have no sample
    outmail_step_duration_seconds{tenant,step}      each step that ran
    outmail_token_expiry_seconds{tenant}            seconds the access token was still valid, as the token service
                                                    (or msal's cache) said during the check; no sample without a
                                                    token

Nothing here is secret: tenant names, step ids and numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.diagnostics.monitor import MonitorRun


@dataclass(frozen=True)
class Metric:
    name: str
    help: str
    labels: tuple[str, ...] = ()
    type: str = "gauge"


METRICS: tuple[Metric, ...] = (
    Metric("outmail_settings_file_ok", "1 when outmail could read the settings file, 0 when it cannot be used."),
    Metric("outmail_check_ok", "1 when no step of the tenant's check failed (warnings allowed), 0 when a step "
                               "failed or the tenant's settings cannot be used.", ("tenant",)),
    Metric("outmail_check_warnings", "Steps of the tenant's check that ended with a warning.", ("tenant",)),
    Metric("outmail_check_duration_seconds", "Duration of the tenant's whole check.", ("tenant",)),
    Metric("outmail_check_timestamp_seconds", "Unix time the tenant's check ended.", ("tenant",)),
    Metric("outmail_step_ok", "1 when the step passed (ok or warning), 0 when it failed; skipped steps have no "
                              "sample.", ("tenant", "step")),
    Metric("outmail_step_duration_seconds", "Duration of each step that ran.", ("tenant", "step")),
    Metric("outmail_token_expiry_seconds", "Seconds the access token was still valid during the check.",
           ("tenant",)),
)


def escape_label_value(value: str) -> str:
    """A label value for the text format: `\\` -> `\\\\`, `"` -> `\\"`, line feed -> `\\n`."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """A HELP docstring: `\\` -> `\\\\`, line feed -> `\\n`."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def number(value: float | int | bool) -> str:
    """A sample value: integers as digits, floats in Python's shortest round-trip form (Go's ParseFloat reads it)."""
    if isinstance(value, bool) or (isinstance(value, (int, float)) and float(value).is_integer()):
        return str(int(value))
    return repr(float(value))


def samples(run: MonitorRun) -> dict[str, list[tuple[dict[str, str], float | int]]]:
    """The run's samples by metric name: [(labels, value)], in the order of `METRICS` and of the tenants."""
    out: dict[str, list[tuple[dict[str, str], float | int]]] = {m.name: [] for m in METRICS}
    out["outmail_settings_file_ok"].append(({}, 0 if run.error is not None else 1))
    for r in run.results:
        t = {"tenant": r.tenant}
        out["outmail_check_ok"].append((t, 1 if r.ok else 0))
        out["outmail_check_timestamp_seconds"].append((t, round(r.finished, 3)))
        report = r.report
        if report is None:
            continue
        out["outmail_check_warnings"].append((t, len(r.warnings)))
        out["outmail_check_duration_seconds"].append((t, round(report.duration_ms / 1000, 4)))
        for s in report.steps:
            if s.status == "skipped":
                continue
            labels = {"tenant": r.tenant, "step": s.id}
            out["outmail_step_ok"].append((labels, 1 if s.status in ("ok", "warn") else 0))
            if s.duration_ms is not None:
                out["outmail_step_duration_seconds"].append((labels, round(s.duration_ms / 1000, 4)))
        if report.token is not None and report.token.expires_in is not None:
            out["outmail_token_expiry_seconds"].append((t, max(int(report.token.expires_in), 0)))
    return out


def render(run: MonitorRun) -> str:
    """The exposition text of a run: for each metric with samples, HELP, TYPE, then its samples; ends with `\\n`."""
    lines: list[str] = []
    by_name = samples(run)
    for metric in METRICS:
        rows = by_name[metric.name]
        if not rows:
            continue
        lines.append(f"# HELP {metric.name} {escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.type}")
        for labels, value in rows:
            inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items())
            lines.append(f"{metric.name}{{{inner}}} {number(value)}" if inner else f"{metric.name} {number(value)}")
    return "\n".join(lines) + "\n"

"""The `settings` step: the settings' own errors and warnings (`tui.settings.validate`), before anything connects.

No network here. With an error the step fails with the first error's hint (its cause, setup step and fix), and the
engine skips every other step: the token request (carrying the client secret) never leaves. Warnings end it `warn`.
"""

from __future__ import annotations

from tui.diagnostics import hints as H
from tui.diagnostics.run import Run
from tui.diagnostics.runner import StepFailed, StepHandle


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


async def step_settings(run: Run, h: StepHandle) -> None:
    """detail[0]: "N errors, M warnings" (or "M warnings"), then the target, then one line per problem."""
    s = run.settings
    h.detail(f"{s.protocol} {s.host}:{s.port}" + (f", tenant {s.client_tenant}, client {s.client_id}"
                                                   if run.m365 else ""))
    try:
        from tui.settings.validate import validate
    except ImportError:  # pragma: no cover - the settings package always ships it
        return
    problems = validate(s)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for p in errors:
        h.detail(f"error: {p.label}: {p.message}")
    for p in warnings:
        h.detail(f"warning: {p.label}: {p.message}")
    if errors:
        h.result.detail[0:0] = [f"{_count(len(errors), 'error')}, {_count(len(warnings), 'warning')}"]
        # the first error's own cause, setup step and fix (not a generic "the settings have errors")
        raise StepFailed(H.for_settings(errors, run.hint_ctx()))
    if warnings:
        h.result.detail.insert(0, _count(len(warnings), "warning"))
        h.warn(H.for_settings(warnings, run.hint_ctx()))

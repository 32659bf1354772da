"""The words of a diagnostics run on a screen: a step's state and title, times, the waterfall's cells, the run's
summary and what a copy takes. Plain strings, no Textual.

The console's diagnostics pane and test-send dialog both draw with these (they add the colours:
`tui/console/diagnostics_pane.py` `step_line`, `detail_content`); `tui.diagnostics.progress.RunProgress` words its
running text and outcome with them. A `step` is a `tui.diagnostics.report.StepResult` (or anything with its
fields: id, title, status, duration_ms, detail, hint, started_ms); a `report` a `Report`. Times are milliseconds
from the run's start, as the engine measures them (`StepResult.started_ms`, `duration_ms`, `Report.duration_ms`).
"""

from __future__ import annotations

from typing import Any, Sequence

# A step's state in words first (readable in 16 colours and with NO_COLOR); the console adds the colour.
STATE_WORDS = {
    "ok": "✔ ok",
    "warn": "▲ warn",
    "fail": "✖ FAIL",
    "running": "… running",
    "pending": "· pending",
    "skipped": "– skipped",
}


def format_ms(ms: float | None) -> str:
    """`12 ms`, `1.25 s`, `12.5 s` from milliseconds; blank for None (not known yet)."""
    if ms is None:
        return ""
    if ms >= 10_000:
        return f"{ms / 1000:.1f} s"
    if ms >= 1_000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.0f} ms"


def plural(count: int, word: str) -> str:
    """`1 line`, `4 lines`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def token_source(step: Any) -> str:
    """Where the token step's token came from: "cache", "renewed" (a new one, because the cached one was refused,
    failed a claim check or a fresh one was asked for: the engine's first detail line says "new token: ..."), or ""
    (another step, or not known yet)."""
    if step.id != "token" or not step.detail:
        return ""
    first = step.detail[0]
    if first.startswith("token from cache"):
        return "cache"
    if first.startswith("token from the identity provider") and "new token: " in first:
        return "renewed"
    return ""


def step_title(step: Any) -> str:
    """The step's title; the token step says whether its token came from the cache or was renewed."""
    source = token_source(step)
    if source == "cache":
        return f"{step.title} (from cache)"
    if source == "renewed":
        return f"{step.title} (renewed)"
    return step.title


def short_title(title: str, width: int) -> str:
    """`title` in `width` cells: a parenthesis that does not fit is dropped ("Envelope (MAIL, RCPT)" becomes
    "Envelope"), anything else is cut with `…`."""
    if len(title) <= width:
        return title
    head = title.split(" (", 1)[0]
    if len(head) <= width:
        return head
    return title[: width - 1] + "…"


def waterfall_cells(step: Any, total_ms: float, width: int, now_ms: float | None = None,
                    waited_until_ms: float | None = None) -> list[tuple[str, str]]:
    """[(text, kind), ...]: the step's span on a `width`-cell time axis from 0 to `total_ms` (ms), the cells
    adding up to `width`.

    `kind` says how to colour the text: "" (blank cells), "running", "skipped" (a step stopped after it started:
    cancelled), or the finished step's status ("ok", "warn", "fail"). `█` a finished step, `▒` a running one (up to
    `now_ms`, the latest time known), `░` one that was stopped. `waited_until_ms`: the step's cells before that time
    are `░` in the step's kind (the token step starts before Settings, loading msal and asking for the authority's
    discovery, nothing secret, and asks for the token only once Settings has passed; drawn solid from its start it
    seemed to run before Settings; see `token_waited_until`)."""
    if width <= 0 or step.started_ms is None or total_ms <= 0:
        return [(" " * max(width, 0), "")]
    start = max(0.0, min(step.started_ms, total_ms))
    first = min(width - 1, int(start / total_ms * width))
    if step.status == "running" or step.duration_ms is None:
        end, fill, kind = (now_ms if now_ms is not None else start), "▒", "running"
    elif step.status == "skipped":
        end, fill, kind = start + step.duration_ms, "░", "skipped"
    else:
        end, fill, kind = start + step.duration_ms, "█", step.status
    end = min(total_ms, max(start, end))
    last = int(max(first + 1, min(width, -(-end * width // total_ms))))  # ceil, at least one cell
    parts = [(" " * first, "")]
    if waited_until_ms is not None and waited_until_ms > start and fill != "░":
        wait_end = min(last - 1, max(first, int(min(waited_until_ms, end) / total_ms * width)))
        parts.append(("░" * (wait_end - first), kind))
        first = wait_end
    parts += [(fill * (last - first), kind), (" " * (width - last), "")]
    return [(text, text_kind) for text, text_kind in parts if text]


def token_waited_until(steps: Sequence[Any], step: Any) -> float | None:
    """For the token step: when Settings ended (ms), if the token step started before that (see waterfall_cells);
    None for any other step or when not known."""
    if step.id != "token" or step.started_ms is None:
        return None
    settings = next((s for s in steps if s.id == "settings"), None)
    if settings is None or settings.started_ms is None or settings.duration_ms is None:
        return None
    settings_end = settings.started_ms + settings.duration_ms
    return settings_end if settings_end > step.started_ms else None


def token_order_note(steps: Sequence[Any], step: Any) -> str | None:
    """The token step's note when it started before Settings ended: why its bar starts light (see waterfall_cells)."""
    waited = token_waited_until(steps, step)
    if waited is None:
        return None
    return (f"░ from {format_ms(step.started_ms)}: msal and the authority's discovery, nothing secret; █ the token "
            f"request, sent once Settings passed (at {format_ms(waited)})")


def run_total_ms(steps: Sequence[Any], report: Any = None, now_ms: float | None = None) -> float:
    """The waterfall's time axis (ms): the run's duration, or the latest time reached so far (`now_ms` while
    running)."""
    if report is not None and report.duration_ms:
        return float(report.duration_ms)
    total = now_ms or 0.0
    for s in steps:
        if s.started_ms is not None:
            total = max(total, s.started_ms + (s.duration_ms or 0.0))
    return total


def summary_text(report: Any) -> tuple[str, str]:
    """(text, kind) for a finished run: `✔ Passed in 237 ms` "ok", `▲ Passed with 1 warning in 240 ms` "warn",
    `✖ FAILED at auth in 364 ms` "fail", `Cancelled after 1.20 s` "cancelled"."""
    if report.cancelled:
        return f"Cancelled after {format_ms(report.duration_ms)}", "cancelled"
    took = format_ms(report.duration_ms)
    failed = report.failed_step
    if failed is not None:
        return f"✖ FAILED at {failed.id} in {took}", "fail"
    warnings = sum(1 for s in report.steps if s.status == "warn")
    if warnings:
        return f"▲ Passed with {plural(warnings, 'warning')} in {took}", "warn"
    return f"✔ Passed in {took}", "ok"


def running_text(steps: Sequence[Any], cancel_keys: str) -> str:
    """`… running AUTH (5 of 8 steps done; x cancels)`: the steps running now and how many have ended;
    `cancel_keys` names the key that cancels ("x", "Esc")."""
    done = sum(1 for s in steps if s.status not in ("pending", "running"))
    running = [step_title(s) for s in steps if s.status == "running"]
    now = f"running {', '.join(running)}" if running else "running"
    return f"… {now} ({done} of {len(steps)} steps done; {cancel_keys} cancels)"


def fix_copy(step: Any) -> tuple[str, str] | None:
    """(text, what) a copy of `step`'s fix takes: its hint's PowerShell ("the PowerShell for AUTH (4 lines)"), else
    the hint's fix ("the fix for AUTH"); None when the step has no hint."""
    hint = getattr(step, "hint", None)
    if hint is None:
        return None
    if hint.command:
        return hint.command, f"the PowerShell for {step_title(step)} ({plural(len(hint.command.splitlines()), 'line')})"
    return hint.fix, f"the fix for {step_title(step)}"


def failure_summary(step: Any) -> str:
    """One line for a failed step: the reply its hint quotes, else its first detail line."""
    if step is None:
        return "the send did not complete"
    if step.hint is not None and step.hint.reply:
        return step.hint.reply
    return step.detail[0] if step.detail else f"the {step.id} step failed"

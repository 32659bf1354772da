"""Provides the diagnostics pane (F5): each step's live state, a timing waterfall, the fix and the transcript."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import DescendantFocus
from textual.widget import Widget
from textual.message import Message
from textual.widgets import ContentSwitcher, Label, OptionList, RichLog, Static
from textual.worker import Worker, WorkerState

from tui.console.messages import DiagnosticsFinished, DiagnosticsStarted, StepFinished, StepStarted, TranscriptAdded

# A step's state in words first (readable in 16 colours and with NO_COLOR), then its colour.
STATE_WORDS = {
    "ok": "✔ ok",
    "warn": "▲ warn",
    "fail": "✖ FAIL",
    "running": "… running",
    "pending": "· pending",
    "skipped": "– skipped",
}
STATE_STYLES = {
    "ok": "$text-success",
    "warn": "$text-warning",
    "fail": "bold $text-error",
    "running": "bold $text-accent",
    "pending": "$text-muted",
    "skipped": "$text-muted",
}
BAR_STYLES = {"ok": "$success", "warn": "$warning", "fail": "$error", "running": "$accent"}
STATE_WIDTH = 10
TITLE_WIDTH = 18
DURATION_WIDTH = 8
# The help line under the pane: the keys the buttons above do not show (they show x, F5, c, y, s and t).
KEYS_HELP = "n rerun with a new token, PgDn/PgUp scroll the detail, F2 form, F1 every key"
REPORT_NAME = "outmail-report-{stamp}.txt"


def format_ms(ms: float | None) -> str:
    """`12 ms`, `1.25 s`; blank when unknown."""
    if ms is None:
        return ""
    if ms >= 10_000:
        return f"{ms / 1000:.1f} s"
    if ms >= 1_000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.0f} ms"


def token_source(step: Any) -> str:
    """Where the token step's token came from: "cache", "renewed" (a new one, because the cached one was refused,
    failed a claim check or a fresh one was asked for: its first detail says "new token: ..."), or ""."""
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


def waterfall_bar(step: Any, total_ms: float, width: int, now_ms: float | None = None,
                  waited_until_ms: float | None = None) -> list[tuple[str, str]]:
    """[(text, style), ...]: the step's span on a `width`-cell time axis from 0 to `total_ms`.

    `█` a finished step, `▒` a running one (up to `now_ms`, the time of the latest event), `░` one that was
    stopped (cancelled after it started). `waited_until_ms`: the step's cells before that time are `░` (the token
    step starts before Settings, loading msal and asking for the authority's discovery, nothing secret, and asks
    for the token only once Settings has passed; drawn solid from its start it seemed to run before Settings)."""
    if width <= 0 or step.started_ms is None or total_ms <= 0:
        return [(" " * max(width, 0), "")]
    start = max(0.0, min(step.started_ms, total_ms))
    first = min(width - 1, int(start / total_ms * width))
    if step.status == "running" or step.duration_ms is None:
        end, fill, style = (now_ms if now_ms is not None else start), "▒", BAR_STYLES["running"]
    elif step.status == "skipped":
        end, fill, style = start + step.duration_ms, "░", "$text-muted"
    else:
        end, fill, style = start + step.duration_ms, "█", BAR_STYLES.get(step.status, "$text-muted")
    end = min(total_ms, max(start, end))
    last = int(max(first + 1, min(width, -(-end * width // total_ms))))  # ceil, at least one cell
    parts = [(" " * first, "")]
    if waited_until_ms is not None and waited_until_ms > start and fill != "░":
        wait_end = min(last - 1, max(first, int(min(waited_until_ms, end) / total_ms * width)))
        parts.append(("░" * (wait_end - first), style))
        first = wait_end
    parts += [(fill * (last - first), style), (" " * (width - last), "")]
    return [(text, text_style) for text, text_style in parts if text]


def token_waited_until(steps: list[Any], step: Any) -> float | None:
    """For the token step: when Settings ended, if the token step started before that (see waterfall_bar)."""
    if step.id != "token" or step.started_ms is None:
        return None
    settings = next((s for s in steps if s.id == "settings"), None)
    if settings is None or settings.started_ms is None or settings.duration_ms is None:
        return None
    settings_end = settings.started_ms + settings.duration_ms
    return settings_end if settings_end > step.started_ms else None


def step_line(step: Any, total_ms: float, width: int, now_ms: float | None = None, *, plain: bool = False,
              waited_until_ms: float | None = None) -> Content:
    """One step: `✔ ok      Token (from cache)     1 ms  ░░██      ` (state in words, title, duration, bar).

    `plain`: the state in bold and no colour of its own, for the highlighted row, which the list draws in reverse
    video (a state's colour on that background fell to 1.2:1 in 16 colours, and `$text-muted` vanished with
    `ansi-dark`)."""
    state = STATE_WORDS.get(step.status, step.status)
    title = short_title(step_title(step), TITLE_WIDTH)
    bar_width = max(4, width - STATE_WIDTH - TITLE_WIDTH - DURATION_WIDTH - 3)
    bar = waterfall_bar(step, total_ms, bar_width, now_ms, waited_until_ms)
    if plain:
        return Content.assemble((f"{state:<{STATE_WIDTH}}", "bold"), " ", f"{title:<{TITLE_WIDTH}}",
                                f"{format_ms(step.duration_ms):>{DURATION_WIDTH}}", " ", "".join(t for t, _ in bar))
    return Content.assemble(
        (f"{state:<{STATE_WIDTH}}", STATE_STYLES.get(step.status, "")),
        " ",
        f"{title:<{TITLE_WIDTH}}",
        (f"{format_ms(step.duration_ms):>{DURATION_WIDTH}}", "$text-muted"),
        " ",
        *bar,
    )


def run_total_ms(steps: list[Any], report: Any = None, now_ms: float | None = None) -> float:
    """The waterfall's time axis: the run's duration, or the latest time reached so far (`now_ms` while running)."""
    if report is not None and report.duration_ms:
        return float(report.duration_ms)
    total = now_ms or 0.0
    for s in steps:
        if s.started_ms is not None:
            total = max(total, s.started_ms + (s.duration_ms or 0.0))
    return total


def summary_text(report: Any) -> tuple[str, str]:
    """(text, class) for a finished run: `✔ Passed in 237 ms`, `✖ FAILED at auth in 364 ms`, `Cancelled`."""
    if report.cancelled:
        return f"Cancelled after {format_ms(report.duration_ms)}", "-cancelled"
    took = format_ms(report.duration_ms)
    failed = report.failed_step
    if failed is not None:
        return f"✖ FAILED at {failed.id} in {took}", "-fail"
    warnings = sum(1 for s in report.steps if s.status == "warn")
    if warnings:
        return f"▲ Passed with {warnings} warning{'s' if warnings != 1 else ''} in {took}", "-warn"
    return f"✔ Passed in {took}", "-ok"


def detail_head(step: Any, index: int, count: int) -> Content:
    """The detail's title bar: `AUTH  ✖ FAIL  5 ms  step 6 of 7, at 329 ms`."""
    when = f", at {format_ms(step.started_ms)}" if step.started_ms is not None else ""
    return Content.assemble(
        (step_title(step), "bold"), "  ",
        (STATE_WORDS.get(step.status, step.status), STATE_STYLES.get(step.status, "")),
        f"  {format_ms(step.duration_ms)}" if step.duration_ms is not None else "",
        f"  step {index + 1} of {count}{when}",
        ("  (PgDn: PowerShell; c copies)" if step.hint.command else "  (c copies the fix, t transcript)")
        if step.hint is not None else ("  (n: a new token)" if step.id == "token" else "  (t transcript)"),
    )


def hint_content(hint: Any, copy_key: str) -> list[Content]:
    """A hint as lines: why, the setup step, the fix, its details and the PowerShell command (`copy_key` copies it)."""
    parts = [Content.assemble(("Why: ", "bold"), hint.cause)]
    if hint.setup_step:
        parts.append(Content.assemble(("Setup step: ", "bold"), hint.setup_step_title))
    parts.append(Content.assemble(("Fix: ", "bold"), hint.fix))
    parts.extend(Content.styled("  " + line, "$text-muted") for line in hint.details)
    if hint.command:
        parts.append(Content.styled(f"PowerShell ({copy_key} copies it):", "bold"))
        parts.extend(Content.styled("    " + line, "$text-accent") for line in hint.command.splitlines())
    return parts


def token_order_note(steps: list[Any], step: Any) -> str | None:
    """The token step's note when it started before Settings ended: why its bar starts light (see waterfall_bar)."""
    waited = token_waited_until(steps, step)
    if waited is None:
        return None
    return (f"░ from {format_ms(step.started_ms)}: msal and the authority's discovery, nothing secret; █ the token "
            f"request, sent once Settings passed (at {format_ms(waited)})")


def detail_content(step: Any, note: str | None = None) -> Content:
    """The selected step: state, time, detail lines, then the hint (cause, setup step, fix, PowerShell).

    A run of more than 120 characters without a space (a value pasted into the form, echoed by the settings step) is
    cut to its start and its length (`tui.console.shorten.cut_words`); copies and the saved report keep it whole."""
    from tui.console.shorten import cut_words

    parts: list[Content] = []
    step = step.copy()
    step.detail = [cut_words(line) for line in step.detail]
    if step.hint is not None:
        step.hint = step.hint.redacted(cut_words)
    if step.status == "running":
        parts.append(Content.styled("running…", "$text-muted"))
    elif step.status == "pending":
        parts.append(Content.styled("not started yet", "$text-muted"))
    hint = step.hint
    if note:
        parts.append(Content.styled(note, "$text-muted"))
    # The first detail line says what happened; with a hint, the fix comes before the remaining detail lines.
    rest = step.detail[1:] if hint is not None else step.detail
    if hint is not None and step.detail:
        parts.append(Content(step.detail[0]))
    if hint is not None:
        if hint.reply and hint.reply not in step.detail:
            parts.append(Content.assemble(("What went wrong: ", "bold"), hint.reply))
        parts.extend(hint_content(hint, copy_key="c"))
        if rest:
            parts.append(Content.styled("Details:", "bold"))
    for line in rest:
        parts.append(Content(line))
    return Content("\n").join(parts)


class PaneButton(Static, can_focus=True):
    """A one-row button (Enter, Space or a click presses it; disabled when it cannot act).

    Textual's Button would do, but its large default CSS and set-up made the pane's first mount stall the event loop
    by some 10 ms more, and the pane is first mounted when the admin presses F5.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "press", "Press", show=False)]
    DEFAULT_CSS = """
    PaneButton {
        width: auto;
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
        text-wrap: nowrap;
        &:hover { background: $panel-lighten-2; }
        &:focus { text-style: bold reverse; }
        &:disabled { color: $text-disabled; text-style: none; }
    }
    """

    class Pressed(Message):
        """The button was pressed."""

        def __init__(self, button: "PaneButton") -> None:
            super().__init__()
            self.button = button

        @property
        def control(self) -> "PaneButton":
            return self.button

    def __init__(self, label: str, *, id: str | None = None, disabled: bool = False) -> None:
        super().__init__(label, id=id, disabled=disabled, markup=False)

    def action_press(self) -> None:
        if not self.disabled:
            self.post_message(self.Pressed(self))

    def on_click(self) -> None:
        self.action_press()


class TranscriptView(RichLog):
    """The transcript, one entry per line; a line longer than the view wraps under its own text (after
    `    12.3 ms  S: `), so nothing is cut at 80 columns and each entry still starts with its time."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=5000, min_width=20, wrap=True, markup=False, highlight=False)

    def add(self, line: Any) -> None:
        from rich.table import Table
        from rich.text import Text

        prefix = f"{line.t_ms:9.1f} ms  {line.direction}: "
        grid = Table.grid(padding=0)
        grid.add_column(width=len(prefix), no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(Text(prefix), Text(line.text))  # Text, not markup: the server's words as they are
        self.write(grid)


class StepList(OptionList):
    """One line per step; remembers whether the admin moved the selection (then it stops following the run)."""

    user_moved = False

    def _moved(self) -> None:
        self.user_moved = True

    def action_cursor_up(self) -> None:
        self._moved()
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self._moved()
        super().action_cursor_down()

    def action_first(self) -> None:
        self._moved()
        super().action_first()

    def action_last(self) -> None:
        self._moved()
        super().action_last()

    def action_page_up(self) -> None:
        self._moved()
        super().action_page_up()

    def action_page_down(self) -> None:
        self._moved()
        super().action_page_down()

    def on_click(self) -> None:
        self._moved()  # a click chooses a step too (OptionList's own handler moves the highlight)


class DiagnosticsPane(Widget):
    """Runs the engine on the settings on screen in an async worker and shows every step as it happens.

    The worker posts StepStarted / StepFinished / TranscriptAdded / DiagnosticsFinished (tui.console.messages) tagged
    with the run's id; the handlers own the widgets, and events of an earlier (cancelled) run are ignored.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "cancel_run", "Cancel the run", show=False, id="diag_cancel",
                tooltip="Stop the running diagnostics at once (also the Cancel button)."),
        Binding("r", "rerun", "Rerun", show=False, id="diag_rerun",
                tooltip="Run again on the settings on screen (as F5); an unchanged token comes from the cache "
                        "unless the last one was refused at AUTH or failed a claim check."),
        Binding("n", "rerun_fresh_token", "Rerun with a new token", show=False, id="diag_fresh_token",
                tooltip="Run again, asking Entra ID for a new token instead of the cached one (after a change of "
                        "permissions, roles or consent; shift+F5 from the form)."),
        Binding("c", "copy_fix", "Copy the fix", show=False, id="diag_copy_fix",
                tooltip="Copy the selected (or first failed) step's PowerShell, or its fix, to the clipboard (OSC 52)."),
        Binding("y", "copy_transcript", "Copy the transcript", show=False, id="diag_copy_transcript",
                tooltip="Copy the whole transcript, secrets redacted, to the clipboard (OSC 52)."),
        Binding("s", "save_report", "Save the report", show=False, id="diag_save",
                tooltip="Write steps, fixes and transcript (redacted) to outmail-report-<time>.txt next to the "
                        "settings file, readable by you only."),
        Binding("t", "toggle_transcript", "Transcript / step detail", show=False, id="diag_transcript",
                tooltip="Switch the lower part between the selected step's detail and the transcript."),
        Binding("w", "toggle_wait", "Wait out propagation", show=False, id="diag_wait",
                tooltip="After a change in Exchange (applied 30 minutes to 2 hours late): rerun every 5 min until the "
                        "run passes, fails in a way waiting does not fix, or 2 h have passed; w again stops "
                        "(tui/console/propagation_wait.py)."),
        # Priority: the step list (an OptionList) would take PgDn for itself, and it has only seven rows.
        Binding("pagedown", "scroll_view(1)", "Scroll the detail or transcript down (the PowerShell is often below)",
                show=False, priority=True, key_display="PgDn"),
        Binding("pageup", "scroll_view(-1)", "Scroll the detail or transcript up", show=False, priority=True,
                key_display="PgUp"),
    ]
    # Listed in F1 with the pane's own keys (the step list's keys belong to the OptionList).
    HELP_KEYS: ClassVar[list[BindingType]] = [
        Binding("up,down", "select", "Select a step: its detail, hint and fix show below"),
        Binding("tab", "focus_next", "Move between the step list, the buttons and the detail"),
    ]

    DEFAULT_CSS = """
    DiagnosticsPane {
        height: 1fr;
        layout: vertical;
    }
    DiagnosticsPane #diag-summary {
        width: 1fr;
        height: 1;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    DiagnosticsPane #diag-summary.-ok { color: $text-success; }
    DiagnosticsPane #diag-summary.-warn { color: $text-warning; }
    DiagnosticsPane #diag-summary.-fail { color: $text-error; }
    DiagnosticsPane #diag-summary.-running { color: $text-accent; }
    DiagnosticsPane #diag-summary.-cancelled { color: $text-warning; }
    DiagnosticsPane #diag-buttons {
        height: 1;
    }
    DiagnosticsPane #diag-buttons PaneButton {
        margin-right: 1;
    }
    DiagnosticsPane #diag-buttons #diag-toggle {
        margin-right: 0;
    }
    DiagnosticsPane StepList {
        height: auto;
        max-height: 9;
        padding: 0;
    }
    DiagnosticsPane #diag-detail-title {
        width: 1fr;
        height: 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    DiagnosticsPane #diag-views {
        height: 1fr;
    }
    DiagnosticsPane #diag-detail-scroll, DiagnosticsPane #diag-transcript {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, token_cache: Any = None, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.token_cache = token_cache  # None: the engine's process-wide cache (a rerun takes the token from it)
        self.run_id = 0
        self.running = False
        self.report: Any = None  # the last run's Report (also built for a cancelled or broken run)
        self.steps: list[Any] = []  # StepResult snapshots, in the engine's order
        self.transcript: list[Any] = []  # TranscriptLine
        self.worker: Worker[None] | None = None
        self.showing_transcript = False
        self._settings: Any = None
        self._started_at = 0.0
        self._error: str | None = None
        self._detail_shown: Content | None = None
        self._detail_step_id: str | None = None  # the step whose detail is shown (its scroll position is kept)
        self._engine_t0 = 0.0

    # ------------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Label("Diagnostics: press F5 to prove the settings on screen.", id="diag-summary", markup=False)
        with Horizontal(id="diag-buttons"):
            yield PaneButton("x Cancel", id="diag-cancel", disabled=True)
            yield PaneButton("F5 Rerun", id="diag-rerun")
            yield PaneButton("c Copy fix", id="diag-copy-fix", disabled=True)
            yield PaneButton("y Copy transcript", id="diag-copy-transcript", disabled=True)
            yield PaneButton("s Save", id="diag-save", disabled=True)
            yield PaneButton("t Transcript", id="diag-toggle")
        yield StepList(id="diag-steps", markup=False, compact=True)
        yield Label("", id="diag-detail-title", markup=False)
        with ContentSwitcher(initial="diag-detail-scroll", id="diag-views"):
            with VerticalScroll(id="diag-detail-scroll"):
                yield Static("", id="diag-detail", markup=False)
            yield TranscriptView(id="diag-transcript")

    def on_mount(self) -> None:
        self._show_detail_title()

    def on_resize(self) -> None:
        self._render_steps()

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        # The screen's help line describes form fields; inside the pane it lists the pane's keys instead.
        event.stop()
        self._show_keys_help()

    def _show_keys_help(self) -> None:
        set_help = getattr(self.screen, "set_help", None)
        if set_help is not None:  # None: a screen without a help line (a test harness)
            set_help(KEYS_HELP)

    def _say(self, text: str, severity: str = "information") -> None:
        """What an action did, on the message line above the keys (OutmailApp.say), where it covers neither the
        buttons nor the fix; a toast where the pane runs without the console (a test harness)."""
        say = getattr(self.app, "say", None)
        if say is not None:
            say(text, severity)
        else:
            self.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]

    # ------------------------------------------------------------------------------------------------ running

    def run_diagnostics(self, settings: Any, *, fresh_token: bool = False, take_focus: bool = True) -> None:
        """Start a run on `settings` (saved or not); a run still going is cancelled first (exclusive worker).
        `fresh_token`: drop the cached token first, so that the run asks Entra ID for a new one. `take_focus`: False
        for a run the admin did not start here (waiting out propagation while they edit the form)."""
        self.run_id += 1
        self._settings = settings
        self.running = True
        self.report = None
        self._error = None
        self.steps = []
        self.transcript = []
        self._started_at = time.perf_counter()
        self._engine_t0 = 0.0
        steps_list = self.query_one(StepList)
        steps_list.clear_options()
        steps_list.user_moved = False
        self.query_one("#diag-transcript", TranscriptView).clear()
        self._set_summary("… Starting the diagnostics", "-running")
        self._update_buttons()
        self._show_detail()
        # Everything alive now (Textual, the form, this pane) lives as long as the console: freezing it keeps a
        # full garbage collection during the run (msal and friends load then) from scanning it, which stalled the
        # event loop for 50-70 ms on a first run. gc.freeze() itself is O(1). The run's end unfreezes
        # (on_worker_state_changed), so garbage made before a run is still collected after it.
        gc.freeze()
        self.worker = self._diagnose(settings, self.run_id, fresh_token)
        if take_focus:
            steps_list.focus()
            self._show_keys_help()

    @work(exclusive=True, exit_on_error=False, group="diagnostics", description="outmail diagnostics")
    async def _diagnose(self, settings: Any, run_id: int, fresh_token: bool = False) -> None:
        """The engine in an async worker: its events become messages for this pane; nothing touches widgets."""
        try:
            if "tui.diagnostics.engine" not in sys.modules:
                # First run: load the engine off the event loop (tens of ms of imports would stall it in one go).
                import importlib

                await asyncio.to_thread(importlib.import_module, "tui.diagnostics.engine")
            from tui.diagnostics import engine

            def emit(event: Any) -> None:
                if isinstance(event, engine.StepStarted):
                    self.post_message(StepStarted(run_id, event.step))
                elif isinstance(event, engine.StepFinished):
                    self.post_message(StepFinished(run_id, event.step))
                elif isinstance(event, engine.TranscriptAdded):
                    self.post_message(TranscriptAdded(run_id, event.line))
                elif isinstance(event, engine.RunStarted):
                    self.post_message(DiagnosticsStarted(run_id, event.steps))

            report = await engine.diagnose(settings, emit=emit, token_cache=self.token_cache,
                                           fresh_token=fresh_token)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the worker boundary: any failure is shown in the pane, never a crash
            self.post_message(DiagnosticsFinished(run_id, error=redacted_error(settings, exc)))
            return
        self.post_message(DiagnosticsFinished(run_id, report))

    def action_cancel_run(self) -> None:
        worker = self.worker
        if self.running and worker is not None and not worker.is_finished:
            worker.cancel()
            self._set_summary("… Cancelling", "-running")
        else:
            self._say("Nothing to cancel: no run is going (F5 starts one)")

    def action_rerun(self, fresh_token: bool = False) -> None:
        """Run again on the settings on screen, as F5 does (`fresh_token`: as shift+F5, with a new token)."""
        diagnose = getattr(self.app, "action_diagnose", None)
        if diagnose is not None and hasattr(self.app, "current_settings"):
            diagnose(fresh_token=fresh_token)
        elif self._settings is not None:
            self.run_diagnostics(self._settings, fresh_token=fresh_token)

    def action_rerun_fresh_token(self) -> None:
        """n: run again with a token asked from Entra ID, not the cached one."""
        self.action_rerun(fresh_token=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker:
            return  # an earlier run, replaced by a rerun
        if event.worker.is_finished:
            gc.unfreeze()
        if event.state == WorkerState.CANCELLED and self.running:
            self._end_without_report(cancelled=True)
        elif event.state == WorkerState.ERROR and self.running:
            error = event.worker.error
            text = redacted_error(self._settings, error) if isinstance(error, BaseException) else "unknown error"
            self._error = text
            self._end_without_report(cancelled=False)

    # ------------------------------------------------------------------------------------------------ events

    @on(DiagnosticsStarted)
    def _run_started(self, message: DiagnosticsStarted) -> None:
        if message.run_id != self.run_id:
            return
        self.steps = [step.copy() for step in message.steps]
        self._engine_t0 = time.perf_counter()  # about the engine's own start: step times are offsets from it
        steps_list = self.query_one(StepList)
        width = self._line_width()
        steps_list.set_options([step_line(s, 0.0, width) for s in self.steps])
        steps_list.highlighted = 0
        self._set_summary(self._running_text(), "-running")

    @on(StepStarted)
    def _step_started(self, message: StepStarted) -> None:
        if message.run_id != self.run_id:
            return
        self._store(message.step)
        self._follow(message.step.id)
        self._set_summary(self._running_text(), "-running")

    @on(StepFinished)
    def _step_finished(self, message: StepFinished) -> None:
        if message.run_id != self.run_id:
            return
        self._store(message.step)
        if message.step.status != "skipped":
            self._follow(message.step.id)
        if self.running:
            self._set_summary(self._running_text(), "-running")

    @on(TranscriptAdded)
    def _transcript_added(self, message: TranscriptAdded) -> None:
        if message.run_id != self.run_id:
            return
        self.transcript.append(message.line)
        self.query_one("#diag-transcript", TranscriptView).add(message.line)
        if self.showing_transcript:
            self._show_detail_title()

    @on(DiagnosticsFinished)
    def _run_finished(self, message: DiagnosticsFinished) -> None:
        if message.run_id != self.run_id:
            return
        if message.report is None:
            self._error = message.error
            self._end_without_report(cancelled=message.cancelled)
            return
        self.running = False
        report = message.report
        self.report = report
        self.steps = [s.copy() for s in report.steps]
        self._render_steps()
        text, cls = summary_text(report)
        self._set_summary(text, cls)
        steps_list = self.query_one(StepList)
        failed = next((i for i, s in enumerate(self.steps) if s.status == "fail"), None)
        if failed is None and not steps_list.user_moved:
            failed = next((i for i, s in enumerate(self.steps) if s.status == "warn"), None)
        if failed is not None:
            steps_list.highlighted = failed
        self._update_buttons()
        self._show_detail()
        self._run_ended(complete=True)

    def _end_without_report(self, *, cancelled: bool) -> None:
        """A run cancelled or broken by an unexpected error: what happened so far, as a Report (to copy or save)."""
        elapsed = round((time.perf_counter() - (self._engine_t0 or self._started_at)) * 1000, 1)
        self.running = False
        for step in self.steps:
            if step.status == "running":  # the engine's own "cancelled" StepFinished did not come (yet)
                step.duration_ms = round(elapsed - (step.started_ms or 0.0), 1)
            if step.status in ("pending", "running"):
                step.status = "skipped"
                step.detail.append("cancelled" if cancelled else "not run: the diagnostics stopped")
        engine = sys.modules.get("tui.diagnostics.engine")
        if engine is not None:
            self.report = engine.Report(steps=[s.copy() for s in self.steps], transcript=list(self.transcript),
                                        duration_ms=elapsed, cancelled=cancelled)
        self._render_steps()
        if cancelled:
            self._set_summary(f"Cancelled after {format_ms(elapsed)}", "-cancelled")
        else:
            self._set_summary(f"✖ FAILED: the diagnostics stopped: {self._error or 'unknown error'}", "-fail")
        self._update_buttons()
        self._show_detail()
        self._run_ended(complete=False)

    def _run_ended(self, *, complete: bool) -> None:
        """A run ended: a complete one is the setup guide's evidence (OutmailApp.record_run), and a wait for
        Exchange learns its attempt's outcome (tui/console/propagation_wait.py)."""
        from tui.console.propagation_wait import run_ended

        run_ended(self, complete=complete)

    def action_toggle_wait(self) -> None:
        """w: rerun until the run passes (tui/console/propagation_wait.py), or stop doing so."""
        from tui.console.propagation_wait import toggle

        toggle(self)

    # ------------------------------------------------------------------------------------------------ state → widgets

    def _store(self, step: Any) -> None:
        for i, known in enumerate(self.steps):
            if known.id == step.id:
                self.steps[i] = step
                break
        else:  # a step the engine added during the run (after_auth): before quit, as the engine orders it
            at = next((i for i, s in enumerate(self.steps) if s.id == "quit"), len(self.steps))
            self.steps.insert(at, step)
            steps_list = self.query_one(StepList)
            highlighted = steps_list.highlighted
            steps_list.set_options([step_line(s, 0.0, self._line_width()) for s in self.steps])
            steps_list.highlighted = highlighted
        self._render_steps()
        if self._selected() is step or (self._selected() is not None and self._selected().id == step.id):
            self._show_detail()

    def _follow(self, step_id: str) -> None:
        """While the admin has not moved the selection, it follows the run's latest step."""
        steps_list = self.query_one(StepList)
        if steps_list.user_moved:
            return
        index = next((i for i, s in enumerate(self.steps) if s.id == step_id), None)
        if index is not None and steps_list.highlighted != index:
            steps_list.highlighted = index

    def _line_width(self) -> int:
        width = self.query_one(StepList).content_region.width or self.size.width
        return max(width, 50)

    def _render_steps(self) -> None:
        if not self.is_mounted:
            return
        steps_list = self.query_one(StepList)
        if steps_list.option_count != len(self.steps):
            return
        # While running, the axis reaches the time of this event (the pane redraws per event, not per tick).
        now = (time.perf_counter() - self._engine_t0) * 1000 if self.running and self._engine_t0 else None
        total = run_total_ms(self.steps, self.report, now)
        width = self._line_width()
        highlighted = steps_list.highlighted
        for i, step in enumerate(self.steps):
            steps_list.replace_option_prompt_at_index(i, step_line(
                step, total, width, now, plain=i == highlighted, waited_until_ms=token_waited_until(self.steps, step)))

    def _running_text(self) -> str:
        done = sum(1 for s in self.steps if s.status not in ("pending", "running"))
        running = [s.title for s in self.steps if s.status == "running"]
        now = f"running {', '.join(running)}" if running else "running"
        return f"… {now} ({done} of {len(self.steps)} steps done; x cancels)"

    def _set_summary(self, text: str, cls: str) -> None:
        summary = self.query_one("#diag-summary", Label)
        summary.update(text, layout=False)  # one row, full width: no layout pass per event
        for name in ("-ok", "-warn", "-fail", "-running", "-cancelled"):
            summary.set_class(name == cls, name)

    def _update_buttons(self) -> None:
        self.query_one("#diag-cancel", PaneButton).disabled = not self.running
        has_hint = any(s.hint is not None for s in self.steps)
        self.query_one("#diag-copy-fix", PaneButton).disabled = not has_hint
        self.query_one("#diag-copy-transcript", PaneButton).disabled = not self.transcript
        self.query_one("#diag-save", PaneButton).disabled = self.running or self.report is None

    def _selected(self) -> Any:
        index = self.query_one(StepList).highlighted
        if index is None or not 0 <= index < len(self.steps):
            return None
        return self.steps[index]

    def _show_detail(self) -> None:
        step = self._selected()
        detail = self.query_one("#diag-detail", Static)
        if step is None:
            if self._error:
                content = Content(f"The diagnostics stopped: {self._error}")
            elif self.running:
                content = Content.styled("Starting…", "$text-muted")
            else:
                content = Content("Press F5 to run the diagnostics on the settings on screen.")
        else:
            content = detail_content(step, token_order_note(self.steps, step))
        if content != self._detail_shown:  # a new text needs a layout pass (its height may change): only then
            self._detail_shown = content
            detail.update(content)
        shown_id = step.id if step is not None else None
        if shown_id != self._detail_step_id:  # another step: its detail from the top, not where PgDn left the last
            self._detail_step_id = shown_id
            self.query_one("#diag-detail-scroll", VerticalScroll).scroll_home(animate=False, immediate=True)
        self._show_detail_title()

    def _show_detail_title(self) -> None:
        title = self.query_one("#diag-detail-title", Label)
        if self.showing_transcript:
            text: Content | str = (f"Transcript: {len(self.transcript)} lines, secrets redacted "
                                   "(y copies, t shows the step detail)")
        else:
            step = self._selected()
            if step is None:
                text = "Step detail and fix (t shows the transcript)"
            else:
                text = detail_head(step, self.steps.index(step), len(self.steps))
        title.update(text, layout=False)  # one row, full width

    @on(OptionList.OptionHighlighted, "#diag-steps")
    def _step_highlighted(self) -> None:
        self._render_steps()  # the highlighted row without its colours (step_line's plain)
        self._show_detail()

    @on(OptionList.OptionSelected, "#diag-steps")
    def _step_selected(self) -> None:
        if self.showing_transcript:
            self.action_toggle_transcript()

    # ------------------------------------------------------------------------------------------------ actions

    @on(PaneButton.Pressed, "#diag-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_run()

    @on(PaneButton.Pressed, "#diag-rerun")
    def _rerun_pressed(self) -> None:
        self.action_rerun()

    @on(PaneButton.Pressed, "#diag-copy-fix")
    def _copy_fix_pressed(self) -> None:
        self.action_copy_fix()

    @on(PaneButton.Pressed, "#diag-copy-transcript")
    def _copy_transcript_pressed(self) -> None:
        self.action_copy_transcript()

    @on(PaneButton.Pressed, "#diag-save")
    def _save_pressed(self) -> None:
        self.action_save_report()

    @on(PaneButton.Pressed, "#diag-toggle")
    def _toggle_pressed(self) -> None:
        self.action_toggle_transcript()

    def action_scroll_view(self, direction: int) -> None:
        """PgDn / PgUp: a page of the lower part (the step's detail and fix, or the transcript), wherever the focus."""
        view = self.query_one("#diag-transcript" if self.showing_transcript else "#diag-detail-scroll")
        if direction > 0:
            view.scroll_page_down(animate=False)
        else:
            view.scroll_page_up(animate=False)

    def action_toggle_transcript(self) -> None:
        self.showing_transcript = not self.showing_transcript
        views = self.query_one("#diag-views", ContentSwitcher)
        views.current = "diag-transcript" if self.showing_transcript else "diag-detail-scroll"
        self.query_one("#diag-toggle", PaneButton).update("t Detail" if self.showing_transcript else "t Transcript")
        self._show_detail_title()

    def fix_step(self) -> Any:
        """The step whose fix `c` copies: the selected one if it has a hint, else the first failed, else warned."""
        step = self._selected()
        if step is not None and step.hint is not None:
            return step
        for status in ("fail", "warn"):
            for s in self.steps:
                if s.status == status and s.hint is not None:
                    return s
        return None

    def action_copy_fix(self) -> None:
        step = self.fix_step()
        if step is None:
            self._say("Nothing to copy: no step has a fix" + (" yet" if self.running or not self.steps else ""))
            return
        hint = step.hint
        if hint.command:
            text = hint.command
            lines = len(text.splitlines())
            what = f"the PowerShell for {step_title(step)} ({lines} line{'s' if lines != 1 else ''})"
        else:
            text = hint.fix
            what = f"the fix for {step_title(step)}"
        self.app.copy_to_clipboard(text)
        self._say(f"✔ Copied {what} to the clipboard (OSC 52; where the terminal ignores it, select the text above)")

    def transcript_text(self) -> str:
        if self.report is not None and self.report.transcript:
            return self.report.transcript_text()
        return "".join(line.render() + "\n" for line in self.transcript)

    def action_copy_transcript(self) -> None:
        text = self.transcript_text()
        if not text:
            self._say("Nothing to copy: no transcript yet")
            return
        count = len(text.splitlines())
        self.app.copy_to_clipboard(text)
        self._say(f"✔ Copied the transcript ({count} lines, secrets redacted) to the clipboard (OSC 52)")

    def report_path(self) -> Path:
        """outmail-report-YYYYmmdd-HHMMSS.txt next to the settings file (a new name if that one exists); in
        `outmail demo`, whose settings folder goes when it ends, in the folder it was started from
        (OutmailApp.lasting_folder)."""
        lasting = getattr(self.app, "lasting_folder", None)
        folder = lasting()[0] if lasting is not None else Path.cwd()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / REPORT_NAME.format(stamp=stamp)
        serial = 1
        while path.exists():
            serial += 1
            path = folder / REPORT_NAME.format(stamp=f"{stamp}-{serial}")
        return path

    def action_save_report(self) -> None:
        if self.running or self.report is None:
            self._say("Nothing to save yet: " + ("the run is still going" if self.running else "press F5 first"))
            return
        path = self.report_path()
        try:
            self.report.save(path)
        except OSError as exc:
            self._say(f"Could not save the report to {path}: {exc.strerror or type(exc).__name__}", "error")
            return
        lasting = getattr(self.app, "lasting_folder", None)
        why = lasting()[1] if lasting is not None else ""
        self._say(f"✔ Saved the report (secrets redacted, readable by you only) to {path}"
                  + (f" (not next to the settings: {why})" if why else ""))


def redacted_error(settings: Any, exc: BaseException) -> str:
    """`TypeName: message` with the settings' secrets taken out."""
    text = f"{type(exc).__name__}: {exc}"
    try:
        from tui.diagnostics.redact import Redactor

        return Redactor([settings.client_secret.reveal(), settings.password.reveal()]).text(text)
    except Exception:  # noqa: BLE001 - without a redactor, only the type is safe to show
        return type(exc).__name__

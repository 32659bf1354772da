"""Provides the diagnostics pane (F5): each step's live state, a timing waterfall, the fix and the transcript.

The run's state is a `tui.diagnostics.progress.RunProgress` (no Textual): the worker posts each engine event as one
`EngineEvent` message (tui.console.messages), the pane applies it and redraws what changed. The words come from
`tui.diagnostics.run_text`; this module adds the colours (`step_line`, `detail_content`, `hint_content`, which the
test-send and explain dialogs use too) and names keys from the bindings (`tui.console.keytext`).
"""

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
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Label, OptionList, RichLog, Static
from textual.worker import Worker, WorkerState

from tui.console.buttons import ButtonActions
from tui.console.keytext import ConsoleBinding, described, fill_tooltips, first_key, key_before, keys
from tui.console.messages import EngineEvent, RunBroke
from tui.diagnostics.progress import RunProgress, redacted_error
from tui.diagnostics.run_text import (
    STATE_WORDS,
    format_ms,
    run_total_ms,
    short_title,
    step_title,
    token_order_note,
    token_waited_until,
    waterfall_cells,
)

# A step's state: its words (tui.diagnostics.run_text.STATE_WORDS) in its colour.
STATE_STYLES = {
    "ok": "$text-success",
    "warn": "$text-warning",
    "fail": "bold $text-error",
    "running": "bold $text-accent",
    "pending": "$text-muted",
    "skipped": "$text-muted",
}
# A waterfall cell's colour by its kind (run_text.waterfall_cells); any other kind (a stopped step's) is muted.
BAR_STYLES = {"ok": "$success", "warn": "$warning", "fail": "$error", "running": "$accent"}
STATE_WIDTH = 10
TITLE_WIDTH = 18
DURATION_WIDTH = 8
REPORT_NAME = "outmail-report-{stamp}.txt"


def _app_class() -> type:
    """OutmailApp, whose bindings (F5, shift+F5) the pane's tooltips name; imported here, when the pane's class is
    made (the app is loaded by then: it imports the pane lazily)."""
    from tui.console.app import OutmailApp

    return OutmailApp


def clock_ms() -> float:
    """The pane's and the dialog's clock for a RunProgress: time.perf_counter() in ms."""
    return time.perf_counter() * 1000


def keys_help(pane: Any) -> str:
    """The help line under the pane: the keys the buttons above do not show (they show x, F5, c, y, s and t), named
    from the bindings of the pane, its screen and the app: "n rerun with a new token, PgDn/PgUp scroll the detail,
    F2 form, F1 every key"."""
    return (f"{keys(pane, 'rerun_fresh_token')} rerun with a new token, "
            f"{keys(pane, 'scroll_view(1)', 'scroll_view(-1)')} scroll the detail, "
            f"{keys(pane, 'show_settings')} form, {keys(pane, 'help')} every key")


def waterfall_bar(step: Any, total_ms: float, width: int, now_ms: float | None = None,
                  waited_until_ms: float | None = None) -> list[tuple[str, str]]:
    """[(text, style), ...]: `run_text.waterfall_cells` in the console's colours."""
    return [(text, "" if not kind else BAR_STYLES.get(kind, "$text-muted"))
            for text, kind in waterfall_cells(step, total_ms, width, now_ms, waited_until_ms)]


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


def detail_head(step: Any, index: int, count: int, *, keys_of: Any) -> Content:
    """The detail's title bar: `AUTH  ✖ FAIL  5 ms  step 6 of 7, at 329 ms  (PgDn: PowerShell; c copies)`; the
    keys are named from the bindings `keys_of` answers with (the pane)."""
    when = f", at {format_ms(step.started_ms)}" if step.started_ms is not None else ""
    if step.hint is not None and step.hint.command:
        where = f"  ({first_key(keys_of, 'scroll_view(1)')}: PowerShell; {keys(keys_of, 'copy_fix')} copies)"
    elif step.hint is not None:
        where = f"  ({keys(keys_of, 'copy_fix')} copies the fix, {keys(keys_of, 'toggle_transcript')} transcript)"
    elif step.id == "token":
        where = f"  ({keys(keys_of, 'rerun_fresh_token')}: a new token)"
    else:
        where = f"  ({keys(keys_of, 'toggle_transcript')} transcript)"
    return Content.assemble(
        (step_title(step), "bold"), "  ",
        (STATE_WORDS.get(step.status, step.status), STATE_STYLES.get(step.status, "")),
        f"  {format_ms(step.duration_ms)}" if step.duration_ms is not None else "",
        f"  step {index + 1} of {count}{when}",
        where,
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


def detail_content(step: Any, note: str | None = None, *, copy_key: str) -> Content:
    """The selected step: state, time, detail lines, then the hint (cause, setup step, fix, PowerShell; `copy_key`
    copies it). `note`: a line under the state (`run_text.token_order_note`).

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
        parts.extend(hint_content(hint, copy_key=copy_key))
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


class DiagnosticsPane(ButtonActions, Widget):
    """Runs the engine on the settings on screen in an async worker and shows every step as it happens.

    The worker posts each engine event as an `EngineEvent` (an unexpected error as `RunBroke`) tagged with the run's
    id; the handler applies it to the run's `RunProgress` (`progress`) and redraws what changed; events of an earlier
    (cancelled) run are ignored. `running`, `report`, `steps` and `transcript` read the current run's state.
    """

    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"diag-cancel": "cancel_run", "diag-rerun": "rerun",
        "diag-copy-fix": "copy_fix", "diag-copy-transcript": "copy_transcript", "diag-save": "save_report",
        "diag-toggle": "toggle_transcript"}
    # A tooltip names another key as {binding id} (filled from these bindings and the app's: F5, shift+F5).
    BINDINGS: ClassVar[list[BindingType]] = fill_tooltips([
        Binding("x", "cancel_run", "Cancel the run", show=False, id="diag_cancel",
                tooltip="Stop the running diagnostics at once (also the Cancel button)."),
        ConsoleBinding("r", "rerun", "Rerun", show=False, id="diag_rerun",
                       tooltip="Run again on the settings on screen (as {diagnose}); an unchanged token comes from "
                               "the cache unless the last one was refused at AUTH or failed a claim check."),
        ConsoleBinding("n", "rerun_fresh_token", "Rerun with a new token", show=False, id="diag_fresh_token",
                       tooltip="Run again, asking Entra ID for a new token instead of the cached one (after a change "
                               "of permissions, roles or consent; {diagnose_fresh} from the form)."),
        Binding("c", "copy_fix", "Copy the fix", show=False, id="diag_copy_fix",
                tooltip="Copy the selected (or first failed) step's PowerShell, or its fix, to the clipboard (OSC 52)."),
        Binding("y", "copy_transcript", "Copy the transcript", show=False, id="diag_copy_transcript",
                tooltip="Copy the whole transcript, secrets redacted, to the clipboard (OSC 52)."),
        Binding("s", "save_report", "Save the report", show=False, id="diag_save",
                tooltip="Write steps, fixes and transcript (redacted) to outmail-report-<time>.txt next to the "
                        "settings file, readable by you only."),
        Binding("t", "toggle_transcript", "Transcript / step detail", show=False, id="diag_transcript",
                tooltip="Switch the lower part between the selected step's detail and the transcript."),
        ConsoleBinding("w", "toggle_wait", "Wait out propagation", show=False, id="diag_wait",
                       tooltip="After a change in Exchange (applied 30 minutes to 2 hours late): rerun every 5 min "
                               "until the run passes, fails in a way waiting does not fix, or 2 h have passed; "
                               "{diag_wait} again stops."),
        # Priority: the step list (an OptionList) would take PgDn for itself, and it has only seven rows.
        Binding("pagedown", "scroll_view(1)", "Scroll the detail or transcript down (the PowerShell is often below)",
                show=False, priority=True, key_display="PgDn"),
        Binding("pageup", "scroll_view(-1)", "Scroll the detail or transcript up", show=False, priority=True,
                key_display="PgUp"),
    ], _app_class())
    # Listed in F1 with the pane's own keys: the step list's keys are the OptionList's, Tab the screen's.
    HELP_KEYS: ClassVar[list[BindingType]] = [
        *described(OptionList, "cursor_up", "cursor_down", description="Select a step: its detail, hint and fix show "
                                                                         "below"),
        *described(Screen, "focus_next", description="Move between the step list, the buttons and the detail"),
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
        self.progress: RunProgress | None = None  # the current (or last) run's state; None before the first run
        self.worker: Worker[None] | None = None
        self.showing_transcript = False
        self._settings: Any = None
        self._detail_shown: Content | None = None
        self._detail_step_id: str | None = None  # the step whose detail is shown (its scroll position is kept)

    # The current run's state, as the console and the setup guide read it (tui.console.app, guide_screen,
    # propagation_wait).

    @property
    def running(self) -> bool:
        return self.progress is not None and self.progress.running

    @property
    def report(self) -> Any:
        """The last run's Report (also a partial one for a cancelled or broken run), or None."""
        return self.progress.report if self.progress is not None else None

    @property
    def steps(self) -> list[Any]:
        """StepResult snapshots of the current run, in the engine's order."""
        return self.progress.steps if self.progress is not None else []

    @property
    def transcript(self) -> list[Any]:
        """TranscriptLine of the current run so far."""
        return self.progress.transcript if self.progress is not None else []

    # ------------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Label(f"Diagnostics: press {keys(self, 'diagnose')} to prove the settings on screen.", id="diag-summary",
                    markup=False)
        with Horizontal(id="diag-buttons"):
            yield PaneButton(key_before(self, "cancel_run", "Cancel"), id="diag-cancel", disabled=True)
            yield PaneButton(key_before(self, "diagnose", "Rerun"), id="diag-rerun")
            yield PaneButton(key_before(self, "copy_fix", "Copy fix"), id="diag-copy-fix", disabled=True)
            yield PaneButton(key_before(self, "copy_transcript", "Copy transcript"), id="diag-copy-transcript",
                             disabled=True)
            yield PaneButton(key_before(self, "save_report", "Save"), id="diag-save", disabled=True)
            yield PaneButton(key_before(self, "toggle_transcript", "Transcript"), id="diag-toggle")
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
            set_help(keys_help(self))

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
        self.progress = RunProgress(begun_ms=clock_ms())
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
    async def _diagnose(self, settings: Any, run_id: int, fresh_token: bool = False) -> Any:
        """The engine in an async worker: each event becomes an EngineEvent for this pane; nothing touches widgets.
        Returns the Report (the pane ends the run with it should the engine not have sent RunFinished)."""
        try:
            if "tui.diagnostics.engine" not in sys.modules:
                # First run: load the engine off the event loop (tens of ms of imports would stall it in one go).
                import importlib

                await asyncio.to_thread(importlib.import_module, "tui.diagnostics.engine")
            from tui.diagnostics import engine

            def emit(event: Any) -> None:
                self.post_message(EngineEvent(run_id, event))

            return await engine.diagnose(settings, emit=emit, token_cache=self.token_cache, fresh_token=fresh_token)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the worker boundary: any failure is shown in the pane, never a crash
            self.post_message(RunBroke(run_id, redacted_error(settings, exc)))
            return None

    def action_cancel_run(self) -> None:
        worker = self.worker
        if self.running and worker is not None and not worker.is_finished:
            worker.cancel()
            self._set_summary("… Cancelling", "-running")
        else:
            self._say(f"Nothing to cancel: no run is going ({keys(self, 'diagnose')} starts one)")

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
        progress = self.progress
        if progress is None or not progress.running:
            return
        if event.state == WorkerState.CANCELLED:
            progress.cancelled(now_ms=clock_ms())
            self._ended(complete=False)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            text = redacted_error(self._settings, error) if isinstance(error, BaseException) else "unknown error"
            progress.broke(text, now_ms=clock_ms())
            self._ended(complete=False)
        elif event.state == WorkerState.SUCCESS and event.worker.result is not None:
            # the engine ended without RunFinished (it always sends one): its returned report ends the run
            from tui.diagnostics.events import RunFinished

            self._apply(RunFinished(event.worker.result))

    # ------------------------------------------------------------------------------------------------ events

    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        if message.run_id == self.run_id:
            self._apply(message.event)

    @on(RunBroke)
    def _run_broke(self, message: RunBroke) -> None:
        if message.run_id == self.run_id and self.progress is not None and self.progress.running:
            self.progress.broke(message.error, now_ms=clock_ms())
            self._ended(complete=False)

    def _apply(self, event: Any) -> None:
        """One engine event of the current run: into the RunProgress, then redraw what it changed."""
        progress = self.progress
        if progress is None:
            return
        steps_list = self.query_one(StepList)
        if steps_list.user_moved and not progress.admin_moved:
            progress.choose(steps_list.highlighted)
        change = progress.apply(event, now_ms=clock_ms())
        if change.ignored:
            return
        if change.line is not None:
            self.query_one("#diag-transcript", TranscriptView).add(change.line)
            if self.showing_transcript:
                self._show_detail_title()
            return
        if change.ended:
            self._render_steps()
            text, kind = progress.summary()
            self._set_summary(text, f"-{kind}")
            self._highlight(progress.selected)
            self._update_buttons()
            self._show_detail()
            self._ended_hooks(complete=True)
            return
        if change.laid_out:
            steps_list.set_options([step_line(s, 0.0, self._line_width()) for s in progress.steps])
            steps_list.highlighted = progress.selected
        elif change.step is not None:
            if steps_list.option_count < len(progress.steps):  # a step RunStarted did not list (not expected)
                highlighted = steps_list.highlighted
                steps_list.set_options([step_line(s, 0.0, self._line_width()) for s in progress.steps])
                steps_list.highlighted = highlighted
            self._render_steps()
            if steps_list.highlighted == change.step:
                self._show_detail()
            self._highlight(progress.selected)
        self._set_summary(progress.running_text(keys(self, "cancel_run")), "-running")

    def _highlight(self, index: int | None) -> None:
        steps_list = self.query_one(StepList)
        if index is not None and steps_list.highlighted != index:
            steps_list.highlighted = index

    def _ended(self, *, complete: bool) -> None:
        """A run cancelled or broken by an unexpected error: what happened so far (a partial Report, to copy or
        save)."""
        self._render_steps()
        text, kind = self.progress.summary() if self.progress is not None else ("", "running")
        self._set_summary(text, f"-{kind}")
        self._update_buttons()
        self._show_detail()
        self._ended_hooks(complete=complete)

    def _ended_hooks(self, *, complete: bool) -> None:
        """A run ended: a complete one is the setup guide's evidence (OutmailApp.record_run), and a wait for
        Exchange learns its attempt's outcome (tui/console/propagation_wait.py)."""
        from tui.console.propagation_wait import run_ended

        run_ended(self, complete=complete)

    def action_toggle_wait(self) -> None:
        """w: rerun until the run passes (tui/console/propagation_wait.py), or stop doing so."""
        from tui.console.propagation_wait import toggle

        toggle(self)

    # ------------------------------------------------------------------------------------------------ state → widgets

    def _line_width(self) -> int:
        width = self.query_one(StepList).content_region.width or self.size.width
        return max(width, 50)

    def _render_steps(self) -> None:
        if not self.is_mounted or self.progress is None:
            return
        steps_list = self.query_one(StepList)
        steps = self.progress.steps
        if steps_list.option_count != len(steps):
            return
        # While running, the axis reaches the time of this event (the pane redraws per event, not per tick).
        now = self.progress.axis_now_ms(clock_ms())
        total = run_total_ms(steps, self.report, now)
        width = self._line_width()
        highlighted = steps_list.highlighted
        for i, step in enumerate(steps):
            steps_list.replace_option_prompt_at_index(i, step_line(
                step, total, width, now, plain=i == highlighted, waited_until_ms=token_waited_until(steps, step)))

    def _set_summary(self, text: str, cls: str) -> None:
        summary = self.query_one("#diag-summary", Label)
        summary.update(text, layout=False)  # one row, full width: no layout pass per event
        for name in ("-ok", "-warn", "-fail", "-running", "-cancelled"):
            summary.set_class(name == cls, name)

    def _update_buttons(self) -> None:
        progress = self.progress
        self.query_one("#diag-cancel", PaneButton).disabled = not self.running
        self.query_one("#diag-copy-fix", PaneButton).disabled = progress is None or not progress.has_fix
        self.query_one("#diag-copy-transcript", PaneButton).disabled = not self.transcript
        self.query_one("#diag-save", PaneButton).disabled = self.running or self.report is None

    def _selected(self) -> Any:
        """The step shown: the one highlighted in the list."""
        if self.progress is None:
            return None
        return self.progress.step_at(self.query_one(StepList).highlighted)

    def _show_detail(self) -> None:
        step = self._selected()
        detail = self.query_one("#diag-detail", Static)
        if step is None:
            error = self.progress.error if self.progress is not None else None
            if error:
                content = Content(f"The diagnostics stopped: {error}")
            elif self.running:
                content = Content.styled("Starting…", "$text-muted")
            else:
                content = Content(f"Press {keys(self, 'diagnose')} to run the diagnostics on the settings on screen.")
        else:
            content = detail_content(step, token_order_note(self.steps, step), copy_key=keys(self, "copy_fix"))
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
        toggle = keys(self, "toggle_transcript")
        if self.showing_transcript:
            text: Content | str = (f"Transcript: {len(self.transcript)} lines, secrets redacted "
                                   f"({keys(self, 'copy_transcript')} copies, {toggle} shows the step detail)")
        else:
            step = self._selected()
            if step is None:
                text = f"Step detail and fix ({toggle} shows the transcript)"
            else:
                text = detail_head(step, self.steps.index(step), len(self.steps), keys_of=self)
        title.update(text, layout=False)  # one row, full width

    @on(OptionList.OptionHighlighted, "#diag-steps")
    def _step_highlighted(self) -> None:
        steps_list = self.query_one(StepList)
        if steps_list.user_moved and self.progress is not None:
            self.progress.choose(steps_list.highlighted)
        self._render_steps()  # the highlighted row without its colours (step_line's plain)
        self._show_detail()

    @on(OptionList.OptionSelected, "#diag-steps")
    def _step_selected(self) -> None:
        if self.showing_transcript:
            self.action_toggle_transcript()

    # ------------------------------------------------------------------------------------------------ actions

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
        self.query_one("#diag-toggle", PaneButton).update(
            key_before(self, "toggle_transcript", "Detail" if self.showing_transcript else "Transcript"))
        self._show_detail_title()

    def fix_step(self) -> Any:
        """The step whose fix `c` copies: the selected one if it has a hint, else the first failed, else warned."""
        if self.progress is None:
            return None
        return self.progress.fix_step(self.query_one(StepList).highlighted)

    def action_copy_fix(self) -> None:
        copy = self.progress.fix_copy(self.query_one(StepList).highlighted) if self.progress is not None else None
        if copy is None:
            self._say("Nothing to copy: no step has a fix" + (" yet" if self.running or not self.steps else ""))
            return
        text, what = copy
        self.app.copy_to_clipboard(text)
        self._say(f"✔ Copied {what} to the clipboard (OSC 52; where the terminal ignores it, select the text above)")

    def transcript_text(self) -> str:
        return self.progress.transcript_text() if self.progress is not None else ""

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
            self._say("Nothing to save yet: " + ("the run is still going" if self.running
                                             else f"press {keys(self, 'diagnose')} first"))
            return
        from tui.diagnostics.text import save_report

        path = self.report_path()
        try:
            save_report(self.report, path)
        except OSError as exc:
            self._say(f"Could not save the report to {path}: {exc.strerror or type(exc).__name__}", "error")
            return
        lasting = getattr(self.app, "lasting_folder", None)
        why = lasting()[1] if lasting is not None else ""
        self._say(f"✔ Saved the report (secrets redacted, readable by you only) to {path}"
                  + (f" (not next to the settings: {why})" if why else ""))


"""Provides the test-send dialog (ctrl+t / F6): send a test message with the settings on screen and say why it failed."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from tui.mail.message import DEFAULT_SUBJECT, MessageError, build_message, default_body, from_address, split_recipients
from tui.settings.model import Settings
from tui.console.buttons import ButtonActions
from tui.console.diagnostics_pane import clock_ms, hint_content, step_line
from tui.console.keytext import described, first_key, key_after, keys
from tui.console.messages import EngineEvent, RunBroke
from tui.diagnostics.progress import RunProgress, redacted_error
from tui.diagnostics.run_text import run_total_ms, step_title, token_waited_until

SEND_STEP_ID = "send"  # tui.mail.send.SEND_STEP_ID (not imported here: that module loads in the worker)
ARROW = "→"
INTRO_TEXT = ("Send runs the diagnostics steps (token, connect, EHLO, STARTTLS, AUTH), then MAIL FROM, RCPT TO and DATA. "
              "A refusal shows the server's exact reply and the fix.")
LABEL_WIDTH = 9


def ready_text(dialog: Any) -> str:
    """The status line before a send: "ctrl+t or F6 sends · Tab next field · Esc or ctrl+g closes", the keys named
    from the dialog's bindings (and the screen's Tab)."""
    return (f"{keys(dialog, 'send')} sends · {keys(dialog, 'focus_next')} next field · "
            f"{keys(dialog, 'ts_close')} closes")


def from_text(settings: Settings, send_as: str) -> str:
    """The From line: the address and where it comes from, as LogicalDOC would choose it."""
    address = from_address(settings, send_as)
    if send_as.strip():
        return f"{address}  (Send as; authenticated as {settings.username.strip() or 'no Username'})"
    if settings.userasfrom:
        return f"{address or '(Sender Email is empty)'}  (Sender Email; LogicalDOC uses each user's own address)"
    return f"{address or '(Sender Email is empty)'}  (Sender Email)"


def command_lines(commands: list[tuple[str, str]], width: int = 0) -> list[Content]:
    """`    MAIL FROM:<x> BODY=8BITMIME → 250 2.1.0 Sender OK`, one line per SMTP command of the send; a reply too long
    for `width` is cut with `…` (the whole reply is shown above the step list)."""
    lines = []
    for command, reply in commands:
        room = width - 4 - len(command) - 3
        if width and len(reply) > room > 10:
            reply = reply[: room - 1] + "…"
        lines.append(Content.assemble("    ", (command, "$text-accent"), f" {ARROW} ", reply or "…"))
    return lines


def failure_content(step: Any, reply: str | None, *, copy_key: str) -> Content:
    """A failed step: what the server (or the token service) said, why, the setup step, the fix and the PowerShell
    (`copy_key` copies it)."""
    hint = step.hint
    what = "the server refused the message" if step.id == SEND_STEP_ID else f"the {step_title(step)} step failed"
    parts: list[Content] = [Content.styled(f"✖ Not sent: {what}", "bold $text-error")]
    said = reply or (hint.reply if hint is not None else None) or (step.detail[0] if step.detail else "")
    if said:
        label = "Server reply: " if step.id in (SEND_STEP_ID, "auth", "connect", "ehlo", "starttls", "quit") \
            else "What went wrong: "
        parts.append(Content.assemble((label, "bold"), said))
    if hint is not None:
        parts.extend(hint_content(hint, copy_key=copy_key))
    rest = [line for line in step.detail if line != said and ARROW not in line]
    if rest:
        parts.append(Content.styled("Details:", "bold"))
        parts.extend(Content("  " + line) for line in rest)
    return Content("\n").join(parts)


def _relabel(button: Button, text: str) -> None:
    """A new label for an auto-width button, laid out again when its width changes (Button's `label` refreshes
    without layout: a longer label would be cut at the old width, "Copy reply (ctrl+o)" shown as "Copy reply")."""
    if str(button.label) != text:
        resized = len(str(button.label)) != len(text)
        button.label = Content(text)
        if resized:
            button.refresh(layout=True)


class SendDialog(ButtonActions, ModalScreen["Any | None"]):
    """Recipients, subject and body for a test message; Send runs the diagnostics steps, then MAIL FROM, RCPT TO and
    DATA on the settings on screen (saved or not). Dismisses with the SendReport of the last send, or None.

    The send worker belongs to this screen, so closing the dialog (Esc, ctrl+g, Cancel) cancels a send in progress.
    """

    __test__ = False  # not a pytest class

    # Keys that do not type text: the fields (Input, TextArea) take every letter. ctrl+t and F6 are priority keys
    # because the TextArea binds F6 (select line); ctrl+g, ctrl+o and Esc are bound by neither Input nor TextArea.
    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"ts-send": "send", "ts-copy": "copy_fix", "ts-close": "close"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "send", "Send the test message", priority=True, id="ts_send",
                tooltip="Send (the same key that opened the dialog); a wrong address is shown, nothing is sent."),
        Binding("f6", "send", "Send the test message", priority=True, show=False, id="ts_send_f6",
                key_display="F6"),
        Binding("ctrl+o", "copy_fix", "Copy the fix", show=False, id="ts_copy",
                tooltip="Copy the failure's PowerShell (or fix), or after a success the server's reply (OSC 52)."),
        Binding("escape,ctrl+g", "close", "Close", show=False, id="ts_close",
                tooltip="Close the dialog; a send in progress is cancelled (the connection is closed)."),
        Binding("q", "close", "Close (when the focus is not in a text field)", show=False, id="ts_close_q"),
    ]
    # Listed in F1 with the dialog's own keys: Tab and shift+Tab are the screen's, Enter the Input's (submit).
    HELP_KEYS: ClassVar[list[BindingType]] = [
        *described(ModalScreen, "focus_next", "focus_previous",
                   description="Move between Send as, To, Subject, Body and the buttons"),
        *described(Input, "submit", description="In To, Subject or Send as: the next field (it does not send)"),
    ]

    DEFAULT_CSS = """
    SendDialog {
        align: center middle;
    }
    SendDialog #ts-dialog {
        width: 78;
        max-width: 100%;
        height: 100%;
        max-height: 30;
        border: solid $primary;
        background: $surface;
        padding: 0 1;
    }
    SendDialog #ts-title {
        width: 1fr;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SendDialog .ts-row {
        height: 1;
    }
    SendDialog .ts-label {
        width: 9;
        text-wrap: nowrap;
    }
    SendDialog .ts-row Input {
        width: 1fr;
    }
    SendDialog #ts-from {
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SendDialog #ts-body {
        height: 3;
        width: 1fr;
        padding: 0 1 0 0;  /* text in line with the fields above (TextArea pads both sides) */
        scrollbar-size-vertical: 1;
    }
    SendDialog #ts-body-row {
        height: 3;
    }
    SendDialog #ts-status {
        width: 1fr;
        height: auto;
        max-height: 3;
        text-overflow: ellipsis;
        color: $text-muted;
    }
    SendDialog #ts-status.-error { color: $text-error; text-style: bold; }
    SendDialog #ts-status.-running { color: $text-accent; text-style: bold; }
    SendDialog #ts-status.-ok { color: $text-success; text-style: bold; }
    SendDialog #ts-status.-cancelled { color: $text-warning; text-style: bold; }
    SendDialog #ts-result {
        height: 1fr;
        border-top: solid $primary;
        scrollbar-size-vertical: 1;
    }
    SendDialog #ts-buttons {
        height: 1;
        align-horizontal: right;
    }
    SendDialog #ts-buttons Button {
        width: auto;
        min-width: 0;
        margin-left: 2;
    }
    """

    def __init__(self, settings: Settings, *, recipients: str | None = None, token_cache: Any = None) -> None:
        super().__init__()
        self.settings = settings
        self.recipients = recipients  # None: the last ones used while the console runs (app.last_test_recipients)
        self.token_cache = token_cache  # None: the engine's process-wide cache (the diagnostics' token is reused)
        self.run_id = 0
        self.progress: RunProgress | None = None  # the current (or last) send's state; None before the first
        self.worker: Worker[Any] | None = None
        self.message_error: str | None = None  # what is wrong with the message (To, Send as, Subject), shown in full

    # The current send's state (tests and the console read these).

    @property
    def running(self) -> bool:
        return self.progress is not None and self.progress.running

    @property
    def report(self) -> Any:
        """The last send's SendReport (`report.send`: the SendOutcome) when it ran to the end (sent or refused), else
        None; what the dialog dismisses with."""
        progress = self.progress
        if progress is None or not progress.complete:
            return None
        report = progress.report
        if not hasattr(report, "send"):  # the engine's Report: the send's view of it (tui.mail.send, loaded by now)
            from tui.mail.send import SendReport

            report = SendReport(report)
        return report

    @property
    def steps(self) -> list[Any]:
        return self.progress.steps if self.progress is not None else []

    @property
    def commands(self) -> list[tuple[str, str]]:
        """The send step's (command, reply) pairs so far."""
        return self.progress.commands if self.progress is not None else []

    @property
    def error(self) -> str | None:
        """The text of the unexpected error that stopped the last send (redacted), or None."""
        return self.progress.error if self.progress is not None else None

    # ------------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        settings = self.settings
        to = self.recipients if self.recipients is not None else str(getattr(self.app, "last_test_recipients", ""))
        with Vertical(id="ts-dialog"):
            yield Label(f"Test send: the settings on screen (unsaved edits too), tenant {settings.tenant}",
                        id="ts-title", markup=False)
            with Horizontal(classes="ts-row"):
                yield Label("From", classes="ts-label")
                yield Label(from_text(settings, ""), id="ts-from", markup=False)
            if settings.userasfrom:
                with Horizontal(classes="ts-row"):
                    yield Label("Send as", classes="ts-label")
                    yield Input("", placeholder="a LogicalDOC user's address (empty: Sender Email)", id="ts-sendas",
                                compact=True)
            with Horizontal(classes="ts-row"):
                yield Label("To", classes="ts-label")
                yield Input(to, placeholder="recipient(s), separated by commas or spaces", id="ts-to", compact=True)
            with Horizontal(classes="ts-row"):
                yield Label("Subject", classes="ts-label")
                yield Input(DEFAULT_SUBJECT, id="ts-subject", compact=True)
            with Horizontal(id="ts-body-row"):
                yield Label("Body", classes="ts-label")
                yield TextArea(default_body(settings), id="ts-body", compact=True, soft_wrap=True,
                               highlight_cursor_line=False)
            yield Label(ready_text(self), id="ts-status", markup=False)
            with VerticalScroll(id="ts-result", can_focus=True):
                yield Static(Content.styled(INTRO_TEXT, "$text-muted"), id="ts-progress", markup=False)
            with Horizontal(id="ts-buttons"):
                yield Button(Content(key_after(self, "send", "Send")), id="ts-send", variant="primary", compact=True)
                yield Button(Content(key_after(self, "copy_fix", "Copy fix")), id="ts-copy", compact=True,
                             disabled=True)
                yield Button(Content(key_after(self, "ts_close", "Cancel")), id="ts-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ts-to", Input).focus()

    # ------------------------------------------------------------------------------------------------ fields

    @on(Input.Changed, "#ts-sendas")
    def _send_as_changed(self, event: Input.Changed) -> None:
        self.query_one("#ts-from", Label).update(from_text(self.settings, event.value))

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        """While a wrong address is shown, check again as the admin types: fixed, it goes (nothing is sent)."""
        if self.message_error is not None and not self.running:
            self._check_message()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def _values(self) -> tuple[str, str, str, str]:
        send_as = self.query("#ts-sendas")
        return (
            self.query_one("#ts-to", Input).value,
            self.query_one("#ts-subject", Input).value,
            self.query_one("#ts-body", TextArea).text,
            send_as.first(Input).value if send_as else "",
        )

    # ------------------------------------------------------------------------------------------------ sending

    def action_send(self) -> None:
        """Send once the focused field has handled the keys typed before this one (a priority key overtakes them)."""
        focused = self.focused
        if focused is not None:
            focused.call_later(self._send_now)
        else:
            self._send_now()

    def _send_now(self) -> None:
        """Check the message (a wrong address is shown here, nothing is sent), then send it in a worker."""
        if not self.is_attached:
            return  # closed before the focused field got here
        if self.running:
            self._set_status(f"… A send is already running ({first_key(self, 'ts_close')} closes the dialog and "
                             "cancels it)", "-running")
            return
        test = self._check_message()
        if test is None:
            return
        to_text = self._values()[0]
        self.app.last_test_recipients = to_text.strip()  # type: ignore[attr-defined]
        self.run_id += 1
        self.progress = RunProgress(begun_ms=clock_ms())
        self._set_status("… Starting the send", "-running")
        self._show_progress()
        self._update_buttons()
        self.worker = self._send(self.settings, test, self.run_id)

    def _check_message(self) -> Any:
        """The checked message, or None: then what is wrong is on the status line and, in full with what to do,
        where the result goes (a long pasted address is cut, its length named); fixed, both go back."""
        from tui.console.shorten import cut_value

        to_text, subject, body, send_as = self._values()
        try:
            test = build_message(self.settings, split_recipients(to_text), subject, body, send_as or None)
        except MessageError as exc:
            text = str(exc)
            for value in (to_text, send_as, *split_recipients(to_text)):
                text = cut_value(text, value)
            first = text.split(":", 1)[0]
            self._set_status(f"✖ {first} (more below); nothing was sent", "-error")
            self.message_error = text
            self.query_one("#ts-progress", Static).update(Content("\n").join([
                Content.styled(f"✖ {text}", "bold $text-error"),
                Content(""),
                Content(f"Correct it above ({keys(self, 'focus_next')} moves between the fields); this goes as soon "
                        "as it is right. Nothing was sent and nothing connected."),
            ]))
            return None
        if self.message_error is not None:
            self.message_error = None
            self._set_status(ready_text(self), "")
            if self.report is None and not self.steps:  # nothing sent yet (or a send that stopped before its steps)
                self.query_one("#ts-progress", Static).update(Content.styled(INTRO_TEXT, "$text-muted"))
            else:
                self._show_progress()
        return test

    @work(exclusive=True, exit_on_error=False, group="send", description="outmail test send")
    async def _send(self, settings: Settings, test: Any, run_id: int) -> Any:
        """send_test in an async worker: each engine event becomes an EngineEvent for this dialog (an unexpected
        error a RunBroke); nothing touches widgets. Returns the SendReport."""
        try:
            if "tui.mail.send" not in sys.modules:
                # First send: load the engine and the send module off the event loop.
                import importlib

                await asyncio.to_thread(importlib.import_module, "tui.mail.send")
            from tui.mail.send import send_test

            def emit(event: Any) -> None:
                self.post_message(EngineEvent(run_id, event))

            return await send_test(settings, test, emit=emit, token_cache=self.token_cache)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the worker boundary: any failure is shown in the dialog, never a crash
            self.post_message(RunBroke(run_id, redacted_error(settings, exc)))
            return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker or not self.running or not self.is_attached:
            return  # an earlier send, or the dialog is closing (which is what cancelled it)
        progress = self.progress
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            progress.broke(redacted_error(self.settings, error) if isinstance(error, BaseException)
                           else "unknown error", now_ms=clock_ms())
            self._ended()
        elif event.state == WorkerState.CANCELLED:
            progress.cancelled(now_ms=clock_ms())
            self._ended()
        elif event.state == WorkerState.SUCCESS and event.worker.result is not None:
            # the engine ended without RunFinished (it always sends one): the returned report ends the send
            from tui.diagnostics.events import RunFinished

            self._apply(RunFinished(event.worker.result))

    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        message.stop()
        if message.run_id == self.run_id:
            self._apply(message.event)

    @on(RunBroke)
    def _run_broke(self, message: RunBroke) -> None:
        message.stop()
        if message.run_id == self.run_id and self.running:
            self.progress.broke(message.error, now_ms=clock_ms())
            self._ended()

    def _apply(self, event: Any) -> None:
        """One engine event of the current send: into the RunProgress, then redraw the progress (the dialog shows
        no transcript: a transcript line changes nothing on screen)."""
        progress = self.progress
        if progress is None:
            return
        change = progress.apply(event, now_ms=clock_ms())
        if change.ignored or change.line is not None:
            return
        if change.ended:
            record = getattr(self.app, "record_run", None)
            if record is not None:
                record(self.report)  # the setup guide's evidence: a send accepted after DATA proves Send As (S7)
            self._ended()
            self.query_one("#ts-result").scroll_home(animate=False)
            return
        self._set_status(progress.running_text(first_key(self, "ts_close")), "-running")
        self._show_progress()
        self.query_one("#ts-result").scroll_end(animate=False)

    def _ended(self) -> None:
        """The send ended (sent, refused, cancelled or broken): the outcome on the status line and above the
        steps."""
        text, kind = self.progress.send_summary()
        self._set_status(text, f"-{kind}")
        self._show_progress()
        self._update_buttons()

    # ------------------------------------------------------------------------------------------------ state → widgets

    def _set_status(self, text: str, cls: str) -> None:
        status = self.query_one("#ts-status", Label)
        status.update(text)
        for name in ("-error", "-running", "-ok", "-cancelled"):
            status.set_class(name == cls, name)

    def _line_width(self) -> int:
        width = self.query_one("#ts-result").scrollable_content_region.width
        return max(width or 0, 50)

    def _show_progress(self) -> None:
        parts: list[Content] = []
        report = self.report
        if report is not None and report.send.sent:
            parts.append(Content.styled("✔ Sent. The server replied:", "bold $text-success"))
            parts.append(Content("    " + (report.send.reply or "")))
            if report.send.queue_id:
                parts.append(Content.assemble(("queue id ", "bold"), (report.send.queue_id, "bold $text-success")))
            parts.append(Content(""))
        elif report is not None and report.failed_step is not None:
            failed = report.failed_step
            parts.append(failure_content(failed, report.send.reply if failed.id == SEND_STEP_ID else None,
                                         copy_key=first_key(self, "copy_fix")))
            parts.append(Content(""))
        elif self.error is not None:
            parts.append(Content.styled(f"✖ The send stopped: {self.error}", "bold $text-error"))
        steps = self.steps
        total = run_total_ms(steps, report)
        width = self._line_width()
        for step in steps:
            parts.append(step_line(step, total, width, waited_until_ms=token_waited_until(steps, step)))
            if step.id == SEND_STEP_ID and self.commands:
                parts.extend(command_lines(self.commands, width))
        if not parts:
            parts.append(Content.styled("… starting", "$text-muted"))
        self.query_one("#ts-progress", Static).update(Content("\n").join(parts))

    def _update_buttons(self) -> None:
        self.query_one("#ts-send", Button).disabled = self.running
        copy = self.query_one("#ts-copy", Button)
        copy.disabled = self._copy_text() is None
        sent = self.progress is not None and self.progress.sent
        _relabel(copy, key_after(self, "copy_fix", "Copy reply" if sent else "Copy fix"))
        close = self.query_one("#ts-close", Button)
        _relabel(close, key_after(self, "ts_close", "Cancel" if self.running or self.report is None else "Close"))
        if not self.running:
            self.query_one("#ts-result").focus()  # arrows and PgUp/PgDn scroll the result; Tab returns to the fields

    # ------------------------------------------------------------------------------------------------ actions

    def _copy_text(self) -> tuple[str, str] | None:
        """(text, what) that ctrl+o copies: the failure's PowerShell or fix, or the server's reply after a success."""
        return self.progress.send_copy() if self.progress is not None else None

    def action_copy_fix(self) -> None:
        copy = self._copy_text()
        if copy is None:
            self._set_status("Nothing to copy yet: send first" if self.report is None else "Nothing to copy: no fix",
                             "")
            return
        text, what = copy
        self.app.copy_to_clipboard(text)
        self._set_status(f"✔ Copied {what} to the clipboard (OSC 52; where the terminal ignores it, select it "
                         "below)", "-ok")

    def action_close(self) -> None:
        """Close the dialog; a send still running is cancelled with it (the worker belongs to this screen)."""
        if self.running:
            say = getattr(self.app, "say", None)
            if say is not None:
                say(f"Test send cancelled: {self.progress.what_was_sent()}")
        self.dismiss(self.report)


__all__ = ["SendDialog", "from_text", "failure_content", "command_lines", "ready_text"]

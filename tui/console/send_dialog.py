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
from tui.console.diagnostics_pane import (
    STATE_STYLES,
    STATE_WORDS,
    redacted_error,
    format_ms,
    hint_content,
    run_total_ms,
    step_line,
    step_title,
    token_waited_until,
)
from tui.console.messages import (
    DiagnosticsStarted,
    SendCommandAnswered,
    StepFinished,
    StepStarted,
    SendFinished,
)

SEND_STEP_ID = "send"  # tui.mail.send.SEND_STEP_ID (not imported here: that module loads in the worker)
ARROW = "→"
READY_TEXT = "ctrl+t or F6 sends · Tab next field · Esc or ctrl+g closes"
INTRO_TEXT = ("Send runs the diagnostics steps (token, connect, EHLO, STARTTLS, AUTH), then MAIL FROM, RCPT TO and DATA. "
              "A refusal shows the server's exact reply and the fix.")
LABEL_WIDTH = 9


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
        lines.append(Content.assemble("    ", (command, "$text-accent"), f" {ARROW} ", reply))
    return lines


def failure_content(step: Any, reply: str | None) -> Content:
    """A failed step: what the server (or the token service) said, why, the setup step, the fix and the PowerShell."""
    hint = step.hint
    what = "the server refused the message" if step.id == SEND_STEP_ID else f"the {step_title(step)} step failed"
    parts: list[Content] = [Content.styled(f"✖ Not sent: {what}", "bold $text-error")]
    said = reply or (hint.reply if hint is not None else None) or (step.detail[0] if step.detail else "")
    if said:
        label = "Server reply: " if step.id in (SEND_STEP_ID, "auth", "connect", "ehlo", "starttls", "quit") \
            else "What went wrong: "
        parts.append(Content.assemble((label, "bold"), said))
    if hint is not None:
        parts.extend(hint_content(hint, copy_key="ctrl+o"))
    rest = [line for line in step.detail if line != said and ARROW not in line]
    if rest:
        parts.append(Content.styled("Details:", "bold"))
        parts.extend(Content("  " + line) for line in rest)
    return Content("\n").join(parts)


class SendDialog(ModalScreen["Any | None"]):
    """Recipients, subject and body for a test message; Send runs the diagnostics steps, then MAIL FROM, RCPT TO and
    DATA on the settings on screen (saved or not). Dismisses with the SendReport of the last send, or None.

    The send worker belongs to this screen, so closing the dialog (Esc, ctrl+g, Cancel) cancels a send in progress.
    """

    __test__ = False  # not a pytest class

    # Keys that do not type text: the fields (Input, TextArea) take every letter. ctrl+t and F6 are priority keys
    # because the TextArea binds F6 (select line); ctrl+g, ctrl+o and Esc are bound by neither Input nor TextArea.
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
    # Listed in F1 with the dialog's own keys.
    HELP_KEYS: ClassVar[list[BindingType]] = [
        Binding("tab,shift+tab", "focus_next", "Move between Send as, To, Subject, Body and the buttons"),
        Binding("enter", "next", "In To, Subject or Send as: the next field (Enter does not send)"),
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
        self.running = False
        self.worker: Worker[None] | None = None
        self.report: Any = None  # the last send's SendReport
        self.steps: list[Any] = []
        self.commands: list[tuple[str, str]] = []
        self.error: str | None = None
        self.message_error: str | None = None  # what is wrong with the message (To, Send as, Subject), shown in full

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
            yield Label(READY_TEXT, id="ts-status", markup=False)
            with VerticalScroll(id="ts-result", can_focus=True):
                yield Static(Content.styled(INTRO_TEXT, "$text-muted"), id="ts-progress", markup=False)
            with Horizontal(id="ts-buttons"):
                yield Button(Content("Send (ctrl+t)"), id="ts-send", variant="primary", compact=True)
                yield Button(Content("Copy fix (ctrl+o)"), id="ts-copy", compact=True, disabled=True)
                yield Button(Content("Cancel (Esc)"), id="ts-close", compact=True)

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
            self._set_status("… A send is already running (Esc closes the dialog and cancels it)", "-running")
            return
        test = self._check_message()
        if test is None:
            return
        to_text = self._values()[0]
        self.app.last_test_recipients = to_text.strip()  # type: ignore[attr-defined]
        self.run_id += 1
        self.running = True
        self.report = None
        self.error = None
        self.steps = []
        self.commands = []
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
                Content("Correct it above (Tab moves between the fields); this goes as soon as it is right. "
                        "Nothing was sent and nothing connected."),
            ]))
            return None
        if self.message_error is not None:
            self.message_error = None
            self._set_status(READY_TEXT, "")
            if self.report is None and not self.steps:
                self.query_one("#ts-progress", Static).update(Content.styled(INTRO_TEXT, "$text-muted"))
            else:
                self._show_progress()
        return test

    @work(exclusive=True, exit_on_error=False, group="send", description="outmail test send")
    async def _send(self, settings: Settings, test: Any, run_id: int) -> None:
        """send_test in an async worker: its events become messages for this dialog; nothing touches widgets."""
        try:
            if "tui.mail.send" not in sys.modules:
                # First send: load the engine and the send module off the event loop.
                import importlib

                await asyncio.to_thread(importlib.import_module, "tui.mail.send")
            from tui.diagnostics import engine
            from tui.mail.send import SendProgress, send_test

            def emit(event: Any) -> None:
                if isinstance(event, SendProgress):
                    self.post_message(SendCommandAnswered(run_id, event.command, event.reply, event.step))
                elif isinstance(event, engine.StepStarted):
                    self.post_message(StepStarted(run_id, event.step))
                elif isinstance(event, engine.StepFinished):
                    self.post_message(StepFinished(run_id, event.step))
                elif isinstance(event, engine.RunStarted):
                    self.post_message(DiagnosticsStarted(run_id, event.steps))

            report = await send_test(settings, test, emit=emit, token_cache=self.token_cache)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the worker boundary: any failure is shown in the dialog, never a crash
            self.post_message(SendFinished(run_id, error=redacted_error(settings, exc)))
            return
        self.post_message(SendFinished(run_id, report))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker or not self.running or not self.is_attached:
            return  # an earlier send, or the dialog is closing (which is what cancelled it)
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self._finish_without_report(
                redacted_error(self.settings, error) if isinstance(error, BaseException) else "unknown error")
        elif event.state == WorkerState.CANCELLED:
            self._finish_without_report(None)

    @on(DiagnosticsStarted)
    def _run_started(self, message: DiagnosticsStarted) -> None:
        message.stop()
        if message.run_id != self.run_id:
            return
        self.steps = [step.copy() for step in message.steps]
        self._progressed()

    @on(StepStarted)
    @on(StepFinished)
    def _step_changed(self, message: StepStarted | StepFinished) -> None:
        message.stop()
        if message.run_id != self.run_id:
            return
        self._store(message.step)
        self._progressed()

    @on(SendCommandAnswered)
    def _command_answered(self, message: SendCommandAnswered) -> None:
        message.stop()
        if message.run_id != self.run_id:
            return
        self.commands.append((message.command, message.reply))
        self._store(message.step)
        self._progressed()

    @on(SendFinished)
    def _send_finished(self, message: SendFinished) -> None:
        message.stop()
        if message.run_id != self.run_id:
            return
        if message.report is None:
            self._finish_without_report(message.error or "unknown error")
            return
        self.running = False
        report = message.report
        self.report = report
        record = getattr(self.app, "record_run", None)
        if record is not None:
            record(report)  # the setup guide's evidence: a send accepted after DATA proves Send As (S7)
        self.steps = [s.copy() for s in report.steps]
        self.commands = list(report.send.commands)
        if report.send.sent:
            queue = f"queue id {report.send.queue_id}" if report.send.queue_id else "no queue id in the reply"
            self._set_status(f"✔ Sent in {format_ms(report.duration_ms)}: {queue}", "-ok")
        else:
            failed = report.failed_step
            where = f" at {failed.id}" if failed is not None else ""
            self._set_status(f"✖ Not sent{where}: {report.send.reply or self._failure_summary(failed)}", "-error")
        self._show_progress()
        self._update_buttons()
        self.query_one("#ts-result").scroll_home(animate=False)

    def _finish_without_report(self, error: str | None) -> None:
        self.running = False
        self.error = error
        for step in self.steps:
            if step.status in ("pending", "running"):
                step.status = "skipped"
        if error is None:
            self._set_status("Cancelled: nothing was sent", "-cancelled")
        else:
            self._set_status(f"✖ The send stopped: {error}", "-error")
        self._show_progress()
        self._update_buttons()

    @staticmethod
    def _failure_summary(step: Any) -> str:
        if step is None:
            return "the send did not complete"
        if step.hint is not None and step.hint.reply:
            return step.hint.reply
        return step.detail[0] if step.detail else f"the {step.id} step failed"

    # ------------------------------------------------------------------------------------------------ state → widgets

    def _store(self, step: Any) -> None:
        for i, known in enumerate(self.steps):
            if known.id == step.id:
                self.steps[i] = step
                return
        at = next((i for i, s in enumerate(self.steps) if s.id == "quit"), len(self.steps))
        self.steps.insert(at, step)

    def _progressed(self) -> None:
        if self.running:
            done = sum(1 for s in self.steps if s.status not in ("pending", "running"))
            running = [step_title(s) for s in self.steps if s.status == "running"]
            now = f"running {', '.join(running)}" if running else "running"
            self._set_status(f"… {now} ({done} of {len(self.steps)} steps done; Esc cancels)", "-running")
        self._show_progress()
        if self.running:
            self.query_one("#ts-result").scroll_end(animate=False)

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
            parts.append(failure_content(failed, report.send.reply if failed.id == SEND_STEP_ID else None))
            parts.append(Content(""))
        elif self.error is not None:
            parts.append(Content.styled(f"✖ The send stopped: {self.error}", "bold $text-error"))
        total = run_total_ms(self.steps, report)
        width = self._line_width()
        for step in self.steps:
            parts.append(step_line(step, total, width, waited_until_ms=token_waited_until(self.steps, step)))
            if step.id == SEND_STEP_ID and self.commands:
                parts.extend(command_lines(self.commands, width))
        if not parts:
            parts.append(Content.styled("… starting", "$text-muted"))
        self.query_one("#ts-progress", Static).update(Content("\n").join(parts))

    def _update_buttons(self) -> None:
        self.query_one("#ts-send", Button).disabled = self.running
        copy = self.query_one("#ts-copy", Button)
        copy.disabled = self._copy_text() is None
        copy.label = Content("Copy reply (ctrl+o)" if self.report is not None and self.report.send.sent
                             else "Copy fix (ctrl+o)")
        close = self.query_one("#ts-close", Button)
        close.label = Content("Cancel (Esc)" if self.running or self.report is None else "Close (Esc)")
        if not self.running:
            self.query_one("#ts-result").focus()  # arrows and PgUp/PgDn scroll the result; Tab returns to the fields

    # ------------------------------------------------------------------------------------------------ actions

    def _copy_text(self) -> tuple[str, str] | None:
        """(text, what) that ctrl+o copies: the failure's PowerShell or fix, or the server's reply after a success."""
        report = self.report
        if report is None:
            return None
        if report.send.sent:
            return report.send.reply or "", "the server's reply"
        failed = report.failed_step
        if failed is None or failed.hint is None:
            return None
        if failed.hint.command:
            lines = len(failed.hint.command.splitlines())
            return failed.hint.command, f"the PowerShell for {step_title(failed)} ({lines} line{'s' if lines != 1 else ''})"
        return failed.hint.fix, f"the fix for {step_title(failed)}"

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
                say("Test send cancelled: nothing was sent")
        self.dismiss(self.report)

    @on(Button.Pressed, "#ts-send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    @on(Button.Pressed, "#ts-copy")
    def _copy_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_copy_fix()

    @on(Button.Pressed, "#ts-close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()


__all__ = ["SendDialog", "from_text", "failure_content", "command_lines", "STATE_WORDS", "STATE_STYLES"]

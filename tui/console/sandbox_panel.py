"""Provides the sandbox panel of `outmail demo` (F7): switch the sandbox's fault and read the sandbox mailbox."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.console.buttons import ButtonActions
from tui.console.keytext import described, fill, first_key, key_before, keys

NO_FAULT = "none"  # the option id of "no fault" (fault names never take this value)
LINE_WIDTH = 72


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def fault_prompt(name: str | None, description: str, current: bool) -> Content:
    """`● no-mailbox-permission  Exchange refuses ... (current)`: the current one marked in words, not colour only."""
    mark = "●" if current else " "
    label = name or "no fault"
    tail = "  (current)" if current else ""
    text = f"{label:<27} " + _clip(description, LINE_WIDTH - 2 - 28 - len(tail))
    return Content.assemble((f"{mark} ", "bold"), (text, "bold" if current else ""), (tail, "bold"))


def mailbox_content(messages: list[Any], send_key: str | None = None) -> Content:
    """The sandbox mailbox, newest first: one block per message with Date, From, To and Subject (as received).
    `send_key`: the test send's key in words (default: OutmailApp's binding)."""
    if not messages:
        if send_key is None:
            from tui.console.app import OutmailApp

            send_key = first_key(OutmailApp, "test_send")
        return Content.styled(f"No message received yet. A test send ({send_key}) delivers here.", "$text-muted")
    parts: list[Content] = []
    for msg in reversed(messages):
        subject = _clip(msg.get("Subject", "") or "(no subject)", LINE_WIDTH - 9)
        parts.append(Content.assemble(("Subject: ", "bold"), subject))
        parts.append(Content("  " + _clip(f"From: {msg.get('From', '')}  To: {msg.get('To', '')}", LINE_WIDTH - 2)))
        parts.append(Content.styled("  " + _clip(f"Date: {msg.get('Date', '')}", LINE_WIDTH - 2), "$text-muted"))
    return Content("\n").join(parts)


class SandboxPanel(ButtonActions, ModalScreen["tuple[str, bool] | None"]):
    """The sandbox's faults (the current one marked) and its mailbox; only in `outmail demo` (app.demo).

    Dismisses with (what to say, run the diagnostics) once a fault is chosen (Enter, n, F5), or None (q, Esc)."""

    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"sandbox-run": "run", "sandbox-no-fault": "no_fault",
        "sandbox-refresh": "refresh_mailbox", "sandbox-close": "close"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "close", "Close the sandbox panel", show=False),
        Binding("n", "no_fault", "No fault: the sandbox works normally again (closes the panel)", show=False),
        Binding("m", "refresh_mailbox", "Read the sandbox mailbox again", show=False),
        Binding("f5", "run", "Choose the highlighted fault, close the panel and run the diagnostics", show=False,
                key_display="F5"),
    ]
    # For F1: Enter on a fault chooses it (the OptionList's own key, read from its binding).
    HELP_KEYS: ClassVar[list[BindingType]] = described(
        OptionList, "select", description="Choose the highlighted fault and close the panel: the next token request "
                                          "and SMTP connection meet it")

    DEFAULT_CSS = """
    SandboxPanel {
        align: center middle;
    }
    SandboxPanel .sandbox-dialog {
        width: 78;
        max-width: 100%;
        height: 22;
        max-height: 100%;
        border: solid $primary;
        background: $surface;
        padding: 0 1;
    }
    SandboxPanel .sandbox-heading {
        width: 1fr;
        text-style: bold;
    }
    SandboxPanel #sandbox-faults {
        height: 10;
        border: none;
        padding: 0;
        scrollbar-size-vertical: 1;
    }
    SandboxPanel #sandbox-fault-detail {
        height: 2;
        color: $text-muted;
    }
    SandboxPanel #sandbox-mailbox {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    SandboxPanel #sandbox-buttons {
        height: 1;
        align-horizontal: right;
    }
    SandboxPanel #sandbox-buttons Button {
        width: auto;
        min-width: 0;
        margin-left: 1;
    }
    """

    def __init__(self, sandbox: Any, focus: str = "faults") -> None:
        super().__init__()
        self.sandbox = sandbox
        self.initial_focus = focus

    def compose(self) -> ComposeResult:
        with Vertical(classes="sandbox-dialog"):
            yield Label(f"Sandbox fault ({first_key(OptionList, 'select')} chooses and closes, {keys(self, 'run')} "
                        "runs; the next run meets it)", classes="sandbox-heading", markup=False)
            yield OptionList(id="sandbox-faults", compact=True, markup=False)
            yield Static("", id="sandbox-fault-detail", markup=False)
            yield Label("", id="sandbox-mailbox-title", classes="sandbox-heading", markup=False)
            with VerticalScroll(id="sandbox-mailbox"):
                yield Static("", id="sandbox-messages", markup=False)
            with Horizontal(id="sandbox-buttons"):
                yield Button(Content(key_before(self, "run", "Run")), id="sandbox-run", compact=True)
                yield Button(Content(key_before(self, "no_fault", "No fault")), id="sandbox-no-fault", compact=True)
                yield Button(Content(key_before(self, "refresh_mailbox", "Refresh mailbox")), id="sandbox-refresh",
                             compact=True)
                yield Button(Content(key_before(self, "close", "Close")), id="sandbox-close", compact=True)

    def on_mount(self) -> None:
        self.show_faults()
        self.action_refresh_mailbox()
        if self.initial_focus == "mailbox":
            self.query_one("#sandbox-mailbox").focus()
        else:
            self.query_one("#sandbox-faults").focus()

    def show_faults(self) -> None:
        from tui.sandbox import FAULTS

        current = self.sandbox.fault
        faults = self.query_one("#sandbox-faults", OptionList)
        options = [Option(fault_prompt(None, "the sandbox works like a correctly set-up tenant", current is None),
                          id=NO_FAULT)]
        options += [Option(fault_prompt(name, text, name == current), id=name) for name, text in FAULTS.items()]
        highlighted = faults.highlighted
        faults.set_options(options)
        names = [NO_FAULT, *FAULTS]
        faults.highlighted = highlighted if highlighted is not None else names.index(current or NO_FAULT)

    def choose(self, name: str | None) -> str | None:
        """Switch the sandbox's fault; a token fault also empties the token cache, so the next run meets it. The
        words saying so, or None when the sandbox refused (said in the panel, which stays open)."""
        from tui.sandbox import FAULTS, FAULTS_BY_NAME

        try:
            self.sandbox.set_fault(name)
        except Exception as exc:  # noqa: BLE001 - a sandbox that stopped: say so, keep the console
            self.query_one("#sandbox-fault-detail", Static).update(
                Content.styled(f"✖ Could not switch the fault: {type(exc).__name__}", "bold $text-error"))
            return None
        note = ""
        fault = FAULTS_BY_NAME.get(name) if name else None
        if fault is not None and fault.touches("token"):
            from tui.diagnostics.token import DEFAULT_TOKEN_CACHE

            DEFAULT_TOKEN_CACHE.clear()
            note = " The token cache was emptied, so the next run asks the token service."
        text = f"Sandbox fault: {name} ({FAULTS[name]})." if name else "Sandbox fault: none; it works normally."
        self.show_faults()
        return text + note

    def choose_and_close(self, name: str | None, *, run: bool = False) -> None:
        """Choose the fault and close the panel; the console says it on its message line (a toast covered the
        panel) and, with `run` (F5), runs the diagnostics (OutmailApp._sandbox_closed)."""
        said = self.choose(name)
        if said is not None:
            self.dismiss((said if run else said + fill(self.app, " {diagnose} runs the diagnostics."), run))

    @on(OptionList.OptionHighlighted, "#sandbox-faults")
    def _fault_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """The highlighted fault in full: what the sandbox does and the setup step it points at."""
        from tui.sandbox import FAULTS_BY_NAME

        fault = FAULTS_BY_NAME.get(event.option.id or "")
        if fault is None:
            text = "No fault: every step passes, as with a correctly set-up tenant."
        else:
            step = f" Points at {fault.setup_step}." if fault.setup_step else ""
            effect = fault.effect if fault.effect.endswith(".") else fault.effect + "."
            text = f"{fault.name} ({fault.service}): {effect}{step}"
        self.query_one("#sandbox-fault-detail", Static).update(Content(text))

    @on(OptionList.OptionSelected, "#sandbox-faults")
    def _fault_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id
        self.choose_and_close(None if option_id == NO_FAULT else option_id)

    def action_no_fault(self) -> None:
        self.choose_and_close(None)

    def action_run(self) -> None:
        """F5: the highlighted fault, when it is not the current one yet, then close and run the diagnostics."""
        faults = self.query_one("#sandbox-faults", OptionList)
        option = faults.highlighted_option if faults.has_focus else None
        name = self.sandbox.fault
        if option is not None:
            name = None if option.id == NO_FAULT else option.id
        self.choose_and_close(name, run=True)

    def action_refresh_mailbox(self) -> None:
        try:
            messages = self.sandbox.messages()
        except Exception as exc:  # noqa: BLE001 - an unreadable message file must not close the console
            self.query_one("#sandbox-mailbox-title", Label).update(
                f"✖ Could not read the sandbox mailbox: {type(exc).__name__} ({first_key(self, 'refresh_mailbox')} "
                "tries again)")
            self.query_one("#sandbox-messages", Static).update("")
            return
        count = len(messages)
        self.query_one("#sandbox-mailbox-title", Label).update(
            f"Sandbox mailbox: {count} message{'s' if count != 1 else ''} received, newest first "
            f"({first_key(self, 'refresh_mailbox')} refreshes)")
        self.query_one("#sandbox-messages", Static).update(
            mailbox_content(messages, send_key=first_key(self.app, "test_send")))

    def action_close(self) -> None:
        self.dismiss(None)


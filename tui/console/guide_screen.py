"""Provides the setup guide (F12): LogicalDOC's Microsoft 365 setup steps as a checklist, each proven, failed or not
known from the console's last run (F5, a test send) and a pasted verification, with the PowerShell filled in; the
setup and verification scripts to copy or save; the authorization model asked once.

The guide itself is `tui.guide.build_guide` (no Textual); this screen shows it at 80x24 and keeps what the admin chose
on the app while the console runs: `guide_model`, `guide_verification`, `guide_from_addresses`. Its evidence is
`app.last_run` (`OutmailApp.record_run`); it is rebuilt when a run ends, even one started from here (F5, w).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui.console.buttons import ButtonActions
from tui.console.dialogs import Choice, ChoiceDialog
from tui.console.keytext import ConsoleBinding, described, fill_tooltips, first_key, key_after, keys

# A step's state in words first, with a mark that reads without colour (NO_COLOR), then its colour.
STATE_WORDS = {"proven": "✔ proven", "failed": "✖ FAILED", "unknown": "· not known", "not-needed": "– not needed"}
STATE_STYLES = {"proven": "$text-success", "failed": "bold $text-error", "unknown": "", "not-needed": "$text-muted"}
EVIDENCE_MARKS = {"proven": "✔", "failed": "✖", "info": "·"}
STATE_WIDTH = 12
ID_WIDTH = 3
TITLE_WIDTH = 22
FINDINGS = "findings"  # the list's last row: the cause, least privilege and the notes
FINDINGS_TITLE = "≡ Cause, least privilege and notes"
# The keys line at the bottom, two rows of (action or binding id, what it does): the keys are read from GuideScreen's
# bindings (`c copy PowerShell  a copy setup script ...`).
KEYS_ROWS = ((("guide_copy_step", "copy PowerShell"), ("guide_copy_setup", "copy setup script"),
              ("guide_copy_verify", "copy verify script"), ("guide_save", "save scripts")),
             (("guide_paste", "paste verification"), ("guide_model", "model"), ("guide_from", "From"),
              ("guide_run", "run"), ("guide_wait", "wait"), ("scroll_detail(1)", "scroll"), ("guide_close", "back")))
MODEL_WORDS = {"classic": "classic (Entra permission SMTP.SendAsApp)",
               "rbac": "RBAC for Applications (Exchange role assignment)"}
MODEL_SHORT = {"classic": "Classic model", "rbac": "RBAC for Applications"}
SOURCE_WORDS = {"chosen": "as chosen", "token": "from the last token", "default": "no token yet"}


def cut(text: str, width: int) -> str:
    """One line of at most `width` cells, cut with `…`."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def short_title(title: str, width: int = TITLE_WIDTH) -> str:
    """The title in `width` cells: a parenthesis that does not fit is dropped, anything else is cut with `…`."""
    if len(title) <= width:
        return title
    head = title.split(" (", 1)[0]
    return head if len(head) <= width else title[: width - 1] + "…"


def step_evidence_text(step: Any) -> str:
    """The evidence a step's state comes from, in words (the newest piece when none decides)."""
    if step.decisive is not None:
        return step.decisive.text
    if step.evidence:
        return step.evidence[0].text
    return "no evidence yet"


def step_row(step: Any, width: int, *, plain: bool = False) -> Content:
    """`✔ proven     S1  App registration         token issued at 10:42: S1 and S2 work` (cut to `width`).

    `plain`: the state bold without its colour, for the highlighted row (drawn in reverse video)."""
    state = STATE_WORDS.get(step.state, step.state)
    head = f"{step.id:<{ID_WIDTH}} {short_title(step.title):<{TITLE_WIDTH}} "
    rest = max(width - STATE_WIDTH - 1 - len(head), 4)
    evidence = cut(step_evidence_text(step), rest)
    if plain:
        return Content.assemble((f"{state:<{STATE_WIDTH}}", "bold"), " ", head, evidence)
    return Content.assemble((f"{state:<{STATE_WIDTH}}", STATE_STYLES.get(step.state, "")), " ", head,
                            (evidence, "$text-muted"))


def key_words(owner: Any = None) -> dict[str, str]:
    """The keys the guide's texts name, read from GuideScreen's bindings (and the console's test send): `run` (F5),
    `paste` (p), `copy_step` (c), `copy_setup` (a), `copy_verify` (v), `save` (s), `model` (m), `page` (PgDn),
    `send` (ctrl+t). `owner`: the guide on screen (the app's keymap applies), or None for the classes."""
    if owner is None:
        from tui.console.app import OutmailApp

        guide: Any = GuideScreen
        app: Any = OutmailApp
    else:
        guide = app = owner
    return {"run": keys(guide, "guide_run"), "paste": first_key(guide, "guide_paste"),
            "copy_step": first_key(guide, "guide_copy_step"), "copy_setup": first_key(guide, "guide_copy_setup"),
            "copy_verify": first_key(guide, "guide_copy_verify"), "save": first_key(guide, "guide_save"),
            "model": first_key(guide, "guide_model"), "page": first_key(guide, "scroll_detail(1)"),
            "send": first_key(app, "test_send")}


def step_detail(step: Any, words: dict[str, str] | None = None) -> Content:
    """The selected step: its evidence (newest first), where and what to do, what proves it, the PowerShell.
    `words`: the keys named (`key_words`)."""
    words = words or key_words()
    parts: list[Content] = [Content.styled("Evidence (newest first):", "bold")]
    if step.evidence:
        for e in step.evidence:
            parts.append(Content(f"  {EVIDENCE_MARKS.get(e.verdict, '·')} {e.text}"))
    else:
        parts.append(Content(f"  none yet: {words['run']} runs the diagnostics, {words['paste']} pastes the "
                             "verification script's JSON"))
    parts.append(Content.assemble(("Where: ", "bold"), step.where))
    parts.append(Content.assemble(("Do: ", "bold"), step.what))
    if step.command:
        parts.append(Content.styled(f"PowerShell ({words['copy_step']} copies it):", "bold"))
        parts.extend(Content.styled("    " + line, "$text-accent") for line in step.command.splitlines())
    else:
        parts.append(Content.styled("No PowerShell: this step is done in the portal (or the settings); the setup "
                                    "script names it as a comment.", "$text-muted"))
    parts.append(Content.assemble(("Proof: ", "bold"), step.proves))
    return Content("\n").join(parts)


def findings_detail(guide: Any, saved: list[Path], saved_why: str = "",
                    words: dict[str, str] | None = None) -> Content:
    """The cause of the last failure, least privilege, the notes, the values the PowerShell is filled with.
    `words`: the keys named (`key_words`)."""
    words = words or key_words()
    parts: list[Content] = []
    if guide.cause:
        parts.append(Content.assemble(("Cause: ", "bold $text-error"), guide.cause))
    elif any(s.state == "failed" for s in guide.steps):
        parts.append(Content.assemble(("Cause: ", "bold"), "no run failed with one cause; each failed step names "
                                                           "its evidence"))
    else:
        parts.append(Content.assemble(("Cause: ", "bold"), "nothing failed"))
    p = guide.privilege
    if p is not None:
        if p.roles or p.extra:
            parts.append(Content.assemble(("Least privilege: ", "bold"), f"the token carries "
                                          f"{', '.join(p.roles) or 'no roles'}; SMTP needs {p.needed}."))
        else:
            parts.append(Content.assemble(("Least privilege: ", "bold"), f"SMTP needs {p.needed}."))
        if not p.extra:
            parts.append(Content("  ✔ nothing beyond what SMTP needs" if p.roles or guide.model == "rbac"
                                 else "  no roles known yet"))
        for e in p.extra:
            parts.append(Content.assemble(("  ▲ ", "bold $text-warning"), f"{e.role}: lets the app {e.allows}."))
            parts.append(Content(f"    Remove: {e.remove}"))
        if guide.model == "rbac":
            parts.append(Content("RBAC scope holding only the mailboxes LogicalDOC sends from "
                                 f"({', '.join(p.scope_addresses) or 'the mailbox'}):"))
            parts.append(Content.styled("    " + p.scope_command, "$text-accent"))
    else:
        parts.append(Content.assemble(("Least privilege: ", "bold"), f"not known without a token ({words['run']})."))
    if guide.notes:
        parts.append(Content.styled("Notes:", "bold"))
        parts.extend(Content(f"  • {note}") for note in guide.notes)
    v = guide.values
    oid = v.object_id or "(not known: no token yet)"
    if v.object_id_source == "token":
        oid += " (the token's oid)"
    elif v.object_id_source == "verification":
        oid += " (from the verification)"
    parts.append(Content.assemble(("Values: ", "bold"), f"client id {v.client_id or '(not set)'}, tenant "
                                  f"{v.tenant or '(not set)'}, object id {oid}, mailbox {v.mailbox or '(not set)'}"
                                  + (f", From {', '.join(v.from_addresses)}" if v.from_addresses else "")))
    pending = len(guide.pending)
    parts.append(Content.assemble(("Scripts: ", "bold"), f"{words['copy_setup']} copies the setup script ({pending} "
                                  f"step{'s' if pending != 1 else ''} not proven), {words['copy_verify']} the "
                                  f"read-only verification script; {words['save']} saves both next to the settings "
                                  "file. No secret is in either."))
    if saved:
        parts.append(Content.assemble(("Saved: ", "bold"), ", ".join(str(path) for path in saved),
                                      " (readable by you only" + (f"; not next to the settings: {saved_why})"
                                                                  if saved_why else ")")))
    return Content("\n").join(parts)


def counts_text(guide: Any) -> str:
    counts = {state: 0 for state in STATE_WORDS}
    for s in guide.steps:
        counts[s.state] += 1
    return (f"Result: {counts['proven']} proven, {counts['failed']} FAILED, {counts['unknown']} not known"
            + (f", {counts['not-needed']} not needed" if counts["not-needed"] else ""))


def run_words(last: Any) -> str:
    """`✔ passed at 10:43`, `✖ FAILED at auth at 10:43`, `cancelled at 10:43` (LastRun.summary without the reply)."""
    summary = last.summary()
    if summary.startswith("FAILED"):
        return "✖ " + summary.split(": ", 1)[0]
    if summary.startswith("passed"):
        return "✔ " + summary
    return summary


# ---------------------------------------------------------------------------------------------------- dialogs


class ModelDialog(ChoiceDialog):
    """Which way Exchange authorizes the app: classic or RBAC for Applications; the preselected answer has the
    focus (Enter), Esc keeps it."""

    TITLE_TEXT = "Setup guide: which authorization model?"
    ESCAPE_TEXT = "Keep the preselected model"
    CHOICES = (Choice("classic", "Classic", "c", "primary", "Classic: Entra permission SMTP.SendAsApp, FullAccess"),
               Choice("rbac", "RBAC for Applications", "r", "primary",
                      "RBAC for Applications: an Exchange role assignment scoped to the mailboxes"))

    def __init__(self, preselected: str, why: str, change_key: str | None = None) -> None:
        """`change_key`: the guide's key that asks again (default: GuideScreen's choose_model binding)."""
        from textual.widgets import Button

        classic, rbac = (first_key(type(self), choice.action) for choice in self.CHOICES)
        change_key = change_key or first_key(GuideScreen, "choose_model")
        super().__init__(
            "How does Exchange authorize the app?\n\n"
            f"Classic ({classic}): the Entra permission SMTP.SendAsApp with admin consent, then a service principal "
            "and FullAccess on the mailbox (LogicalDOC's guide: S3-S6).\n\n"
            f"RBAC for Applications ({rbac}): no Entra permission; an Exchange role assignment \"Application "
            "SMTP.SendAsApp\" scoped to the mailboxes LogicalDOC sends from (least privilege: S5, R1-R3).\n\n"
            f"Preselected: {MODEL_WORDS[preselected].split(' (')[0]}, {why}. {first_key(Button, 'press')} takes it; "
            f"{change_key} changes it later.")
        self.DEFAULT = preselected  # type: ignore[misc]  # the button focused first
        self.preselected = preselected

    def action_choose(self, value: str) -> None:
        self.dismiss(self.preselected if value == self.CANCEL else value)


class VerificationDialog(ButtonActions, ModalScreen["Any | None"]):
    """Paste the verification script's JSON line; it is read as it changes (nothing guessed, every missing key
    named), and ctrl+s (or Use) takes it when it can be used. Dismisses with the Verification, or None."""

    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"verify-use": "use", "verify-cancel": "cancel"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "use", "Use the pasted verification", priority=True, id="verify_use",
                tooltip="Read the paste and rebuild the guide with it (only when it can be used)."),
        Binding("escape,ctrl+g", "cancel", "Cancel", show=False, id="verify_cancel",
                tooltip="Close without changing the guide."),
    ]
    DEFAULT_CSS = """
    VerificationDialog {
        align: center middle;
    }
    VerificationDialog #verify-dialog {
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: solid $primary;
        background: $surface;
        padding: 0 1;
    }
    VerificationDialog #verify-title {
        width: 1fr;
        text-style: bold;
    }
    VerificationDialog #verify-text {
        height: 8;
        width: 1fr;
        background: $boost;
        scrollbar-size-vertical: 1;
    }
    VerificationDialog #verify-status {
        width: 1fr;
        height: auto;
        max-height: 4;
    }
    VerificationDialog #verify-status.-error { color: $text-error; text-style: bold; }
    VerificationDialog #verify-status.-ok { color: $text-success; text-style: bold; }
    VerificationDialog #verify-buttons {
        height: 1;
        align-horizontal: right;
    }
    VerificationDialog #verify-buttons Button {
        width: auto;
        min-width: 0;
        margin-left: 2;
    }
    """
    DEBOUNCE_SECONDS = 0.3

    def __init__(self, check: Callable[[str], Any], script_key: str | None = None) -> None:
        """`script_key`: the guide's key that copies the verification script (default: GuideScreen's binding)."""
        super().__init__()
        self.check = check  # text -> Verification; raises VerificationError naming what is wrong or missing
        self.script_key = script_key or first_key(GuideScreen, "guide_copy_verify")
        self.verification: Any = None
        self.error: str | None = None
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="verify-dialog"):
            yield Label(f"Paste the verification script's JSON ({self.script_key} copies the script)",
                        id="verify-title", markup=False)
            yield Static("Run the verification script in PowerShell (read-only), then paste the one line of JSON it "
                         "prints. Nothing is guessed: a missing or wrong key is named, and the paste is refused.",
                         markup=False)
            yield TextArea("", id="verify-text", compact=True, soft_wrap=True, highlight_cursor_line=False,
                           placeholder="Paste here (your terminal's paste: ctrl+shift+v, shift+insert, right click or "
                                       "cmd+v) the line that starts with {\"outmail_verify\"")
            yield Static("Waiting for the paste", id="verify-status", markup=False)
            with Horizontal(id="verify-buttons"):
                yield Button(Content(key_after(self, "use", "Use")), id="verify-use", compact=True, disabled=True)
                yield Button(Content(key_after(self, "cancel", "Cancel")), id="verify-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#verify-text", TextArea).focus()

    @on(TextArea.Changed, "#verify-text")
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(self.DEBOUNCE_SECONDS, self.read_paste, name="verification debounce")

    def read_paste(self) -> bool:
        """Read the paste now; True when it can be used. The status says what it holds or what is wrong."""
        self._debounce = None
        if not self.is_attached:
            return False
        from tui.guide import VerificationError

        text = self.query_one("#verify-text", TextArea).text
        try:
            self.verification = self.check(text)
            self.error = None
        except VerificationError as exc:
            self.verification = None
            self.error = exc.message
        status = self.query_one("#verify-status", Static)
        if self.verification is not None:
            from tui.guide.verify import verification_summary

            v = self.verification
            status.update(f"✔ Can be used: {verification_summary(v)}, client id {v.client_id}, mailbox {v.mailbox}"
                          f" ({first_key(self, 'use')} uses it)")
        else:
            status.update(f"✖ Cannot be used: {self.error}")
        status.set_class(self.verification is not None, "-ok")
        status.set_class(self.verification is None, "-error")
        self.query_one("#verify-use", Button).disabled = self.verification is None
        return self.verification is not None

    def action_use(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        if self.read_paste():
            self.dismiss(self.verification)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FromAddressesDialog(ModalScreen["tuple[str, ...] | None"]):
    """The From addresses beyond the Sender Email (with 'Use user's email as sender': the users' own), comma
    separated; Enter takes them when each is an address, Esc keeps the old ones."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,ctrl+g", "cancel", "Cancel", show=False, id="from_cancel"),
    ]
    DEFAULT_CSS = """
    FromAddressesDialog {
        align: center middle;
    }
    FromAddressesDialog #from-dialog {
        width: 70;
        max-width: 100%;
        height: auto;
        border: solid $primary;
        background: $surface;
        padding: 0 1;
    }
    FromAddressesDialog #from-title { text-style: bold; }
    FromAddressesDialog #from-error { color: $text-error; text-style: bold; height: auto; }
    """

    def __init__(self, addresses: tuple[str, ...]) -> None:
        super().__init__()
        self.addresses = addresses

    def compose(self) -> ComposeResult:
        with Vertical(id="from-dialog"):
            yield Label("From addresses (Send As, S7)", id="from-title")
            yield Static("The addresses LogicalDOC sends From besides the Sender Email (with 'Use user's email as "
                         "sender': the users' own), comma separated, such as sales@contoso.com, jane@contoso.com. The "
                         f"PowerShell is filled with them and S7 checks each. {first_key(Input, 'submit')} takes "
                         f"them, {first_key(self, 'cancel')} keeps the old ones.", markup=False)
            yield Input(", ".join(self.addresses), id="from-input", compact=True)
            yield Static("", id="from-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#from-input", Input).focus()

    @on(Input.Submitted, "#from-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        from tui.addresses import AddressError, check_address

        found: list[str] = []
        for part in event.value.split(","):
            if not part.strip():
                continue
            try:
                address = check_address(part)
            except AddressError as exc:
                self.query_one("#from-error", Static).update(f"✖ {cut(part.strip(), 40)}: {exc}")
                return
            if address.lower() not in (a.lower() for a in found):
                found.append(address)
        self.dismiss(tuple(found))

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------------------------- the screen


class GuideScreen(Screen[None]):
    """The checklist: a title (the model), the evidence, the result and the cause, the steps (state in words, the
    evidence it comes from), the selected step's evidence, where, what and PowerShell, a message line and the keys."""

    BINDINGS: ClassVar[list[BindingType]] = fill_tooltips([
        Binding("c", "copy_step", "Copy the step's PowerShell", show=False, id="guide_copy_step",
                tooltip="Copy the selected step's PowerShell (filled in) to the clipboard (OSC 52)."),
        Binding("a", "copy_script('setup')", "Copy the setup script", show=False, id="guide_copy_setup",
                tooltip="Copy the one idempotent PowerShell script for every step not proven (OSC 52)."),
        ConsoleBinding("v", "copy_script('verify')", "Copy the verification script", show=False,
                       id="guide_copy_verify",
                       tooltip="Copy the read-only verification script, whose JSON {guide_paste} reads back (OSC 52)."),
        Binding("y", "copy_text", "Copy the guide as text", show=False, id="guide_copy_text",
                tooltip="Copy the whole guide as `outmail guide` prints it (for a ticket)."),
        Binding("s", "save_scripts", "Save the scripts", show=False, id="guide_save",
                tooltip="Write the setup and the verification script next to the settings file "
                        "(outmail-setup-<time>.ps1, outmail-verify-<time>.ps1), readable by you only."),
        Binding("p", "paste_verification", "Paste the verification", show=False, id="guide_paste",
                tooltip="Paste the verification script's JSON: it decides the Exchange-side steps."),
        Binding("m", "choose_model", "Authorization model", show=False, id="guide_model",
                tooltip="Classic or RBAC for Applications (asked once, remembered while the console runs)."),
        Binding("f", "from_addresses", "From addresses", show=False, id="guide_from",
                tooltip="The From addresses beyond the Sender Email ('Use user's email as sender'), for S7."),
        Binding("f5", "run", "Run the diagnostics", show=False, id="guide_run", key_display="F5",
                tooltip="Run the diagnostics on the settings on screen (nothing is sent); the guide follows."),
        ConsoleBinding("w", "toggle_wait", "Wait out propagation", show=False, id="guide_wait",
                       tooltip="Rerun the diagnostics every 5 min until they pass (at most 2 h); {guide_wait} again "
                               "stops."),
        # Priority: the step list (an OptionList) would take PgDn for itself.
        Binding("pagedown", "scroll_detail(1)", "Scroll the step's detail down", show=False, priority=True,
                key_display="PgDn"),
        Binding("pageup", "scroll_detail(-1)", "Scroll the step's detail up", show=False, priority=True,
                key_display="PgUp"),
        Binding("escape,q", "close", "Back to the console", show=False, id="guide_close"),
        Binding("f12", "close", "Back to the console", show=False, id="guide_close_f12", key_display="F12"),
    ])
    # For F1: the step list's own keys (an OptionList's), with what they do here.
    HELP_KEYS: ClassVar[list[BindingType]] = described(
        OptionList, "cursor_up", "cursor_down",
        description="Select a step: its evidence, where, what and PowerShell show below")

    DEFAULT_CSS = """
    GuideScreen {
        layout: vertical;
    }
    GuideScreen #guide-title {
        width: 1fr;
        height: 1;
        background: $panel;
        text-style: bold;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    GuideScreen #guide-evidence, GuideScreen #guide-result {
        width: 1fr;
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    GuideScreen #guide-wait {
        width: 1fr;
        height: 2;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    GuideScreen #guide-cause {
        width: 1fr;
        height: auto;
        max-height: 2;
        padding: 0 1;
    }
    GuideScreen #guide-steps {
        height: auto;
        max-height: 11;
        padding: 0 1;
    }
    GuideScreen #guide-detail-title {
        width: 1fr;
        height: 1;
        background: $panel;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    GuideScreen #guide-detail-scroll {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    GuideScreen #guide-message {
        height: auto;
        max-height: 4;
        text-overflow: fold;
        background: $panel;
        padding: 0 1;
    }
    GuideScreen #guide-keys {
        height: 2;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.guide: Any = None
        self.saved: list[Path] = []  # the scripts saved from this screen (named in the findings)
        self.saved_why = ""  # why they are not next to the settings file (outmail demo)
        self._built_from: Any = ()  # (last run, verification, model, From addresses) the guide was built from
        self._message: tuple[str, str] | None = None
        self._detail_id: str | None = None  # the row whose detail is shown (a new row starts at its top)
        self._ask_after_run = False  # the model question waits for the run going when the guide opened
        self.words = key_words()  # the keys its texts name; read again with the app's keymap once mounted

    # ------------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Label("Setup guide", id="guide-title", markup=False)
        yield Label("", id="guide-evidence", markup=False)
        wait = Static("", id="guide-wait", markup=False)
        wait.display = False
        yield wait
        yield Label("", id="guide-result", markup=False)
        yield Static("", id="guide-cause", markup=False)
        yield OptionList(id="guide-steps", markup=False, compact=True)
        yield Label("", id="guide-detail-title", markup=False)
        with VerticalScroll(id="guide-detail-scroll"):
            yield Static("", id="guide-detail", markup=False)
        message = Static("", id="guide-message", markup=False)
        message.display = False
        yield message
        yield Static(self.keys_text(), id="guide-keys", markup=False)

    def keys_text(self) -> str:
        """The two rows of keys at the bottom (KEYS_ROWS), each key read from the bindings."""
        return "\n".join("  ".join(f"{first_key(self, name)} {what}" for name, what in row) for row in KEYS_ROWS)

    def on_mount(self) -> None:
        self.words = key_words(self)
        self.rebuild()
        self.query_one("#guide-steps", OptionList).focus()
        # a run may end while the guide is open (F5 here, a wait's attempt, a test send): follow it
        self.set_interval(0.5, self.run_state_changed, name="guide follows the runs")
        if getattr(self.app, "guide_model", None) is None and self.guide.applicable:
            # asked once (not for a server without these steps); while a run goes, once it ended: its token tells
            pane = self._pane()
            if pane is not None and pane.running:
                self._ask_after_run = True
            else:
                self.call_after_refresh(self.action_choose_model)

    def on_screen_resume(self) -> None:
        self.run_state_changed()

    # ------------------------------------------------------------------------------------------------ state

    def _pane(self) -> Any:
        """The diagnostics pane of the console's main screen (None before the first F5)."""
        from tui.console.diagnostics_pane import DiagnosticsPane

        main = getattr(self.app, "main_screen", None)
        if main is None:
            return None
        panes = main.query(DiagnosticsPane)
        return panes.first() if panes else None

    def last_run(self) -> Any:
        """The console's last run, when it was made for the tenant on screen."""
        app = self.app
        last = getattr(app, "last_run", None)
        tenant = getattr(app, "last_run_tenant", None)
        if last is None or (tenant is not None and tenant != app.current_settings.tenant):
            return None
        return last

    def _inputs(self) -> tuple[Any, ...]:
        app = self.app
        return (self.last_run(), getattr(app, "guide_verification", None), getattr(app, "guide_model", None),
                tuple(getattr(app, "guide_from_addresses", ())), app.current_settings)

    def rebuild(self) -> None:
        """Build the guide from the settings on screen and the evidence at hand, and show it."""
        from tui.guide import VerificationError, build_guide

        app = self.app
        sync = getattr(app, "sync_form", None)
        if sync is not None:
            sync()
        last, verification, model, froms, settings = self._inputs()
        try:
            guide = build_guide(settings, last_run=last, verification=verification, model=model,
                                from_addresses=froms)
        except VerificationError as exc:  # the settings on screen are now about another app or mailbox
            app.guide_verification = None
            self.say(f"The pasted verification was dropped: {exc.message}. {self.words['paste']} pastes a new one.",
                     "warning")
            guide = build_guide(settings, last_run=last, model=model, from_addresses=froms)
        self.guide = guide
        self._built_from = self._inputs()
        self._show()

    def run_state_changed(self) -> None:
        """A run started or ended, a wait ticked: rebuild when the evidence changed, else update the rows."""
        if not self.is_attached:
            return
        now, built = self._inputs(), self._built_from
        if len(now) != len(built) or any(a is not b and a != b for a, b in zip(now, built)):
            self.rebuild()
        else:
            self._show_evidence()
            self._show_wait()
        if self._ask_after_run:
            pane = self._pane()
            if (pane is None or not pane.running) and self.app.screen is self:
                self._ask_after_run = False
                if getattr(self.app, "guide_model", None) is None:
                    self.action_choose_model()

    # ------------------------------------------------------------------------------------------------ widgets

    def _show(self) -> None:
        guide = self.guide
        tenant = self.app.current_settings.tenant
        self.query_one("#guide-title", Label).update(
            f"Setup guide · {MODEL_SHORT.get(guide.model, guide.model)}, {SOURCE_WORDS.get(guide.model_source, '')} "
            f"({self.words['model']}) · tenant {tenant}" if guide.applicable else f"Setup guide · tenant {tenant}")
        self._show_evidence()
        self._show_wait()
        result = self.query_one("#guide-result", Label)
        cause = self.query_one("#guide-cause", Static)
        if not guide.applicable:
            result.update("No Microsoft setup steps for this server")
            cause.update(Content(guide.notes[0] if guide.notes else ""))
        else:
            result.update(counts_text(guide))
            if guide.cause:
                # two rows at 80 columns; the whole cause is under ≡ (the list's last row)
                cause.update(Content.assemble(("Cause: ", "bold $text-error"), cut(guide.cause, 128),
                                              " (≡ below)" if len(guide.cause) > 128 else ""))
            elif any(s.state == "failed" for s in guide.steps):
                cause.update(Content.styled("✖ A step failed: select it for its evidence and fix", "bold $text-error"))
            elif guide.last_run is None and guide.verification is None:
                cause.update(Content(f"No evidence yet: {self.words['run']} runs the diagnostics (nothing is sent); "
                                     "until then every step is not known."))
            elif any(s.state == "unknown" for s in guide.steps):
                cause.update(Content(f"Nothing failed; the steps not known need more evidence: {self.words['paste']} "
                                     f"pastes the verification, {self.words['send']} sends a test mail."))
            else:
                cause.update(Content.styled("✔ Every step is proven or not needed", "bold $text-success"))
        self._show_steps()

    def _show_evidence(self) -> None:
        guide = self.guide
        if guide is None:
            return
        pane = self._pane()
        last = self.last_run()
        if pane is not None and pane.running:
            run = "… the diagnostics are running (the guide follows)"
        elif last is None:
            run = f"no run yet ({self.words['run']} runs the diagnostics, nothing is sent)"
        else:
            run = f"run {run_words(last)}"
        verification = getattr(self.app, "guide_verification", None)
        if verification is not None:
            from tui.guide.evidence import clock_text

            seen = f"verification at {clock_text(verification.collected_at)}"
        else:
            seen = f"no verification ({self.words['paste']} pastes it)"
        label = self.query_one("#guide-evidence", Label)
        text = f"Evidence: {run} · {seen}"
        if str(label.content) != text:
            label.update(text)

    def _show_wait(self) -> None:
        from tui.console.propagation_wait import waiting

        pane = self._pane()
        wait = waiting(pane) if pane is not None else None
        row = self.query_one("#guide-wait", Static)
        if wait is None:
            row.display = False
            return
        first, second = wait.lines()
        row.update(Content("\n").join([Content.styled(first, "bold $text-accent"), Content(second)]))
        row.display = True

    def _line_width(self) -> int:
        width = self.query_one("#guide-steps", OptionList).content_region.width or self.size.width - 2
        return max(width, 40)

    def _rows(self) -> list[tuple[str, Any]]:
        return [(s.id, s) for s in self.guide.steps] + [(FINDINGS, None)]

    def _row_content(self, step: Any, *, plain: bool) -> Content:
        if step is None:
            return Content.styled(FINDINGS_TITLE, "bold")
        return step_row(step, self._line_width(), plain=plain)

    def _show_steps(self) -> None:
        options = self.query_one("#guide-steps", OptionList)
        previous = self._selected_id()
        rows = self._rows()
        options.set_options([Option(self._row_content(step, plain=False), id=row_id) for row_id, step in rows])
        ids = [row_id for row_id, _ in rows]
        if previous in ids:
            index = ids.index(previous)
        else:
            index = next((i for i, (_, s) in enumerate(rows) if s is not None and s.state == "failed"), 0)
        options.highlighted = index
        self._render_rows()
        self._show_detail()

    def _render_rows(self) -> None:
        options = self.query_one("#guide-steps", OptionList)
        highlighted = options.highlighted
        for i, (_row_id, step) in enumerate(self._rows()):
            if i < options.option_count:
                options.replace_option_prompt_at_index(i, self._row_content(step, plain=i == highlighted))

    def _selected_id(self) -> str | None:
        options = self.query_one("#guide-steps", OptionList)
        index = options.highlighted
        if index is None or not 0 <= index < options.option_count:
            return None
        return options.get_option_at_index(index).id

    def selected_step(self) -> Any:
        """The selected step (None for the findings row)."""
        selected = self._selected_id()
        return next((s for s in self.guide.steps if s.id == selected), None) if self.guide else None

    def _show_detail(self) -> None:
        guide = self.guide
        title = self.query_one("#guide-detail-title", Label)
        detail = self.query_one("#guide-detail", Static)
        selected = self._selected_id()
        step = self.selected_step()
        if not guide.applicable:
            title.update("Setup guide")
            detail.update(Content("\n\n").join(Content(note) for note in guide.notes))
        elif step is None:
            title.update(Content.styled("Cause, least privilege, notes and the values filled in", "bold"))
            detail.update(findings_detail(guide, self.saved, self.saved_why, self.words))
        else:
            title.update(Content.assemble(
                (f"{step.id} {step.title}", "bold"), "  ",
                (STATE_WORDS.get(step.state, step.state), STATE_STYLES.get(step.state, "")),
                f"  ({self.words['page']}: PowerShell; {self.words['copy_step']} copies)" if step.command
                else "  (a portal step)"))
            detail.update(step_detail(step, self.words))
        if selected != self._detail_id:  # another row: its detail from the top
            self._detail_id = selected
            self.query_one("#guide-detail-scroll", VerticalScroll).scroll_home(animate=False, immediate=True)

    @on(OptionList.OptionHighlighted, "#guide-steps")
    def _highlighted(self) -> None:
        if self._selected_id() != self._detail_id:
            self.clear_message()  # said about the last row; a saved script's path stays under ≡
        self._render_rows()
        self._show_detail()

    def on_resize(self) -> None:
        if self.guide is not None:
            self._render_rows()

    # ------------------------------------------------------------------------------------------------ messages

    def say(self, text: str, severity: str = "information") -> None:
        """What an action did, on the line above the keys (a path is folded, never cut)."""
        self._message = (text, severity)
        line = self.query_one("#guide-message", Static)
        style = {"error": "bold $text-error", "warning": "bold $text-warning"}.get(severity, "bold")
        mark = {"error": "✖ ", "warning": "▲ "}.get(severity, "")
        if text.startswith(("✖", "▲", "✔")):
            mark = ""
        line.update(Content.styled(mark + text, style))
        line.display = True

    def clear_message(self) -> None:
        if self._message is not None:
            self._message = None
            self.query_one("#guide-message", Static).display = False

    @property
    def message(self) -> str:
        return self._message[0] if self._message else ""

    # ------------------------------------------------------------------------------------------------ actions

    def _applicable(self) -> bool:
        if self.guide is not None and self.guide.applicable:
            return True
        self.say("Nothing to copy or save: this server needs no Microsoft setup step", "warning")
        return False

    def action_copy_step(self) -> None:
        if not self._applicable():
            return
        step = self.selected_step()
        if step is None:
            p = self.guide.privilege
            if self.guide.model == "rbac" and p is not None:
                self.app.copy_to_clipboard(p.scope_command)
                self.say("✔ Copied the RBAC scope's PowerShell (1 line) to the clipboard (OSC 52)")
            else:
                self.say(f"Nothing to copy here: select a step ({self.words['copy_setup']} copies the whole setup "
                         "script)", "warning")
            return
        if not step.command:
            self.say(f"{step.id} {step.title} has no PowerShell: it is done in the portal (Where: above)", "warning")
            return
        lines = len(step.command.splitlines())
        self.app.copy_to_clipboard(step.command)
        # one row, so the detail keeps its height (where OSC 52 does not reach the clipboard, s saves the scripts)
        self.say(f"✔ Copied the PowerShell for {step.id} ({lines} line{'s' if lines != 1 else ''}) to the clipboard "
                 "(OSC 52)")

    def action_copy_script(self, which: str) -> None:
        if not self._applicable():
            return
        text = self.guide.setup_script() if which == "setup" else self.guide.verify_script()
        what = "setup script" if which == "setup" else "verification script (read-only)"
        self.app.copy_to_clipboard(text)
        self.say(f"✔ Copied the {what} ({len(text.splitlines())} lines) to the clipboard (OSC 52; {self.words['save']} "
                 "saves it)")

    def action_copy_text(self) -> None:
        text = self.guide.to_text()
        self.app.copy_to_clipboard(text)
        self.say(f"✔ Copied the guide as text ({len(text.splitlines())} lines) to the clipboard (OSC 52)")

    def script_folder(self) -> tuple[Path, str]:
        """Next to the settings file (OutmailApp.lasting_folder: in `outmail demo`, where the demo was started)."""
        lasting = getattr(self.app, "lasting_folder", None)
        if lasting is not None:
            return lasting()
        return Path(self.app.settings_file.path).expanduser().resolve().parent, ""

    def action_save_scripts(self) -> None:
        if not self._applicable():
            return
        from tui.files import write_new

        folder, why = self.script_folder()
        now = time.time()
        texts = {"setup": self.guide.setup_script(), "verify": self.guide.verify_script()}
        written: list[Path] = []
        for which, text in texts.items():
            try:  # outmail-<which>-YYYYmmdd-HHMMSS[-N].ps1, 0600, never over another file
                path = write_new(folder, f"outmail-{which}-", ".ps1", text, now=now)
            except OSError as exc:
                self.say(f"Could not save the {which} script in {folder}: {exc.strerror or type(exc).__name__}",
                         "error")
                return
            written.append(path)
        self.saved = written
        self.saved_why = why
        self._show_detail()
        # a long path takes rows: the reason for another folder is under ≡ (findings_detail)
        self.say(f"✔ Saved the setup script {written[0]} and the verification script {written[1].name}, readable by "
                 "you only")

    def action_paste_verification(self) -> None:
        if not self._applicable():
            return
        from tui.guide import build_guide, parse_verification

        settings = self.app.current_settings
        last, _verification, model, froms, _settings = self._inputs()

        def check(text: str) -> Any:
            verification = parse_verification(text)
            build_guide(settings, last_run=last, verification=verification, model=model, from_addresses=froms)
            return verification  # about this client id and mailbox (build_guide refuses another)

        self.app.push_screen(VerificationDialog(check, self.words["copy_verify"]), self._verification_pasted)

    def _verification_pasted(self, verification: Any) -> None:
        if verification is None:
            return
        from tui.guide.verify import verification_summary

        self.app.guide_verification = verification  # type: ignore[attr-defined]
        self.rebuild()
        self.say(f"✔ The guide uses the {verification_summary(verification)}")

    def action_from_addresses(self) -> None:
        self.app.push_screen(FromAddressesDialog(tuple(getattr(self.app, "guide_from_addresses", ()))),
                             self._from_chosen)

    def _from_chosen(self, addresses: tuple[str, ...] | None) -> None:
        if addresses is None:
            return
        self.app.guide_from_addresses = addresses  # type: ignore[attr-defined]
        self.rebuild()
        self.say("From addresses: " + (", ".join(addresses) if addresses else "none beyond the Sender Email"))

    def action_choose_model(self) -> None:
        if not self.is_attached or isinstance(self.app.screen, ModalScreen):
            return
        from tui.guide import default_model

        last = self.last_run()
        current = getattr(self.app, "guide_model", None)
        if current is not None:
            preselected, why = current, "the model chosen before"
        else:
            preselected, source = default_model(last.report if last is not None else None)
            why = ("from the last token (it carries SMTP.SendAsApp)" if preselected == "classic" else
                   "from the last token (it has no SMTP.SendAsApp role)") if source == "token" else \
                "LogicalDOC's guide (no token yet)"
        self.app.push_screen(ModelDialog(preselected, why, self.words["model"]), self._model_chosen)

    def _model_chosen(self, model: str | None) -> None:
        if model not in ("classic", "rbac"):
            return
        self.app.guide_model = model  # type: ignore[attr-defined]  # remembered while the console runs
        self.rebuild()

    def action_run(self) -> None:
        diagnose = getattr(self.app, "action_diagnose", None)
        if diagnose is not None:
            diagnose()
            self.call_after_refresh(self.run_state_changed)

    def action_toggle_wait(self) -> None:
        from tui.console.propagation_wait import toggle, waiting

        pane = self._pane()
        if pane is not None:
            toggle(pane)
            self.call_after_refresh(self.run_state_changed)
            return

        def start() -> None:  # F5's pane exists now, its run going: that run is the first attempt
            pane = self._pane()
            if pane is not None and waiting(pane) is None:
                toggle(pane)

        self.action_run()
        self.app.call_after_refresh(start)

    def action_scroll_detail(self, direction: int) -> None:
        view = self.query_one("#guide-detail-scroll", VerticalScroll)
        if direction > 0:
            view.scroll_page_down(animate=False)
        else:
            view.scroll_page_up(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

"""Provides the Explain dialog (F10): paste error text, read the diagnostics' cause, setup step and fix for it."""

from __future__ import annotations

import re
import textwrap
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Label, Static, TextArea

from tui.diagnostics.explain import explain
from tui.diagnostics.explain_cli import MAX_INPUT
from tui.settings.model import Settings
from tui.console.buttons import ButtonActions
from tui.console.diagnostics_pane import hint_content
from tui.console.keytext import described, fill, first_key, key_after, keys

DEBOUNCE_SECONDS = 0.4  # explain once the text has stopped changing for this long (typing, a paste in pieces)
MAX_TEXT = MAX_INPUT  # characters, as `outmail explain`: a log excerpt, not a whole log
MAX_FINDINGS_SHOWN = 20  # errors shown in the dialog; ctrl+l copies them all
MATCHED_SHOWN = 140  # characters of a matched line shown (two rows at 80 columns); the rest is cut with "…"
KIND_WORDS = {"smtp-reply": "SMTP reply", "aadsts": "Entra ID error", "exception": "Java exception"}
READY_TEXT = "Paste the error text above: it is explained as it changes ({explain}: now)"  # keytext.fill
PLACEHOLDER = ("Paste here (your terminal's paste: ctrl+shift+v, shift+insert, right click or cmd+v): a LogicalDOC "
               "log entry with its stack trace, an SMTP reply (535 5.7.3 ...), an AADSTS error or a bounce.")
# Control characters (an escape sequence in a pasted log) are never written to the terminal as they are.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def key_words(owner: Any = None) -> dict[str, str]:
    """The keys the explanation names, read from the bindings: `copy` (ctrl+o), `copy_all` (ctrl+l), `page` (PgDn),
    `diagnose` (the console's F5), `explain` (F10). `owner`: the dialog on screen (the app's keymap applies), or
    None for the ExplainDialog and OutmailApp classes."""
    if owner is None:
        from tui.console.app import OutmailApp

        dialog: Any = ExplainDialog
        app: Any = OutmailApp
    else:
        dialog = app = owner
    return {"copy": first_key(dialog, "copy_fix"), "copy_all": first_key(dialog, "copy_all"),
            "page": first_key(dialog, "scroll_findings(1)"), "diagnose": keys(app, "diagnose"),
            "explain": keys(dialog, "explain")}


def printable(text: str) -> str:
    """`text` with tabs as spaces and other control characters as `?`, safe to put on the screen."""
    return _CONTROL_RE.sub("?", text.replace("\t", " "))


def cut(text: str, limit: int = MATCHED_SHOWN) -> str:
    """At most `limit` characters; a longer text ends with `…` (the matched line is evidence, not the paste)."""
    text = text.rstrip("…")  # explain() marks its own cut the same way
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def finding_title(number: int, finding: Any) -> Content:
    """`[1] ✔ explained: line 2, SMTP reply (permanent)`: the state in words first, then where and what."""
    kind = KIND_WORDS.get(finding.kind, "text")
    if finding.klass:
        kind += f" ({finding.klass})"
    state, style = ("✔ explained", "bold $text-success") if finding.known else ("▲ not known", "bold $text-warning")
    return Content.assemble((f"[{number}] ", "bold"), (state, style), (f": line {finding.line}, {kind}", "bold"))


def matched_lines(matched: str, width: int) -> list[Content]:
    """The matched line, cut, as a quote: `  │ text` on every row it takes at `width` columns."""
    rows = textwrap.wrap(printable(cut(matched)), max(width - 4, 20), break_on_hyphens=False) or [""]
    return [Content.assemble(("  │ ", "$text-muted"), (row, "$text-accent")) for row in rows]


def finding_content(number: int, finding: Any, width: int = 74, words: dict[str, str] | None = None) -> Content:
    """One finding: its title, the line it matched (cut), then the hint as the diagnostics pane shows it.
    `words`: the keys named (`key_words`)."""
    words = words or key_words()
    parts = [finding_title(number, finding), *matched_lines(finding.matched, width)]
    hint = finding.hint
    if hint is None:
        parts.append(Content(f"Not known: outmail's table has no explanation for this text. Press {words['diagnose']} "
                             "to diagnose the settings step by step."))
    else:
        if not finding.known:
            parts.append(Content(f"Not known: a {finding.klass or 'server'} error outmail's table does not have. "
                                 "What its class says:"))
        parts.extend(hint_content(hint.redacted(printable), copy_key=words["copy"]))
    return Content("\n").join(parts)


def explanation_content(explanation: Any, settings: Settings, width: int = 74,
                        words: dict[str, str] | None = None) -> Content:
    """Every finding in the order of the paste, or in words why nothing was found. `words`: the keys named
    (`key_words`)."""
    words = words or key_words()
    if not explanation.findings:
        return Content("\n").join([
            Content.styled("▲ Not known: no SMTP reply, Entra ID error or known Java exception in this text.",
                           "bold $text-warning"),
            Content("Paste the lines around the error (the log entry and its stack trace), or press "
                    f"{words['diagnose']} to diagnose the settings step by step."),
        ])
    shown = explanation.findings[:MAX_FINDINGS_SHOWN]
    blocks = [finding_content(i, f, width, words) for i, f in enumerate(shown, 1)]
    if len(explanation.findings) > len(shown):
        more = len(explanation.findings) - len(shown)
        blocks.append(Content.styled(f"… and {more} more error{'' if more == 1 else 's'} not shown here: "
                                     f"{words['copy_all']} copies the whole explanation.", "bold $text-warning"))
    blocks.append(Content.styled(f"The fixes use the settings on screen (tenant {settings.tenant}, unsaved edits "
                                 "too). Secrets in the paste are redacted here.", "$text-muted"))
    return Content("\n\n").join(blocks)


def summary(explanation: Any, words: dict[str, str] | None = None) -> tuple[str, str]:
    """The status line's words and its class: how many errors were found and whether each is known. `words`: the
    keys named (`key_words`)."""
    words = words or key_words()
    found = explanation.findings
    if not found:
        return "▲ Nothing known in this text: paste the lines around the error", "-warn"
    n = len(found)
    errors = f"{n} error{'' if n == 1 else 's'} found"
    unknown = sum(1 for f in found if not f.known)
    named = f"{words['copy']} copies the fix, {words['page']} scrolls"
    if unknown:
        return f"▲ {errors}, {unknown} not known: {named}", "-warn"
    return f"✔ {errors}, {'explained' if n == 1 else 'each explained'}: {named}", "-ok"


class ExplainDialog(ButtonActions, ModalScreen[None]):
    """A text area to paste into and, below it, every error found explained with the diagnostics' hint table
    (`tui.diagnostics.explain.explain`), its fixes filled from the settings on screen. The text is explained as it
    changes (after a pause) and with F10; explain() runs in a thread worker, so a long paste never blocks the keys.

    Only the redacted explanation is shown or copied; the pasted text is never logged or put in a notification."""

    class Explained(Message):
        """explain() finished for the text of one request (`serial`); `explanation` is None when it failed."""

        def __init__(self, serial: int, explanation: Any, error: str = "") -> None:
            super().__init__()
            self.serial = serial
            self.explanation = explanation
            self.error = error

    # Keys that never type text: the TextArea takes letters and binds ctrl+a/d/e/k/u/v/w/x/y/z, F6 and F7, so these
    # are ctrl+o, ctrl+l, ctrl+g and F-keys; F10 and the page keys are priority keys so they work in the TextArea.
    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"ex-explain": "explain", "ex-copy": "copy_fix",
        "ex-copy-all": "copy_all", "ex-close": "close"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f10", "explain", "Explain the text now", priority=True, id="ex_explain", key_display="F10",
                tooltip="Explain now (the same key that opened the dialog); the text is also explained as it "
                        "changes."),
        Binding("ctrl+o", "copy_fix", "Copy the fix", show=False, id="ex_copy",
                tooltip="Copy each error's PowerShell (or its fix) to the clipboard (OSC 52)."),
        Binding("ctrl+l", "copy_all", "Copy the explanation", show=False, id="ex_copy_all",
                tooltip="Copy the whole explanation (the matched lines, causes, setup steps and fixes; secrets "
                        "redacted) as `outmail explain` prints it."),
        Binding("pagedown", "scroll_findings(1)", "Scroll the explanation", show=False, priority=True,
                id="ex_page_down", key_display="PgDn", tooltip="A page down or up, wherever the focus."),
        Binding("pageup", "scroll_findings(-1)", "Scroll the explanation", show=False, priority=True,
                id="ex_page_up", key_display="PgUp", tooltip="A page down or up, wherever the focus."),
        Binding("escape,ctrl+g", "close", "Close", show=False, id="ex_close", tooltip="Close the dialog."),
        Binding("q", "close", "Close (when the focus is not in the text)", show=False, id="ex_close_q"),
    ]
    # Listed in F1 with the dialog's own keys.
    HELP_KEYS: ClassVar[list[BindingType]] = described(
        ModalScreen, "focus_next", "focus_previous",
        description="Move between the text, the explanation and the buttons")

    DEFAULT_CSS = """
    ExplainDialog {
        align: center middle;
    }
    ExplainDialog #ex-dialog {
        width: 78;
        max-width: 100%;
        height: 100%;
        max-height: 36;
        border: solid $primary;
        background: $surface;
        padding: 0 1;
    }
    ExplainDialog #ex-title {
        width: 1fr;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ExplainDialog #ex-text {
        height: 5;
        width: 1fr;
        padding: 0 1 0 0;
        scrollbar-size-vertical: 1;
        background: $boost;
    }
    ExplainDialog #ex-status {
        width: 1fr;
        height: auto;
        max-height: 2;
        text-overflow: ellipsis;
        color: $text-muted;
    }
    ExplainDialog #ex-status.-error { color: $text-error; text-style: bold; }
    ExplainDialog #ex-status.-running { color: $text-accent; text-style: bold; }
    ExplainDialog #ex-status.-ok { color: $text-success; text-style: bold; }
    ExplainDialog #ex-status.-warn { color: $text-warning; text-style: bold; }
    ExplainDialog #ex-result {
        height: 1fr;
        border-top: solid $primary;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;  /* the same width with or without a scrollbar: matched lines are wrapped to it */
    }
    ExplainDialog #ex-buttons {
        height: 1;
        align-horizontal: right;
    }
    ExplainDialog #ex-buttons Button {
        width: auto;
        min-width: 0;
        margin-left: 2;
    }
    """

    def __init__(self, settings: Settings, text: str = "") -> None:
        super().__init__()
        self.settings = settings
        self.initial_text = text
        self.serial = 0  # the last request; an older worker's answer is dropped
        self.explained_serial = -1  # the request the explanation on screen answers
        self.explanation: Any = None
        self._debounce: Timer | None = None

    # ------------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="ex-dialog"):
            yield Label(f"Explain an error: its cause, setup step and fix (tenant {self.settings.tenant})",
                        id="ex-title", markup=False)
            yield TextArea(self.initial_text, id="ex-text", compact=True, soft_wrap=True,
                           highlight_cursor_line=False, placeholder=PLACEHOLDER)
            yield Label(fill(self, READY_TEXT), id="ex-status", markup=False)
            with VerticalScroll(id="ex-result", can_focus=True):
                yield Static(self._intro(), id="ex-findings", markup=False)
            with Horizontal(id="ex-buttons"):
                yield Button(Content(key_after(self, "explain", "Explain")), id="ex-explain", variant="primary",
                             compact=True)
                yield Button(Content(key_after(self, "copy_fix", "Copy fix")), id="ex-copy", compact=True,
                             disabled=True)
                yield Button(Content(key_after(self, "copy_all", "Copy all")), id="ex-copy-all", compact=True,
                             disabled=True)
                yield Button(Content(key_after(self, "close", "Close")), id="ex-close", compact=True)

    def _intro(self) -> Content:
        return Content.styled(
            f"The same cause, setup step and fix as the diagnostics ({keys(self, 'diagnose')}), for every error in the "
            f"text, each with the line it matched. The fixes use the settings on screen (tenant "
            f"{self.settings.tenant}, unsaved edits too); secrets in the paste are redacted before anything is shown "
            "here.", "$text-muted")

    def on_mount(self) -> None:
        self.query_one("#ex-text", TextArea).focus()
        if self.initial_text:
            self.action_explain()

    # ------------------------------------------------------------------------------------------------ explaining

    @on(TextArea.Changed, "#ex-text")
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._explain_now, name="explain debounce")

    def action_explain(self) -> None:
        """Explain the text now (F10 or the Explain button), without waiting for the pause after a change."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self._explain_now()

    def _explain_now(self) -> None:
        self._debounce = None
        if not self.is_attached:
            return
        text = self.query_one("#ex-text", TextArea).text
        self.serial += 1
        if not text.strip():
            self._show(None, fill(self, READY_TEXT), "")
            self.explained_serial = self.serial
            return
        if len(text) > MAX_TEXT:
            self._show(None, f"✖ Longer than {MAX_TEXT:,} characters: paste the lines around the error", "-error")
            self.explained_serial = self.serial
            return
        self._set_status("… explaining", "-running")
        self._explain(text, self.serial)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain", description="outmail explain")
    def _explain(self, text: str, serial: int) -> None:
        """explain() off the event loop (a 1 MB paste takes about half a second); the answer comes as a message."""
        try:
            result = explain(text, self.settings)
        except Exception as exc:  # the worker boundary: never a crash, and never the paste in a message
            self.post_message(self.Explained(serial, None, error=type(exc).__name__))
            return
        self.post_message(self.Explained(serial, result))

    @on(Explained)
    def _explained(self, message: Explained) -> None:
        message.stop()
        if message.serial != self.serial or not self.is_attached:
            return  # the text changed again since this request
        self.explained_serial = message.serial
        if message.explanation is None:
            self._show(None, f"✖ explain failed ({message.error}); `outmail explain -` reads the same text", "-error")
            return
        said, cls = summary(message.explanation, key_words(self))
        self._show(message.explanation, said, cls)

    # ------------------------------------------------------------------------------------------------ state → widgets

    def _show(self, explanation: Any, status: str, cls: str) -> None:
        self.explanation = explanation
        self._set_status(status, cls)
        self._render_findings()
        self.query_one("#ex-result").scroll_home(animate=False)
        self.query_one("#ex-copy", Button).disabled = self._fix_text() is None
        self.query_one("#ex-copy-all", Button).disabled = explanation is None

    def _render_findings(self) -> None:
        findings = self.query_one("#ex-findings", Static)
        if self.explanation is None:
            findings.update(self._intro())
        else:
            findings.update(explanation_content(self.explanation, self.settings, self._line_width(),
                                                key_words(self)))

    def _line_width(self) -> int:
        width = self.query_one("#ex-result").scrollable_content_region.width
        return max(width or 0, 40)

    def on_resize(self) -> None:
        if self.explanation is not None:
            self.call_after_refresh(self._render_findings)  # the matched lines are wrapped to the width

    def _set_status(self, text: str, cls: str) -> None:
        status = self.query_one("#ex-status", Label)
        status.update(text)
        for name in ("-error", "-running", "-ok", "-warn"):
            status.set_class(name == cls, name)

    # ------------------------------------------------------------------------------------------------ actions

    def _fix_text(self) -> tuple[str, str] | None:
        """(text, what) that ctrl+o copies: each finding's PowerShell, or its fix when it has none. Several
        findings are separated by `# [n] line L: ...` comment lines, so the copy still pastes into PowerShell."""
        explanation = self.explanation
        if explanation is None:
            return None
        pieces: list[tuple[int, Any, str, str]] = []
        for number, finding in enumerate(explanation.findings, 1):
            hint = finding.hint
            if hint is None:
                continue
            if hint.command:
                pieces.append((number, finding, hint.command, "the PowerShell"))
            else:
                pieces.append((number, finding, hint.fix, "the fix"))
        if not pieces:
            return None
        if len(pieces) == 1:
            number, _finding, text, what = pieces[0]
            if what == "the PowerShell":
                lines = len(text.splitlines())
                what = f"{what} ({lines} line{'s' if lines != 1 else ''})"
            return text, what
        blocks = []
        for number, finding, text, _what in pieces:
            text = text if finding.hint.command else "# " + text.replace("\n", "\n# ")
            blocks.append(f"# [{number}] line {finding.line}: {printable(cut(finding.matched, 70))}\n{text}")
        names = [f"{what} for [{number}]" for number, _f, _t, what in pieces]
        what = ", ".join(names[:-1]) + " and " + names[-1]
        return "\n\n".join(blocks) + "\n", what

    def action_copy_fix(self) -> None:
        copy = self._fix_text()
        if copy is None:
            self._set_status("▲ Nothing to copy yet: paste an error first" if self.explanation is None
                             else "▲ Nothing to copy: no fix for this text", "-warn")
            return
        text, what = copy
        self.app.copy_to_clipboard(text)
        # said on the dialog's own status line: a toast would cover its buttons or the fix at 80x24
        self._set_status(f"✔ Copied {what} to the clipboard (OSC 52)", "-ok")

    def action_copy_all(self) -> None:
        explanation = self.explanation
        if explanation is None:
            self._set_status("▲ Nothing to copy yet: paste an error first", "-warn")
            return
        text = printable(explanation.to_text())  # newlines kept
        n = len(explanation.findings)
        self.app.copy_to_clipboard(text)
        self._set_status(f"✔ Copied the explanation ({n} error{'' if n == 1 else 's'}, {len(text.splitlines())} "
                         "lines, secrets redacted) to the clipboard (OSC 52)", "-ok")

    def action_scroll_findings(self, direction: int) -> None:
        """PgDn / PgUp: a page of the explanation, wherever the focus."""
        view = self.query_one("#ex-result")
        if direction > 0:
            view.scroll_page_down(animate=False)
        else:
            view.scroll_page_up(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)




__all__ = ["ExplainDialog", "explanation_content", "finding_content", "key_words", "summary", "printable", "cut"]

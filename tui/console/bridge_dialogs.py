"""Provides Import (F4) and Export (F9): LogicalDOC's context.properties <-> the settings, with a diff to confirm.

Export writes the settings on screen (saved or not) into context.properties; Import reads the current tenant's
Outgoing Email keys from it into the settings file and reloads the form. Both ask for the file, plan (nothing is
written), show the redacted unified diff and the warnings, and write only on Write. Errors go to the ErrorDialog.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.console.dialogs import DialogButtons
from tui.console.keytext import first_key, key_after, keys
DEFAULT_PROPERTIES_PATH = "/opt/logicaldoc/conf/context.properties"
Direction = Literal["import", "export"]


_DIFF_HEADER = re.compile(r"^(?P<mark>---|\+\+\+) (?P<path>.+) (?P<when>\((?:now|after)\))$")


def diff_content(diff: str) -> Content:
    """The unified diff, one styled line per diff line; the `+`/`-` stay in the text (readable without colour).

    The `---`/`+++` headers name the file only (`--- context.properties (now)`): the dialog's title and summary give
    its whole path, and a long path would wrap each header over three lines of a 24-line terminal.
    """
    lines: list[Content] = []
    for number, line in enumerate(diff.splitlines()):
        if line.startswith(("+++", "---")):
            style = "bold"
            header = _DIFF_HEADER.match(line) if number < 2 else None  # a removed `-- x` line is not a header
            if header:
                line = f"{header['mark']} {Path(header['path']).name} {header['when']}"
        elif line.startswith("@@"):
            style = "$text-accent"
        elif line.startswith("+"):
            style = "$text-success"
        elif line.startswith("-"):
            style = "$text-error"
        else:
            style = "$text-muted"
        lines.append(Content.styled(line, style))
    return Content("\n").join(lines)


def warnings_content(warnings: Any) -> Content:
    """`▲ warning: tenant default: ...` / `· note: ...`, one per line."""
    lines = []
    for warning in warnings:
        mark, style = ("▲", "$text-warning") if getattr(warning, "severity", "warning") == "warning" else ("·", "")
        lines.append(Content.styled(f"{mark} {warning}", style))
    return Content("\n").join(lines)


class PropertiesPathDialog(ModalScreen[str]):
    """Asks for LogicalDOC's context.properties; dismisses with an existing file's path, or "" for Cancel."""

    DEFAULT_CSS = """
    PropertiesPathDialog {
        align: center middle;
    }
    PropertiesPathDialog #bridge-path {
        margin-top: 1;
    }
    PropertiesPathDialog #bridge-path-status {
        color: $text-muted;
    }
    PropertiesPathDialog #bridge-path-status.-error {
        color: $text-error;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,ctrl+g", "cancel", "Cancel", show=False),
    ]

    def __init__(self, direction: Direction, default: str, intro: str) -> None:
        super().__init__()
        self.direction = direction
        self.default = default
        self.intro = intro

    def compose(self) -> ComposeResult:
        verb = "Export to" if self.direction == "export" else "Import from"
        with Vertical(classes="dialog"):
            yield Label(f"{verb} LogicalDOC's context.properties", classes="dialog-title", markup=False)
            yield Static(self.intro, classes="dialog-body", markup=False)
            yield Input(self.default, placeholder=DEFAULT_PROPERTIES_PATH, id="bridge-path", compact=True)
            # Enter is the Input's own key (submit); the dialog's keys are its bindings.
            yield Label(f"{first_key(Input, 'submit')} shows the changes; nothing is written before you confirm.",
                        id="bridge-path-status", markup=False)
            with DialogButtons():
                yield Button(key_after(Input, "submit", "Show changes"), id="bridge-path-ok", variant="primary",
                             compact=True)
                yield Button(key_after(self, "cancel", "Cancel"), id="bridge-path-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#bridge-path", Input).focus()

    def _check(self) -> None:
        text = self.query_one("#bridge-path", Input).value.strip()
        status = self.query_one("#bridge-path-status", Label)
        if not text:
            status.update("✖ Type the path of context.properties")
            status.add_class("-error")
            return
        path = Path(text).expanduser()
        if not path.exists():
            status.update(f"✖ {path} does not exist")
        elif not path.is_file():
            status.update(f"✖ {path} is not a file")
        else:
            self.dismiss(str(path))
            return
        status.add_class("-error")

    @on(Input.Submitted, "#bridge-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._check()

    @on(Button.Pressed, "#bridge-path-ok")
    def _ok_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._check()

    @on(Button.Pressed, "#bridge-path-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss("")

    def action_cancel(self) -> None:
        self.dismiss("")


WRITE, CANCEL = "choose('write')", "choose('cancel')"  # PlanPreviewDialog's two actions


def preview_keys(changed: bool) -> str:
    """The preview's keys in words: `↑↓ PgUp PgDn scroll; w writes, c cancels` (or `c closes`); the scroll keys
    are the diff view's (a VerticalScroll's own bindings)."""
    scroll = (keys(VerticalScroll, "scroll_up", "scroll_down", between="") + " "
              + keys(VerticalScroll, "page_up", "page_down", between=" "))
    cancel = first_key(PlanPreviewDialog, CANCEL)
    what = f"{first_key(PlanPreviewDialog, WRITE)} writes, {cancel} cancels" if changed else f"{cancel} closes"
    return f"{scroll} scroll; {what}"


class PlanPreviewDialog(ModalScreen[str]):
    """The plan's redacted diff and warnings; dismisses with "write" (w) or "cancel" (c, Esc)."""

    DEFAULT_CSS = """
    PlanPreviewDialog {
        align: center middle;
    }
    PlanPreviewDialog #bridge-preview {
        width: 78;
        max-width: 100%;
        height: 100%;
        max-height: 40;
        border: solid $primary;
        background: $surface;
        padding: 0 1;
    }
    PlanPreviewDialog #bridge-title {
        width: 1fr;
        text-style: bold;
    }
    PlanPreviewDialog #bridge-summary {
        color: $text-muted;
    }
    PlanPreviewDialog #bridge-diff-scroll {
        height: 1fr;
        border-top: solid $primary;
        scrollbar-size-vertical: 1;
    }
    PlanPreviewDialog #bridge-warnings {
        margin-bottom: 1;
    }
    PlanPreviewDialog #bridge-buttons {
        height: 1;
        align-horizontal: right;
    }
    PlanPreviewDialog #bridge-buttons Button {
        margin-left: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", WRITE, "Write the changes (a backup of context.properties is kept)", show=False),
        Binding("c,escape", CANCEL, "Cancel: nothing is written", show=False),
    ]

    def __init__(self, title: str, plan: Any, summary: str) -> None:
        super().__init__()
        self.title_text = title
        self.plan = plan
        self.summary = summary

    def compose(self) -> ComposeResult:
        plan = self.plan
        # Its own ids, not the shared .dialog classes: the diff needs the full 78 columns. The title wraps: it holds
        # the path of the file to write, whose end (the file name) an ellipsis would hide.
        with Vertical(id="bridge-preview"):
            yield Label(self.title_text, id="bridge-title", markup=False)
            yield Static(self.summary, id="bridge-summary", markup=False)
            with VerticalScroll(id="bridge-diff-scroll", can_focus=True):
                if plan.warnings:
                    yield Static(warnings_content(plan.warnings), id="bridge-warnings", markup=False)
                yield Static(diff_content(plan.diff) if plan.diff else
                             Content.styled("No changes: the file already holds these values.", "$text-muted"),
                             id="bridge-diff", markup=False)
            with Horizontal(id="bridge-buttons"):
                if plan.changed:
                    yield Button(key_after(self, WRITE, "Write"), id="choice-write", variant="primary", compact=True)
                yield Button(key_after(self, CANCEL, "Cancel" if plan.changed else "Close"), id="choice-cancel",
                             compact=True)

    def on_mount(self) -> None:
        # The diff has the focus: arrows and PgUp/PgDn scroll it; Cancel is the default, so Enter writes nothing.
        self.query_one("#bridge-diff-scroll").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-") or "cancel")

    def action_choose(self, value: str) -> None:
        if value == "write" and not self.plan.changed:
            return
        self.dismiss(value)


def _error_text(exc: BaseException, path: Path | None = None) -> str:
    """Admin-readable text for a planning or writing failure (the bridge's errors never hold secret values).

    `path` is the file the admin chose, already named before this text: an error about it says `line 12: ...`,
    not the path again (a long path would fill the dialog twice); an error about another file (the -override
    file) keeps its path.
    """
    from tui.logicaldoc.bridge import BridgeError, PropertiesError
    from tui.settings.store import SettingsFileError

    same = path is not None and getattr(exc, "path", None) is not None and Path(exc.path) == path
    if isinstance(exc, PropertiesError) and same:
        return f"line {exc.line}: {exc.message}" if exc.line is not None else exc.message
    if isinstance(exc, (PropertiesError, BridgeError, SettingsFileError)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or type(exc).__name__}".lstrip(": ")
    return f"unexpected {type(exc).__name__}"


def _counted(warnings: Any) -> str:
    """`; 1 warning, 2 notes` as the preview lists them (▲ warnings, · notes), or "" when there are none."""
    severities = [getattr(w, "severity", "warning") for w in warnings]
    parts = [f"{n} {word}{'s' if n != 1 else ''}"
             for word, n in (("warning", severities.count("warning")),
                             ("note", len(severities) - severities.count("warning"))) if n]
    return "; " + ", ".join(parts) if parts else ""


def _values(count: int) -> str:
    """`1 value changes`, `3 values change`."""
    return "1 value changes" if count == 1 else f"{count} values change"


class BridgeFlow:
    """One Import or Export from start to end, driven by the app's dialogs (the app owns the state)."""

    def __init__(self, app: Any, direction: Direction) -> None:
        self.app = app
        self.direction = direction
        self.path: Path | None = None

    def start(self) -> None:
        app = self.app
        if self.direction == "import" and app.dirty:
            from tui.console.dialogs import SwitchTenantDialog

            app.push_screen(SwitchTenantDialog(
                f"Tenant {app.current_settings.tenant} has unsaved changes; Import reloads the form from the file.\n\n"
                "Save: write them, then import.  Discard: import; your edits are dropped.  Cancel: stay.",
                title="Unsaved changes before Import"), self._unsaved_answered)
            return
        self._ask_path()

    def _unsaved_answered(self, choice: str | None) -> None:
        if choice == "save":
            self.app._save(then=self._ask_path)
        elif choice == "discard":
            self._ask_path()

    def _ask_path(self) -> None:
        app = self.app
        default = getattr(app, "last_properties_path", "") or DEFAULT_PROPERTIES_PATH
        tenant = app.current_settings.tenant
        if self.direction == "export":
            intro = (f"Writes tenant {tenant}'s Outgoing Email settings as they are on screen (saved or not) into "
                     f"the {tenant}.smtp.* keys. You see the changes first; a backup is kept.")
        else:
            intro = (f"Reads the {tenant}.smtp.* keys into {app.settings_file.path} (tenant {tenant}) and reloads "
                     "the form. You see the changes first.")
        app.push_screen(PropertiesPathDialog(self.direction, default, intro), self._path_chosen)

    def _path_chosen(self, path: str | None) -> None:
        if not path:
            return
        app = self.app
        app.last_properties_path = path
        self.path = Path(path)
        try:
            plan = self._plan()
        except Exception as exc:  # the handler boundary: PropertiesError (with line), BridgeError, SettingsFileError
            self._error(f"Cannot {self.direction} {'to' if self.direction == 'export' else 'from'} {path}: "
                        f"{_error_text(exc, self.path)}\n\nNothing was written.")
            return
        if self.direction == "export":
            title = f"Export to {path}"
            what = (f"{_values(len(plan.changes))} of tenant {app.current_settings.tenant}"
                    if plan.changed else "Nothing changes")
        else:
            title = f"Import from {path}"
            what = f"{_values(len(plan.changes))} in {app.settings_file.path}" if plan.changed else "Nothing changes"
        warnings = _counted(plan.warnings)
        summary = f"{what}{warnings}. Secrets show as ***. {preview_keys(plan.changed)}."
        app.push_screen(PlanPreviewDialog(title, plan, summary), lambda choice: self._confirmed(choice, plan))

    def _plan(self) -> Any:
        from tui.logicaldoc import bridge

        app = self.app
        if self.direction == "export":
            return bridge.plan_export_for(app.current_settings, self.path)
        return bridge.plan_import(self.path, app.settings_file.path, tenants=[app.current_settings.tenant])

    def _confirmed(self, choice: str | None, plan: Any) -> None:
        if choice != "write":
            self._say("Nothing was written")
            return
        from tui.logicaldoc import bridge

        app = self.app
        try:
            if self.direction == "export":
                backup = bridge.apply_export(plan, backup=True)
            else:
                bridge.apply_import(plan)
        except Exception as exc:  # the handler boundary
            self._error(f"Could not write: {_error_text(exc)}\n\nNothing was written.")
            return
        if self.direction == "export":
            saved = f"; the previous file is kept as {backup}" if backup else ""
            self._say(f"✔ Exported tenant {app.current_settings.tenant} to {plan.path}{saved}")
        else:
            app.call_later(app._reload, app.current_settings.tenant,
                           f"✔ Imported {self.path} into {plan.config_path} and loaded it")

    def _say(self, text: str) -> None:
        """On the console's message line (OutmailApp.say), not a toast over the form or the pane."""
        say = getattr(self.app, "say", None)
        if say is not None:
            say(text)
        else:
            self.app.notify(text, markup=False)

    def _error(self, text: str) -> None:
        from tui.console.dialogs import ErrorDialog

        self.app.push_screen(ErrorDialog(text))

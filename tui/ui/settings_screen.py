"""Provides the main screen: a status line, the Outgoing Email form (tui.ui.form) and a slot for diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Label, Static

from tui.settings.fields import FIELDS, FIELDS_BY_ATTR, PROTOCOL_M365
from tui.settings.model import Settings

if TYPE_CHECKING:
    from tui.ui.form import SettingsForm

IGNORED_NOTE = "(ignored by LogicalDOC with SMTP Microsoft 365)"
SETTINGS_PANE = "settings-pane"
DEFAULT_HELP = "Tab moves between fields. F1 lists every key; ctrl+p finds every action by name."
DIAGNOSTICS_PANE = "diagnostics-pane"


def preview_text(settings: Settings) -> Content:
    """The form as plain text (labels, values, notes; secrets masked), painted before the editable form is mounted.

    Mounting the ~70 form widgets takes several times longer than Textual's own start, so the first frame shows
    this text and the editable form replaces it right after (MainScreen.mount_form).
    """
    m365 = settings.protocol == PROTOCOL_M365
    lines: list[Content] = []
    section = None
    pad = " " * 27
    for field in FIELDS:
        if field.section != section and field.section != "smtp":
            if field.section == "console" or m365:
                lines.append(Content.styled(
                    "outmail only: console" if field.section == "console"
                    else "outmail only: token service (LogicalDOC always uses the global cloud)", "italic dim"))
        section = field.section
        if not (field.only_for is None or field.only_for == settings.protocol or (m365 and field.ignored_by_m365)):
            continue  # the same rule as tui.ui.form.applies
        value = getattr(settings, field.attr)
        if field.kind == "choice":
            text = dict(field.choices).get(value, str(value))
        elif field.kind == "bool":
            text = "[X] yes" if value else "[ ] no"
        elif field.kind == "secret":
            source = settings.secret_source(field.attr)
            text = "" if source.startswith("env:") else "•" * len(value)
        elif field.kind == "float" and isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = str(value)
        # Content built from parts is never parsed as markup: values from the file stay literal.
        label_style = "dim" if m365 and field.ignored_by_m365 else ""
        lines.append(Content.assemble((f"{field.label:<27}", label_style), text))
        if m365 and field.ignored_by_m365:
            lines.append(Content.styled(pad + IGNORED_NOTE, "dim"))
    return Content("\n").join(lines)


def show_text(widget: Static, text: str) -> None:
    """Update a Static (or Label) only when its text changes: an update costs a layout pass, and the status line,
    the problem lines and the help line are updated on every key."""
    if widget.content != text:
        widget.update(text)


class PathLabel(Label):
    """The settings file's path, fitted to the label's width when drawn: the file name is kept, the folders are
    shortened (`…/outmail-sandbox-zx1vkg2o/settings.toml`, not `/tmp/outmail-sandbox-zx1vkg2o/setting…`)."""

    path = ""

    def set_path(self, path: str) -> None:
        if path != self.path:
            self.path = path
            self.tooltip = path
            self.refresh()

    def render(self) -> Content:
        from tui.ui.shorten import fit_path

        width = self.content_size.width
        return Content(fit_path(self.path, width) if width else self.path)


class StatusLine(Horizontal):
    """File, tenant, saved state and problem counts, in words."""

    def compose(self) -> ComposeResult:
        yield PathLabel("", id="status-path", markup=False)
        yield Label("", id="status-tenant", markup=False)
        yield Label("", id="status-dirty", markup=False)
        yield Label("", id="status-counts", markup=False)

    def _say(self, label_id: str, text: str) -> Label:
        label = self.query_one(f"#{label_id}", Label)
        show_text(label, text)
        return label

    def update_status(self, *, path: str, tenant: str, tenants: tuple[str, ...], dirty: bool, exists: bool,
                      errors: int, warnings: int) -> None:
        self.query_one(PathLabel).set_path(path)
        tenant_text = f"tenant {tenant}"
        if len(tenants) > 1:
            tenant_text += f" ({tenants.index(tenant) + 1}/{len(tenants)}, F3)" if tenant in tenants else " (F3)"
        self._say("status-tenant", tenant_text)
        if dirty:
            dirty_label = self._say("status-dirty", "● unsaved changes")
        elif not exists:
            dirty_label = self._say("status-dirty", "○ new file, not saved yet")
        else:
            dirty_label = self._say("status-dirty", "✔ saved")
        dirty_label.set_class(dirty or not exists, "-dirty")
        if errors or warnings:
            parts = []
            if errors:
                parts.append(f"✖ {errors} error{'s' if errors != 1 else ''}")
            if warnings:
                parts.append(f"▲ {warnings} warning{'s' if warnings != 1 else ''}")
            counts = self._say("status-counts", " ".join(parts))
        else:
            counts = self._say("status-counts", "✔ no problems")
        counts.set_class(errors > 0, "-errors")
        counts.set_class(errors == 0 and warnings > 0, "-warnings")


class MainScreen(Screen[None]):
    """The settings form, or in its place (F5) the diagnostics pane; the app owns the state and the actions."""

    AUTO_FOCUS = "#f-protocol"
    BINDINGS = [
        Binding("f2", "app.show_settings", "Settings form", show=False, id="show_settings", key_display="F2",
                tooltip="Back to the settings form from the diagnostics pane."),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with ContentSwitcher(initial=SETTINGS_PANE, id="panes"):
            with Vertical(id=SETTINGS_PANE):
                yield Static(preview_text(self._settings), id="form-preview", markup=False)
            with Vertical(id=DIAGNOSTICS_PANE):
                yield Static("Diagnostics (F5) are not available in this build yet. F2 returns to the settings.",
                             id="diagnostics-placeholder", markup=False)
        yield Static(DEFAULT_HELP, id="help-line", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.app.main_screen_mounted()  # type: ignore[attr-defined]

    @property
    def form(self) -> SettingsForm:
        return self.query_one("#form")  # type: ignore[return-value]

    async def mount_form(self, settings: Settings) -> SettingsForm:
        """Mount an editable form for these settings in place of the preview or the previous form."""
        self._settings = settings
        pane = self.query_one(f"#{SETTINGS_PANE}", Vertical)
        from tui.ui.form import SettingsForm

        form = SettingsForm(settings, id="form")
        with self.app.batch_update():
            await pane.query("#form-preview, #form").remove()
            await pane.mount(form)
        self.query_one("#panes", ContentSwitcher).current = SETTINGS_PANE
        self.set_focus(self.query_one("#f-protocol"))  # now, not after a queued callback: the next key finds it
        return form

    def show_pane(self, pane: str) -> None:
        """Show the form or the diagnostics pane; focus leaves a pane that is hidden."""
        self.query_one("#panes", ContentSwitcher).current = pane
        if pane != SETTINGS_PANE:
            self.set_focus(None)
            self.query_one("#help-line", Static).update("Diagnostics of the settings on screen. F2 returns to the form.")

    @property
    def current_pane(self) -> str | None:
        return self.query_one("#panes", ContentSwitcher).current

    def on_descendant_focus(self, event: Any) -> None:
        """The focused field's help under the form (also while its choice list is open)."""
        help_line = self.query_one("#help-line", Static)
        row = next((n for n in event.widget.ancestors if (getattr(n, "id", None) or "").startswith("row-")), None)
        for line in self.query(".field-line.-focused"):
            if line is not row:
                line.remove_class("-focused")
        if row is not None:
            row.add_class("-focused")  # its label in reverse video (app.tcss): where the keys go, without colour
        for node in event.widget.ancestors_with_self:
            node_id = getattr(node, "id", None) or ""
            if node_id.startswith("f-") and node_id[2:] in FIELDS_BY_ATTR:
                field = FIELDS_BY_ATTR[node_id[2:]]
                extra = " ctrl+r shows or hides it." if field.kind == "secret" else ""
                help_line.update(f"{field.label}: {field.help}{extra}")
                return
        help_line.update(DEFAULT_HELP)



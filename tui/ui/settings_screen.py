"""Provides the main screen: a status line, the Outgoing Email form (one row per field) and a slot for diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, ContentSwitcher, Footer, Input, Label, Select, Static

from tui.secret import Secret
from tui.settings.fields import (
    FIELDS,
    FIELDS_BY_ATTR,
    M365_PRESET,
    PROTOCOL_M365,
    PROTOCOLS,
    Field,
)
from tui.settings.model import Settings
from tui.ui.messages import SettingsEdited

if TYPE_CHECKING:
    from tui.settings.validate import Problem

IGNORED_NOTE = "(ignored by LogicalDOC with SMTP Microsoft 365)"
SETTINGS_PANE = "settings-pane"
DEFAULT_HELP = "Tab moves between fields. F1 lists every key; ctrl+p finds every action by name."
DIAGNOSTICS_PANE = "diagnostics-pane"


class YesNoCheckbox(Checkbox):
    """A one-row checkbox that shows its state as `[X] yes` / `[ ] no`, so it does not rest on colour."""

    def __init__(self, value: bool, **kwargs: Any) -> None:
        super().__init__("yes" if value else "no", value, compact=True, **kwargs)

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble(("[X]" if self.value else "[ ]", style))

    def watch_value(self) -> None:
        self.label = "yes" if self.value else "no"
        super().watch_value()


def _widget_for(field: Field, settings: Settings) -> Widget:
    """The compact input widget for one field, holding the settings' value."""
    wid = f"f-{field.attr}"
    value = getattr(settings, field.attr)
    if field.kind == "choice":
        options = [(Content(label), key) for key, label in field.choices]
        return Select(options, value=value, allow_blank=False, id=wid, compact=True, classes="field-widget")
    if field.kind == "bool":
        return YesNoCheckbox(bool(value), id=wid, classes="field-widget")
    if field.kind == "secret":
        source = settings.secret_source(field.attr)
        if source.startswith("env:"):
            # The value came from the environment: keep it out of the form (and out of the file unless retyped).
            name = source.removeprefix("env:")
            return Input("", placeholder=f"from ${name}; type to replace", password=True, id=wid, compact=True,
                         classes="field-widget")
        return Input(value.reveal(), password=True, id=wid, compact=True, classes="field-widget",
                     placeholder="empty")
    if field.kind == "int":
        return Input(str(value), type="integer", id=wid, compact=True, classes="field-widget")
    if field.kind == "float":
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        return Input(text, type="number", id=wid, compact=True, classes="field-widget")
    return Input(str(value), id=wid, compact=True, classes="field-widget")


class SettingsForm(VerticalScroll):
    """One row per field of the field table, in LogicalDOC's order; posts SettingsEdited on every change.

    `base` is the loaded Settings: the form's values are applied on top of it (`with_changes`), so attributes the
    form does not show (tenant, path, secret sources) and secrets supplied by the environment are kept.
    """

    can_focus = False  # focus goes to the fields; the view scrolls to follow them

    def __init__(self, base: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base
        self._protocol = base.protocol

    def compose(self) -> ComposeResult:
        # One line per field (label, widget), then an optional note and the problems line; widgets directly in the
        # scroll view (no row containers) keep the form cheap to mount and restyle.
        section = None
        protocol = self.base.protocol
        for field in FIELDS:
            if field.section != section and field.section != "smtp":
                title = {"microsoft365": "outmail only: token service (LogicalDOC always uses the global cloud)",
                         "console": "outmail only: console"}[field.section]
                heading = Label(title, classes=f"section-title section-{field.section}")
                heading.display = field.section != "microsoft365" or protocol == PROTOCOL_M365
                yield heading
            section = field.section
            visible = _applies(field, protocol)
            line = Horizontal(id=f"row-{field.attr}", classes="field-line")
            line.display = visible
            line.set_class(_ignored(field, protocol), "-ignored")
            with line:
                yield Label(field.label, classes="field-label", markup=False)
                yield _widget_for(field, self.base)
                if field.kind == "secret":
                    yield Label("hidden", id=f"state-{field.attr}", classes="field-state")
            if field.ignored_by_m365 or field.kind == "secret":
                text = _note(field, protocol, self.base)
                note = Static(text, id=f"note-{field.attr}", classes="field-note", markup=False)
                note.display = visible and bool(text)
                yield note
            problems = Static("", id=f"p-{field.attr}", classes="field-problems", markup=False)
            problems.display = False
            yield problems

    # ------------------------------------------------------------------------------------------------ reading

    def widget(self, attr: str) -> Widget:
        return self.query_one(f"#f-{attr}")

    def read(self) -> Settings:
        """The Settings the form shows now. Unreadable numbers (an empty Port) become None; validation says so."""
        changes: dict[str, object] = {}
        for field in FIELDS:
            widget = self.widget(field.attr)
            if isinstance(widget, Select):
                changes[field.attr] = widget.value
            elif isinstance(widget, Checkbox):
                changes[field.attr] = widget.value
            elif isinstance(widget, Input):
                text = widget.value
                if field.kind == "int":
                    changes[field.attr] = _to_number(text, int)
                elif field.kind == "float":
                    changes[field.attr] = _to_number(text, float)
                elif field.kind == "secret":
                    from_env = self.base.secret_source(field.attr).startswith("env:")
                    changes[field.attr] = getattr(self.base, field.attr) if (from_env and not text) else Secret(text)
                else:
                    changes[field.attr] = text
        return self.base.with_changes(**changes)

    # ------------------------------------------------------------------------------------------------ showing

    def show_protocol(self, protocol: object) -> None:
        """Show the fields that apply to the protocol; mark the ones LogicalDOC ignores with Microsoft 365."""
        for field in FIELDS:
            visible = _applies(field, protocol)
            row = self.query_one(f"#row-{field.attr}")
            row.display = visible
            row.set_class(_ignored(field, protocol), "-ignored")
            if field.ignored_by_m365 or field.kind == "secret":
                note = self.query_one(f"#note-{field.attr}", Static)
                text = _note(field, protocol, self.base)
                note.update(text)
                note.display = visible and bool(text)
        for label in self.query(".section-microsoft365"):
            label.display = protocol == PROTOCOL_M365

    def show_problems(self, problems: list[Problem]) -> None:
        """Each field's errors and warnings below it, as words (✖ error / ▲ warning), not colour alone."""
        by_attr: dict[str, list[Problem]] = {}
        for problem in problems:
            attr = problem.attr if problem.attr in FIELDS_BY_ATTR else "protocol"
            if not self.query_one(f"#row-{attr}").display:
                # A hidden field's finding (e.g. a password kept with Microsoft 365) goes under Protocol.
                attr = "protocol"
            by_attr.setdefault(attr, []).append(problem)
        for field in FIELDS:
            found = by_attr.get(field.attr, [])
            lines = []
            for p in found:
                mark = "✖ error" if p.severity == "error" else "▲ warning"
                prefix = "" if p.attr == field.attr else f"{p.label}: "
                lines.append(f"{mark}: {prefix}{p.message}")
            static = self.query_one(f"#p-{field.attr}", Static)
            static.update("\n".join(lines))
            static.display = bool(lines)
            static.set_class(any(p.severity == "error" for p in found), "-error")
            static.set_class(bool(found) and all(p.severity == "warning" for p in found), "-warning")

    def set_revealed(self, revealed: bool) -> None:
        """Show or mask every secret field."""
        for field in FIELDS:
            if field.kind == "secret":
                self.query_one(f"#f-{field.attr}", Input).password = not revealed
                self.query_one(f"#state-{field.attr}", Label).update("SHOWN" if revealed else "hidden")

    def apply_m365_preset(self) -> None:
        """What LogicalDOC does when SMTP Microsoft 365 is chosen: smtp.office365.com, 587, STARTTLS, secure auth."""
        for attr, value in M365_PRESET.items():
            widget = self.widget(attr)
            if isinstance(widget, Input):
                widget.value = str(value)
            elif isinstance(widget, (Select, Checkbox)):
                widget.value = value

    # ------------------------------------------------------------------------------------------------ events

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        event.stop()
        widget_id = event.control.id if event.control is not None else None
        if widget_id == "f-protocol":
            protocol = event.value
            if protocol != self._protocol:
                if protocol == PROTOCOL_M365:
                    self.apply_m365_preset()
                self._protocol = protocol
                self.show_protocol(protocol)
        self.post_message(SettingsEdited(self.read()))


def _applies(field: Field, protocol: object) -> bool:
    return field.only_for is None or field.only_for == protocol


def _ignored(field: Field, protocol: object) -> bool:
    return protocol == PROTOCOL_M365 and field.ignored_by_m365


def _note(field: Field, protocol: object, base: Settings) -> str:
    """The words under a field: ignored by LogicalDOC, or where its secret comes from."""
    notes = []
    if _ignored(field, protocol):
        notes.append(IGNORED_NOTE)
    if field.kind == "secret":
        source = base.secret_source(field.attr)
        if source.startswith("env:"):
            notes.append(f"from ${source.removeprefix('env:')} (not written to the file unless you type one)")
    return "  ".join(notes)


def _to_number(text: str, kind: type) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        return None


def preview_text(settings: Settings) -> str:
    """The form as plain text (labels, values, notes; secrets masked), painted before the editable form is mounted.

    Mounting ~100 widgets takes several times longer than Textual's own start, so the first frame shows this text
    and the editable form replaces it right after (MainScreen.mount_form).
    """
    m365 = settings.protocol == PROTOCOL_M365
    lines: list[str] = []
    section = None
    pad = " " * 27
    for field in FIELDS:
        if field.section != section and field.section != "smtp":
            if field.section == "console" or m365:
                lines.append("outmail only: console" if field.section == "console"
                             else "outmail only: token service (LogicalDOC always uses the global cloud)")
        section = field.section
        if field.only_for is not None and field.only_for != settings.protocol:
            continue
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
        lines.append(f"{field.label:<27}{text}")
        if m365 and field.ignored_by_m365:
            lines.append(pad + IGNORED_NOTE)
    return "\n".join(lines)


class StatusLine(Horizontal):
    """File, tenant, saved state and problem counts, in words."""

    def compose(self) -> ComposeResult:
        yield Label("", id="status-path", markup=False)
        yield Label("", id="status-tenant", markup=False)
        yield Label("", id="status-dirty", markup=False)
        yield Label("", id="status-counts", markup=False)

    def update_status(self, *, path: str, tenant: str, tenants: tuple[str, ...], dirty: bool, exists: bool,
                      errors: int, warnings: int) -> None:
        self.query_one("#status-path", Label).update(path)
        tenant_text = f"tenant {tenant}"
        if len(tenants) > 1:
            tenant_text += f" ({tenants.index(tenant) + 1}/{len(tenants)}, F3)" if tenant in tenants else " (F3)"
        self.query_one("#status-tenant", Label).update(tenant_text)
        dirty_label = self.query_one("#status-dirty", Label)
        if dirty:
            dirty_label.update("● unsaved changes")
        elif not exists:
            dirty_label.update("○ new file, not saved yet")
        else:
            dirty_label.update("✔ saved")
        dirty_label.set_class(dirty or not exists, "-dirty")
        counts = self.query_one("#status-counts", Label)
        if errors or warnings:
            parts = []
            if errors:
                parts.append(f"✖ {errors} error{'s' if errors != 1 else ''}")
            if warnings:
                parts.append(f"▲ {warnings} warning{'s' if warnings != 1 else ''}")
            counts.update(" ".join(parts))
        else:
            counts.update("✔ no problems")
        counts.set_class(errors > 0, "-errors")
        counts.set_class(errors == 0 and warnings > 0, "-warnings")


class MainScreen(Screen[None]):
    """The settings form, and beside it (F5) the diagnostics pane; the app owns the state and the actions."""

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
        return self.query_one(SettingsForm)

    async def mount_form(self, settings: Settings) -> SettingsForm:
        """Mount an editable form for these settings in place of the preview or the previous form."""
        self._settings = settings
        pane = self.query_one(f"#{SETTINGS_PANE}", Vertical)
        form = SettingsForm(settings, id="form")
        with self.app.batch_update():
            await pane.query("#form-preview, SettingsForm").remove()
            await pane.mount(form)
        self.query_one("#panes", ContentSwitcher).current = SETTINGS_PANE
        self.query_one("#f-protocol").focus()
        return form

    def show_pane(self, pane: str) -> None:
        self.query_one("#panes", ContentSwitcher).current = pane

    @property
    def current_pane(self) -> str | None:
        return self.query_one("#panes", ContentSwitcher).current

    def on_descendant_focus(self, event: Any) -> None:
        """The focused field's help under the form (also while its choice list is open)."""
        help_line = self.query_one("#help-line", Static)
        for node in event.widget.ancestors_with_self:
            node_id = getattr(node, "id", None) or ""
            if node_id.startswith("f-") and node_id[2:] in FIELDS_BY_ATTR:
                field = FIELDS_BY_ATTR[node_id[2:]]
                extra = " ctrl+r shows or hides it." if field.kind == "secret" else ""
                help_line.update(f"{field.label}: {field.help}{extra}")
                return
        help_line.update(DEFAULT_HELP)


__all__ = ["MainScreen", "SettingsForm", "StatusLine", "YesNoCheckbox", "PROTOCOLS"]

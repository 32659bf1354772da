"""Provides the main screen: a status line, the Outgoing Email form (tui.console.form) and a slot for diagnostics."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.style import Style
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Static

from tui.settings.fields import FIELDS, FIELDS_BY_ATTR, PROTOCOL_M365
from tui.settings.model import Settings
from tui.console.drawing import component_style
from tui.console.keytext import ConsoleBinding, fill

if TYPE_CHECKING:
    from tui.console.form import SettingsForm

IGNORED_NOTE = "(ignored by LogicalDOC with SMTP Microsoft 365)"
SETTINGS_PANE = "settings-pane"
# The help line's words; `{name}` is the key of that action (tui/console/keytext.py, read from the bindings).
DEFAULT_HELP = ("{focus_next} moves between fields. {help} lists every key; {command_palette} finds every action by "
                "name.")
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
            continue  # the same rule as tui.console.form.applies
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
    """Update a Static (or Label) only when its text changes: an update costs a layout pass, and the problem lines
    and the help line are updated on every key."""
    if widget.content != text:
        widget.update(text)


class StatusLine(Widget):
    """File, tenant, saved state and problem counts, in words, on one line drawn by the widget itself:

         …/outmail-sandbox-zx1vkg2o/settings.toml    tenant default  ● unsaved changes  ✖ 1 error ▲ 2 warnings

    Each part has one cell of padding either side; the path takes the width the other three leave, its folders
    shortened to fit and the file name kept (tui.console.shorten.fit_path); its tooltip is the whole path. One widget
    instead of a row of four Labels: Textual's start-up cost is per widget. Styles (app.tcss): the path bold, unsaved
    changes and a new file in bold `$text-warning`, errors in bold `$text-error`, warnings alone in `$text-warning`.
    """

    COMPONENT_CLASSES = {"status-line--path", "status-line--dirty", "status-line--errors", "status-line--warnings"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = ""
        self.tenant_text = ""
        self.dirty_text = ""
        self.counts_text = ""
        self._dirty = False  # unsaved changes, or a file not saved yet: the dirty text in the warning style
        self._counts_style = ""  # "errors", "warnings" or "" (no problems, or still checking)

    def update_status(self, *, path: str, tenant: str, tenants: tuple[str, ...], dirty: bool, exists: bool,
                      errors: int, warnings: int) -> None:
        tenant_text, tenant_short = f"tenant {tenant}", tenant
        if len(tenants) > 1:
            key = fill(self, "{switch_tenant}")
            if tenant in tenants:
                tenant_text += f" ({tenants.index(tenant) + 1}/{len(tenants)}, {key})"
                tenant_short += f" {tenants.index(tenant) + 1}/{len(tenants)}"
            else:
                tenant_text += f" ({key})"
        if dirty:
            dirty_text, dirty_short = "● unsaved changes", "● unsaved"
        elif not exists:
            dirty_text, dirty_short = "○ new file, not saved yet", "○ new file"
        else:
            dirty_text = dirty_short = "✔ saved"
        if errors or warnings:
            parts, shorts = [], []
            if errors:
                parts.append(f"✖ {errors} error{'s' if errors != 1 else ''}")
                shorts.append(f"✖ {errors}")
            if warnings:
                parts.append(f"▲ {warnings} warning{'s' if warnings != 1 else ''}")
                shorts.append(f"▲ {warnings}")
            counts_text, counts_short = " ".join(parts), " ".join(shorts)
        else:
            counts_text, counts_short = "✔ no problems", "✔ ok"
        counts_style = "errors" if errors else ("warnings" if warnings else "")
        self._show(path, tenant_text, dirty_text, dirty or not exists, counts_text, counts_style,
                   (tenant_short, dirty_short, counts_short))

    def show_checking(self) -> None:
        """The counts while validation has not run yet."""
        self._show(self.path, self.tenant_text, self.dirty_text, self._dirty, "… checking", "",
                   (*self._short[:2], "…"))

    _short: tuple[str, str, str] = ("", "", "")  # the tenant, saved state and counts in fewer words (render)

    def _show(self, path: str, tenant_text: str, dirty_text: str, dirty: bool, counts_text: str,
              counts_style: str, short: tuple[str, str, str]) -> None:
        state = (path, tenant_text, dirty_text, dirty, counts_text, counts_style, short)
        if state == (self.path, self.tenant_text, self.dirty_text, self._dirty, self.counts_text, self._counts_style,
                     self._short):
            return  # an update costs a repaint, and the status line is updated on every key
        if path != self.path:
            self.tooltip = path
        (self.path, self.tenant_text, self.dirty_text, self._dirty, self.counts_text, self._counts_style,
         self._short) = state
        self.refresh()

    def render(self) -> Content:
        """The parts in full; in a terminal too narrow to keep the file's name beside them, the tenant and the saved
        state in fewer words ("acme 1/2", "● unsaved"), then the counts too ("✖ 1 ▲ 2", "✔ ok"): the file name is
        what says which settings these are."""
        from tui.console.shorten import fit_path

        width = self.content_size.width
        # "…/" and the file name (up to 24 cells) with its padding: which folder is cut, but never the name
        wanted = min(len(PurePath(self.path).name), 24) + 4
        tenant_short, dirty_short, counts_short = self._short
        for tenant, dirty, counts in ((self.tenant_text, self.dirty_text, self.counts_text),
                                      (tenant_short, dirty_short, self.counts_text),
                                      (tenant_short, dirty_short, counts_short)):
            right = self._right(tenant, dirty, counts)
            room = width - sum(part.cell_length for part in right)
            if room >= wanted:
                break
        room = max(0, room - 2)  # the path's own padding: one cell either side
        path = Content.styled(fit_path(self.path, room) if room else "", component_style(self, "status-line--path"))
        return Content.assemble(" ", path, " " * (room - path.cell_length + 1), *right)

    def _right(self, tenant: str, dirty: str, counts: str) -> list[Content]:
        plain = Style()
        return [Content(" "), Content(tenant), Content("  "),
                Content.styled(dirty, component_style(self, "status-line--dirty") if self._dirty else plain),
                Content("  "),
                Content.styled(counts, component_style(self, f"status-line--{self._counts_style}")
                               if self._counts_style else plain),
                Content(" ")]


HELP_LINES = 2  # the help line's height at most (app.tcss: #help-line max-height)


def fit_lines(text: str, width: int, lines: int = HELP_LINES) -> Content:
    """`text` wrapped at `width` cells in at most `lines` lines; what does not fit is cut at the last line's end
    with an ellipsis (…), so a cut is seen. `width` < 1: the text as it is (not laid out yet)."""
    if width < 1:
        return Content(text)
    wrapped = Content(text).wrap(width)
    if len(wrapped) > lines:
        rest = " ".join(str(line).strip() for line in wrapped[lines - 1:])
        wrapped = [*wrapped[:lines - 1], Content(rest).truncate(width, ellipsis=True)]
    return Content("\n").join(wrapped)


class HelpLine(Static):
    """The help line under the form (`#help-line`): a Static whose text is wrapped in at most HELP_LINES lines and,
    when it needs more (a terminal narrower than 80 columns), cut with "…" at the end (`fit_lines`) rather than
    clipped without a mark. Updated as a Static is (`show_text`)."""

    def render(self) -> Content:
        return fit_lines(str(self.content), self.content_size.width)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(fit_lines(str(self.content), width).split("\n"))


def _field_of(widget: Any) -> Any:
    """The form's field widget (`#f-<attr>`) that `widget` is or lies in (its Select's list), else `widget`."""
    if widget is None:
        return None
    return next((node for node in widget.ancestors_with_self
                 if (getattr(node, "id", None) or "").startswith("f-")), widget)


class KeysFooter(Footer):
    """Textual's Footer, recomposed only when the keys it would show change.

    Textual recomposes the footer (a FooterKey widget per key) after every focus change, although moving between
    the form's fields changes none of the keys it shows: the same widgets again, ~15 ms each time, once right after
    the editable form appears and once per Tab. Here a change of bindings that leaves the shown keys (key, its
    display, description, enabled, tooltip, group; the palette's key) as they were composed changes nothing.
    """

    _composed: tuple[object, ...] | None = None  # the keys the last compose showed (None: nothing composed yet)
    held = True  # no keys until `release`: the app releases it once the editable form has been painted

    def _keys_shown(self, screen: Screen[Any]) -> tuple[object, ...]:
        app = self.app
        shown = tuple((active.binding, active.enabled, active.tooltip, app.get_key_display(active.binding))
                      for active in screen.active_bindings.values() if active.binding.show)
        palette = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING) \
            if self.show_command_palette and app.ENABLE_COMMAND_PALETTE else None
        return shown, palette and (palette.binding, palette.enabled, palette.tooltip)

    def compose(self) -> ComposeResult:
        self._composed = self._keys_shown(self.screen) if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self.held:
            return  # composed on release
        if self._composed is not None and self.is_attached and screen is self.screen \
                and self._keys_shown(screen) == self._composed:
            return  # the same keys: nothing to recompose
        super().bindings_changed(screen)

    def release(self) -> None:
        """Show the keys from now on. At start-up the footer's first keys (a dozen widgets, ~12 ms) come in the
        frame after the editable form instead of delaying it: the form is what the admin waits for; F1 and the help
        line name the keys too."""
        if self.held:
            self.held = False
            self.call_next(self.bindings_changed, self.screen)  # on the footer's own message pump, as a signal is


class MainScreen(Screen[None]):
    """The settings form, or in its place (F5) the diagnostics pane; the app owns the state and the actions."""

    AUTO_FOCUS = "#f-protocol"
    BINDINGS = [
        ConsoleBinding("f2", "app.show_settings", "Settings form", show=False, id="show_settings", key_display="F2",
                       tooltip="Back to the settings form from the diagnostics pane.",
                       palette="Show the settings form"),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings
        self._help = ""
        self._message: tuple[str, str] | None = None  # (text, severity) shown above the help line
        self._message_focus: Any = None  # the widget focused when it was said (focus coming back keeps it)
        self._message_about: Settings | None = None  # the form's values the message describes (`say`)
        self._focus_coming_back = False  # a dialog closed: the next focus is the screen giving it back

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with ContentSwitcher(initial=SETTINGS_PANE, id="panes"):
            with Vertical(id=SETTINGS_PANE):
                yield Static(preview_text(self._settings), id="form-preview", markup=False)
            yield Vertical(id=DIAGNOSTICS_PANE)  # the DiagnosticsPane is mounted in it on the first run (F5)
        message = Static("", id="message-line", markup=False)
        message.display = False
        yield message
        yield HelpLine(self.default_help, id="help-line", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.app.main_screen_mounted()  # type: ignore[attr-defined]

    @property
    def form(self) -> SettingsForm:
        return self.query_one("#form")  # type: ignore[return-value]

    async def mount_form(self, settings: Settings) -> SettingsForm:
        """Mount an editable form for these settings in place of the preview or the previous form."""
        self._settings = settings
        pane = self.query_one(f"#{SETTINGS_PANE}", Vertical)
        from tui.console.form import SettingsForm

        form = SettingsForm(settings, id="form", marked="protocol")
        with self.app.batch_update():
            await pane.query("#form-preview, #form").remove()
            await pane.mount(form)
        self.query_one("#panes", ContentSwitcher).current = SETTINGS_PANE
        protocol = self.query_one("#f-protocol")
        self.set_focus(protocol)  # now, not after a queued callback: the next key finds it
        # Its mark and help now too, not when the focus event has passed the new widgets' own start-up messages:
        # then they land in the same frame as the form, not in a second layout pass of the whole screen.
        self.show_focus(protocol)
        return form

    def show_pane(self, pane: str) -> None:
        """Show the form or the diagnostics pane; focus leaves a pane that is hidden."""
        self.query_one("#panes", ContentSwitcher).current = pane
        self._drop_message()  # another pane, or a new run: what was said is about the last one
        if pane != SETTINGS_PANE:
            self.set_focus(None)
            self.set_help(fill(self, "Diagnostics of the settings on screen. {show_settings} returns to the form."))

    # ------------------------------------------------------------------------------------------------ help line

    @property
    def default_help(self) -> str:
        """The help line when no field has the focus: DEFAULT_HELP with the keys in force."""
        return fill(self, DEFAULT_HELP)

    def set_help(self, text: str) -> None:
        """What the keys do here (the focused field's help, the pane's keys): the help line under the form."""
        self._help = text
        show_text(self.query_one("#help-line", Static), text)

    def say(self, text: str, severity: str = "information", *, about: Settings | None = None) -> None:
        """Say what an action did (saved, copied, the sandbox's fault) on the message line above the help, where it
        covers nothing: a toast at 80x24 hid a dialog's buttons and the pane's fix. It stays until the next
        message, an edit, another pane or run, or the admin moving to another field (the focus moving within the
        same field, a choice list closing, is no move). `about`: the form's values the message describes (what
        choosing SMTP Microsoft 365 set); the edits that brought those values do not clear it."""
        self._message = (text, severity)
        self._message_focus = self.focused
        self._message_about = about
        self._show_message()

    def clear_message(self) -> None:
        """An edit: what was said no longer describes the values on screen, unless it was said `about` them."""
        if self._message is not None and self._message_about is not None:
            forms = self.query("#form")
            if forms and forms.first().read() == self._message_about:  # type: ignore[attr-defined]
                return
        self._drop_message()

    def _drop_message(self) -> None:
        if self._message is not None:
            self._message = None
            self._message_about = None
            self._show_message()

    @property
    def message(self) -> str:
        """The message on screen now ("" when none)."""
        return self._message[0] if self._message else ""

    def _show_message(self) -> None:
        line = self.query_one("#message-line", Static)
        line.display = self._message is not None
        # In the diagnostics pane the message takes the keys line's place (F1 lists the keys), so the fix above
        # loses as few rows as can be; under the form the field's help stays.
        self.query_one("#help-line").display = self._message is None or self.current_pane == SETTINGS_PANE
        if self._message is None:
            return
        text, severity = self._message
        style = {"error": "bold $text-error", "warning": "bold $text-warning"}.get(severity, "bold")
        mark = {"error": "✖ ", "warning": "▲ "}.get(severity, "")
        if text.startswith(("✖", "▲", "✔")):
            mark = ""
        line.update(Content.styled(mark + text, style))

    @property
    def current_pane(self) -> str | None:
        return self.query_one("#panes", ContentSwitcher).current

    def on_screen_resume(self) -> None:
        self._focus_coming_back = True

    def on_descendant_focus(self, event: Any) -> None:
        """The focused field's help under the form (also while its choice list is open); a message said before
        stays while the focus comes back to where it was (a dialog closing) and goes when the admin moves on."""
        if self._focus_coming_back:
            self._focus_coming_back = False
            self._message_focus = event.widget
        elif self._message is not None and _field_of(event.widget) is not _field_of(self._message_focus):
            self._drop_message()
        self.show_focus(event.widget)

    def show_focus(self, widget: Any) -> None:
        """Where the keys go: the focused field's row marked (its label in reverse video, FieldRow.render, no colour
        needed) and its help on the help line; the default help when no field has the focus."""
        from tui.console.form import FieldRow

        row = next((n for n in widget.ancestors if isinstance(n, FieldRow)), None)
        for line in self.query(".field-line.-focused"):
            if line is not row:
                line.marked = False  # type: ignore[attr-defined]
        if row is not None:
            row.marked = True
        for node in widget.ancestors_with_self:
            node_id = getattr(node, "id", None) or ""
            if node_id.startswith("f-") and node_id[2:] in FIELDS_BY_ATTR:
                field = FIELDS_BY_ATTR[node_id[2:]]
                # Short enough that Client secret's help fits its two lines at 80 columns (HelpLine cuts the rest).
                extra = fill(self, " {reveal_secrets}: show/hide.") if field.kind == "secret" else ""
                self.set_help(f"{field.label}: {field.help}{extra}")
                return
        self.set_help(self.default_help)



"""Provides the editable Outgoing Email form: one line per field of the field table, problems under each field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.events import Blur, Click, Focus, Paste
from textual.geometry import Region
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static
from textual.widgets._select import SelectCurrent, SelectOverlay

from tui.secret import Secret
from tui.settings.fields import FIELDS, FIELDS_BY_ATTR, M365_PRESET, PROTOCOL_M365, Field
from tui.settings.model import Settings
from tui.console.drawing import component_style
from tui.console.messages import SettingsEdited
from tui.console.settings_screen import IGNORED_NOTE, MainScreen, show_text

if TYPE_CHECKING:
    from tui.settings.validate import Problem



class YesNoCheckbox(Checkbox):
    """A one-row checkbox that shows its state as `[X] yes` / `[ ] no`, so it does not rest on colour.

    The ticked box is drawn in Textual's `toggle--button` style; the unticked `[ ]` in the widget's own text style,
    as its word "no" is: Textual's unticked style (`$panel-darken-2` on `$panel`) was 1.2:1 in the default theme and
    black on black in 16 colours with NO_COLOR (tests/console/test_readability.py measures it). As wide as `[ ] no`
    (app.tcss), so a click far right of it is no toggle.
    """

    def __init__(self, value: bool, **kwargs: Any) -> None:
        super().__init__("yes" if value else "no", value, **kwargs)

    @property
    def _button(self) -> Content:
        if not self.value:
            return Content("[ ]")
        return Content.assemble(("[X]", self.get_visual_style("toggle--button")))

    def watch_value(self) -> None:
        self.label = "yes" if self.value else "no"
        super().watch_value()


class FieldSelectCurrent(SelectCurrent):
    """Select's current value in one widget: the value and the arrow (▼, ▲ while the list is open) drawn by the widget
    itself, where Textual's SelectCurrent composes three Statics (the label and each arrow). Same styles: the value in
    the widget's colour, the arrow in `$foreground 50%` one cell after the value's column (SelectCurrent's CSS)."""

    DEFAULT_CSS = """
    FieldSelectCurrent > .field-select-current--arrow {
        color: $foreground 50%;
    }
    """
    COMPONENT_CLASSES = {"field-select-current--arrow"}

    def compose(self) -> ComposeResult:
        return iter(())

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return 1  # one line, as the label Static of a one-line value was (SelectCurrent's height is auto)

    def update(self, label: Any) -> None:
        self.label = label
        self.has_value = label is not Select.NULL
        self.refresh()

    def render(self) -> Content:
        label = self.placeholder if self.label is Select.NULL else self.label
        value = label if isinstance(label, Content) else Content(str(label))
        room = max(0, self.content_size.width - 2)  # the arrow takes 2 cells: one of padding, then itself
        expanded = isinstance(self.parent, Select) and self.parent.expanded
        arrow = Content.styled("▲" if expanded else "▼", component_style(self, "field-select-current--arrow"))
        value = value.truncate(room, ellipsis=True)  # "SMTP Mi…" in a narrow terminal, never a word that misleads
        return value + " " * (room - value.cell_length + 1) + arrow


class FieldSelect(Select):
    """Textual's Select (same looks, keys, messages), whose list of choices (a SelectOverlay, an OptionList: the
    heaviest widget of the form) is mounted the first time it opens rather than with the form.

    Its openers wait for it: Enter, Space, the arrows (`action_show_overlay`) and a click (SelectCurrent.Toggle).
    Until then the value is shown and reported as Select does it (`_watch_value` without the list's highlight,
    which `_mount_choices` sets, as Select keeps it, when the list arrives). Written against Textual 8.2.8 (pinned).
    """

    def compose(self) -> ComposeResult:
        current = FieldSelectCurrent(self.prompt)
        # The form's selects always hold a value (allow_blank=False): SelectCurrent starts as it will be once told
        # the value, rather than restyling itself and its children on mount.
        current.set_reactive(SelectCurrent.has_value, True)
        current.add_class("-has-value", update=False)
        yield current

    async def _mount_choices(self) -> None:
        if self.query(SelectOverlay):
            return
        overlay = SelectOverlay(type_to_search=self._type_to_search)
        overlay.compact = self.compact  # Select binds it (data_bind); the form's selects never change it
        await self.mount(overlay)
        super()._setup_options_renderables()
        index = next((i for i, (_prompt, value) in enumerate(self._options) if value == self.value), None)
        if index is not None:
            overlay.highlighted = index

    def _setup_options_renderables(self) -> None:
        if self.query(SelectOverlay):  # else done by _mount_choices
            super()._setup_options_renderables()

    def _watch_value(self, value: Any) -> None:
        if self.query(SelectOverlay):
            super()._watch_value(value)
            return
        self._value = value
        currents = self.query(SelectCurrent)
        if not currents:
            return
        if value == self.NULL:
            currents.first().update(self.NULL)
        else:
            prompt = next((p for p, option in self._options if option == value), None)
            if prompt is not None:
                currents.first().update(prompt)
        self.post_message(self.Changed(self, value))

    async def action_show_overlay(self) -> None:
        await self._mount_choices()
        super().action_show_overlay()

    def _watch_expanded(self, expanded: bool) -> None:
        super()._watch_expanded(expanded)
        for current in self.query(SelectCurrent):
            current.refresh()  # its arrow: ▲ while the list is open

    @on(SelectCurrent.Toggle)
    async def _toggle_choices(self, event: SelectCurrent.Toggle) -> None:
        event.stop()
        event.prevent_default()  # instead of Select's own handler, which needs the list there
        await self._mount_choices()
        self.expanded = not self.expanded


class FieldInput(Input):
    """Textual's Input (same looks, keys, messages), whose four component styles (input--cursor, --placeholder,
    --suggestion, --selection) are worked out when first drawn instead of each time the input is styled.

    Textual styles every component class of a widget whenever the widget is styled, a styled node each: 48 for the
    form's 12 inputs at mount, ~15 ms of the start-up on this project's 2-core VM, for styles that an input which is
    not focused and holds a value never draws. Here the stylesheet is told of none (`_get_component_classes`, which
    only the stylesheet calls, also drops the ones worked out for the input's last styling), and
    `get_component_styles` works one out as the stylesheet does (a node with that class under the input, styled)
    the first time it is asked for after each styling. Written against Textual 8.2.8 (pinned);
    tests/console/test_form_widgets.py compares every component style with a plain Input's.
    """

    def _get_component_classes(self) -> frozenset[str]:  # type: ignore[override]
        if self._component_styles:
            self._component_styles.clear()
            self._rich_style_cache.clear()
            self.refresh()  # a component's style may change with the input's (its background under the focus)
        return frozenset()

    # The placeholder's words (`placeholder` is set from them, fitted to the width when drawn): "" for none.
    placeholder_words = ""

    def render_line(self, y: int) -> Any:
        if self.placeholder_words and not self.value:
            fitted = fit_placeholder(self.placeholder_words, self.scrollable_content_region.width)
            if fitted != self.placeholder:
                self.set_reactive(Input.placeholder, fitted)  # no watcher: this draw shows it
        return super().render_line(y)

    def on_blur(self, event: Blur) -> None:
        """Show the value from its start once the admin leaves the field (Textual keeps the view where the cursor
        was: the end of a long value, which hid what an error under it is about). Value and cursor stay."""
        self.scroll_to(x=0, animate=False, immediate=True)

    def on_focus(self, event: Focus) -> None:
        """Back in the field, the cursor is in view again, as Textual left it (this runs before Input's own focus
        handler, which scrolls only when it moves the cursor)."""
        self._cursor_in_view()

    def on_paste(self, event: Paste) -> None:
        """After Input's own paste handler (Textual calls both): the cursor brought into view once the longer value
        is laid out. Textual 8.2.8 scrolls to the cursor before the input's scrollable width has grown, so the first
        paste into an empty field left the view at its start, the cursor out of sight (a plain Input does the same)."""
        self.call_after_refresh(self._cursor_in_view)

    def _cursor_in_view(self) -> None:
        self.scroll_to_region(Region(self._cursor_offset, 0, width=1, height=1), force=True, animate=False,
                              immediate=True)

    def get_component_styles(self, *names: str) -> Any:
        for name in names:
            if name not in self._component_styles and name in Input.COMPONENT_CLASSES:
                node = DOMNode(classes=name)
                node._attach(self)
                self.app.stylesheet.apply(node, animate=False)
                self._component_styles[name] = node.styles
        return super().get_component_styles(*names)


def fit_placeholder(words: str, width: int) -> str:
    """A placeholder in `width` cells: whole, else without a leading "from " ("$OUTMAIL_CLIENT_SECRET"), else cut
    with "…" (Rich wrapped it at a space: "from" alone at 60 columns)."""
    for candidate in (words, words.removeprefix("from ")):
        if len(candidate) <= width:
            return candidate
    return str(Content(words.removeprefix("from ")).truncate(max(1, width), ellipsis=True))


LABEL_WIDTH = 28  # cells: the label column (app.tcss: the row's padding, then its widget's margin)
NOTE_INDENT = LABEL_WIDTH - 1  # cells from the row's content edge to the note (under the widget)
STATE_WIDTH = 8  # cells right of a secret's widget for its state (app.tcss: .field-line.-stated > .field-widget)


class FieldRow(Widget):
    """One field's lines (`#row-<attr>`, class `field-line`), drawn by the row itself around its one child, the
    field's widget:

        outmail only: console                    the section's `title`, when the field opens an outmail-only section
        Password                   [the widget]  hidden      the LogicalDOC label in the first LABEL_WIDTH cells,
                                   (ignored by LogicalDOC…)  a secret's `state`, and the `note` under the widget

    Drawing these here instead of in a Label or Static each saves a widget per label, title, state and note (from 48
    widgets to 35 in the form): mounting, styling and laying out the form is most of the time from the first frame
    to the editable form (README, "Startup figures"). `marked` is where the keys go (the focused field's row: its
    label in bold reverse video, no colour needed); `ignored` a field LogicalDOC ignores with Microsoft 365 (its label
    muted, its widget dim: app.tcss). The title and the note are muted, the title in italics (app.tcss); the note
    wraps under the widget as a Static there did. The styles are the form's component classes (SettingsForm).
    """

    marked = reactive(False, toggle_class="-focused")
    ignored = reactive(False, toggle_class="-ignored")
    note: reactive[str] = reactive("", layout=True)
    state: reactive[str | None] = reactive(None)  # "hidden" / "SHOWN" for a secret, None for other fields

    def __init__(self, label: str, widget: Widget, *, id: str, ignored: bool = False, marked: bool = False,
                 title: str = "", note: str = "", state: str | None = None) -> None:
        classes = "field-line"
        if title:
            classes += " -titled"
        if title or note:
            classes += " -tall"
        if state is not None:
            classes += " -stated"
        super().__init__(widget, id=id, classes=classes)
        self.label = label
        self.title = title
        # Set without their watchers: the classes are already right for a row that is not even mounted.
        self.set_reactive(FieldRow.ignored, ignored)
        self.set_class(ignored, "-ignored", update=False)
        self.set_reactive(FieldRow.marked, marked)
        self.set_class(marked, "-focused", update=False)
        self.set_reactive(FieldRow.note, note)
        self.set_reactive(FieldRow.state, state)

    def watch_note(self, note: str) -> None:
        self.set_class(bool(self.title or note), "-tall")

    def on_click(self, event: Click) -> None:
        """A click on the row's own cells (its label, title, note, the blank right of a checkbox) focuses the field;
        a click on the widget is the widget's."""
        if event.widget is self and self.children and self.children[0].focusable:
            self.children[0].focus()

    def _note_lines(self, width: int) -> list[Content]:
        """The note wrapped in the cells right of the label column, as a Static of that width wraps it."""
        if not self.note:
            return []
        return Content(self.note).wrap(max(1, width - NOTE_INDENT))

    def _title_lines(self, width: int) -> list[Content]:
        """The section's title wrapped as its Label did (one cell short of the row's right edge)."""
        return Content(self.title).wrap(max(1, width - 1)) if self.title else []

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self._title_lines(width)) + 1 + len(self._note_lines(width))

    def on_resize(self) -> None:
        """A title that wraps (a terminal narrower than ~72 cells) pushes the widget down as many lines (app.tcss
        places it one line down: one layout pass more, and only then)."""
        if self.title and self.children:
            lines = len(self._title_lines(self.content_size.width))
            widget = self.children[0]
            if widget.styles.margin.top != lines:
                widget.styles.margin = (lines, 0, 0, LABEL_WIDTH - 1)

    def render(self) -> Content:
        width = self.content_size.width  # after the row's one cell of padding
        form = self.parent  # the SettingsForm: it holds the styles of what its rows draw
        lines: list[Content] = []
        if self.title:
            title_style = component_style(form, "settings-form--title")
            lines.extend(line.stylize(title_style) for line in self._title_lines(width))
        label_style = component_style(form, "settings-form--label")
        if self.ignored:
            label_style += component_style(form, "settings-form--label-ignored")
        if self.marked:
            label_style += component_style(form, "settings-form--label-focused")
        label = Content.styled(self.label[: LABEL_WIDTH - 1], label_style)
        if self.state is not None:
            # After the widget, which stops STATE_WIDTH cells before the row's end (app.tcss: .-stated), one cell in.
            state = Content.styled(self.state, component_style(form, "settings-form--note"))
            label = label + " " * max(0, width - STATE_WIDTH + 1 - label.cell_length) + state
        lines.append(label)
        if self.note:
            note_style = component_style(form, "settings-form--note")
            lines.extend(" " * NOTE_INDENT + line.stylize(note_style) for line in self._note_lines(width))
        return Content("\n").join(lines)


def _widget_for(field: Field, settings: Settings) -> Widget:
    """The compact input widget for one field, holding the settings' value."""
    return _prepared(_new_widget_for(field, settings))


def _prepared(widget: Widget) -> Widget:
    """The widget in its compact style (Textual's `compact=True`), set without the stylesheet pass Textual's setter
    makes at once on a widget that is not even mounted (it is styled when it is mounted): ~0.4 ms per field."""
    widget.set_reactive(type(widget).compact, True)
    widget.add_class("-textual-compact", update=False)
    return widget


# An Input validates the value it is given in its constructor and gives itself -valid or -invalid then, each class
# change a stylesheet pass on a widget not even mounted: starting with -valid makes that a no-op for a valid value
# (Input.validate still sets -invalid for one that is not).
INPUT_CLASSES = "field-widget -valid"


def _new_widget_for(field: Field, settings: Settings) -> Widget:
    wid = f"f-{field.attr}"
    value = getattr(settings, field.attr)
    if field.kind == "choice":
        options = [(Content(label), key) for key, label in field.choices]
        if value not in dict(field.choices):
            # A value the file holds but LogicalDOC does not offer (connectionSecurity = 7): shown, flagged by
            # validation, and replaced when the admin picks a real choice.
            options.append((Content(f"{value} (not a valid choice)"), value))
        return FieldSelect(options, value=value, allow_blank=False, id=wid, classes="field-widget")
    if field.kind == "bool":
        # -on as ToggleButton gives it for True (its watcher's class change is then no stylesheet pass)
        return YesNoCheckbox(bool(value), id=wid, classes="field-widget -on" if value else "field-widget")
    if field.kind == "secret":
        source = settings.secret_source(field.attr)
        if source.startswith("env:"):
            # The value came from the environment: keep it out of the form (and out of the file unless retyped).
            widget = FieldInput("", placeholder=_secret_placeholder(source), password=True, id=wid,
                                classes=INPUT_CLASSES)
        else:
            widget = FieldInput(value.reveal(), password=True, id=wid, classes=INPUT_CLASSES,
                                placeholder=_secret_placeholder(source))
        widget.placeholder_words = widget.placeholder
        return widget
    if field.kind == "int":
        return FieldInput(str(value), type="integer", id=wid, classes=INPUT_CLASSES)
    if field.kind == "float":
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        return FieldInput(text, type="number", id=wid, classes=INPUT_CLASSES)
    return FieldInput(str(value), id=wid, classes=INPUT_CLASSES)


class SettingsForm(VerticalScroll):
    """One row per field of the field table, in LogicalDOC's order; posts SettingsEdited on every change.

    `base` is the loaded Settings: the form's values are applied on top of it (`with_changes`), so attributes the
    form does not show (tenant, path, secret sources) and secrets supplied by the environment are kept. Setting it
    (the app does, after a save) redraws what the secrets' rows say of their source (placeholder and note).
    """

    can_focus = False  # focus goes to the fields; the view scrolls to follow them
    # The styles of what each FieldRow draws (app.tcss), kept once here rather than on each of 16 rows: Textual styles
    # every component class of every widget on mount, a node each (48 nodes for three components on 16 rows).
    COMPONENT_CLASSES = {"settings-form--label", "settings-form--label-ignored", "settings-form--label-focused",
                         "settings-form--title", "settings-form--note"}

    def __init__(self, base: Settings, *, marked: str | None = None, **kwargs: Any) -> None:
        """`marked`: the attr of the field whose row starts marked (the one about to be focused: its mark is then
        no restyle of the row and its widget once they are mounted)."""
        super().__init__(**kwargs)
        self._base = base
        self._marked = marked
        self._protocol = base.protocol
        self._problem_lines: dict[str, Static] = {}  # created on a field's first problem (fewer widgets to mount)
        self._reported = base  # the values last posted in SettingsEdited (the loaded ones to start with)

    def compose(self) -> ComposeResult:
        # One FieldRow per field: its label, section title, note and secret state drawn by the row, its widget as its
        # child; problem lines are added under a field when it first has one (fewer widgets to mount).
        section = None
        protocol = self.base.protocol
        for field in FIELDS:
            title = SECTION_TITLES.get(field.section, "") if field.section != section else ""
            section = field.section
            row = FieldRow(field.label, _widget_for(field, self.base), id=f"row-{field.attr}",
                           ignored=_ignored(field, protocol), marked=field.attr == self._marked, title=title,
                           note=_note(field, protocol, self.base), state="hidden" if field.kind == "secret" else None)
            row.display = applies(field, protocol)
            yield row

    @property
    def base(self) -> Settings:
        return self._base

    @base.setter
    def base(self, settings: Settings) -> None:
        self._base = settings
        for field in FIELDS:
            if field.kind == "secret" and self.query(f"#row-{field.attr}"):
                widget = self.query_one(f"#f-{field.attr}", FieldInput)
                widget.placeholder = widget.placeholder_words = _secret_placeholder(settings.secret_source(field.attr))
                self._show_note(field)

    def _show_note(self, field: Field) -> None:
        """The field's note for the protocol and, for a secret, what the admin has typed (FieldRow.note)."""
        typed = field.kind == "secret" and bool(self.widget(field.attr).value)  # type: ignore[attr-defined]
        self.query_one(f"#row-{field.attr}", FieldRow).note = _note(field, self._protocol, self._base, typed=typed)

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
            row = self.query_one(f"#row-{field.attr}", FieldRow)
            row.display = applies(field, protocol)
            row.ignored = _ignored(field, protocol)
            self._show_note(field)

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
                lines.append(f"{mark}: {prefix}{self._shortened(p)}")
            static = self._problem_lines.get(field.attr)
            if static is None:
                if not lines:
                    continue
                static = Static("", id=f"p-{field.attr}", classes="field-problems", markup=False)
                self.mount(static, after=self.query_one(f"#row-{field.attr}"))
                self._problem_lines[field.attr] = static
            show_text(static, "\n".join(lines))
            static.display = bool(lines)
            static.set_class(any(p.severity == "error" for p in found), "-error")
            static.set_class(bool(found) and all(p.severity == "warning" for p in found), "-warning")

    def _shortened(self, problem: Problem) -> str:
        """The problem's message with a long value (a paste) cut to its start and its length, so the reason stays on
        screen: a 5,000-character Server would otherwise wrap over a hundred lines under the field."""
        from tui.console.shorten import cut_value, cut_words

        message = problem.message
        widgets = self.query(f"#f-{problem.attr}")
        if widgets and isinstance(widgets.first(), Input) and not widgets.first(Input).password:
            message = cut_value(message, widgets.first(Input).value)
        return cut_words(message)

    def set_revealed(self, revealed: bool) -> None:
        """Show or mask every secret field."""
        for field in FIELDS:
            if field.kind == "secret":
                self.query_one(f"#f-{field.attr}", Input).password = not revealed
                self.query_one(f"#row-{field.attr}", FieldRow).state = "SHOWN" if revealed else "hidden"

    def apply_m365_preset(self) -> str:
        """What LogicalDOC does when SMTP Microsoft 365 is chosen: smtp.office365.com, 587, STARTTLS, secure auth.
        Returns what that changed, in words (`preset_words`; "" when the form already held the preset)."""
        before = self.read()
        for attr, value in M365_PRESET.items():
            widget = self.widget(attr)
            if isinstance(widget, Input):
                widget.value = str(value)
            elif isinstance(widget, (Select, Checkbox)):
                widget.value = value
        return preset_words(before)

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
                said = self.apply_m365_preset() if protocol == PROTOCOL_M365 else ""
                self._protocol = protocol
                self.show_protocol(protocol)
                if said and isinstance(self.screen, MainScreen):
                    # Kept on the message line while the form holds these values (MainScreen.say's `about`).
                    self.screen.say(said, about=self.read())
        elif widget_id and widget_id[2:] in FIELDS_BY_ATTR and FIELDS_BY_ATTR[widget_id[2:]].kind == "secret":
            self._show_note(FIELDS_BY_ATTR[widget_id[2:]])  # "replaces $OUTMAIL_CLIENT_SECRET when saved"
        settings = self.read()
        if settings != self._reported:
            # Every widget reports its first value when it is mounted (a dozen at start-up): values the app already
            # has are not posted again (each post made the app look for the form among all the screen's widgets).
            self._reported = settings
            self.post_message(SettingsEdited(settings, self))


def applies(field: Field, protocol: object) -> bool:
    """Shown for this protocol. Password stays visible (greyed, "ignored") with Microsoft 365, as on LogicalDOC's
    own screen, so the admin sees that it is ignored rather than wondering where it went."""
    return field.only_for is None or field.only_for == protocol or _ignored(field, protocol)


def _ignored(field: Field, protocol: object) -> bool:
    return protocol == PROTOCOL_M365 and field.ignored_by_m365


# The outmail-only sections' titles, drawn above their first field (FieldRow.title); LogicalDOC's own fields have none.
SECTION_TITLES = {"microsoft365": "outmail only: token service (LogicalDOC always uses the global cloud)",
                  "console": "outmail only: console"}


def _note(field: Field, protocol: object, base: Settings, *, typed: bool = False) -> str:
    """The words under a field: ignored by LogicalDOC, or where its secret comes from ("" for none). A secret the
    environment supplies (`base.secret_source`: "env:NAME") says so until the admin types one (`typed`), then that
    the typed one replaces it when saved; once saved, the file holds it (source "file") and nothing is said."""
    notes = []
    if _ignored(field, protocol):
        notes.append(IGNORED_NOTE)
    if field.kind == "secret":
        source = base.secret_source(field.attr)
        if source.startswith("env:"):
            name = source.removeprefix("env:")
            notes.append(f"replaces ${name} when saved" if typed
                         else f"from ${name} (not written to the file unless you type one)")
    return "  ".join(notes)


def _secret_placeholder(source: str) -> str:
    """What an empty secret field shows: where the value comes from (the note under it says how to replace it)."""
    return f"from ${source.removeprefix('env:')}" if source.startswith("env:") else "empty"


def preset_words(before: Settings) -> str:
    """What choosing SMTP Microsoft 365 changed (M365_PRESET over `before`'s values), for the message line:
    "SMTP Microsoft 365 sets Server smtp.office365.com, Port 587, STARTTLS and secure authentication, as LogicalDOC
    does (was 127.0.0.1:37369, None, no secure authentication)"; "" when `before` already held the preset."""
    security = dict(FIELDS_BY_ATTR["connection_security"].choices)
    changed = {attr for attr, value in M365_PRESET.items() if getattr(before, attr) != value}
    if not changed:
        return ""
    sets, was = [], []
    if "host" in changed:
        sets.append(f"Server {M365_PRESET['host']}")
    if "port" in changed:
        sets.append(f"Port {M365_PRESET['port']}")
    if {"host", "port"} <= changed:
        was.append(f"{before.host}:{before.port}")
    elif "host" in changed:
        was.append(f"Server {before.host}")
    elif "port" in changed:
        was.append(f"Port {before.port}")
    if "connection_security" in changed:
        sets.append(str(security[M365_PRESET["connection_security"]]))
        old = before.connection_security
        was.append(f"Connection Security {security.get(old, old)}")  # type: ignore[call-overload]
    if "auth_encrypted" in changed:
        sets.append("secure authentication" if M365_PRESET["auth_encrypted"] else "no secure authentication")
        was.append("no secure authentication" if M365_PRESET["auth_encrypted"] else "secure authentication")
    listed = sets[0] if len(sets) == 1 else ", ".join(sets[:-1]) + " and " + sets[-1]
    return f"SMTP Microsoft 365 sets {listed}, as LogicalDOC does (was {', '.join(was)})"


def _to_number(text: str, kind: type) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        return None

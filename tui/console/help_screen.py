"""Provides the F1 help screen: every key, read from the bindings themselves, and every field's help text.

`help_groups(app, demo=...)` says which bindings F1 lists, under which title; `help_rows(groups, owner)` is F1's
table as data (title, [(keys, text)]), the keys in the console's display form with the app's keymap applied
(tui/console/keytext.py); `key_lines` lays it out. Keys that a widget or Textual binds (Tab, an Input's Enter, a
list's arrows) are read from those widgets' bindings with the console's own words (`keytext.described`)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.settings.fields import FIELDS
from tui.console import keytext
from tui.console.keytext import described, expand, keys


WIDTH = 70  # the help text's width inside the 78-column dialog (border, padding, scrollbar)


KEY_COLUMN_MAX = 16  # wider keys (rare) get a line of their own, the text starting under the column


def _hanging(head: str, text: str, column: int) -> list[str]:
    """`  keys  text`, the text wrapped under itself, starting in `column` (keys too wide: their own line)."""
    indent = " " * (2 + column + 1)
    if len(head) > column:
        return ["  " + head] + textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)
    return textwrap.wrap(text, WIDTH, initial_indent=f"  {head:<{column}} ", subsequent_indent=indent)


def help_sections(owner: Any, *, demo: bool) -> list[tuple[str, tuple[type, ...], list[Binding]]]:
    """What F1 lists, as (title, the classes whose bindings it lists, more keys in the console's words): the keys a
    widget or Textual binds (Tab, an Input's Enter, a list's arrows) and a place's `HELP_KEYS`. `owner` is the app
    (its keymap names the keys in the titles) or an app class (OutmailApp or a subclass); `demo`: the sandbox's
    keys exist (`outmail demo`). Every console class with a described binding is in one section
    (tests/console/test_keytext.py walks them)."""
    from textual.screen import Screen
    from textual.widgets import Checkbox, Input, OptionList
    from textual.widgets._select import SelectOverlay

    from tui.console import dialogs
    from tui.console.bridge_dialogs import PlanPreviewDialog, PropertiesPathDialog
    from tui.console.diagnostics_pane import DiagnosticsPane, PaneButton
    from tui.console.explain_dialog import ExplainDialog
    from tui.console.guide_screen import FromAddressesDialog, GuideScreen, ModelDialog, VerificationDialog
    from tui.console.sandbox_panel import SandboxPanel
    from tui.console.send_dialog import SendDialog
    from tui.console.settings_screen import MainScreen

    app_class = owner if isinstance(owner, type) else type(owner)
    on_screen = (MainScreen, owner)  # keys named in the titles, as the main screen on this app answers them

    def k(name: str, joiner: str = " or ") -> str:
        return keys(on_screen, name, joiner=joiner)

    def g(name: str) -> str:
        return keys(GuideScreen, name) if isinstance(owner, type) else keys((GuideScreen, owner), name)

    form_keys = [
        *described(Screen, "focus_next", description="Next field"),
        *described(Screen, "focus_previous", description="Previous field"),
        *described(Checkbox, "toggle_button", description="Open a choice list / toggle a checkbox"),
        *described(SelectOverlay, "cursor_up", "cursor_down", description="Move in an open choice list"),
        *described(app_class, "command_palette", description="Command palette: every action by name"),
    ]
    sections: list[tuple[str, tuple[type, ...], list[Binding]]] = [
        ("Everywhere", (app_class,), []),
        ("Settings form", (MainScreen,), form_keys),
        (f"Diagnostics pane ({k('diagnose')})", (DiagnosticsPane, PaneButton),
         list(expand(DiagnosticsPane.HELP_KEYS))),
        (f"Test send dialog ({k('test_send', ', ')})", (SendDialog,), list(expand(SendDialog.HELP_KEYS))),
        (f"Import ({k('import_properties')}) / Export ({k('export_properties')}): the file", (PropertiesPathDialog,),
         described(Input, "submit", description="Show the changes (nothing is written before you confirm)")),
        (f"Import ({k('import_properties')}) / Export ({k('export_properties')}): the changes before writing",
         (PlanPreviewDialog,), []),
        (f"Explain an error ({k('explain')})", (ExplainDialog,), list(expand(ExplainDialog.HELP_KEYS))),
        (f"Setup guide ({k('guide')})", (GuideScreen,), list(expand(GuideScreen.HELP_KEYS))),
        (f"Setup guide: the authorization model ({g('guide_model')})", (ModelDialog,),
         described(Button, "press", description="Take the focused (preselected) model")),
        (f"Setup guide: paste the verification ({g('guide_paste')})", (VerificationDialog,), []),
        (f"Setup guide: From addresses ({g('guide_from')})", (FromAddressesDialog,),
         described(Input, "submit", description="Take the addresses (each must be an address)")),
        ("Quit with unsaved changes", (dialogs.QuitDialog,), []),
        ("Switch tenant or import with unsaved changes", (dialogs.SwitchTenantDialog,), []),
        ("File changed on disk while saving", (dialogs.ConflictDialog,), []),
        ("New settings file", (dialogs.NewFileDialog,), []),
        ("Tenant picker", (dialogs.TenantPickerDialog,), described(OptionList, "select",
                                                                   description="Open the tenant")),
        ("An error to read", (dialogs.ErrorDialog,), []),
        ("Help", (HelpScreen,), []),
    ]
    if demo:
        sections.insert(3, (f"Sandbox panel (outmail demo, {k('sandbox')})", (SandboxPanel,),
                            list(expand(SandboxPanel.HELP_KEYS))))
    return sections


def help_groups(owner: Any, *, demo: bool) -> list[tuple[str, list[Binding]]]:
    """F1's groups: (title, bindings), each section's classes' own bindings (`keytext.binding_table(cls,
    textual=False)`: what the console declares, not Textual's Screen keys) then its keys in the console's words;
    without `demo`, the sandbox's actions are left out."""
    from tui.console.app import demo_only

    groups = []
    for title, classes, more in help_sections(owner, demo=demo):
        bindings = [b for cls in classes for b in keytext.binding_table(cls, textual=False)
                    if demo or not demo_only(b.action)]
        groups.append((title, bindings + more))
    return groups


def help_rows(groups: list[tuple[str, Iterable[BindingType]]],
              owner: Any = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """F1's table as data: per group (title, [(keys, text)]), one row per description and tooltip, its keys in
    display form joined with ", " (`"ctrl+t, F6"`), the keymap of `owner` (the running app) applied. System
    bindings (Textual's ctrl+c hint) are left out."""
    keymap = keytext.keymap_of(owner) if owner is not None else {}
    entries: list[tuple[str, list[tuple[str, str]]]] = []
    for title, source in groups:
        seen: dict[str, list[str]] = {}
        for binding in keytext.with_keymap(expand(source), keymap):
            if binding.system:
                continue
            text = binding.description or binding.action
            tip = keytext.tooltip(owner, binding)
            if tip:
                text = f"{text}: {tip}"
            shown = binding.key_display or keytext.display(binding.key)
            if shown not in seen.setdefault(text, []):
                seen[text].append(shown)
        entries.append((title, [(", ".join(shown), text) for text, shown in seen.items()]))
    return entries


def key_lines(groups: list[tuple[str, Iterable[BindingType]]], owner: Any = None) -> list[str]:
    """One line per binding, grouped: `  ctrl+s      Save: write the changed values`; the key column is as wide as
    the widest keys of all groups (`Tab, shift+Tab`), so every description starts in the same column."""
    entries = help_rows(groups, owner)
    widths = [len(shown) for _, rows in entries for shown, _ in rows]
    column = min(max(widths, default=12), KEY_COLUMN_MAX)
    lines: list[str] = []
    for title, rows in entries:
        lines.append(title)
        for shown, text in rows:
            lines.extend(_hanging(shown, text, column))
        lines.append("")
    return lines


class HelpScreen(ModalScreen[None]):
    """Keys and field help; Esc, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1", "close", "Close help", show=False)]

    def __init__(self, groups: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        lines = key_lines(self.groups, self.app)
        lines.append("Fields (LogicalDOC label, TOML key)")
        for field in FIELDS:
            where = f"smtp.{field.key}" if field.section == "smtp" else f"{field.section}.{field.key}"
            only = f", {field.only_for} only" if field.only_for else ""
            lines.append(f"  {field.label} ({where}{only})")
            lines.extend(textwrap.wrap(field.help, WIDTH, initial_indent="      ", subsequent_indent="      "))
        with Vertical(classes="dialog help-dialog"):
            yield Label(f"outmail help ({keys(self, 'close')} closes)", classes="dialog-title", markup=False)
            with VerticalScroll(id="help-body"):
                yield Static("\n".join(lines), markup=False, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

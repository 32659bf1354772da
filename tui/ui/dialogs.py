"""Provides the console's modal dialogs: quit with unsaved changes, save conflict, new file, tenant switch, error.

Every dialog has a visible button and a letter key for each choice, as well as Esc: under tmux < 3.5 Esc is slow.
Text from files or servers is shown with markup off.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.content import Content
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option


class ChoiceDialog(ModalScreen[str]):
    """A question with a few answers; dismisses with the chosen answer's value (CANCEL for Esc)."""

    CANCEL: ClassVar[str] = "cancel"
    TITLE_TEXT: ClassVar[str] = ""
    # (value, button label, key, button variant); each key also has a binding below, so help lists it.
    CHOICES: ClassVar[tuple[tuple[str, str, str, str], ...]] = ()
    DEFAULT: ClassVar[str] = "cancel"  # the button focused first (Enter), the choice that changes nothing
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "choose('cancel')", "Cancel", show=False)]

    def __init__(self, body: str, title: str | None = None) -> None:
        super().__init__()
        self.body = body
        self.title_text = title or self.TITLE_TEXT

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.body, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for value, label, key, variant in self.CHOICES:
                    yield Button(f"{label} ({key})", id=f"choice-{value}", variant=variant, compact=True)

    def on_mount(self) -> None:
        buttons = self.query(f"#choice-{self.DEFAULT}") or self.query(Button)
        if buttons:
            buttons.first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-") or self.CANCEL)

    def action_choose(self, value: str) -> None:
        self.dismiss(value)


class QuitDialog(ChoiceDialog):
    """Quitting with unsaved changes: Save, Discard or Cancel."""

    TITLE_TEXT = "Unsaved changes"
    CHOICES = (("save", "Save", "s", "primary"), ("discard", "Discard", "d", "error"),
               ("cancel", "Cancel", "c", "default"))
    BINDINGS = [
        Binding("s", "choose('save')", "Save and quit", show=False),
        Binding("d", "choose('discard')", "Discard changes and quit", show=False),
        Binding("c,escape", "choose('cancel')", "Cancel", show=False),
    ]


class SwitchTenantDialog(ChoiceDialog):
    """Switching tenant with unsaved changes: Save, Discard or Cancel."""

    TITLE_TEXT = "Unsaved changes"
    CHOICES = QuitDialog.CHOICES
    BINDINGS = [
        Binding("s", "choose('save')", "Save, then switch", show=False),
        Binding("d", "choose('discard')", "Discard changes, then switch", show=False),
        Binding("c,escape", "choose('cancel')", "Cancel", show=False),
    ]


class ConflictDialog(ChoiceDialog):
    """The file changed on disk since it was loaded: Reload, Overwrite or Cancel."""

    TITLE_TEXT = "The file changed on disk"
    CHOICES = (("reload", "Reload", "r", "primary"), ("overwrite", "Overwrite", "o", "error"),
               ("cancel", "Cancel", "c", "default"))
    BINDINGS = [
        Binding("r", "choose('reload')", "Reload from disk (your edits are dropped)", show=False),
        Binding("o", "choose('overwrite')", "Overwrite (the changes on disk are lost)", show=False),
        Binding("c,escape", "choose('cancel')", "Cancel", show=False),
    ]


class NewFileDialog(ChoiceDialog):
    """The settings file does not exist yet: start from the example, or quit."""

    TITLE_TEXT = "New settings file"
    DEFAULT = "start"
    CHOICES = (("start", "Start from the example", "s", "primary"), ("quit", "Quit", "q", "default"))
    BINDINGS = [
        Binding("s", "choose('start')", "Start from the example", show=False),
        Binding("q,escape", "choose('quit')", "Quit", show=False),
    ]


class ErrorDialog(ChoiceDialog):
    """An error the admin must read (a file that cannot be reloaded, a failed save)."""

    TITLE_TEXT = "Error"
    DEFAULT = "ok"
    CHOICES = (("ok", "OK", "o", "primary"),)
    BINDINGS = [Binding("o,enter,escape", "choose('ok')", "Close", show=False)]


class TenantPickerDialog(ModalScreen[str]):
    """Choose one of the file's tenants (arrows, Enter); dismisses with its name, or "" for Cancel."""

    BINDINGS = [Binding("escape,c", "cancel", "Cancel", show=False)]

    def __init__(self, tenants: tuple[str, ...], current: str | None = None, reason: str = "") -> None:
        super().__init__()
        self.tenants = tenants
        self.current = current if current in tenants else tenants[0]
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Choose a tenant", classes="dialog-title")
            yield Static(self.reason or "This file holds several LogicalDOC tenants.", classes="dialog-body",
                         markup=False)
            # Option prompts are markup-free Content: tenant names come from the file.
            yield OptionList(*[Option(Content(name), id=name) for name in self.tenants], id="tenant-choice")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (c)", id="cancel", compact=True)

    def on_mount(self) -> None:
        options = self.query_one("#tenant-choice", OptionList)
        options.highlighted = self.tenants.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id or "")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss("")

    def action_cancel(self) -> None:
        self.dismiss("")

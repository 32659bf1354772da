"""Provides the console's modal dialogs: quit with unsaved changes, save conflict, new file, tenant switch, error.

Every dialog has a visible button and a letter key for each choice, as well as Esc: under tmux < 3.5 Esc is slow.
Text from files or servers is shown with markup off.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.content import Content
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.console.keytext import key_after


class DialogButtons(Horizontal):
    """A dialog's buttons in a row on the right (class `dialog-buttons`); one under another (`-stacked`) when the row
    is wider than the dialog, in a terminal of ~40 columns, so that no button (Cancel last) is pushed off screen."""

    DEFAULT_CLASSES = "dialog-buttons"
    _row_width = 0  # cells the buttons take in a row, measured while they are in one (stacked, each fills the width)

    def on_resize(self) -> None:
        if not self.has_class("-stacked"):
            self._row_width = sum(button.outer_size.width + button.styles.margin.left for button in self.query(Button))
        self.set_class(self._row_width > self.size.width, "-stacked")


class Choice(NamedTuple):
    """One answer of a ChoiceDialog, declared once: the dialog's binding is made from it (`keys`, `description`
    for F1) and its button says `label (key)`, the key read back from that binding (tui/console/keytext.py)."""

    value: str
    label: str
    keys: str  # Textual key names, comma-separated
    variant: str  # the button's variant
    description: str  # what F1 help says the key does

    @property
    def action(self) -> str:
        """The dialog's action for this answer: `choose('save')`."""
        return f"choose('{self.value}')"


class ChoiceDialog(ModalScreen[str]):
    """A question with a few answers; dismisses with the chosen answer's value (CANCEL for Esc)."""

    CANCEL: ClassVar[str] = "cancel"
    TITLE_TEXT: ClassVar[str] = ""
    # The answers; each subclass's key bindings are made from them (so F1 help lists them).
    CHOICES: ClassVar[tuple[Choice, ...]] = ()
    DEFAULT: ClassVar[str] = "cancel"  # the button focused first (Enter), the choice that changes nothing
    # What Esc does when no answer binds it (F1 says it): a subclass may say it in its own words.
    ESCAPE_TEXT: ClassVar[str] = "Cancel"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "choose('cancel')", ESCAPE_TEXT, show=False)]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "CHOICES" in cls.__dict__:  # before Textual merges the class's bindings
            cls.BINDINGS = [Binding(c.keys, c.action, c.description, show=False) for c in cls.CHOICES]
            if "ESCAPE_TEXT" in cls.__dict__:
                cls.BINDINGS.append(Binding("escape", "choose('cancel')", cls.ESCAPE_TEXT, show=False))
        super().__init_subclass__(**kwargs)

    def __init__(self, body: str, title: str | None = None) -> None:
        super().__init__()
        self.body = body
        self.title_text = title or self.TITLE_TEXT

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.body, classes="dialog-body", markup=False)
            with DialogButtons():
                for choice in self.CHOICES:
                    yield Button(key_after(self, choice.action, choice.label), id=f"choice-{choice.value}",
                                 variant=choice.variant, compact=True)

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
    CHOICES = (Choice("save", "Save", "s", "primary", "Save and quit"),
               Choice("discard", "Discard", "d", "error", "Discard changes and quit"),
               Choice("cancel", "Cancel", "c,escape", "default", "Cancel"))


class SwitchTenantDialog(ChoiceDialog):
    """Switching tenant with unsaved changes: Save, Discard or Cancel."""

    TITLE_TEXT = "Unsaved changes"
    CHOICES = (Choice("save", "Save", "s", "primary", "Save, then switch"),
               Choice("discard", "Discard", "d", "error", "Discard changes, then switch"),
               Choice("cancel", "Cancel", "c,escape", "default", "Cancel"))


class ConflictDialog(ChoiceDialog):
    """The file changed on disk since it was loaded: Reload, Overwrite or Cancel."""

    TITLE_TEXT = "The file changed on disk"
    CHOICES = (Choice("reload", "Reload", "r", "primary", "Reload from disk (your edits are dropped)"),
               Choice("overwrite", "Overwrite", "o", "error", "Overwrite (the changes on disk are lost)"),
               Choice("cancel", "Cancel", "c,escape", "default", "Cancel"))


class NewFileDialog(ChoiceDialog):
    """The settings file does not exist yet: start from the example, or quit."""

    TITLE_TEXT = "New settings file"
    DEFAULT = "start"
    CHOICES = (Choice("start", "Start from the example", "s", "primary", "Start from the example"),
               Choice("quit", "Quit", "q,escape", "default", "Quit"))


class ErrorDialog(ChoiceDialog):
    """An error the admin must read (a file that cannot be reloaded, a failed save)."""

    TITLE_TEXT = "Error"
    DEFAULT = "ok"
    CHOICES = (Choice("ok", "OK", "o,enter,escape", "primary", "Close"),)


class TenantPickerDialog(ModalScreen[str]):
    """Choose one of the file's tenants (arrows, Enter); dismisses with its name, or "" for Cancel."""

    BINDINGS = [Binding("c,escape", "cancel", "Cancel", show=False)]

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
            with DialogButtons():
                yield Button(key_after(self, "cancel", "Cancel"), id="cancel", compact=True)

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

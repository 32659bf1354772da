"""Provides the F1 help screen: every key, read from the bindings themselves, and every field's help text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.settings.fields import FIELDS


WIDTH = 70  # the help text's width inside the 78-column dialog (border, padding, scrollbar)


def _hanging(head: str, text: str) -> list[str]:
    """`  keys  text`, the text wrapped under itself."""
    indent = " " * (len(head) + 2)
    return textwrap.wrap(text, WIDTH, initial_indent="  " + head, subsequent_indent=indent)


def _bindings(source: Iterable[BindingType]) -> list[Binding]:
    """Bindings with comma-separated keys expanded, one per key."""
    return list(Binding.make_bindings(source))


def key_lines(groups: list[tuple[str, Iterable[BindingType]]]) -> list[str]:
    """One line per binding, grouped: `  ctrl+s      Save: write the changed values`."""
    lines: list[str] = []
    for title, source in groups:
        lines.append(title)
        seen: dict[str, list[str]] = {}
        for binding in _bindings(source):
            if binding.system:
                continue
            text = binding.description or binding.action
            if binding.tooltip:
                text = f"{text}: {binding.tooltip}"
            seen.setdefault(text, []).append(binding.key_display or binding.key)
        for text, keys in seen.items():
            lines.extend(_hanging(f"{', '.join(keys):<13} ", text))
        lines.append("")
    return lines


class HelpScreen(ModalScreen[None]):
    """Keys and field help; Esc, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1", "close", "Close help", show=False)]

    def __init__(self, groups: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        lines = key_lines(self.groups)
        lines.append("Fields (LogicalDOC label, TOML key)")
        for field in FIELDS:
            where = f"smtp.{field.key}" if field.section == "smtp" else f"{field.section}.{field.key}"
            only = f", {field.only_for} only" if field.only_for else ""
            lines.append(f"  {field.label} ({where}{only})")
            lines.extend(textwrap.wrap(field.help, WIDTH, initial_indent="      ", subsequent_indent="      "))
        with Vertical(classes="dialog help-dialog"):
            yield Label("outmail help (Esc, q or F1 closes)", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static("\n".join(lines), markup=False, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

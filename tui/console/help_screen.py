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


KEY_COLUMN_MAX = 16  # wider keys (rare) get a line of their own, the text starting under the column


def _hanging(head: str, text: str, column: int) -> list[str]:
    """`  keys  text`, the text wrapped under itself, starting in `column` (keys too wide: their own line)."""
    indent = " " * (2 + column + 1)
    if len(head) > column:
        return ["  " + head] + textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)
    return textwrap.wrap(text, WIDTH, initial_indent=f"  {head:<{column}} ", subsequent_indent=indent)


def _bindings(source: Iterable[BindingType]) -> list[Binding]:
    """Bindings with comma-separated keys expanded, one per key."""
    return list(Binding.make_bindings(source))


def key_lines(groups: list[tuple[str, Iterable[BindingType]]]) -> list[str]:
    """One line per binding, grouped: `  ctrl+s      Save: write the changed values`; the key column is as wide as
    the widest keys of all groups (`escape, ctrl+g`), so every description starts in the same column."""
    entries: list[tuple[str, list[tuple[str, str]]]] = []
    for title, source in groups:
        seen: dict[str, list[str]] = {}
        for binding in _bindings(source):
            if binding.system:
                continue
            text = binding.description or binding.action
            if binding.tooltip:
                text = f"{text}: {binding.tooltip}"
            seen.setdefault(text, []).append(binding.key_display or binding.key)
        entries.append((title, [(", ".join(keys), text) for text, keys in seen.items()]))
    widths = [len(keys) for _, rows in entries for keys, _ in rows]
    column = min(max(widths, default=12), KEY_COLUMN_MAX)
    lines: list[str] = []
    for title, rows in entries:
        lines.append(title)
        for keys, text in rows:
            lines.extend(_hanging(keys, text, column))
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

"""Every action declared once (tui/console/keytext.py): plain tests, no Pilot.

The console's bindings feed F1 (help_screen.help_groups / help_rows), the palette (commands.palette_entries), the
buttons and every text that names a key; these tests walk the bindings of every console class, read the UI texts'
sources for hand-written key names, and rebind keys (a subclass, Textual's keymap) to see the texts follow.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import tui.console
from tui.console import keytext
from tui.console.app import OutmailApp, demo_only
from tui.console.commands import palette_entries
from tui.console.help_screen import HelpScreen, help_groups, help_rows, help_sections, key_lines
from tui.console.keytext import ConsoleBinding, display, fill, first_key, key_after, key_before, keys
from tui.console.settings_screen import DEFAULT_HELP, MainScreen

CONSOLE = Path(tui.console.__file__).parent


def console_classes() -> list[type]:
    """Every Widget, Screen and App class the console defines (each module of tui/console imported)."""
    found = []
    for info in pkgutil.iter_modules(tui.console.__path__):
        module = importlib.import_module(f"tui.console.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, DOMNode) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def described(cls: type) -> list[Binding]:
    """The bindings of `cls` that say what they do (not Textual's own, not system ones)."""
    return [b for b in keytext.binding_table(cls, textual=False) if b.description and not b.system]


# ---------------------------------------------------------------------------------------------------- the helper


def test_display_form() -> None:
    assert [display(k) for k in ("f5", "shift+f5", "ctrl+t", "escape", "pagedown", "pageup", "enter", "tab",
                                 "shift+tab", "up", "down", "question_mark", "x")] == \
        ["F5", "shift+F5", "ctrl+t", "Esc", "PgDn", "PgUp", "Enter", "Tab", "shift+Tab", "↑", "↓", "?", "x"]


def test_keys_by_action_id_and_bare_name() -> None:
    from tui.console.dialogs import QuitDialog, TenantPickerDialog

    assert keys(OutmailApp, "test_send") == "ctrl+t or F6"  # id of ctrl+t, action of both
    assert keys(OutmailApp, "test_send_f6") == "F6"
    assert keys(OutmailApp, "diagnose") == "F5" and keys(OutmailApp, "diagnose_fresh") == "shift+F5"
    assert keys(OutmailApp, "diagnose(True)") == "shift+F5"
    assert keys(HelpScreen, "close") == "Esc, q or F1" and keys(HelpScreen, "close", joiner=", ") == "Esc, q, F1"
    assert keys(QuitDialog, "choose('cancel')") == "c or Esc"  # the class's own order, not the base's
    assert first_key(TenantPickerDialog, "cancel") == "c"
    assert key_before(OutmailApp, "diagnose", "Run") == "F5 Run"
    assert key_after(OutmailApp, "save", "Save") == "Save (ctrl+s)"
    assert keys(OutmailApp, "command_palette") == "ctrl+p"  # Textual adds it per instance; the table has it
    from tui.console.explain_dialog import ExplainDialog

    assert keys(ExplainDialog, "scroll_findings(1)", "scroll_findings(-1)") == "PgDn/PgUp"
    assert keys(ExplainDialog, "scroll_findings") == "PgDn or PgUp"
    assert keys((MainScreen, OutmailApp), "focus_next") == "Tab"  # Screen's app.focus_next, by its bare name
    assert fill((MainScreen, OutmailApp), DEFAULT_HELP) == \
        "Tab moves between fields. F1 lists every key; ctrl+p finds every action by name."


def test_a_key_that_is_not_bound_is_an_error() -> None:
    with pytest.raises(LookupError, match="no binding for 'cancel_everything' in OutmailApp"):
        keys(OutmailApp, "cancel_everything")
    with pytest.raises(LookupError):
        fill(MainScreen, "{help} lists every key")  # the screen alone does not bind F1: the app does


def test_class_tables_are_cached() -> None:
    assert keytext.binding_table(OutmailApp) is keytext.binding_table(OutmailApp)


# ---------------------------------------------------------------------------------------------------- F1 and the palette


def test_every_described_binding_of_every_console_class_is_in_f1() -> None:
    """Walk every console class's bindings: each one with a description is listed by F1 under its class's
    section (the demo's too), and F1's rows show its keys and its words."""
    sections = help_sections(OutmailApp, demo=True)
    groups = help_groups(OutmailApp, demo=True)
    rows = dict(help_rows(groups))
    for cls in console_classes():
        bindings = described(cls)
        if not bindings or cls.__name__ == "ChoiceDialog":  # the answers' base class is never shown itself
            continue
        homes = [(title, listed) for (title, classes, _more), (_t, listed) in zip(sections, groups) if cls in classes]
        assert len(homes) == 1, f"{cls.__name__} is in {len(homes)} F1 sections"
        title, listed = homes[0]
        for binding in bindings:
            assert (binding.key, binding.action) in [(b.key, b.action) for b in listed], (cls.__name__, binding)
            shown = binding.key_display or display(binding.key)
            assert any(shown in row_keys.split(", ") and text.startswith(binding.description)
                       for row_keys, text in rows[title]), (title, shown, binding.description)


def test_f1_without_the_demo_has_no_sandbox_keys() -> None:
    everywhere = dict(help_groups(OutmailApp, demo=False))["Everywhere"]
    assert not [b for b in everywhere if demo_only(b.action)]
    assert not [title for title, _ in help_groups(OutmailApp, demo=False) if "Sandbox" in title]
    assert [b.key for b in dict(help_groups(OutmailApp, demo=True))["Everywhere"] if demo_only(b.action)] == \
        ["f7", "f8"]


def test_the_palette_is_read_from_the_bindings() -> None:
    """Every binding with a palette title is one palette entry, its help the tooltip and the keys in force; the
    sandbox's only in the demo; nothing else is in the palette."""
    declared = [b for cls in (OutmailApp, MainScreen) for b in keytext.binding_table(cls)
                if isinstance(b, ConsoleBinding) and b.palette]
    titles = list(dict.fromkeys(b.palette for b in declared))
    entries = palette_entries(OutmailApp, demo=True)
    assert [e.title for e in entries] == titles
    for entry in entries:
        binding = next(b for b in declared if b.palette == entry.title)
        assert entry.action == binding.action
        assert entry.keys == keys((MainScreen, OutmailApp), binding.action)
        assert entry.help == f"{binding.tooltip} ({entry.keys})"
    by_title = {e.title: e for e in entries}
    assert by_title["Send a test message"].keys == "ctrl+t or F6"
    assert by_title["Diagnose with a new token"].keys == "shift+F5"
    assert by_title["Show the settings form"].keys == "F2"  # the main screen's binding
    plain = [e.title for e in palette_entries(OutmailApp, demo=False)]
    assert plain == [t for t in titles if not t.startswith("Sandbox")]
    assert len(plain) == len(titles) - 2


def test_tooltips_name_keys_through_the_bindings() -> None:
    fresh = next(b for b in OutmailApp.BINDINGS if getattr(b, "id", None) == "diagnose_fresh")
    assert fresh.tooltip.startswith("As F5, but ask Entra ID") and fresh.template.startswith("As {diagnose},")
    assert "{" not in "".join(b.tooltip for cls in console_classes() for b in keytext.binding_table(cls))


# ---------------------------------------------------------------------------------------------------- UI texts

# Key names as the console shows them, and a letter key in the ways its texts name one: "(x)", "x cancels".
KEY_WORDS = re.compile(
    r"(?<![\w+$-])(?:F(?:[1-9]|1[0-2])|(?:ctrl|shift|alt|super|cmd)\+[\w-]+|Esc|PgDn|PgUp|Enter|Tab)(?![\w-])"
    r"|(?<!\w)\([a-z]\)"
    r"|(?<![\w'])[a-z] (?:cancels|closes|copies|writes|saves|stops|pastes|refreshes|runs|changes|tries|takes|shows"
    r"|hides|reruns|sends|again)\b")
# The terminal's own paste keys (not the console's bindings), named where a paste is asked for.
TERMINAL_KEYS = "your terminal's paste"
# Calls whose string arguments declare keys rather than name them: the first argument (and key_display) of a
# Binding, the keys of a ChoiceDialog answer.
DECLARING = {"Binding": (0, "key_display"), "ConsoleBinding": (0, "key_display"), "Choice": (2, "keys")}
# The modules whose texts must name keys through keytext: every console module but keytext (its display table) and
# the key pacer (no UI text).
OWNED = sorted(p.name for p in CONSOLE.glob("*.py") if p.name not in ("keytext.py", "keys.py", "__init__.py"))


def hand_written_keys(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string literal in `path` that names a key by hand: not docstrings, not the arguments
    that declare a binding's keys, not the terminal's paste keys."""
    tree = ast.parse(path.read_text())
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                exempt.add(id(first.value))
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in DECLARING:
                position, keyword = DECLARING[name]
                if len(node.args) > position:
                    exempt.add(id(node.args[position]))
                exempt.update(id(k.value) for k in node.keywords if k.arg == keyword)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt:
            if TERMINAL_KEYS in node.value:
                continue
            for match in KEY_WORDS.finditer(node.value):
                found.append((node.lineno, f"{match.group(0)!r} in {node.value!r}"))
    return sorted(found)


def test_the_detector_finds_hand_written_keys(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Docstring: F5 and ctrl+t are fine here."""\n'
                      'A = "press F5 first"\nB = f"{n} steps done; x cancels"\nC = "Cancel (Esc)"\n'
                      'D = "Use (ctrl+s)"\nE = "Tab next field"\nF = "Classic (c): the permission"\n'
                      'G = Binding("f5", "diagnose", "Diagnose", key_display="F5")\n'
                      'H = "Paste here (your terminal\'s paste: ctrl+shift+v)"\nI = "Entra ID, Escape, Table"\n'
                      'J = "one or more recipient(s)"\n')
    assert [line for line, _ in hand_written_keys(sample)] == [2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("module", OWNED)
def test_ui_texts_name_no_key_by_hand(module: str) -> None:
    """A text naming a key is built from the bindings (keytext); a literal naming one is a second declaration."""
    assert hand_written_keys(CONSOLE / module) == []


# ---------------------------------------------------------------------------------------------------- rebinding


def rebound(cls: type, binding_id: str, key: str, shown: str | None) -> list:
    return [dataclasses.replace(b, key=key, key_display=shown) if getattr(b, "id", None) == binding_id else b
            for b in cls.BINDINGS]


def test_a_subclass_that_rebinds_changes_the_texts() -> None:
    """Move Diagnose from F5 to F11 in a subclass: the palette, F1 (title, row, the tooltip that names it) and the
    strings built by keytext say F11; no F5 is left for it."""

    class F11App(OutmailApp, inherit_bindings=False):
        BINDINGS = rebound(OutmailApp, "diagnose", "f11", "F11")

    assert keys(F11App, "diagnose") == "F11"
    entries = {e.title: e for e in palette_entries(F11App, demo=False)}
    assert entries["Diagnose the settings"].keys == "F11"
    assert entries["Diagnose with a new token"].help.startswith("As F11, but ask Entra ID")
    lines = key_lines(help_groups(F11App, demo=False), F11App)
    assert "Diagnostics pane (F11)" in lines
    assert any(line.startswith("  F11 ") and "Diagnose: Prove the settings" in line for line in lines)
    text = "\n".join(lines)
    assert "As F11, but ask" in text and "As F5," not in text
    assert not any(line.startswith("  F5 ") and "Diagnose:" in line for line in lines)


def test_textuals_keymap_changes_the_texts(settings_path: Path) -> None:
    """App.set_keymap (binding id -> keys) rebinds; keytext reads it: the app's texts, F1 and the palette follow."""
    from tui.console.launch import build_app

    app = build_app(settings_path)
    app.set_keymap({"diagnose": "f11", "reveal": "ctrl+e", "test_send": "ctrl+y"})
    assert keys(app, "diagnose") == "F11"  # a keymap drops key_display, as Textual does
    assert keys(app, "reveal_secrets") == "ctrl+e"
    assert keys(app, "test_send") == "ctrl+y or F6"
    entries = {e.title: e for e in palette_entries(app, demo=False)}
    assert entries["Diagnose the settings"].keys == "F11" and entries["Send a test message"].keys == "ctrl+y or F6"
    assert entries["Diagnose with a new token"].help.startswith("As F11, but ask Entra ID")
    rows = dict(help_rows(help_groups(app, demo=False), app))
    everywhere = dict(rows["Everywhere"])
    assert everywhere["ctrl+e"].startswith("Reveal:") and "ctrl+r" not in everywhere
    assert "F11" in everywhere and "As F11, but ask Entra ID" in everywhere["shift+F5"]
    assert "Diagnostics pane (F11)" in rows and "Test send dialog (ctrl+y, F6)" in rows
    assert fill(app, "{reveal_secrets} hides them") == "ctrl+e hides them"

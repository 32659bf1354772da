"""Provides the key names the console shows in its own words, read from the bindings (one declaration per action).

A UI string that names a key builds it here, so the text follows the binding (and Textual's keymap) instead of
repeating the key by hand: `f"{keys(pane, 'cancel_run')} cancels"` is "x cancels" while the pane binds x.

Owners (where the bindings are read):
- a class with `BINDINGS` (a Widget, Screen or App subclass): its bindings as Textual merges them (a subclass's
  binding for a key replaces the bases' for that key; `inherit_bindings=False` respected), the most derived
  class's first, each class's in the order declared.
  For an App subclass the command palette's key (`COMMAND_PALETTE_BINDING`, which Textual adds per instance) is
  included.
- a node (a mounted widget, a screen, the app): the node's class, then each ancestor's (the screen's, the app's),
  the first that binds the name answers, as Textual looks a key up from the focused widget outward; the app's
  keymap (`App.set_keymap` / `update_keymap`: binding id -> keys) is applied, so a rebinding changes the text.
- a list of `BindingType` (e.g. a `HELP_KEYS` list of widget keys that F1 names but nothing binds here).
- a tuple of owners: a chain looked up in order, e.g. `(MainScreen, OutmailApp)` for a screen's strings outside a
  running app (plain tests); the keymap is the first running app's among them.
Class tables are cached per class (`functools.cache`); a lookup is a scan of that tuple, the keymap applied to the
few bindings found. Nothing here is recomputed per render beyond that scan.

Names: an action as written in the binding (`"cancel_run"`, `"diagnose(True)"`, `"choose('save')"`), a binding
id (`"diagnose_fresh"`), or an action's bare name (`"scroll_view"` matches `scroll_view(1)` and `scroll_view(-1)`,
`"focus_next"` matches `app.focus_next`) when nothing matches exactly. Exact action and id matches are both
taken (`"test_send"` is the id of ctrl+t and the action of ctrl+t and F6: "ctrl+t or F6"), in the order the
bindings are declared, each key once.

Display form (`display(key)`): a binding's `key_display` when set (unless the keymap rebound it, as Textual does);
else F-keys upper case (`f5` -> `F5`, `shift+f5` -> `shift+F5`), modifiers spelled out (`ctrl+t`, not Textual's
footer form `^t`), `escape` -> `Esc`, `enter` -> `Enter`, `tab` -> `Tab`, `pagedown`/`pageup` -> `PgDn`/`PgUp`,
arrows -> `↑ ↓ ← →`, a character key as the character (`question_mark` -> `?`).

API (all raise `LookupError` naming the owner when no binding matches a name, so a UI string naming a key that
is not bound fails in the tests, not silently on screen):
- `display(key) -> str`: one Textual key name in display form.
- `bindings_for(owner, name) -> tuple[Binding, ...]`: the matching bindings, keymap applied (one per key).
- `key_list(owner, name) -> tuple[str, ...]`: their keys in display form, each once: `("ctrl+t", "F6")`.
- `keys(owner, *names, joiner=" or ", between="/") -> str`: each name's keys as words ("ctrl+t or F6",
  "Esc, q or F1"; with `joiner=", "`: "Esc, q, F1"), several names joined by `between` ("PgDn/PgUp").
- `first_key(owner, name) -> str`: the first key only ("Esc" for `escape,ctrl+g`), for a button's label.
- `key_before(owner, name, label) -> str`: "F5 Run"; `key_after(owner, name, label) -> str`: "Send (ctrl+t)".
- `binding_table(owner, textual=True) -> tuple[Binding, ...]`: a class's (or list's) whole table, one Binding per
  key, in order (for F1 and the palette; `textual=False`: only what the console's classes declare); `expand(bindings)`: Textual's expansion that keeps `ConsoleBinding` fields.
- `described(owner, *names, description=..., tooltip="") -> list[Binding]`: the owner's bindings of `names` with
  the console's own description, for F1 to list keys a widget or Textual binds (Tab, an Input's Enter).
- `keymap_of(owner) -> Mapping[str, str]`, `with_keymap(bindings, keymap) -> list[Binding]`: the running app's
  keymap and the bindings as it makes them (F1 lists the keys in force).
- `fill(owner, text) -> str`: each `{name}` in `text` replaced by `keys(owner, name)` ("{cancel_run} cancels").
- `ConsoleBinding(..., palette="Save settings")`: a Binding that also names its command palette entry; its tooltip
  may name another key as `{name}`: `BINDINGS = fill_tooltips([...], *also)` fills it from the same list, then
  from the owners `also` (for Textual's footer and Keys panel) and `tooltip(owner, binding)` with the keys in force (F1, the palette).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from textual.binding import Binding, BindingType
from textual.keys import _character_to_key, format_key

__all__ = ["ConsoleBinding", "binding_table", "bindings_for", "described", "display", "expand", "fill",
           "fill_tooltips", "first_key", "key_after", "key_before", "key_list", "keymap_of", "keys", "natural",
           "tooltip", "with_keymap"]


@dataclasses.dataclass(frozen=True)
class ConsoleBinding(Binding):
    """A Binding that also names its command palette entry: `palette` is the entry's title ("" = not in the
    palette). Textual dispatches it as any Binding; `binding_table` keeps the field (Textual's own expansion drops
    it), so the palette is read from the same declaration as the key, the footer and F1."""

    palette: str = ""
    template: str = ""  # the tooltip as written, `{name}` naming another action's key (fill_tooltips)
    refs: tuple[tuple[str, tuple[Binding, ...]], ...] = ()  # each `{name}` and the bindings it names


def expand(bindings: Iterable[BindingType]) -> Iterable[Binding]:
    """`Binding.make_bindings` (one Binding per key of a comma-separated list, a character key by its name) that
    keeps a Binding subclass and its fields (ConsoleBinding.palette)."""
    for binding in bindings:
        if isinstance(binding, tuple):
            binding = Binding(*binding)
        for key in binding.key.split(","):
            key = key.strip()
            if len(key) == 1:
                key = _character_to_key(key)
            yield dataclasses.replace(binding, key=key, show=bool(binding.description and binding.show))

# Textual key names shown in the console's words (the rest: F-keys upper case, characters as themselves).
NAMES: Mapping[str, str] = {
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "space",
    "backspace": "Backspace",
    "delete": "Del",
    "insert": "Ins",
    "home": "Home",
    "end": "End",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


@functools.cache
def display(key: str) -> str:
    """One Textual key name (`"shift+f5"`, `"pagedown"`, `"question_mark"`) in the console's display form
    (`"shift+F5"`, `"PgDn"`, `"?"`). Modifiers stay spelled out in lower case (`ctrl+t`)."""
    *modifiers, base = key.split("+")
    if base in NAMES:
        shown = NAMES[base]
    elif len(base) >= 2 and base[0] == "f" and base[1:].isdigit():
        shown = base.upper()
    elif len(base) == 1:
        shown = base
    else:
        shown = format_key(base)
    return "+".join([*modifiers, shown])


def natural(items: Iterable[str], joiner: str = " or ") -> str:
    """`a`, `a or b`, `a, b or c` (with `joiner=", "`: `a, b, c`)."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + joiner + items[-1]


def _is_class(owner: Any) -> bool:
    return isinstance(owner, type)


def _is_textual(cls: type) -> bool:
    return cls.__module__.split(".", 1)[0] == "textual"


@functools.cache
def _class_table(cls: type, textual: bool = True) -> tuple[Binding, ...]:
    """The class's bindings as Textual merges them (a key bound by a subclass replaces the bases' bindings of that
    key; `inherit_bindings=False` stops at that class), one per key, the most derived class's first, each class's
    in the order declared; an App gets the command palette's binding that Textual adds to each instance.
    `textual=False`: without the bindings Textual's own classes declare (Screen's Tab, the palette's key)."""
    from textual.app import App
    from textual.dom import DOMNode

    if not issubclass(cls, DOMNode):  # only its own BINDINGS
        return tuple(expand(getattr(cls, "BINDINGS", ())))
    table: list[Binding] = []
    bound: set[str] = set()  # keys bound by a more derived class
    for base in cls.__mro__:
        if not (isinstance(base, type) and issubclass(base, DOMNode)):
            continue
        own = list(expand(base.__dict__.get("BINDINGS", [])))
        if textual or not _is_textual(base):
            table.extend(b for b in own if b.key not in bound)
        bound.update(b.key for b in own)
        if not base._inherit_bindings:
            break
    if (textual and issubclass(cls, App) and getattr(cls, "ENABLE_COMMAND_PALETTE", False)
            and not any(b.action in ("command_palette", "app.command_palette") for b in table)):
        table.append(Binding(cls.COMMAND_PALETTE_BINDING, "command_palette", "palette", show=False,
                             key_display=cls.COMMAND_PALETTE_DISPLAY, priority=True,
                             tooltip="Open the command palette"))
    return tuple(table)


def binding_table(owner: Any, *, textual: bool = True) -> tuple[Binding, ...]:
    """The whole table of a class (cached), of a node's class, or of a list of `BindingType` (not cached); one
    Binding per key (comma-separated keys expanded), without the keymap. `textual=False` leaves out what
    Textual's own classes bind (Screen's Tab, ctrl+c; the palette's key): the console's own declarations."""
    if _is_class(owner):
        return _class_table(owner, textual)
    if _is_node(owner):
        return _class_table(type(owner), textual)
    return tuple(expand(owner))


def _is_node(owner: Any) -> bool:
    from textual.dom import DOMNode

    return isinstance(owner, DOMNode)


def _bare(action: str) -> str:
    """`app.focus_next` -> `focus_next`, `scroll_view(1)` -> `scroll_view`."""
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


def _match(table: tuple[Binding, ...], name: str) -> list[Binding]:
    found = [b for b in table if b.action == name or (b.id is not None and b.id == name)]
    if not found and "(" not in name:
        found = [b for b in table if _bare(b.action) == name]
    return found


def _keymap(owner: Any) -> Mapping[str, str]:
    """The app's keymap (binding id -> keys) for an App or a node of a running app; {} for a class or a list."""
    from textual.app import App

    if _owners(owner):
        return next((k for k in map(_keymap, owner) if k), {})
    if isinstance(owner, App):
        return owner._keymap
    if not _is_node(owner):
        return {}
    try:
        app = owner.app
    except Exception:  # noqa: BLE001 - a node not attached to a running app: no keymap
        return {}
    return getattr(app, "_keymap", None) or {}


def keymap_of(owner: Any) -> Mapping[str, str]:
    """The keymap that applies to `owner` (a node of a running app): binding id -> keys; {} otherwise."""
    return _keymap(owner)


def with_keymap(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[Binding]:
    """The bindings as a keymap makes them (one per key): Textual's rule, see `bindings_for`."""
    return _apply_keymap(list(bindings), keymap)


def _apply_keymap(bindings: list[Binding], keymap: Mapping[str, str]) -> list[Binding]:
    """Textual's rule: a binding whose id is in the keymap takes the keymap's keys and loses its key_display."""
    if not keymap:
        return bindings
    result: list[Binding] = []
    done: set[str] = set()
    for binding in bindings:
        new_keys = keymap.get(binding.id) if binding.id else None
        if not new_keys:
            result.append(binding)
        elif binding.id not in done:
            done.add(binding.id)
            result.extend(binding.with_key(key.strip(), key_display=None) for key in new_keys.split(",")
                          if key.strip())
    return result


def _owners(owner: Any) -> bool:
    """A tuple of owners (a chain), not a tuple of bindings."""
    return isinstance(owner, tuple) and not any(isinstance(o, (Binding, str)) for o in owner)


def _chain(owner: Any) -> list[tuple[Binding, ...]]:
    if _owners(owner):
        return [table for one in owner for table in _chain(one)]
    if _is_class(owner):
        return [_class_table(owner)]
    if _is_node(owner):
        return [_class_table(type(node)) for node in owner.ancestors_with_self]
    return [tuple(expand(owner))]


def bindings_for(owner: Any, name: str) -> tuple[Binding, ...]:
    """The bindings of `name` (an action, a binding id or an action's bare name) that `owner` answers with,
    the keymap applied. Raises LookupError when none does."""
    for table in _chain(owner):
        found = _match(table, name)
        if found:
            return tuple(_apply_keymap(found, _keymap(owner)))
    raise LookupError(f"no binding for {name!r} in {_name(owner)}")


def _name(owner: Any) -> str:
    if _owners(owner):
        return " or ".join(map(_name, owner))
    return owner.__name__ if _is_class(owner) else "a list" if isinstance(owner, (list, tuple)) else type(owner).__name__


def key_list(owner: Any, name: str) -> tuple[str, ...]:
    """The keys of `name` in display form, each once, in the order the bindings are declared."""
    shown: list[str] = []
    for binding in bindings_for(owner, name):
        text = binding.key_display or display(binding.key)
        if text not in shown:
            shown.append(text)
    return tuple(shown)


def keys(owner: Any, *names: str, joiner: str = " or ", between: str = "/") -> str:
    """Each name's keys in words (`"ctrl+t or F6"`, `"Esc, q or F1"`), several names joined by `between`
    (`keys(pane, "scroll_view(1)", "scroll_view(-1)")` -> `"PgDn/PgUp"`)."""
    if not names:
        raise TypeError("keys() needs at least one action or binding id")
    return between.join(natural(key_list(owner, name), joiner) for name in names)


def described(owner: Any, *names: str, description: str, tooltip: str = "") -> list[Binding]:
    """The owner's bindings of `names` with the console's own words, for F1 to list keys that a widget or Textual
    binds (Tab, an Input's Enter, a list's arrows): the keys stay theirs, only the description is ours."""
    return [dataclasses.replace(b, description=description, tooltip=tooltip, show=False)
            for name in names for b in bindings_for(owner, name)]


def first_key(owner: Any, name: str) -> str:
    """The first key of `name` in display form (a button names one key: "Esc" for `escape,ctrl+g`)."""
    return key_list(owner, name)[0]


def key_before(owner: Any, name: str, label: str) -> str:
    """`"F5 Run"`: the first key, then the label (the pane's and the sandbox panel's buttons)."""
    return f"{first_key(owner, name)} {label}"


def key_after(owner: Any, name: str, label: str) -> str:
    """`"Send (ctrl+t)"`: the label, then the first key in parentheses (the dialogs' buttons)."""
    return f"{label} ({first_key(owner, name)})"


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*(?:\([^{}]*\))?)\}")


def fill(owner: Any, text: str) -> str:
    """`text` with each `{name}` replaced by `keys(owner, name)`: `fill(pane, "{cancel_run} cancels")` is
    "x cancels". Raises LookupError for a name not bound."""
    return _PLACEHOLDER.sub(lambda m: keys(owner, m.group(1)), text)


def fill_tooltips(bindings: list[BindingType], *also: Any) -> list[BindingType]:
    """A BINDINGS list whose ConsoleBinding tooltips name other keys as `{name}` (`"As {diagnose}, but ..."`),
    filled from the list itself, then from the owners `also` (e.g. OutmailApp, for a pane's tooltip that names
    the app's F5), so Textual's footer and Keys panel show keys; the words as written stay in `template` (and the
    bindings each name refers to in `refs`), which `tooltip(owner, binding)` fills again with the keys in force
    (a subclass's, the app's keymap)."""
    source = (bindings, *also)
    result: list[BindingType] = []
    for binding in bindings:
        if isinstance(binding, ConsoleBinding) and "{" in binding.tooltip:
            names = dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(binding.tooltip))
            refs = tuple((name, bindings_for(source, name)) for name in names)
            binding = dataclasses.replace(binding, tooltip=fill(source, binding.tooltip),
                                          template=binding.tooltip, refs=refs)
        result.append(binding)
    return result


def tooltip(owner: Any, binding: Binding) -> str:
    """The binding's tooltip with the keys in force: each `{name}` of a ConsoleBinding's `template` as `owner`
    binds it (a subclass's or the keymap's key), else (the binding is another class's, e.g. the guide's listed by
    F1 for the app) the bindings it named where it was declared (`refs`), the keymap applied. Any other binding's
    tooltip as it is. Placeholders name binding ids, so that another class's binding is not taken for them."""
    template = getattr(binding, "template", "")
    if not template:
        return binding.tooltip
    refs = dict(getattr(binding, "refs", ()))

    def shown(match: re.Match[str]) -> str:
        name = match.group(1)
        if owner is not None:
            try:
                return keys(owner, name)
            except LookupError:
                pass
        found = _apply_keymap(list(refs[name]), _keymap(owner))
        return natural(dict.fromkeys(b.key_display or display(b.key) for b in found))

    return _PLACEHOLDER.sub(shown, template)

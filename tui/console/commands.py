"""Provides the command palette's outmail commands, read from the bindings so titles, keys and help agree.

An action is in the palette when its binding is a `ConsoleBinding` with a `palette` title (OutmailApp.BINDINGS,
MainScreen.BINDINGS): the declaration names the key, the footer's and F1's words, the tooltip and the palette's
title once. The palette shows the tooltip and the keys in force (`"Send a test message. (ctrl+t or F6)"`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.console import keytext


class PaletteEntry(NamedTuple):
    """One palette command: its title, the help under it (tooltip and keys), the action it runs, the keys."""

    title: str
    help: str
    action: str
    keys: str


def palette_entries(owner: Any, *, demo: bool) -> list[PaletteEntry]:
    """The palette's commands, in the order the bindings are declared (the app's, then the main screen's).

    `owner`: the running app's main screen (its keys with the app's keymap), an app (its keymap), or an app class
    (OutmailApp or a subclass, for plain tests); `demo`: `outmail demo` (the sandbox's actions exist)."""
    from textual.app import App

    from tui.console.app import demo_only
    from tui.console.settings_screen import MainScreen

    if isinstance(owner, (type, App)):
        app_class: type = owner if isinstance(owner, type) else type(owner)
        owner = (MainScreen, owner)  # the main screen on that app
    else:
        app_class = type(owner.app)
    entries: list[PaletteEntry] = []
    seen: set[str] = set()
    for cls in (app_class, MainScreen):
        for binding in keytext.binding_table(cls):
            title = getattr(binding, "palette", "")
            if not title or title in seen or (demo_only(binding.action) and not demo):
                continue
            seen.add(title)
            shown = keytext.keys(owner, binding.action)
            entries.append(PaletteEntry(title, f"{keytext.tooltip(owner, binding)} ({shown})", binding.action,
                                        shown))
    return entries


class OutmailCommands(Provider):
    """The console's actions that have a palette title: Save, Help, Diagnose (also with a new token), Test send,
    Reveal secrets, Switch tenant, the sandbox (`outmail demo`), Import, Export, Explain an error, Setup guide,
    Quit, Show the settings form."""

    def _commands(self) -> list[PaletteEntry]:
        app = self.app
        main = app.screen_stack[0] if app.screen_stack else app.screen
        return palette_entries(main, demo=getattr(app, "demo", None) is not None)

    def _runner(self, action: str):
        async def run() -> None:
            await self.app.run_action(action)

        return run

    async def discover(self) -> Hits:
        for entry in self._commands():
            yield DiscoveryHit(entry.title, self._runner(entry.action), help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._commands():
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.title), self._runner(entry.action), help=entry.help)

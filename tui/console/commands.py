"""Provides the command palette's outmail commands, taken from the app's bindings so names and keys agree."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider


class OutmailCommands(Provider):
    """Save, Help, Reveal secrets, Switch tenant, Diagnose (also with a new token), Test send, Import, Export,
    Explain an error, Quit."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        commands = []
        entries = tuple(app.PALETTE_COMMANDS)  # type: ignore[attr-defined]
        if getattr(app, "demo", None) is not None:
            entries += tuple(getattr(app, "DEMO_PALETTE_COMMANDS", ()))
        for binding_id, title in entries:
            binding = app.binding_by_id(binding_id)  # type: ignore[attr-defined]
            if binding is None:
                continue
            help_text = f"{binding.tooltip} ({app.get_key_display(binding)})"
            commands.append((title, help_text, binding.action))
        return commands

    def _runner(self, action: str):
        async def run() -> None:
            await self.app.run_action(action)

        return run

    async def discover(self) -> Hits:
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, self._runner(str(action)), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(str(action)), help=help_text)

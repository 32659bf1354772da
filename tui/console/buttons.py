"""A button runs its action: one declaration (`BUTTON_ACTIONS`, button id → action) instead of a handler per button.

    class ExplainDialog(ButtonActions, ModalScreen[None]):
        BUTTON_ACTIONS = {"ex-explain": "explain", "ex-close": "close"}   # the same actions as the key bindings

A press of a listed button stops the event and runs the action on the screen or widget (`run_action`, so an action
with arguments, e.g. "copy_script('setup')", works as in a binding); other buttons' presses go on as before. Works
for Textual's `Button` and the pane's `PaneButton` alike.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ButtonActions:
    """Mixin (before the Textual base class): buttons listed in `BUTTON_ACTIONS` run their action when pressed."""

    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {}

    async def _run_button_action(self, event: Any) -> None:
        action = self.BUTTON_ACTIONS.get(getattr(event.button, "id", None) or "")
        if action is None:
            return
        event.stop()
        await self.run_action(action)  # type: ignore[attr-defined]

    async def on_button_pressed(self, event: Any) -> None:
        await self._run_button_action(event)

    async def on_pane_button_pressed(self, event: Any) -> None:
        await self._run_button_action(event)

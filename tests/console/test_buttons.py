"""Buttons run the actions their keys run (tui/console/buttons.py): every declared button action exists, and a
press runs it (Pilot, the Explain dialog)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import tui.console
from tests.console.conftest import ready, until
from tui.console.buttons import ButtonActions


def button_classes() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(tui.console.__path__):
        module = importlib.import_module(f"tui.console.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ButtonActions) and cls is not ButtonActions and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_button_action_is_an_action_of_its_class():
    classes = button_classes()
    assert {c.__name__ for c in classes} >= {"DiagnosticsPane", "SendDialog", "ExplainDialog", "SandboxPanel",
                                             "VerificationDialog"}
    for cls in classes:
        assert cls.BUTTON_ACTIONS, cls
        for button_id, action in cls.BUTTON_ACTIONS.items():
            name = action.split("(", 1)[0]
            assert callable(getattr(cls, f"action_{name}", None)), (cls.__name__, button_id, action)
            # the button's action is also a key's: one declaration, two ways in
            keyed = {b.action.split("(", 1)[0] for b in getattr(cls, "BINDINGS", []) if hasattr(b, "action")}
            assert name in keyed, (cls.__name__, button_id, action)


async def test_a_press_runs_the_action(settings_path: Path) -> None:
    from tui.console.explain_dialog import ExplainDialog
    from tui.console.launch import build_app

    app = build_app(settings_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, ExplainDialog), what="the Explain dialog")
        await pilot.click("#ex-close")
        await until(pilot, lambda: not isinstance(app.screen, ExplainDialog), what="Close to close it")

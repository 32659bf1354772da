"""SVG snapshots of the main screens at 80x24 (update with `pytest tests/console --snapshot-update` on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.conftest import COMMENTED_M365, ready
from tui.settings.fields import PROTOCOL_SMTP
from tui.console.launch import build_app

SIZE = (80, 24)


@pytest.fixture
def app_in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An app on ./settings.toml, so the status line shows the same path on every run."""
    monkeypatch.chdir(tmp_path)

    def make(text: str = COMMENTED_M365):
        Path("settings.toml").write_text(text)
        return build_app(Path("settings.toml"))

    return make


def test_settings_screen_m365(snap_compare, app_in_folder) -> None:
    """Microsoft 365: the three Microsoft 365 fields, the two ignored fields marked in words, no problems."""
    assert snap_compare(app_in_folder(), terminal_size=SIZE, run_before=ready)


def test_settings_screen_smtp_with_problems(snap_compare, app_in_folder) -> None:
    """SMTP: no Microsoft 365 fields, the password row, and warnings shown beside their fields."""
    text = COMMENTED_M365.replace('"smtpmicrosoft365"', f'"{PROTOCOL_SMTP}"').replace('"smtp.office365.com"', '"mail.contoso.test"')
    assert snap_compare(app_in_folder(text), terminal_size=SIZE, run_before=ready)


def test_quit_dialog(snap_compare, app_in_folder) -> None:
    """Quit with unsaved changes: Save (s), Discard (d), Cancel (c) as buttons."""

    async def edit_then_quit(pilot) -> None:
        await ready(pilot)
        port = pilot.app.query_one("#f-port")
        port.focus()
        await pilot.press("backspace", "5")
        await pilot.press("ctrl+q")
        await pilot.pause()

    assert snap_compare(app_in_folder(), terminal_size=SIZE, run_before=edit_then_quit)


def test_help_screen(snap_compare, app_in_folder) -> None:
    """F1: every key, grouped, read from the bindings."""
    async def open_help(pilot) -> None:
        await ready(pilot)
        await pilot.press("f1")

    assert snap_compare(app_in_folder(), terminal_size=SIZE, run_before=open_help)

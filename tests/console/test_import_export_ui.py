"""Pilot tests of Import (F4) and Export (F9) at 80x24: the path, the redacted diff, Write or Cancel, errors."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Label, Static

from tests.console.conftest import ready
from tests.console.helpers import type_into
from tui.logicaldoc.bridge import apply_export, plan_export_for
from tui.settings.store import open_settings_file
from tui.console.bridge_dialogs import PlanPreviewDialog, PropertiesPathDialog
from tui.console.dialogs import ErrorDialog, SwitchTenantDialog
from tui.console.launch import build_app

SIZE = (80, 24)
HEAD = b"# LogicalDOC context.properties\nschedule.cron.ocr=0 0 * * * ?\n"


def matching_properties(settings_path: Path, tmp_path: Path) -> Path:
    """A context.properties that already holds the settings file's values (tenant default)."""
    props = tmp_path / "context.properties"
    props.write_bytes(HEAD)
    _, settings = open_settings_file(settings_path, "default")
    apply_export(plan_export_for(settings, props), backup=False)
    assert b"default.smtp.port=587\n" in props.read_bytes()
    return props


async def choose_path(pilot, key: str, path: Path | str) -> None:
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, PropertiesPathDialog), pilot.app.screen
    field = pilot.app.screen.query_one("#bridge-path", Input)
    assert field.value == "/opt/logicaldoc/conf/context.properties" or field.value
    field.value = str(path)
    await pilot.press("enter")
    await pilot.pause()


def preview_text(app) -> str:
    screen = app.screen
    assert isinstance(screen, PlanPreviewDialog), screen
    parts = [str(screen.query_one("#bridge-title", Label).render()), str(screen.query_one("#bridge-summary").render())]
    parts += [str(w.render()) for w in screen.query("#bridge-warnings, #bridge-diff").results(Static)]
    return "\n".join(parts)


async def test_export_shows_the_diff_and_w_writes_only_that_line(settings_path: Path, tmp_path: Path) -> None:
    props = matching_properties(settings_path, tmp_path)
    before = props.read_bytes()
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.pause()
        assert app.current_settings.port == 2525
        await choose_path(pilot, "f9", props)
        text = preview_text(app)
        assert f"Export to {props}" in text
        assert "-default.smtp.port=587" in text and "+default.smtp.port=2525" in text
        assert "abc~not-a-real-secret" not in text
        assert app.screen.plan.changed_keys == ("default.smtp.port",)
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, PlanPreviewDialog)
        said = app.main_screen.message
        assert "Exported tenant default" in said and ".bak-" in said and not app._notifications, said
    after = props.read_bytes()
    assert after == before.replace(b"default.smtp.port=587\n", b"default.smtp.port=2525\n")
    backups = list(tmp_path.glob("context.properties.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert app.last_properties_path == str(props)
    assert "port = 587 " in settings_path.read_text()  # export never writes the settings file


async def test_export_c_cancels_and_leaves_the_file(settings_path: Path, tmp_path: Path) -> None:
    props = matching_properties(settings_path, tmp_path)
    before = props.read_bytes()
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await choose_path(pilot, "f9", props)
        assert "+default.smtp.port=2525" in preview_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, PlanPreviewDialog)
        assert app.main_screen.message == "Nothing was written"
    assert props.read_bytes() == before
    assert not list(tmp_path.glob("context.properties.bak-*"))


async def test_a_missing_file_is_refused_in_the_path_dialog(settings_path: Path, tmp_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await choose_path(pilot, "f9", tmp_path / "nope.properties")
        assert isinstance(app.screen, PropertiesPathDialog)
        status = str(app.screen.query_one("#bridge-path-status", Label).render())
        assert status == f"✖ {tmp_path / 'nope.properties'} does not exist"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PropertiesPathDialog)


async def test_import_shows_the_diff_then_the_form_shows_the_imported_host(settings_path: Path,
                                                                          tmp_path: Path) -> None:
    props = matching_properties(settings_path, tmp_path)
    props.write_bytes(props.read_bytes().replace(b"default.smtp.host=smtp.office365.com",
                                                 b"default.smtp.host=smtp-imported.office365.com"))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await choose_path(pilot, "f4", props)
        text = preview_text(app)
        assert f"Import from {props}" in text
        assert '+host = "smtp-imported.office365.com"' in text and "abc~not-a-real-secret" not in text
        await pilot.press("w")
        for _ in range(20):
            await pilot.pause()
            if app.current_settings.host == "smtp-imported.office365.com":
                break
        assert app.query_one("#f-host", Input).value == "smtp-imported.office365.com"
        assert app.current_settings.host == "smtp-imported.office365.com" and not app.dirty
        assert "# Owner: mail team. Do not remove these comments." in settings_path.read_text()
        assert 'host = "smtp-imported.office365.com"' in settings_path.read_text()


async def test_import_with_unsaved_edits_asks_first(settings_path: Path, tmp_path: Path) -> None:
    props = matching_properties(settings_path, tmp_path)
    props.write_bytes(props.read_bytes().replace(b"default.smtp.host=smtp.office365.com",
                                                 b"default.smtp.host=smtp-imported.office365.com"))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, SwitchTenantDialog)
        assert "Import reloads the form" in str(app.screen.query_one(".dialog-body", Static).render())
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, (SwitchTenantDialog, PropertiesPathDialog))
        assert app.dirty and app.current_settings.port == 2525
        # Discard: the import goes on and the form shows the file's values
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, PropertiesPathDialog)
        app.screen.query_one("#bridge-path", Input).value = str(props)
        await pilot.press("enter")
        await pilot.pause()
        assert '+host = "smtp-imported.office365.com"' in preview_text(app)
        await pilot.press("w")
        for _ in range(20):
            await pilot.pause()
            if app.current_settings.host == "smtp-imported.office365.com":
                break
        # the edit was discarded: the form shows the file, with the imported host
        assert app.current_settings.port == 587 and not app.dirty
        assert app.query_one("#f-host", Input).value == "smtp-imported.office365.com"
        # the path is remembered for the next Import or Export
        await pilot.press("f9")
        await pilot.pause()
        assert app.screen.query_one("#bridge-path", Input).value == str(props)


async def test_malformed_properties_show_the_error_and_write_nothing(settings_path: Path, tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(b"default.smtp.host=smtp.office365.com\ndefault.smtp.port=587\\u12\n")
    before_settings = settings_path.read_bytes()
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await choose_path(pilot, "f4", props)
        assert isinstance(app.screen, ErrorDialog), app.screen
        body = str(app.screen.query_one(".dialog-body", Static).render())
        assert f"Cannot import from {props}" in body and "line 2" in body and "Nothing was written." in body
        await pilot.press("o")
        await pilot.pause()
        await choose_path(pilot, "f9", props)
        assert isinstance(app.screen, ErrorDialog), app.screen
        assert "line 2" in str(app.screen.query_one(".dialog-body", Static).render())
    assert settings_path.read_bytes() == before_settings
    assert props.read_bytes() == b"default.smtp.host=smtp.office365.com\ndefault.smtp.port=587\\u12\n"
    assert not list(tmp_path.glob("context.properties.bak-*"))

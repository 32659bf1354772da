"""run_console: an unusable file is reported with line and column, exit code 2, without starting Textual."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.conftest import COMMENTED_M365
from tests.console.helpers import field_line
from tui.console.launch import build_app, run_console


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (COMMENTED_M365.replace("port = 587 ", "port = = 587 "), ":7:"),
        (COMMENTED_M365.replace("port = 587 ", 'port = "587"'), "port (Port) must be a whole number"),
        (COMMENTED_M365.replace('"smtpmicrosoft365"', '"smtpgoogle"'), "unknown protocol 'smtpgoogle'"),
    ],
    ids=["malformed", "wrong-type", "unknown-protocol"],
)
def test_unusable_file_exits_2_and_is_not_touched(tmp_path: Path, capsys, broken: str, expected: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(broken.encode())
    assert run_console(path) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err
    assert "the file was not changed" in err
    assert path.read_bytes() == broken.encode()


def test_unknown_theme_exits_2(settings_path: Path, capsys) -> None:
    assert run_console(settings_path, theme="no-such-theme") == 2
    assert "unknown theme 'no-such-theme'" in capsys.readouterr().err


def test_several_tenants_without_default_and_unknown_tenant(two_tenant_path: Path, capsys) -> None:
    assert run_console(two_tenant_path, tenant="initech") == 2
    assert "has no tenant 'initech' (tenants: acme, globex)" in capsys.readouterr().err


def test_demo_object_is_exposed(settings_path: Path) -> None:
    marker = object()
    assert build_app(settings_path, demo=marker).demo is marker
    assert build_app(settings_path).demo is None


def test_collection_is_off_until_the_validated_form_is_painted(settings_path: Path, monkeypatch) -> None:
    """Start-up runs without the cyclic garbage collector; it resumes (start-up's objects frozen out of later
    collections) only once the editable form is there, validated and focused, and run_console leaves it on."""
    import asyncio
    import gc

    from tui.console import launch
    from tui.console.app import OutmailApp

    seen: list[tuple[str, object]] = []
    resume = launch._resume_collection

    def resumed() -> None:
        app = running[0]
        seen.append(("resumed while collecting", gc.isenabled()))
        seen.append(("form mounted", bool(app.query("#form")) and not app.query("#form-preview")))
        seen.append(("validated", app.query_one("#status").counts_text))
        seen.append(("focused", app.focused is app.query_one("#f-protocol")))
        resume()
        seen.append(("frozen", gc.get_freeze_count() > 0))

    running: list[OutmailApp] = []

    async def drive(app: OutmailApp) -> None:
        running.append(app)
        async with app.run_test(size=(80, 24)) as pilot:
            seen.append(("collecting at start", gc.isenabled()))
            for _ in range(200):
                await pilot.pause()
                if gc.isenabled():
                    break
            app.exit()

    monkeypatch.setattr(launch, "_resume_collection", resumed)
    monkeypatch.setattr(OutmailApp, "run", lambda self, *args, **kwargs: asyncio.run(drive(self)))
    assert gc.isenabled()
    try:
        assert run_console(settings_path) == 0
    finally:
        gc.unfreeze()  # this test process's objects, frozen by the resume
    assert seen == [("collecting at start", False), ("resumed while collecting", False), ("form mounted", True),
                    ("validated", "✔ no problems"), ("focused", True), ("frozen", True)]
    assert gc.isenabled()


def test_an_unusable_file_leaves_the_collector_on(tmp_path: Path) -> None:
    import gc

    path = tmp_path / "settings.toml"
    path.write_text("port = = 587\n")
    assert run_console(path) == 2
    assert gc.isenabled()


async def test_the_footer_is_recomposed_only_when_its_keys_change(settings_path: Path) -> None:
    """Moving between fields leaves the footer's keys as they are (the same widgets, no recompose); a keymap that
    rebinds a shown key is shown."""
    from textual.widgets._footer import FooterKey

    from tests.console.conftest import ready

    app = build_app(settings_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for _ in range(50):  # the keys come in the frame after the editable form (KeysFooter.release)
            shown = list(app.main_screen.query(FooterKey))
            if shown:
                break
            await pilot.pause()
        assert ("f5", "F5", "Diagnose") in [(k.key, k.key_display, k.description) for k in shown]
        for _ in range(3):
            await pilot.press("tab")
            await pilot.pause()
        assert app.focused is app.query_one("#f-connection_security")
        assert list(app.main_screen.query(FooterKey)) == shown  # not recomposed
        app.set_keymap({"diagnose": "f11"})
        for _ in range(20):
            await pilot.pause()
            keys = [(k.key, k.description) for k in app.main_screen.query(FooterKey)]
            if ("f11", "Diagnose") in keys:
                break
        assert ("f11", "Diagnose") in keys and ("f5", "Diagnose") not in keys


async def test_the_editable_form_arrives_with_its_focus_shown(settings_path: Path, monkeypatch) -> None:
    """When the editable form is mounted, Protocol has the focus, its row is marked and its help is on the help
    line already (one frame with the form, not a second layout pass once the focus event has gone round)."""
    from textual.widgets._footer import FooterKey

    from tests.console.conftest import ready
    from tui.console.settings_screen import MainScreen
    from tui.settings.fields import FIELDS

    seen = []
    mount_form = MainScreen.mount_form

    async def spy(self, settings):
        form = await mount_form(self, settings)
        seen.append((self.focused.id, self.query_one("#row-protocol").has_class("-focused"),
                     str(self.query_one("#help-line").render()).split(":")[0],
                     all(self.query_one(f"#f-{field.attr}").is_mounted for field in FIELDS),
                     len(self.query(FooterKey))))
        return form

    monkeypatch.setattr(MainScreen, "mount_form", spy)
    app = build_app(settings_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for _ in range(50):
            if app.main_screen.query(FooterKey):
                break
            await pilot.pause()
        footer_keys = len(app.main_screen.query(FooterKey))
    # Every field's widget is mounted; the footer's keys come in the next frame, once the form has been painted.
    assert seen == [("f-protocol", True, "Protocol", True, 0)]
    assert footer_keys


async def test_a_choice_list_is_mounted_when_it_first_opens(settings_path: Path) -> None:
    """The form starts without the selects' lists of choices (FieldSelect); Enter opens Protocol's with the value
    highlighted and picks another, a click opens Connection Security's, each as Textual's Select does."""
    from textual.widgets._select import SelectOverlay

    from tests.console.conftest import ready
    from tui.settings.fields import PROTOCOL_SMTP

    app = build_app(settings_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        protocol = app.query_one("#f-protocol")
        assert not app.query(SelectOverlay)
        assert field_line(app, "Protocol").endswith("SMTP Microsoft 365 ▼")  # value and arrow drawn by FieldSelectCurrent
        await pilot.press("enter")
        await app.keys.idle()
        await pilot.pause()
        choices = protocol.query_one(SelectOverlay)
        assert protocol.expanded and choices.has_focus and choices.highlighted == 1  # SMTP, SMTP Microsoft 365
        assert field_line(app, "Protocol").endswith("SMTP Microsoft 365 ▲")  # the arrow says the list is open
        await pilot.press("up", "enter")
        await app.keys.idle()
        await pilot.pause()
        assert not protocol.expanded and app.focused is protocol
        assert field_line(app, "Protocol").endswith("SMTP ▼")
        assert app.current_settings.protocol == PROTOCOL_SMTP
        security = app.query_one("#f-connection_security")
        assert not security.query(SelectOverlay)
        await pilot.click("#f-connection_security")
        await pilot.pause()
        assert security.expanded and security.query_one(SelectOverlay).has_focus


async def test_keys_typed_ahead_open_and_pick_a_choice(settings_path: Path) -> None:
    """Enter, Up, Enter read in one go on a select whose list is not mounted yet pick the choice above, as typed
    slowly."""
    from textual import events

    from tests.console.conftest import ready
    from tui.settings.fields import PROTOCOL_SMTP

    app = build_app(settings_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key in (events.Key("enter", "\r"), events.Key("up", None), events.Key("enter", "\r")):
            app.post_message(key)
        for _ in range(50):
            await pilot.pause()
            if not app.keys.pending:
                break
        await app.keys.idle()
        await pilot.pause()
        assert app.current_settings.protocol == PROTOCOL_SMTP
        assert app.focused is app.query_one("#f-protocol")

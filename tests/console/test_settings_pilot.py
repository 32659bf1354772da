"""Pilot tests of the settings console at 80x24: edit, validate, save, quit, conflicts, new files, tenants."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Static

from tests.console.conftest import COMMENTED_M365, ready, run_from_palette, until
from tests.console.contrast import screen_text
from tests.console.helpers import field_line, type_into
from tui.console.form import FieldRow
from tui.settings.fields import PROTOCOL_M365, PROTOCOL_SMTP
from tui.console.dialogs import ConflictDialog, ErrorDialog, NewFileDialog, QuitDialog, SwitchTenantDialog, TenantPickerDialog
from tui.console.help_screen import HelpScreen
from tui.console.launch import build_app
from tui.console.settings_screen import preview_text
from tui.console.messages import SettingsLoaded, SettingsSaved

SIZE = (80, 24)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """Pairs of (old, new) lines that differ; the files must have the same number of lines."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new), (before, after)
    return [(a, b) for a, b in zip(old, new) if a != b]


def problems_text(app, attr: str) -> str:
    """The problem lines under a field ("" when it has none, or never had any)."""
    found = app.query(f"#p-{attr}")
    if not found:
        return ""
    widget = found.first(Static)
    return str(widget.render()) if widget.display else ""


async def test_edit_port_and_save_changes_only_that_line(settings_path: Path) -> None:
    messages: list = []
    app = build_app(settings_path)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        assert "unsaved changes" in str(app.query_one("#status").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [m for m in messages if isinstance(m, SettingsSaved)]
        assert "✔ saved" in str(app.query_one("#status").render())
        assert app.main_screen.message.startswith("✔ Saved ") and not app._notifications
    after = settings_path.read_text(encoding="utf-8")
    assert changed_lines(COMMENTED_M365, after) == [
        ("port = 587                      # submission\n", "port = 2525                     # submission\n")
    ]


async def test_typing_a_bad_value_shows_the_error_beside_the_field(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert problems_text(app, "client_id") == ""
        await type_into(pilot, "f-client_id", "not-a-guid")
        text = problems_text(app, "client_id")
        assert text.startswith("✖ error: Client ID must be a GUID")
        assert "1 error" in str(app.query_one("#status").render())
        await type_into(pilot, "f-port", "465")
        assert problems_text(app, "port").startswith("▲ warning: Exchange Online accepts client submission on port 587")


async def test_smtp_hides_m365_fields_and_m365_applies_the_preset(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert app.query_one("#row-client_id").display
        security = app.query_one("#row-connection_security", FieldRow)
        assert "ignored by LogicalDOC" in security.note
        assert "(ignored by LogicalDOC with SMTP Microsoft 365)" in screen_text(app)  # drawn under the widget
        app.query_one("#f-protocol", Select).value = PROTOCOL_SMTP
        await pilot.pause()
        for attr in ("client_id", "client_tenant", "client_secret", "authority_host", "scope"):
            assert not app.query_one(f"#row-{attr}").display, attr
        assert app.query_one("#row-password").display
        assert security.note == "" and security.size.height == 1  # no note, and no line kept for one
        assert "ignored by LogicalDOC" not in screen_text(app)
        # Change what the Microsoft 365 preset sets, then choose SMTP Microsoft 365 again.
        await type_into(pilot, "f-host", "mail.example.test")
        await type_into(pilot, "f-port", "25")
        app.query_one("#f-connection_security", Select).value = 0
        await pilot.pause()
        app.query_one("#f-protocol", Select).value = PROTOCOL_M365
        await pilot.pause()
        settings = app.current_settings
        assert (settings.host, settings.port, settings.connection_security, settings.auth_encrypted) == (
            "smtp.office365.com", 587, 1, True)
        assert app.query_one("#row-client_id").display
        # Password stays visible with Microsoft 365, greyed and marked as ignored.
        assert app.query_one("#row-password").display and app.query_one("#row-password").has_class("-ignored")
        assert "ignored by LogicalDOC" in app.query_one("#row-password", FieldRow).note
        assert app.query_one("#row-password").size.height == 2
        # The Microsoft 365 fields kept their values while hidden.
        assert settings.client_id == "11111111-2222-3333-4444-555555555555"


async def test_choosing_m365_with_the_keyboard(settings_path: Path) -> None:
    settings_path.write_text(COMMENTED_M365.replace('"smtpmicrosoft365"', '"smtp"').replace("port = 587", "port = 25"))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert app.focused is app.query_one("#f-protocol")
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert app.current_settings.protocol == PROTOCOL_M365
        assert app.current_settings.port == 587


async def test_quit_with_unsaved_changes_cancel_then_save(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitDialog)
        # Every choice is a visible button as well as a letter key.
        labels = [str(b.label) for b in app.screen.query("Button")]
        assert labels == ["Save (s)", "Discard (d)", "Cancel (c)"]
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, QuitDialog)
        assert app.is_running and app.current_settings.port == 2525
        assert settings_path.read_text() == COMMENTED_M365
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("s")
        await pilot.pause()
    assert app.return_code == 0
    assert "port = 2525 " in settings_path.read_text()


async def test_quit_with_unsaved_changes_discard(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
    assert app.return_code == 0
    assert settings_path.read_text() == COMMENTED_M365


async def test_quit_without_changes_exits_at_once(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert settings_path.read_text() == COMMENTED_M365


SOMEONE_ELSE = COMMENTED_M365.replace('host = "smtp.office365.com"  ', 'host = "smtp-eu.office365.com"')


async def test_file_changed_on_disk_cancel_then_overwrite(settings_path: Path) -> None:
    messages: list = []
    app = build_app(settings_path)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        settings_path.write_text(SOMEONE_ELSE, encoding="utf-8")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConflictDialog)
        assert [str(b.label) for b in app.screen.query("Button")] == ["Reload (r)", "Overwrite (o)", "Cancel (c)"]
        await pilot.press("c")
        await pilot.pause()
        assert settings_path.read_text() == SOMEONE_ELSE
        assert app.current_settings.port == 2525 and app.dirty
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConflictDialog)
        await pilot.press("o")
        await pilot.pause()
        text = settings_path.read_text()
        assert "port = 2525" in text and 'host = "smtp.office365.com"' in text
        assert [m for m in messages if isinstance(m, SettingsSaved)]
        assert not app.dirty


async def test_file_changed_on_disk_reload(settings_path: Path) -> None:
    messages: list = []
    app = build_app(settings_path)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        settings_path.write_text(SOMEONE_ELSE, encoding="utf-8")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await app.form_ready.wait()
        await pilot.pause()
        assert settings_path.read_text() == SOMEONE_ELSE
        assert [m for m in messages if isinstance(m, SettingsLoaded)]
        assert app.current_settings.host == "smtp-eu.office365.com"
        assert app.current_settings.port == 587
        assert app.query_one("#f-port", Input).value == "587"
        assert not app.dirty


async def test_new_file_offers_the_example_and_is_created_on_first_save(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.toml"
    path.parent.mkdir()
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert isinstance(app.screen, NewFileDialog)
        await pilot.press("s")
        await pilot.pause()
        assert not path.exists()
        assert "new file" in str(app.query_one("#status").render())
        await type_into(pilot, "f-client_id", "11111111-2222-3333-4444-555555555555")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert path.exists()
    text = path.read_text()
    assert text.startswith("# outmail settings: LogicalDOC's Outgoing Email fields")
    assert 'clientId = "11111111-2222-3333-4444-555555555555"' in text


async def test_new_file_quit_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert isinstance(app.screen, NewFileDialog)
        await pilot.press("q")
        await pilot.pause()
    assert not path.exists()


async def test_reveal_toggles_the_secret(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        secret = app.query_one("#f-client_secret", Input)
        assert secret.password
        row = app.query_one("#row-client_secret", FieldRow)
        app.form.scroll_to_widget(row, animate=False)
        await pilot.pause()
        assert "abc~" not in screen_text(app)
        assert row.state == "hidden"
        assert field_line(app, "Client secret").split()[-1] == "hidden"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not secret.password
        assert row.state == "SHOWN"
        assert field_line(app, "Client secret").split()[-1] == "SHOWN"
        assert "abc~not-a-real-secret" in screen_text(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert secret.password


async def test_secret_from_the_environment_is_not_written(settings_path: Path, monkeypatch) -> None:
    settings_path.write_text(COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"', 'clientSecret = ""'))
    before = settings_path.read_text()
    monkeypatch.setenv("OUTMAIL_CLIENT_SECRET", "env~value-from-environment")
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert app.query_one("#f-client_secret", Input).value == ""
        assert "from $OUTMAIL_CLIENT_SECRET" in app.query_one("#row-client_secret", FieldRow).note
        assert problems_text(app, "client_secret") == ""  # the environment's value counts
        await type_into(pilot, "f-port", "2525")
        await pilot.press("ctrl+s")
        await pilot.pause()
    after = settings_path.read_text()
    assert "env~value" not in after
    assert len(changed_lines(before, after)) == 1


async def test_tenant_picker_switches_tenant(two_tenant_path: Path) -> None:
    app = build_app(two_tenant_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        # No --tenant and no 'default': the picker opens on start.
        assert isinstance(app.screen, TenantPickerDialog)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_settings.tenant == "acme"
        assert "tenant acme (1/2, F3)" in str(app.query_one("#status").render())
        await type_into(pilot, "f-port", "2525")
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, TenantPickerDialog)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SwitchTenantDialog)
        await pilot.press("d")
        await pilot.pause()
        await pilot.pause()
        assert app.current_settings.tenant == "globex"
        assert app.current_settings.protocol == PROTOCOL_SMTP
        assert not app.query_one("#row-client_id").display
        assert app.query_one("#f-host", Input).value == "mail.globex.test"
    assert "2525" not in two_tenant_path.read_text()


async def test_tenant_option_opens_that_tenant(two_tenant_path: Path) -> None:
    app = build_app(two_tenant_path, tenant="globex")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert not isinstance(app.screen, TenantPickerDialog)
        assert app.current_settings.tenant == "globex"


async def test_help_lists_every_key(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for key in ("F1", "ctrl+s", "F5", "ctrl+t", "F6", "ctrl+r", "F3", "F2", "ctrl+q", "ctrl+p", "Tab"):
            assert key in text, key
        for words in ("Save and quit", "Overwrite", "Reload", "Start from the example", "Client secret",
                      "smtp.clientTenant"):
            assert words in text, words
        await pilot.press("f5", "ctrl+r")  # form actions wait while the help is open
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.main_screen.current_pane == "settings-pane" and not app.secrets_revealed
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_the_actions(settings_path: Path) -> None:
    from tui.console.commands import OutmailCommands

    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        provider = OutmailCommands(app.screen)
        titles = [hit.text for hit in [h async for h in provider.discover()]]
        # in the order the bindings declare them (the app's, then the main screen's F2)
        assert titles == ["Help: keys and fields", "Save settings", "Diagnose the settings", "Diagnose with a new token",
                          "Send a test message", "Reveal or hide secrets", "Switch tenant",
                          "Import from LogicalDOC's context.properties", "Export to LogicalDOC's context.properties",
                          "Explain an error", "Setup guide", "Quit", "Show the settings form"]
        helps = {hit.text: hit.help for hit in [h async for h in provider.discover()]}
        assert helps["Send a test message"] == "Send a test message. (ctrl+t or F6)"
        assert helps["Quit"] == "Quit; asks Save / Discard / Cancel when there are unsaved changes. (ctrl+q)"
        await run_from_palette(pilot, "reveal")
        await until(pilot, lambda: app.secrets_revealed, what="the secrets revealed")


async def test_diagnostics_pane_slot(settings_path: Path, monkeypatch) -> None:
    """F5 shows the diagnostics pane and hands it the settings on screen; F2 returns to the form."""
    from tui.console.diagnostics_pane import DiagnosticsPane

    runs: list = []
    # the real pane: record the call instead of touching the network
    monkeypatch.setattr(DiagnosticsPane, "run_diagnostics",
                        lambda self, settings, fresh_token=False: runs.append((settings, fresh_token)))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.press("f5")
        await pilot.pause()
        assert app.main_screen.current_pane == "diagnostics-pane"
        assert app.focused is None or app.focused.id != "f-port"
        assert [(s.port, fresh) for s, fresh in runs] == [(2525, False)]  # the values on screen, not saved
        assert len(app.main_screen.query(DiagnosticsPane)) == 1
        await pilot.press("f2")
        await pilot.pause()
        assert app.main_screen.current_pane == "settings-pane"
        assert app.focused is app.query_one("#f-protocol")
        # shift+F5: the same, asking for a new token, in the same pane
        await pilot.press("shift+f5")
        await pilot.pause()
        assert app.main_screen.current_pane == "diagnostics-pane"
        assert [(s.port, fresh) for s, fresh in runs] == [(2525, False), (2525, True)]
        assert len(app.main_screen.query(DiagnosticsPane)) == 1


async def test_test_send_slot(settings_path: Path) -> None:
    """ctrl+t opens the test-send dialog on the settings on screen."""
    from tui.console.send_dialog import SendDialog

    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, SendDialog)
        assert app.screen.settings.port == 2525  # the values on screen, not saved


async def test_file_and_server_text_is_not_markup(tmp_path: Path) -> None:
    folder = tmp_path / "odd[" / "]name [b]x"  # the path reads ".../odd[/]name [b]x/settings.toml"
    folder.mkdir(parents=True)
    path = folder / "settings.toml"
    path.write_text(COMMENTED_M365.replace('host = "smtp.office365.com"  ', 'host = "[b]smtp"            '))
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert "odd[/]name [b]x" in str(app.query_one("#status").render())
        assert 'Server                     [b]smtp' in preview_text(app.loaded_settings).plain  # the first frame
        assert "Server '[b]smtp' is not a valid host name" in problems_text(app, "host")
        await type_into(pilot, "f-port", "2525")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.is_running
        assert "[/]name" in app.main_screen.message


async def test_save_refuses_an_empty_port(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "")
        assert problems_text(app, "port").startswith("✖ error: Port must be a whole number")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Not saved: Port must be a number" in app.main_screen.message
    assert settings_path.read_text() == COMMENTED_M365


async def test_save_with_errors_is_allowed_and_says_so(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-client_id", "nope")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "with 1 error still to fix" in app.main_screen.message
    assert 'clientId = "nope"' in settings_path.read_text()


async def test_unwritable_folder_shows_an_error_and_keeps_the_edits(settings_path: Path, monkeypatch) -> None:
    import tui.settings.store as store

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store, "atomic_write", refuse)
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "2525")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ErrorDialog)
        await pilot.press("o")
        await pilot.pause()
        assert app.dirty and app.current_settings.port == 2525
    assert settings_path.read_text() == COMMENTED_M365


async def test_a_value_outside_the_choices_is_shown_not_fatal(settings_path: Path) -> None:
    settings_path.write_text(COMMENTED_M365.replace("connectionSecurity = 1", "connectionSecurity = 7"))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert problems_text(app, "connection_security").startswith("✖ error: Connection Security must be 0, 1, 2 or 3")
        assert app.query_one("#f-connection_security", Select).value == 7
        app.query_one("#f-connection_security", Select).value = 1
        await pilot.pause()
        assert problems_text(app, "connection_security") == ""


async def test_keys_typed_before_the_form_exists_are_replayed_on_it(settings_path: Path, monkeypatch) -> None:
    """The first frame is a text preview; keys typed then (Tab, Tab, 2, 5) land on the form in order, not nowhere."""
    import asyncio

    from tui.console.app import OutmailApp

    gate = asyncio.Event()
    real_after_first_paint = OutmailApp._after_first_paint
    held: list[asyncio.Task] = []

    async def gated_after_first_paint(self):
        async def later():
            await gate.wait()  # the preview stays on screen while the keys arrive; no message pump is blocked
            await real_after_first_paint(self)

        held.append(asyncio.create_task(later()))

    monkeypatch.setattr(OutmailApp, "_after_first_paint", gated_after_first_paint)
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.query("#form-preview") and not app.query("#form")
        await pilot.press("tab", "tab", "2", "5")
        assert not app.form_ready.is_set() and app.focused is None and app.keys.pending == 4
        gate.set()
        await held[0]
        await ready(pilot)
        await app.keys.idle()
        await pilot.pause()
        assert app.focused is app.query_one("#f-port", Input)
        assert app.query_one("#f-port", Input).value == "25"
        assert app.current_settings.port == 25
        assert "unsaved changes" in str(app.query_one("#status").render())
        await pilot.press("tab")  # keys after the replay go where they always go
        assert app.focused is app.query_one("#f-connection_security")


async def test_a_burst_of_keys_lands_as_if_typed_one_by_one(settings_path: Path) -> None:
    """Keys read in one go (typed ahead over SSH): each goes to the widget focused once the one before was handled."""
    from textual import events

    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        burst = [events.Key("tab", "\t"), events.Key("ctrl+u", None)]
        burst += [events.Key(c, c) for c in "mail.example.test"]
        burst += [events.Key("tab", "\t"), events.Key("7", "7"), events.Key("7", "7"), events.Key("shift+tab", None)]
        for key in burst:  # all queued before the first is handled, as the driver posts one read's keys
            app.post_message(key)
        await until_idle(pilot, app)
        assert app.query_one("#f-host", Input).value == "mail.example.test"
        assert app.query_one("#f-port", Input).value == "77"
        assert app.focused is app.query_one("#f-host", Input)
        assert app.current_settings.host == "mail.example.test" and app.current_settings.port == 77


async def until_idle(pilot, app) -> None:
    for _ in range(50):
        await pilot.pause()
        if not app.keys.pending:
            await app.keys.idle()
            await pilot.pause()
            return
    raise AssertionError("keys still pending")


async def test_the_focused_fields_label_is_marked_without_colour(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert [w.id for w in app.query(".field-line.-focused")] == ["row-protocol"]
        await pilot.press("tab")
        assert [w.id for w in app.query(".field-line.-focused")] == ["row-host"]
        label = drawn_label(app, "host")  # the row draws its label (FieldRow)
        assert label.text == "Server"
        assert label.style.reverse and label.style.bold  # not a colour: NO_COLOR shows it
        assert drawn_label(app, "protocol").text == "Protocol" and not drawn_label(app, "protocol").style.reverse


def drawn_label(app, attr: str):
    """The segment of a field's row that draws its label, as painted now."""
    row = app.query_one(f"#row-{attr}")
    return next(segment for segment in row.render_line(0) if segment.text.strip())


async def test_keys_keep_flowing_when_pacing_fails(settings_path: Path, monkeypatch) -> None:
    """Pacing is a courtesy: if waiting for a key breaks, the keys still reach the form."""
    from tui.console.keys import KeyPacer

    async def broken(self, key, target):
        raise RuntimeError("pacing broke")

    monkeypatch.setattr(KeyPacer, "_settled", broken)
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("tab", "tab", "2", "5")
        await app.keys.idle()
        await pilot.pause()
        assert app.query_one("#f-port", Input).value == "25"


async def test_save_typed_right_after_a_digit_saves_what_the_screen_shows(settings_path: Path) -> None:
    """ctrl+s read in the same burst as the digits before it saves the value on screen, not an older one."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await burst_into_port(pilot, app, ("2", "2"), ("5", "5"), ("ctrl+s", None))
        assert "port = 25 " in settings_path.read_text()
        assert app.current_settings.port == 25 and not app.dirty


async def test_quit_typed_right_after_an_edit_still_asks(settings_path: Path) -> None:
    """ctrl+q read in the same burst as an edit must see the edit: it asks Save/Discard/Cancel, nothing is lost."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await burst_into_port(pilot, app, ("9", "9"), ("ctrl+q", None))
        assert isinstance(app.screen, QuitDialog) and app.is_running


async def burst_into_port(pilot, app, *keys: tuple[str, str | None]) -> None:
    """Focus Port, then post these keys all at once (as the driver posts one read's keys) and wait for them."""
    from textual import events

    await ready(pilot)
    app.query_one("#f-port", Input).focus()
    await pilot.pause()
    for key, character in keys:
        app.post_message(events.Key(key, character))
    await until_idle(pilot, app)

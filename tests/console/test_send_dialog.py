"""Pilot tests of the test-send dialog (ctrl+t / F6) at 80x24 against the offline sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Label, Static, TextArea
from textual.worker import WorkerState

from tests.console.contrast import screen_text
from tests.console.conftest import help_text, ready, until
from tui.console.launch import build_app
from tui.console.send_dialog import SendDialog, failure_content

SIZE = (80, 24)


@pytest.fixture
def userasfrom_settings(demo_settings: Path) -> Path:
    """The sandbox's settings with 'Use user's email as sender' on."""
    text = demo_settings.read_text()
    assert "userasfrom = false" in text
    demo_settings.write_text(text.replace("userasfrom = false", "userasfrom = true"))
    return demo_settings


def dialog_of(app) -> SendDialog:
    assert isinstance(app.screen, SendDialog), app.screen
    return app.screen


def status(app) -> str:
    return str(dialog_of(app).query_one("#ts-status", Label).render())


def shown(app) -> str:
    """Everything the dialog shows below the fields: the status line and the progress / result."""
    dialog = dialog_of(app)
    return status(app) + "\n" + str(dialog.query_one("#ts-progress", Static).render())




async def open_dialog(pilot, key: str = "ctrl+t") -> SendDialog:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, SendDialog), what="the dialog")
    await pilot.pause()
    return dialog_of(pilot.app)


async def set_field(pilot, selector: str, value: str) -> None:
    """Put `value` in a field, as a paste does (Input.Changed follows; keys typed one by one go through the console's
    key pacer, tested in tests/console/test_settings_pilot.py and by the typing below where it matters)."""
    dialog = dialog_of(pilot.app)
    widget = dialog.query_one(selector)
    if isinstance(widget, TextArea):
        widget.text = value
    else:
        widget.focus()
        widget.value = value
    await pilot.pause()


async def send_and_wait(pilot) -> SendDialog:
    dialog = dialog_of(pilot.app)
    await pilot.press("ctrl+t")
    await until(pilot, lambda: dialog.worker is not None, what="the send worker")
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), 30)
    await until(pilot, lambda: not dialog.running, what="the end of the send")
    await pilot.pause()
    return dialog


async def test_send_delivers_the_typed_message_and_shows_the_queue_id(demo_settings: Path, sandbox_clean) -> None:
    """The typed message to two recipients: the reply, the queue id, each command; the result takes the focus; the
    recipients are remembered for the next dialog (Esc and ctrl+g close it)."""
    before = len(sandbox_clean.messages())
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#ts-to", Input).value == ""
        assert dialog.query_one("#ts-subject", Input).value == "Test message from outmail"
        body = dialog.query_one("#ts-body", TextArea).text
        assert "Sent from host:" in body and str(demo_settings) in body and "Time:" in body
        assert not dialog.query("#ts-sendas")  # userasfrom is off
        assert str(dialog.query_one("#ts-from", Label).render()).startswith(sandbox_clean.info.mailbox)
        # the dialog's buttons are on screen at 80x24
        for button in dialog.query(Button):
            region = button.region
            assert region.width > 0 and region.bottom <= SIZE[1], (button.id, region)
        await set_field(pilot, "#ts-to", "alice@example.com, bob@example.com")
        await set_field(pilot, "#ts-subject", "Pilot subject ünïcode")
        await set_field(pilot, "#ts-body", "Pilot body line one\nline two [b]not markup[/]\n")
        await send_and_wait(pilot)
        report = dialog.report
        assert report is not None and report.send.sent, status(app)
        text = shown(app)
        assert "250 2.0.0 OK" in text
        assert f"queue id {report.send.queue_id}" in text and report.send.queue_id
        assert status(app).startswith("✔ Sent in ") and f"queue id {report.send.queue_id}" in status(app)
        assert "MAIL FROM:<" in text and "RCPT TO:<alice@example.com>" in text and "DATA (" in text
        assert "RCPT TO:<bob@example.com>" in text
        assert "✔ ok" in text and "Send test message" in text
        assert sandbox_clean.info.client_secret not in text
        assert str(dialog.query_one("#ts-close", Button).label) == "Close (Esc)"
        assert str(dialog.query_one("#ts-copy", Button).label) == "Copy reply (ctrl+o)"
        await pilot.pause()
        # drawn whole: the button grew with its label ("Copy fix (ctrl+o)" before the send)
        from tests.console.contrast import screen_text

        assert "Copy reply (ctrl+o)" in screen_text(app), screen_text(app)
        assert dialog.focused is dialog.query_one("#ts-result")  # arrows and PgDn scroll the result
        assert app.last_run.report.send.sent  # the setup guide's evidence: the send's report, with its outcome
        # the recipients are remembered while the console runs
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SendDialog), what="the dialog to close")
        dialog = await open_dialog(pilot, "f6")
        assert dialog.query_one("#ts-to", Input).value == "alice@example.com, bob@example.com"
        await pilot.press("ctrl+g")
        await until(pilot, lambda: not isinstance(app.screen, SendDialog), what="the dialog to close")
    messages = sandbox_clean.messages()
    assert len(messages) == before + 1
    received = messages[-1]
    assert received["Subject"] == "Pilot subject ünïcode"
    assert received["To"] == "alice@example.com, bob@example.com"
    assert received.get_content() == "Pilot body line one\nline two [b]not markup[/]\n"


async def test_send_as_an_ungranted_address_shows_the_reply_and_the_fix(userasfrom_settings: Path,
                                                                       sandbox_clean) -> None:
    before = len(sandbox_clean.messages())
    app = build_app(userasfrom_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot, "f6")
        from_label = dialog.query_one("#ts-from", Label)
        assert "LogicalDOC uses each user's own address" in str(from_label.render())
        await set_field(pilot, "#ts-sendas", "bob@contoso.test")
        assert str(from_label.render()).startswith("bob@contoso.test  (Send as")
        await set_field(pilot, "#ts-to", "alice@example.com")
        await send_and_wait(pilot)
        report = dialog.report
        assert report is not None and not report.send.sent
        text = shown(app)
        reply = report.send.reply
        assert reply.startswith("554 5.2.252 SendAsDenied;") and "not allowed to send as bob@contoso.test" in reply
        assert reply in text  # the exact reply, [Hostname=...] included (markup off)
        assert "Add-RecipientPermission" in text and "bob@contoso.test" in text.split("Add-RecipientPermission")[1]
        assert "Setup step: S7" in text
        assert status(app).startswith("✖ Not sent at send: 554 5.2.252 SendAsDenied")
        # ctrl+o copies the PowerShell and says what was copied
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert copied and "Add-RecipientPermission" in copied[0]
        assert status(app).startswith("✔ Copied the PowerShell for Send test message") and not app._notifications
        # no toast: the failure, the server's reply and every button are still on screen at 80x24
        screen = screen_text(app)
        assert "✖ Not sent: the server refused the message" in screen and "Server reply: 554 5.2.252" in screen
        for button in ("Send (ctrl+t)", "Copy fix (ctrl+o)", "Close (Esc)"):
            assert button in screen, (button, screen)

        # the granted Send As address goes through
        await set_field(pilot, "#ts-sendas", sandbox_clean.info.sendas_address)
        await send_and_wait(pilot)
        assert dialog.report.send.sent, shown(app)
        assert "queue id" in status(app)
    messages = sandbox_clean.messages()
    assert len(messages) == before + 1 and sandbox_clean.info.sendas_address in messages[-1]["From"]


async def test_a_bad_address_is_shown_and_nothing_connects(demo_settings: Path, sandbox_clean) -> None:
    """A wrong To: the status line says so, the result area (half the dialog) says it in full with what to do; it
    goes as soon as the address is right; a long paste is cut with its length; nothing connects."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        events_before = len(sandbox_clean.smtp_events())
        await pilot.press("enter")  # Enter in To moves to Subject; it does not send
        await pilot.pause()
        assert dialog.focused is dialog.query_one("#ts-subject", Input) and dialog.worker is None
        await pilot.press("ctrl+t")  # To is empty
        await pilot.pause()
        assert status(app) == "✖ To (more below); nothing was sent"
        assert "✖ To: at least one recipient is required" in shown(app)
        await set_field(pilot, "#ts-to", "not-an-address [x]")
        await pilot.press("f6")
        await pilot.pause()
        assert status(app).startswith("✖ To 'not-an-address' is not a valid email address"), status(app)
        result = str(dialog.query_one("#ts-progress", Static).render())
        assert result.startswith("✖ To 'not-an-address' is not a valid email address: ") and \
            "Correct it above" in result and "Nothing was sent" in result, result
        assert dialog.worker is None and not dialog.running
        await pilot.press("q")  # typed into To, not a key for the dialog
        await pilot.pause()
        assert isinstance(app.screen, SendDialog)
        assert dialog.query_one("#ts-to", Input).value.endswith("q")
        # fixed: the error goes at once, before any send
        await set_field(pilot, "#ts-to", "alice@example.com")
        assert status(app) == "ctrl+t or F6 sends · Tab next field · Esc or ctrl+g closes", status(app)
        assert "✖" not in shown(app) and "Send runs the diagnostics steps" in shown(app)
        # a long paste: cut, its length named, the reason still there
        to = dialog.query_one("#ts-to", Input)
        to.value = "x" * 3000
        await pilot.press("ctrl+t")
        await pilot.pause()
        result = str(dialog.query_one("#ts-progress", Static).render())
        assert "(3,000 characters, cut)' is not a valid email address" in result and len(result) < 400, result
        await app.workers.wait_for_complete()  # nothing was started: there is nothing to wait for
        assert dialog.worker is None or dialog.worker.is_finished
        assert len(sandbox_clean.smtp_events()) == events_before
        assert app.last_test_recipients == ""  # only a message that could be sent is remembered


async def test_closing_mid_send_cancels_it(demo_settings: Path, sandbox_clean, monkeypatch) -> None:
    sandbox_clean.set_fault("slow-smtp")
    sandbox_clean.delay_seconds = 0.1
    # RCPT TO's reply never comes in time: the close lands before it (restored after the test)
    monkeypatch.setattr(sandbox_clean, "reply_delays", {"RCPT": 30.0})
    before = len(sandbox_clean.messages())
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await set_field(pilot, "#ts-to", "alice@example.com")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: dialog.worker is not None and dialog.running, what="the send")
        # every reply is slow: close once MAIL FROM was answered, while RCPT TO is on its way
        await until(pilot, lambda: dialog.commands, timeout=30, what="MAIL FROM's reply")
        assert dialog.commands[0][0].startswith("MAIL FROM:<") and len(dialog.commands) == 1
        worker = dialog.worker
        assert worker.is_running
        assert str(dialog.query_one("#ts-close", Button).label) == "Cancel (Esc)"
        await pilot.click("#ts-close")
        await until(pilot, lambda: not isinstance(app.screen, SendDialog), what="the dialog to close")
        await asyncio.wait_for(app.workers.wait_for_complete(), 10)
        assert worker.state == WorkerState.CANCELLED
        assert app.main_screen.message == "Test send cancelled: nothing was sent"  # RCPT TO's reply never came
        # the connection was closed from our side: the sandbox never got DATA, no message arrives
        sandbox_clean.set_fault(None)
        connection = sandbox_clean.smtp_events()[-1].get("connection")
        await until(pilot, lambda: connection in sandbox_clean.smtp_closed_connections(), timeout=10,
                    what="the sandbox to see the connection end")
    assert len(sandbox_clean.messages()) == before
    events = sandbox_clean.smtp_events()
    last = [e for e in events if e.get("connection") == connection]
    commands = [str(e.get("command", "")).upper() for e in last]
    assert any(c.startswith("MAIL FROM") for c in commands), commands  # it was cut off after MAIL FROM
    assert not any(c.startswith("DATA") or c == "(END OF DATA)" for c in commands), commands


async def test_help_lists_the_dialogs_keys(demo_settings: Path, sandbox_clean) -> None:
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        text = await help_text(pilot)
        assert "Test send dialog (ctrl+t, F6)" in text
        assert "ctrl+o" in text and "ctrl+g" in text


def test_snapshot_dialog_with_send_as(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ctrl+t with 'Use user's email as sender' on: From follows the typed Send as, To, Subject, a 3-row Body,
    the keys on the status line, and Send / Copy fix (disabled) / Cancel on one row, all inside 80x24."""
    from tests.console.conftest import COMMENTED_M365

    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(COMMENTED_M365.replace("userasfrom = false", "userasfrom = true"))

    async def open_and_fill(pilot) -> None:
        await ready(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()
        dialog = dialog_of(pilot.app)
        dialog.query_one("#ts-body", TextArea).text = "This is a test message sent by outmail.\n\nFixed body.\n"
        dialog.query_one("#ts-sendas", Input).focus()
        await pilot.press(*"jane@contoso.com")
        await pilot.press("tab", *"alice@example.com")
        await pilot.pause()

    assert snap_compare(build_app(Path("settings.toml")), terminal_size=SIZE, run_before=open_and_fill)


def test_an_auth_failure_shows_the_reply_and_the_fix(sandbox) -> None:
    """A send refused at AUTH (535 5.7.3): what the dialog shows above the steps, from the send's real events; the
    send step skipped (its status line: tests/diagnostics/test_progress.py)."""
    from tests.diagnostics.recording import applied, recorded
    from tui.console.diagnostics_pane import step_line
    from tui.diagnostics.run_text import run_total_ms

    progress = applied(recorded(sandbox, "send-auth-failed").events)
    failed = progress.report.failed_step
    assert failed.id == "auth"
    text = str(failure_content(failed, None, copy_key="ctrl+o"))
    assert text.startswith("✖ Not sent: the AUTH step failed\n")
    assert "Server reply: 535 5.7.3 Authentication unsuccessful" in text
    assert "Why: " in text and "Fix: " in text and "Setup step: " in text and "(ctrl+o copies it)" in text
    total = run_total_ms(progress.steps, progress.report)
    send = str(step_line(progress.steps[6], total, 74))
    assert send.startswith("– skipped") and "Send test message" in send  # the send step never ran
    assert sandbox.info.client_secret not in text

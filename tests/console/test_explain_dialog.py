"""Pilot tests of the Explain dialog (F10, the palette's "Explain an error") at 80x24: a pasted LogicalDOC stack
trace gets the diagnostics' cause, setup step and fix, filled with the settings on screen; secrets stay out."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Button, Input, Label, Static, TextArea

from tests.console.conftest import CLIENT_ID, help_text, ready, run_from_palette, until
from tui.console import explain_dialog
from tui.console.explain_dialog import ExplainDialog
from tui.console.launch import build_app

SIZE = (80, 24)
PASTED_SECRET = "Xy58Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"  # an Entra client secret Value's shape, pasted
SETTINGS_SECRET = "abc~not-a-real-secret"  # the client secret of tests.console.conftest.COMMENTED_M365

# A LogicalDOC log excerpt as an admin copies it: Jakarta Mail's AUTH failure with its stack trace, a debug line
# holding a client secret, and a STARTTLS failure whose nested cause (PKIX) is what went wrong.
STACK_TRACE = f"""\
2024-05-02 10:15:03,123 ERROR [EMailSender] Unable to send the email
jakarta.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful [BN0PR04CA0123.namprd04.prod.outlook.com 2024-05-02T10:15:03.000Z 08DC6A4E]
\tat org.eclipse.angus.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:954)
\tat org.eclipse.angus.mail.smtp.SMTPTransport.authenticate(SMTPTransport.java:865)
\tat com.logicaldoc.core.communication.EMailSender.send(EMailSender.java:412)
2024-05-02 10:15:04,001 DEBUG [TokenCache] token request client_id={CLIENT_ID} client_secret={PASTED_SECRET}

2024-05-02 10:16:11,500 ERROR [EMailSender] Unable to send the email
jakarta.mail.MessagingException: Could not convert socket to TLS;
  nested exception is:
\tjavax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
\tat org.eclipse.angus.mail.smtp.SMTPTransport.startTLS(SMTPTransport.java:2155)
"""

# The client secret inside the very lines that are matched: the shown line must carry <redacted>, never the value.
SECRET_IN_MATCHED = (
    f"2024-05-02 10:14:58 ERROR token request (client_secret={PASTED_SECRET}) failed: AADSTS7000215: Invalid client "
    "secret provided.\n"
    f"535 5.7.3 Authentication unsuccessful (password {SETTINGS_SECRET})\n"
)


def dialog_of(app) -> ExplainDialog:
    assert isinstance(app.screen, ExplainDialog), app.screen
    return app.screen


def status(app) -> str:
    return str(dialog_of(app).query_one("#ex-status", Label).render())


def findings(app) -> str:
    return str(dialog_of(app).query_one("#ex-findings", Static).render())


def flat(text: str) -> str:
    """Rows joined with spaces: a sentence wrapped at the dialog's width reads as one."""
    return " ".join(line.strip() for line in text.splitlines())




async def open_dialog(pilot, key: str = "f10") -> ExplainDialog:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, ExplainDialog), what="the dialog")
    await pilot.pause()
    return dialog_of(pilot.app)


async def paste(pilot, text: str) -> ExplainDialog:
    """A bracketed paste into the text area (what the terminal sends over SSH), then wait for its explanation."""
    dialog = dialog_of(pilot.app)
    area = dialog.query_one("#ex-text", TextArea)
    assert dialog.focused is area
    pilot.app.post_message(events.Paste(text))  # as the driver posts it: the app hands it to the focused widget
    await until(pilot, lambda: area.text == text, what="the paste")
    await explained(pilot)
    return dialog


async def explained(pilot) -> None:
    """Wait until the explanation on screen answers the text as it is now."""
    dialog = dialog_of(pilot.app)
    await until(pilot, lambda: dialog._debounce is None and dialog.explained_serial == dialog.serial,
                what="the explanation")
    await pilot.pause()


async def test_f10_explains_a_pasted_stack_trace_with_the_settings_on_screen(settings_path: Path) -> None:
    """F10 on the form; the paste is explained without another key: the AUTH failure and the PKIX failure each with
    the matched line, cause, setup step and fix; the PowerShell holds the file's client id and mailbox and the TLS
    fix the Server typed on screen (not saved); no secret anywhere in the explanation."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        host = app.query_one("#f-host", Input)
        host.focus()
        host.value = ""
        await pilot.press(*"smtp.relay.contoso.test")  # an unsaved edit: the dialog's fixes use it
        await pilot.pause()
        dialog = await open_dialog(pilot)
        assert status(app).startswith("Paste the error text above")
        await paste(pilot, STACK_TRACE)
        assert status(app).startswith("✔ 2 errors found, each explained: ctrl+o copies the fix"), status(app)
        text = findings(app)
        words = flat(text)
        # [1] the AUTH failure, the line it matched quoted and cut
        assert "[1] ✔ explained: line 2, SMTP reply (permanent)" in text
        assert "│ jakarta.mail.AuthenticationFailedException: 535 5.7.3 Authentication" in text
        assert "Why: Exchange refuses the token (535 5.7.3)" in words
        assert "Setup step: S5 Exchange service principal, S6 Mailbox permission (FullAccess)" in words
        assert "Fix: Register the service principal with the Enterprise application's object id (S5)" in words
        assert "PowerShell (ctrl+o copies it):" in text
        assert f"New-ServicePrincipal -AppId {CLIENT_ID}" in words
        assert 'Add-MailboxPermission -Identity "noreply@contoso.com"' in words
        assert "Connect-ExchangeOnline -Organization contoso.onmicrosoft.com" in words
        # [2] the nested cause wins over its wrapper: PKIX, not "Could not convert socket to TLS"
        assert "[2] ✔ explained: line 11, Java exception" in text
        assert "│ javax.net.ssl.SSLHandshakeException: PKIX path building failed" in text
        # a PKIX failure in LogicalDOC's log is LogicalDOC's Java trust store, not outmail's ca_file
        assert "Why: LogicalDOC checks the certificate of smtp.relay.contoso.test:587 against its Java trust store" \
            in words
        assert "Setup step: S9 Network and TLS" in words
        assert "Fix: Import the CA that signed the certificate into the trust store of LogicalDOC's Java" in words
        assert "The fixes use the settings on screen (tenant default, unsaved edits too)" in words
        # the pasted secret is only in the text area (the admin's own input), never in what outmail shows
        for shown in (text, status(app)):
            assert PASTED_SECRET not in shown and SETTINGS_SECRET not in shown
        assert not dialog.query_one("#ex-copy", Button).disabled
        assert not dialog.query_one("#ex-copy-all", Button).disabled


async def test_a_secret_in_the_matched_line_is_redacted(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await open_dialog(pilot)
        await paste(pilot, SECRET_IN_MATCHED)
        text = findings(app)
        assert "[1] ✔ explained: line 1, Entra ID error" in text
        assert "Setup step: S2 Client secret" in text
        assert "client_secret=<redacted>" in text and "(password <redacted>)" in text
        assert PASTED_SECRET not in text and SETTINGS_SECRET not in text
        assert "Xy58Q~" not in text


async def test_typing_is_explained_once_it_pauses_and_f10_explains_at_once(settings_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys typed in a burst are explained once, after the pause; with a long pause, F10 does not wait for it."""
    runs: list[str] = []
    real = ExplainDialog._explain

    def counted(self, text: str, serial: int):
        runs.append(text)
        return real(self, text, serial)

    monkeypatch.setattr(ExplainDialog, "_explain", counted)
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await pilot.press(*"550 5.7.708 Service unavailable. Access denied")
        await explained(pilot)
        assert runs == ["550 5.7.708 Service unavailable. Access denied"]
        assert status(app).startswith("✔ 1 error found, explained")
        assert "[1] ✔ explained: line 1, SMTP reply (permanent)" in findings(app)

        monkeypatch.setattr(explain_dialog, "DEBOUNCE_SECONDS", 60.0)
        area = dialog.query_one("#ex-text", TextArea)
        area.text = "AADSTS700016: Application with identifier 'x' was not found in the directory 'contoso'."
        await pilot.pause()
        assert dialog._debounce is not None  # waiting for the (long) pause
        await pilot.press("f10")
        await explained(pilot)
        assert len(runs) == 2 and "[1] ✔ explained: line 1, Entra ID error" in findings(app)


async def test_unknown_text_and_unknown_replies_say_so_in_words(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await paste(pilot, "The printer on floor 3 is out of paper.\n")
        assert status(app).startswith("▲ Nothing known in this text")
        assert "▲ Not known: no SMTP reply, Entra ID error or known Java exception" in flat(findings(app))
        assert dialog.query_one("#ex-copy", Button).disabled
        dialog.query_one("#ex-text", TextArea).text = ""
        await explained(pilot)
        await paste(pilot, "554 5.9.99 Something nobody has seen before\n")
        assert status(app).startswith("▲ 1 error found, 1 not known"), status(app)
        text = flat(findings(app))
        assert "[1] ▲ not known: line 1, SMTP reply (permanent)" in text
        assert "Not known: a permanent error outmail's table does not have. What its class says:" in text
        assert "Why: " in text and "Fix: " in text


async def test_long_lines_are_cut_and_many_errors_capped(settings_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A huge line is shown cut with a marker, never whole; past MAX_FINDINGS_SHOWN errors the rest is counted; a
    text over the limit is refused in words."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        tail = "x" * 5000
        await paste(pilot, f"535 5.7.3 Authentication unsuccessful {tail}\n")
        text = findings(app)
        quoted = "".join(line.split("│ ", 1)[1] for line in text.splitlines() if line.startswith("  │ "))
        assert quoted.startswith("535 5.7.3 Authentication unsuccessful xxx") and quoted.endswith("…")
        assert len(quoted) <= explain_dialog.MATCHED_SHOWN
        assert "x" * 200 not in text

        # 30 different errors (one repeated error is one finding): refused recipients, each its own address
        errors = "".join(f"550 5.1.1 <user{i}@example.org>: Recipient address rejected: User unknown\n"
                         for i in range(30))
        dialog.query_one("#ex-text", TextArea).text = ""
        await explained(pilot)
        await paste(pilot, errors)
        assert status(app).startswith("✔ 30 errors found, each explained")
        text = findings(app)
        assert "[20] ✔ explained: line 20" in text and "[21]" not in text
        assert "… and 10 more errors not shown here: ctrl+l copies the whole explanation." in flat(text)

        monkeypatch.setattr(explain_dialog, "MAX_TEXT", 1000)
        dialog.query_one("#ex-text", TextArea).text = ""
        await explained(pilot)
        await paste(pilot, "535 5.7.3 Authentication unsuccessful\n" * 40)
        assert status(app) == "✖ Longer than 1,000 characters: paste the lines around the error"
        assert "[1]" not in findings(app)


async def test_copy_keys_say_what_they_copied(settings_path: Path) -> None:
    """ctrl+o: one error's PowerShell as is; several: each PowerShell or fix under a `# [n] line L:` comment.
    ctrl+l: the whole explanation as `outmail explain` prints it. Never a secret."""
    copied: list[str] = []
    notes: list[str] = []
    app = build_app(settings_path)
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        notes.append(status(app))  # said on the dialog's own status line, never a toast over its buttons
        assert copied == [] and notes[-1] == "▲ Nothing to copy yet: paste an error first"
        assert not app.screen.query("Toast")

        await paste(pilot, "535 5.7.3 Authentication unsuccessful [BN0PR04CA0123.namprd04.prod.outlook.com]\n")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert copied[-1].startswith("Connect-ExchangeOnline -Organization contoso.onmicrosoft.com\n")
        assert f"New-ServicePrincipal -AppId {CLIENT_ID}" in copied[-1]
        notes.append(status(app))
        assert notes[-1].startswith("✔ Copied the PowerShell (9 lines) to the clipboard (OSC 52)")

        dialog.query_one("#ex-text", TextArea).text = ""
        await explained(pilot)
        await paste(pilot, STACK_TRACE)
        await pilot.press("ctrl+o")
        await pilot.pause()
        fix = copied[-1]
        assert fix.startswith("# [1] line 2: jakarta.mail.AuthenticationFailedException: 535 5.7.3")
        assert "\n# [2] line 11: javax.net.ssl.SSLHandshakeException: PKIX path building failed" in fix
        assert "\n# Import the CA that signed the certificate" in fix  # prose is a comment: the copy pastes as PowerShell
        notes.append(status(app))
        assert notes[-1].startswith("✔ Copied the PowerShell for [1] and the fix for [2] to the clipboard (OSC 52)")

        await pilot.press("ctrl+l")
        await pilot.pause()
        whole = copied[-1]
        assert whole.startswith("outmail explain: 2 errors found\n[1] line 2: jakarta.mail.AuthenticationFailed")
        assert "Setup step: S9 Network and TLS" in whole
        notes.append(status(app))
        assert notes[-1].startswith("✔ Copied the explanation (2 errors, ")
        assert "Close (Esc)" in " ".join(str(b.label) for b in app.screen.query(Button))
        for text in copied + notes:
            assert PASTED_SECRET not in text and SETTINGS_SECRET not in text


async def test_keys_close_and_move(settings_path: Path) -> None:
    """q types into the text; Tab to the explanation, then q closes; Esc and ctrl+g close; the buttons fit 80x24."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        area = dialog.query_one("#ex-text", TextArea)
        assert area.region.height == 5
        for button in dialog.query(Button):
            assert button.region.width > 0 and button.region.bottom <= SIZE[1], (button.id, button.region)
        await pilot.press("q")
        await pilot.pause()
        assert area.text == "q" and isinstance(app.screen, ExplainDialog)
        await pilot.press("tab")
        await pilot.pause()
        assert dialog.focused is dialog.query_one("#ex-result")
        await pilot.press("q")
        await until(pilot, lambda: not isinstance(app.screen, ExplainDialog), what="q to close")
        for key in ("escape", "ctrl+g"):
            await open_dialog(pilot)
            await pilot.press(key)
            await until(pilot, lambda: not isinstance(app.screen, ExplainDialog), what=f"{key} to close")


async def test_palette_and_help_name_the_action(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        text = await help_text(pilot)
        assert "F10            Explain an error: Paste error text" in text
        assert "Explain an error (F10)" in text and "ctrl+o         Copy the fix" in text
        await pilot.press("escape")
        await pilot.pause()
        await run_from_palette(pilot, "explain")
        await until(pilot, lambda: isinstance(app.screen, ExplainDialog), what="the palette's dialog")
        await pilot.press("f10")  # the app's F10 does not open a second dialog over the first
        await pilot.pause()
        assert sum(isinstance(s, ExplainDialog) for s in app.screen_stack) == 1


def test_snapshot_explained_stack_trace(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """F10 and a pasted LogicalDOC stack trace: the end of the paste in the text area, the status in words, the first
    error with its quoted line, Why and Setup step, the four buttons, all inside 80x24."""
    from tests.console.conftest import COMMENTED_M365

    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(COMMENTED_M365)

    async def open_and_paste(pilot) -> None:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        dialog.query_one("#ex-text", TextArea).cursor_blink = False  # a steady cursor: the same image every run
        await paste(pilot, STACK_TRACE)

    assert snap_compare(build_app(Path("settings.toml")), terminal_size=SIZE, run_before=open_and_paste)

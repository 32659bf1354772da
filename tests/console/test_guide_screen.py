"""Pilot tests of the setup guide (F12) at 80x24 against the offline sandbox: the steps proven from a run, a failed
step and its one cause, the model asked once and switched, copies (OSC 52), the saved scripts, the verification
paste (good and malformed), the guide with no run yet, waiting out propagation from the guide (w), and an SVG
snapshot."""

from __future__ import annotations

import asyncio
import json
import re
import stat
import time
import types
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Button, OptionList, Static, TextArea

from tests.guide.verification import verification_for
from tests.console.conftest import ready, until
from tests.console.contrast import screen_text
from tui.console.diagnostics_pane import DiagnosticsPane
from tui.console.guide_screen import GuideScreen, ModelDialog, VerificationDialog
from tui.console.launch import build_app

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    """No token cached by an earlier test: a fault set on the token service is seen (a new token each test)."""
    from tui.diagnostics.token import DEFAULT_TOKEN_CACHE

    DEFAULT_TOKEN_CACHE.clear()


def pane_of(app) -> DiagnosticsPane:
    return app.main_screen.query_one(DiagnosticsPane)


async def run_f5(pilot) -> DiagnosticsPane:
    """F5 from the form, then wait until the run ended and the console recorded it."""
    app = pilot.app
    before = app.last_run
    await pilot.press("f5")
    await until(pilot, lambda: bool(app.main_screen.query(DiagnosticsPane)) and pane_of(app).worker is not None,
                what="the pane's worker")
    pane = pane_of(app)
    await asyncio.wait_for(app.workers.wait_for_complete(), 30)
    await until(pilot, lambda: not pane.running and app.last_run is not before, what="the end of the run")
    await pilot.pause()
    return pane


async def open_guide(pilot, answer: str | None = "enter") -> GuideScreen:
    """F12; the model question the first time (answered with `answer`: enter takes the preselected model)."""
    app = pilot.app
    await pilot.press("f12")
    await until(pilot, lambda: isinstance(app.screen, (GuideScreen, ModelDialog)), what="the guide")
    await pilot.pause()
    if answer is not None and isinstance(app.screen, ModelDialog):
        await pilot.press(answer)
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide after the question")
        await pilot.pause()
    return guide_of(app)


def guide_of(app) -> GuideScreen:
    return next(s for s in app.screen_stack if isinstance(s, GuideScreen))


def states(screen: GuideScreen) -> dict[str, str]:
    return {s.id: s.state for s in screen.guide.steps}


def rows(app) -> list[str]:
    options = guide_of(app).query_one("#guide-steps", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def detail(app) -> str:
    screen = guide_of(app)
    return str(screen.query_one("#guide-detail-title").render()) + "\n" + \
        str(screen.query_one("#guide-detail", Static).render())


def unstamped(script: str) -> str:
    """A script without the time it was made (`# Made by outmail ... at 2026-...Z`), which changes every second."""
    return re.sub(r" at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", " at <time> ", script)


def flat(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines())


async def select(pilot, step_id: str) -> None:
    """Move the selection to a step with the arrow keys, as an admin does."""
    screen = guide_of(pilot.app)
    options = screen.query_one("#guide-steps", OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    target = ids.index(step_id)
    while options.highlighted != target:
        await pilot.press("down" if options.highlighted < target else "up")
    await pilot.pause()


async def paste(pilot, text: str) -> None:
    """A bracketed paste into the focused text area, then the dialog's reading of it."""
    dialog = pilot.app.screen
    area = dialog.query_one("#verify-text", TextArea)
    assert dialog.focused is area
    pilot.app.post_message(events.Paste(text))  # as the driver posts it: the app hands it to the focused widget
    await until(pilot, lambda: area.text == text, what="the paste")
    await until(pilot, lambda: dialog._debounce is None, what="the dialog reading the paste")
    await pilot.pause()


def question(app) -> str:
    """The model question's words (the dialog's body)."""
    return flat(str(app.screen.query_one(".dialog-body", Static).render()))


def verify_status(app) -> str:
    return str(app.screen.query_one("#verify-status", Static).render())


async def test_after_f5_the_guide_proves_s1_to_s6_with_evidence(demo_settings: Path, sandbox_clean) -> None:
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        assert app.last_run.report.ok and app.last_run_tenant == "default"
        # asked once: the model, preselected from the token (it carries SMTP.SendAsApp: classic)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, ModelDialog), what="the model question")
        await pilot.pause()
        assert "which authorization model?" in screen_text(app)
        assert "Preselected: classic, from the last token (it carries SMTP.SendAsApp)." in question(app), question(app)
        assert app.focused is app.screen.query_one("#choice-classic", Button)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        await pilot.pause()
        screen = guide_of(app)
        assert app.guide_model == "classic"
        st = states(screen)
        assert [s.id for s in screen.guide.steps] == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]
        assert all(st[i] == "proven" for i in ("S1", "S2", "S3", "S4", "S5", "S6", "S8", "S9")), st
        assert st["S7"] == "not-needed"
        text = screen_text(app)
        lines = rows(app)
        assert lines[0].startswith("✔ proven     S1  App registration") and "token issued at " in lines[0], lines
        assert ": S1 and S2 work" in lines[0], lines[0]
        assert lines[4].startswith("✔ proven     S5  Exchange service") and "235 at " in lines[4], lines
        assert lines[6].startswith("– not needed S7  Send As"), lines
        assert lines[-1] == "≡ Cause, least privilege and notes"
        assert "Evidence: run ✔ passed at " in text and "no verification (p pastes it)" in text, text
        assert "Result: 8 proven, 0 FAILED, 0 not known, 1 not needed" in text
        assert "✔ Every step is proven or not needed" in text
        # the selected step's evidence, where and what
        assert "S1 App registration  ✔ proven" in detail(app)
        assert "✔ token issued at " in detail(app) and "Where: Entra admin center > App registrations" in detail(app)
        # S5: its PowerShell with the admin's client id and the token's object id
        await select(pilot, "S5")
        info = sandbox_clean.info
        words = flat(detail(app))
        assert "S5 Exchange service principal  ✔ proven" in words
        assert f"New-ServicePrincipal -AppId {info.client_id} -ObjectId {app.last_run.report.token.oid}" in words
        # everything on screen at 80 columns: no row wider than the terminal
        assert all(len(line) <= 80 for line in text.splitlines())
        # Esc back; F12 again asks nothing (remembered while the console runs)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, GuideScreen)
        await open_guide(pilot, answer=None)
        assert isinstance(app.screen, GuideScreen) and guide_of(app).guide.model == "classic"


async def test_rbac_out_of_scope_shows_the_failed_step_and_the_cause(demo_settings: Path, sandbox_clean) -> None:
    """A token without roles (RBAC for Applications), the mailbox outside the scope: AUTH fails; the guide marks S5
    and R1-R3 failed; the pasted verification names the one cause, R1."""
    sandbox_clean.set_fault("rbac-out-of-scope")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        assert pane.report.failed_step.id == "auth"
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, ModelDialog), what="the model question")
        assert "Preselected: RBAC for Applications, from the last token (it has no SMTP.SendAsApp role)" in \
            question(app)
        assert app.focused is app.screen.query_one("#choice-rbac", Button)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        await pilot.pause()
        screen = guide_of(app)
        st = states(screen)
        assert [s.id for s in screen.guide.steps] == ["S1", "S2", "S5", "R1", "R2", "R3", "S7", "S8", "S9"]
        assert st["S1"] == st["S2"] == st["S9"] == "proven"
        assert st["S5"] == st["R1"] == st["R2"] == st["R3"] == "failed", st
        text = screen_text(app)
        assert "Evidence: run ✖ FAILED at auth at " in text
        assert "Result: 3 proven, 4 FAILED, 1 not known, 1 not needed" in text
        assert "Cause: The token has no SMTP.SendAsApp role" in text, text
        lines = rows(app)
        assert lines[3].startswith("✖ FAILED     R1  Management scope") and "AUTH failed at " in lines[3], lines
        assert lines[7].startswith("· not known  S8  SMTP AUTH enabled"), lines
        # the first failed step is selected: its evidence and fix
        assert "S5 Exchange service principal  ✖ FAILED" in detail(app)
        assert "✖ AUTH failed at " in detail(app) and "points at S5, R1, R2 and R3" in flat(detail(app))
        # the findings row: the whole cause, least privilege (RBAC: no Entra permission needed), the scope
        await select(pilot, "findings")
        words = flat(detail(app))
        info = sandbox_clean.info
        assert "Cause: The token has no SMTP.SendAsApp role" in words
        assert "Least privilege: SMTP needs no Entra permission at all" in words, words
        assert f"PrimarySmtpAddress -eq '{info.mailbox}'" in words

        # the verification (read-only script's JSON) tells the four apart: R1, the scope, is the one cause
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, VerificationDialog), what="the paste dialog")
        doc = verification_for(sandbox_clean, "rbac-out-of-scope", collected_at=time.time() + 1)
        await paste(pilot, "PS> .\\outmail-verify.ps1\n" + json.dumps(doc) + "\nPS> ")
        assert verify_status(app).startswith("✔ Can be used: verification at "), verify_status(app)
        assert not app.screen.query_one("#verify-use", Button).disabled
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide after the paste")
        await pilot.pause()
        screen = guide_of(app)
        assert app.guide_verification is not None
        st = states(screen)
        assert st["S5"] == "proven" and st["R1"] == "failed", st
        assert screen.guide.cause.startswith("R1 Management scope (RBAC for Applications): verification at ")
        text = screen_text(app)
        assert "Cause: R1 Management scope (RBAC for Applications): verification at" in flat(text), text
        assert "· verification at " in text and "✔ The guide uses the verification at " in flat(text)
        # the selection stayed on the findings row; R1's own detail names the scope that lacks the mailbox
        await select(pilot, "R1")
        words = flat(detail(app))
        assert (f"✖ verification at {words.split('✖ verification at ')[1][:5]}: Test-ServicePrincipalAuthorization: "
                f"{info.mailbox} is outside the scope outmail-smtp (InScope False)") in words, words
        assert f"New-ManagementScope -Name \"outmail-smtp\" -RecipientRestrictionFilter \"PrimarySmtpAddress -eq " \
               f"'{info.mailbox}'\"" in words


async def test_a_malformed_paste_is_refused_in_words(demo_settings: Path, sandbox_clean) -> None:
    """Nothing guessed: an incomplete summary names every missing key; text without one says what to paste; a
    summary about another app is refused; Use stays disabled and ctrl+s does nothing; Esc changes nothing."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        screen = await open_guide(pilot)
        before = states(screen)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, VerificationDialog), what="the paste dialog")
        await paste(pilot, '{"outmail_verify": 1, "collected_at": "2026-01-01T10:00:00Z"}')
        said = verify_status(app)
        assert said.startswith("✖ Cannot be used: the summary is incomplete: missing client_id, mailbox, "
                               "service_principal, mailbox_info, transport_config, full_access, send_as, rbac"), said
        assert app.screen.query_one("#verify-use", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, VerificationDialog)  # refused: still open
        area = app.screen.query_one("#verify-text", TextArea)
        area.clear()
        await paste(pilot, "535 5.7.3 Authentication unsuccessful")
        assert "no verification summary found" in verify_status(app), verify_status(app)
        area.clear()
        doc = verification_for(sandbox_clean, None, collected_at=time.time())
        doc["client_id"] = "99999999-8888-7777-6666-555555555555"
        await paste(pilot, json.dumps(doc))
        assert verify_status(app).startswith("✖ Cannot be used: "), verify_status(app)
        assert "99999999-8888-7777-6666-555555555555" in verify_status(app), verify_status(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        assert app.guide_verification is None and states(guide_of(app)) == before


async def test_model_switch_is_remembered(demo_settings: Path, sandbox_clean) -> None:
    """m: the other model; its steps (R1-R3 instead of S3, S4, S6), SMTP.SendAsApp as extra privilege; F12 later
    keeps it without asking."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        screen = await open_guide(pilot)
        assert screen.guide.model == "classic"
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ModelDialog), what="the model question")
        assert "Preselected: classic, the model chosen before" in question(app)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        await pilot.pause()
        screen = guide_of(app)
        assert app.guide_model == "rbac" and screen.guide.model == "rbac"
        assert [s.id for s in screen.guide.steps] == ["S1", "S2", "S5", "R1", "R2", "R3", "S7", "S8", "S9"]
        st = states(screen)
        assert st["S5"] == st["S8"] == "proven" and st["R1"] == "unknown", st  # a classic token proves no scope
        assert "Setup guide · RBAC for Applications, as chosen (m)" in screen_text(app)
        await select(pilot, "findings")
        words = flat(detail(app))
        assert "▲ SMTP.SendAsApp: lets the app be authorized through the classic model too" in words, words
        await pilot.press("escape")
        await open_guide(pilot, answer=None)
        assert isinstance(app.screen, GuideScreen) and guide_of(app).guide.model == "rbac"


async def test_copy_the_step_the_setup_and_the_verification_script(demo_settings: Path, sandbox_clean) -> None:
    """c, a and v copy with OSC 52 (app.clipboard holds what was written) and say what they copied."""
    sandbox_clean.set_fault("no-mailbox-permission")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        screen = await open_guide(pilot)
        info = sandbox_clean.info
        assert screen.selected_step().id == "S5"  # the first failed step
        await pilot.press("c")
        await pilot.pause()
        step = screen.guide.step("S5")
        assert app.clipboard == step.command and f"-AppId {info.client_id}" in app.clipboard
        assert "✔ Copied the PowerShell for S5 (3 lines) to the clipboard (OSC 52" in flat(screen_text(app))
        await pilot.press("a")
        await pilot.pause()
        assert unstamped(app.clipboard) == unstamped(screen.guide.setup_script())
        assert "New-ServicePrincipal" in app.clipboard and info.client_secret not in app.clipboard
        assert "✔ Copied the setup script (" in flat(screen_text(app))
        await pilot.press("v")
        await pilot.pause()
        assert unstamped(app.clipboard) == unstamped(screen.guide.verify_script())
        assert "Test-ServicePrincipalAuthorization" in app.clipboard
        assert "✔ Copied the verification script (read-only)" in flat(screen_text(app))
        await select(pilot, "S1")
        await pilot.press("c")
        await pilot.pause()
        assert "S1 App registration has no PowerShell: it is done in the portal" in flat(screen_text(app))
        assert not app._notifications, [n.message for n in app._notifications]  # said on screen, no toast


async def test_save_writes_both_scripts_private_next_to_the_settings(demo_settings: Path, sandbox_clean) -> None:
    sandbox_clean.set_fault("rbac-out-of-scope")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        screen = await open_guide(pilot)
        await pilot.press("s")
        await pilot.pause()
        setup = sorted(demo_settings.parent.glob("outmail-setup-*.ps1"))
        verify = sorted(demo_settings.parent.glob("outmail-verify-*.ps1"))
        assert len(setup) == 1 and len(verify) == 1
        for path in setup + verify:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
        text = setup[0].read_text()
        info = sandbox_clean.info
        assert unstamped(text) == unstamped(screen.guide.setup_script())
        assert f"$AppId = '{info.client_id}'" in text and f"$Mailbox = '{info.mailbox}'" in text
        assert f"$ObjectId = '{pane.report.token.oid}'" in text
        assert "New-ManagementScope" in text
        for secret in (info.client_secret, info.password):
            assert secret not in text and secret not in verify[0].read_text()
        # the path is named on the screen (the message line, and under ≡), not in a toast
        said = flat(screen_text(app)).replace(" ", "")
        assert f"✔Savedthesetupscript{setup[0]}andtheverificationscript{verify[0].name},readablebyyouonly" \
            .replace(" ", "") in said, screen_text(app)
        assert not app._notifications
        await select(pilot, "findings")
        assert f"Saved:{setup[0]},{verify[0]}(readablebyyouonly)" in detail(app).replace("\n", "").replace(" ", ""), \
            detail(app)
        # a second save never overwrites the first
        await pilot.press("s")
        await pilot.pause()
        assert len(list(demo_settings.parent.glob("outmail-setup-*.ps1"))) == 2


async def test_no_run_yet_offers_f5_and_follows_the_run(demo_settings: Path, sandbox_clean) -> None:
    """Before any run every step is not known and the guide says F5; F5 from the guide runs the diagnostics and the
    guide follows when they end."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, ModelDialog), what="the model question")
        assert "Preselected: classic, LogicalDOC's guide (no token yet)" in question(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        await pilot.pause()
        screen = guide_of(app)
        assert set(states(screen).values()) == {"unknown", "not-needed"}, states(screen)
        text = screen_text(app)
        assert "Evidence: no run yet (F5 runs the diagnostics, nothing is sent)" in text, text
        assert "No evidence yet: F5 runs the diagnostics (nothing is sent)" in flat(text)
        assert all(line.startswith(("· not known", "– not needed", "≡")) for line in rows(app)), rows(app)
        await pilot.press("f5")
        await until(pilot, lambda: app.last_run is not None and states(guide_of(app))["S5"] == "proven",
                    what="the guide following the run")
        assert isinstance(app.screen, GuideScreen)  # the run went on under the guide
        assert "Evidence: run ✔ passed at " in screen_text(app)


async def test_a_test_send_from_another_address_proves_send_as(demo_settings: Path, sandbox_clean) -> None:
    """'Use user's email as sender': f names a user's address (S7 not known for it yet); a test send (ctrl+t from the
    guide) From that address, accepted after DATA, proves S7 for it; the guide follows when the dialog closes."""
    from textual.widgets import Input

    from tui.console.guide_screen import FromAddressesDialog
    from tui.console.send_dialog import SendDialog

    demo_settings.write_text(demo_settings.read_text().replace("userasfrom = false", "userasfrom = true"))
    address = sandbox_clean.info.sendas_address
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = await open_guide(pilot)
        assert screen.guide.step("S7").state == "unknown"
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FromAddressesDialog), what="the From dialog")
        await pilot.press(*address, "enter")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        assert app.guide_from_addresses == (address,) and screen.guide.values.from_addresses[-1] == address
        assert screen.guide.step("S7").state == "unknown"
        assert f"Add-RecipientPermission \"{address}\"" in screen.guide.step("S7").command
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, SendDialog), what="the test-send dialog")
        dialog = app.screen
        for selector, value in (("#ts-sendas", address), ("#ts-to", "alice@example.com")):
            field = dialog.query_one(selector, Input)
            field.focus()
            field.value = ""
            await pilot.press(*value)
        await pilot.pause()
        await pilot.press("ctrl+t")
        await until(pilot, lambda: dialog.report is not None and not dialog.running, what="the send")
        assert dialog.report.send.sent
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen) and screen.guide.step("S7").state == "proven",
                    what="S7 proven by the send")
        assert f"Exchange took mail From {address}, so Send As works for it" in \
            screen.guide.step("S7").decisive.text


async def test_a_server_without_microsoft_steps(settings_path: Path) -> None:
    """Protocol SMTP to a server that is not Exchange Online: no model question, the note, nothing to copy."""
    settings_path.write_text(settings_path.read_text().replace('"smtpmicrosoft365"', '"smtp"')
                             .replace('"smtp.office365.com"', '"mail.example.test"'))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        await pilot.pause()
        text = flat(screen_text(app))
        assert "Setup guide · tenant default" in text and "No Microsoft setup steps for this server" in text
        assert "Protocol smtp to mail.example.test needs no Microsoft setup step" in text
        await pilot.press("a")
        await pilot.pause()
        assert "Nothing to copy or save: this server needs no Microsoft setup step" in flat(screen_text(app))
        assert app.clipboard == "" and app.guide_model is None


async def test_the_model_question_waits_for_the_run_going(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """F12 right after F5: the guide says the diagnostics are running and asks the model once they end, preselected
    from their token (RBAC for Applications: no roles)."""
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine

    gate = asyncio.Event()
    canned = canned_rbac_diagnose()

    async def held(settings, **kw):
        await gate.wait()
        return await canned(settings, **kw)

    monkeypatch.setattr(engine, "diagnose", held)
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: bool(app.main_screen.query(DiagnosticsPane)) and pane_of(app).running,
                    what="the run to start")
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        await until(pilot, lambda: "Evidence: … the diagnostics are running (the guide follows)" in screen_text(app),
                    what="the guide to say the run goes")
        assert isinstance(app.screen, GuideScreen)  # no question yet
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, ModelDialog), what="the model question")
        assert "Preselected: RBAC for Applications, from the last token (it has no SMTP.SendAsApp role)" in \
            question(app)


async def test_help_and_palette_name_the_guide(demo_settings: Path, sandbox_clean) -> None:
    from tui.console.commands import OutmailCommands

    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = [hit.text for hit in [h async for h in OutmailCommands(app.screen).discover()]]
        assert "Setup guide" in titles
        await pilot.press("f1")
        await pilot.pause()
        text = str(app.screen.query_one("#help-text", Static).render())
        assert "F12" in text and "Setup guide: The Microsoft 365 setup steps as a checklist" in flat(text)
        assert "Setup guide (F12)" in text
        for words in ("Copy the step's PowerShell", "Copy the setup script", "Save the scripts",
                      "Paste the verification", "Authorization model", "Wait out propagation: After a change"):
            assert words in flat(text), words


async def test_w_in_the_guide_waits_and_the_guide_follows(demo_settings: Path, sandbox_clean, short_intervals,
                                                          clears_after_first_attempt) -> None:
    """From the guide, with no run yet: w runs the diagnostics and waits; the guide shows the two rows, and S5
    turns from failed to proven when the fault clears."""
    short_intervals(every=1.0, limit=30)
    sandbox_clean.set_fault("no-mailbox-permission")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, ModelDialog), what="the model question")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, GuideScreen), what="the guide")
        screen = app.screen
        await pilot.press("w")
        await until(pilot, lambda: "… Waiting out propagation: attempt 1 failed; next run in" in screen_text(app),
                    what="the guide's wait rows")
        assert {s.id: s.state for s in screen.guide.steps}["S5"] == "failed"
        assert isinstance(app.screen, GuideScreen)
        await until(pilot, lambda: {s.id: s.state for s in screen.guide.steps}["S5"] == "proven",
                    what="S5 proven after the change applied")
        await until(pilot, lambda: "Waiting out propagation" not in screen_text(app).split("\n")[2],
                    what="the wait rows to go")
        assert screen.message.startswith("✔ Waiting out propagation: passed at attempt 2"), screen.message
        assert app.main_screen.message.startswith("✔ Waiting out propagation: passed at attempt 2")


def canned_rbac_diagnose():
    """An engine stand-in: a fixed run whose token has no roles and whose AUTH gets 535 5.7.3 (the RBAC fix)."""
    from tui.diagnostics import events as E
    from tui.diagnostics import hints as H
    from tui.diagnostics import report as R

    oid = "22222222-3333-4444-5555-666666666666"

    async def diagnose(settings, *, emit=None, token_cache=None, fresh_token=False, envelope=True, rcpt="",
                       extra_steps=None):
        ctx = H.HintContext(client_id=settings.client_id, object_id=oid, mailbox=settings.username,
                            sender=settings.sender, tenant="contoso.onmicrosoft.com", mechanism="XOAUTH2",
                            model="rbac")
        reply = "5.7.3 Authentication unsuccessful [SBX0P281CA0001.outlook.sandbox.test]"
        plan = [("settings", "Settings", "ok", 0.1, 0.3, ["smtpmicrosoft365 smtp.office365.com:587"]),
                ("token", "Token", "ok", 0.5, 200.0, ["token from the identity provider, expires in 59 min"]),
                ("connect", "Connect", "ok", 1.0, 20.0, ["connected"]),
                ("ehlo", "Banner and EHLO", "ok", 21.0, 10.0, ["banner: 220 ready"]),
                ("starttls", "STARTTLS", "ok", 31.0, 40.0, ["TLSv1.3"]),
                ("auth", "AUTH", "fail", 201.0, 6.0, ["AUTH XOAUTH2 user=noreply@contoso.com"]),
                ("envelope", "Envelope (MAIL, RCPT)", "skipped", None, None, ["AUTH failed"]),
                ("quit", "QUIT", "ok", 208.0, 2.0, ["221 2.0.0 bye"])]
        steps = []
        for step_id, title, status, started, duration, lines in plan:
            step = R.StepResult(step_id, title, status, duration, list(lines), None, started)
            if status == "fail":
                step.hint = H.for_smtp_reply(535, reply, ctx)
                step.detail.insert(0, step.hint.reply)
            steps.append(step)
        token = R.TokenInfo("identity_provider", "eyJ0eXAi", 3599,
                                 {"oid": oid, "tid": "contoso.onmicrosoft.com", "appid": settings.client_id,
                                  "iat": 1_700_000_000}, oid, "ca_file")
        emit(E.RunStarted(tuple(s.copy() for s in steps)))
        for step in steps:
            emit(E.StepFinished(step.copy()))
        return R.Report(steps=steps, transcript=[], token=token, target="smtpmicrosoft365", duration_ms=212.0,
                        model="rbac")

    return diagnose


READABILITY_MODES = [("textual-dark", "truecolor", False), ("textual-dark", "standard", False),
                     ("ansi-dark", "standard", False), ("textual-dark", "truecolor", True),
                     ("textual-dark", "standard", True), ("ansi-dark", "standard", True)]


@pytest.mark.parametrize("theme,system,no_color", READABILITY_MODES,
                         ids=[f"{t}-{s}" + ("-NO_COLOR" if n else "") for t, s, n in READABILITY_MODES])
async def test_the_guide_is_readable(theme: str, system: str, no_color: bool, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every state word, the evidence, the cause, the keys and the selected row reach 4.5:1 (WCAG) in truecolor, in
    16 colours (xterm's and the Linux console's palettes) and with NO_COLOR, measured from the rendered cells; the
    selected row is seen as selected."""
    import textual.constants

    from tests.console import contrast as C
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine

    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(engine, "diagnose", canned_rbac_diagnose())
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    app = build_app(path)
    app.theme = theme

    def lowest(text: str, row: str | None = None) -> float:
        cells = C.find_cells(app, text, row_contains=row)
        palettes = ["xterm", "vga"] if system == "standard" else ["xterm"]
        return min(C.worst(cells, system=system, palette=palette) for palette in palettes)

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        await open_guide(pilot, answer="r")
        await pilot.press("c")
        await pilot.pause()
        measured = {
            "FAILED": lowest("✖ FAILED", "R1  Management"), "proven": lowest("✔ proven", "S1  App"),
            "not known": lowest("· not known", "S8  SMTP"), "not needed": lowest("– not needed", "S7  Send"),
            "a row's evidence": lowest("AUTH failed at", "R1  Management"),
            "the selected row": lowest("S5  Exchange service prin… AUTH failed"),
            "the selected row's FAILED": lowest("✖ FAILED", "S5  Exchange"),
            "Cause": lowest("Cause:"), "the cause": lowest("The token has no"), "the result": lowest("Result: 3 proven"),
            "the evidence line": lowest("Evidence: run"), "the title": lowest("Setup guide ·"),
            "the keys": lowest("c copy PowerShell"), "the detail's FAILED": lowest("✖ FAILED  (PgDn"),
            "the message": lowest("Copied the PowerShell"), "the findings row": lowest("≡ Cause, least"),
        }
        low = {what: round(ratio, 2) for what, ratio in measured.items() if ratio < 4.5}
        assert not low, f"below 4.5:1: {low}"
        selected = C.find_cells(app, "S5  Exchange")
        other = C.find_cells(app, "R1  Management")
        assert selected[0].style.reverse or \
            C.shown(selected[0].style, system=system) != C.shown(other[0].style, system=system)


def test_snapshot_rbac_failure(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guide after a run failed at AUTH with a token without roles, RBAC for Applications chosen: the steps with
    their state in words and evidence (S5, R1-R3 FAILED, S8 not known, S7 not needed), the result, the cause, S5's
    evidence and where, and the keys."""
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine
    from tui.guide import LastRun
    from tui.guide import evidence as guide_evidence

    fixed = 1_900_000_000.0  # 2030-03-17 17:46 UTC: a fixed day, so times read the same on any day
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(guide_evidence, "time", types.SimpleNamespace(time=lambda: fixed, localtime=time.localtime,
                                                                      strftime=time.strftime))
    monkeypatch.setattr(engine, "diagnose", canned_rbac_diagnose())
    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(COMMENTED_M365)

    async def run_then_open_the_guide(pilot) -> None:
        await ready(pilot)
        await run_f5(pilot)
        pilot.app.last_run = LastRun(pilot.app.last_run.report, fixed)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelDialog), what="the model question")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, GuideScreen), what="the guide")
        await pilot.pause()

    try:
        assert snap_compare(build_app(Path("settings.toml")), terminal_size=SIZE, run_before=run_then_open_the_guide)
    finally:
        monkeypatch.undo()
        time.tzset()

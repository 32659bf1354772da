"""Pilot tests of the diagnostics pane (F5) at 80x24 against the offline sandbox, and of the demo's sandbox panel."""

from __future__ import annotations

import asyncio
import re
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
from textual.widgets import Label, OptionList, Static
from textual.worker import WorkerState

from tests.console.conftest import help_text, ready, run_from_palette, until
from tests.console.contrast import screen_text
from tests.console.helpers import FakeSandbox, canned_diagnose, pane_of, run_f5
from tui.console.diagnostics_pane import DiagnosticsPane, PaneButton, TranscriptView, detail_content, step_line
from tui.console.launch import build_app
from tui.console.messages import EngineEvent
from tui.diagnostics import events
from tui.diagnostics.progress import RunProgress
from tui.diagnostics.run_text import run_total_ms, token_order_note, token_waited_until

SIZE = (80, 24)
STEP_IDS = ["settings", "token", "connect", "ehlo", "starttls", "auth", "envelope", "quit"]


def summary(app) -> str:
    return str(pane_of(app).query_one("#diag-summary", Label).render())


def step_lines(app) -> list[str]:
    options = pane_of(app).query_one("#diag-steps", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def detail_text(app) -> str:
    pane = pane_of(app)
    return str(pane.query_one("#diag-detail-title", Label).render()) + "\n" + \
        str(pane.query_one("#diag-detail", Static).render())


async def test_run_passes_with_every_step_ok(demo_settings: Path, sandbox_clean) -> None:
    messages: list = []
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        assert [s.id for s in pane.steps] == STEP_IDS
        assert [s.status for s in pane.steps] == ["ok"] * 8, [(s.id, s.status, s.detail) for s in pane.steps]
        assert re.fullmatch(r"✔ Passed in (\d+ ms|\d+\.\d+ s)", summary(app)), summary(app)
        lines = step_lines(app)
        assert len(lines) == 8 and all(line.startswith("✔ ok") for line in lines), lines
        assert "Banner and EHLO" in lines[3] and "█" in lines[3]  # title and waterfall bar
        # the envelope (MAIL FROM, RCPT TO, RSET; nothing sent): its row and its detail
        assert lines[6].split()[2] == "Envelope" and "█" in lines[6], lines[6]
        envelope = pane.report.step("envelope")
        first = envelope.detail[0]
        assert first.startswith("the server accepts mail from ") and "nothing was sent" in first, first
        assert any(line.startswith("MAIL FROM:<") for line in envelope.detail)
        assert app.main_screen.current_pane == "diagnostics-pane"
        # one message per engine event, handled by the pane: every step started and finished, the transcript
        # streamed, the report last
        unique = [m.event for m in {id(m): m for m in messages if isinstance(m, EngineEvent)}.values()]
        assert {e.step.id for e in unique if isinstance(e, events.StepStarted)} == set(STEP_IDS)
        assert [e.step.id for e in unique if isinstance(e, events.StepFinished)].count("auth") == 1
        assert any(isinstance(e, events.TranscriptAdded) and e.line.text.startswith("AUTH XOAUTH2 <redacted")
                   for e in unique)
        assert isinstance(unique[0], events.RunStarted) and isinstance(unique[-1], events.RunFinished)
        assert unique[-1].report.ok and unique[-1].report is pane.report
        # the buttons: Cancel disabled when idle, copy/save enabled after a run
        assert pane.query_one("#diag-cancel", PaneButton).disabled
        assert not pane.query_one("#diag-save", PaneButton).disabled
        # the transcript view (t): every SMTP line, secrets redacted
        await pilot.press("t")
        await pilot.pause()
        log = pane.query_one("#diag-transcript", TranscriptView)
        assert log.display and len(log.lines) >= len(pane.transcript) > 10
        text = "\n".join(strip.text for strip in log.lines)
        assert "C: EHLO" in text and "S: 235 2.7.0 Authentication successful" in text and "I: TLS" in text
        assert sandbox_clean.info.client_secret not in text
        assert "Transcript:" in str(pane.query_one("#diag-detail-title", Label).render())
        # F2 returns to the form
        await pilot.press("f2")
        await pilot.pause()
        assert app.main_screen.current_pane == "settings-pane"


async def test_garbage_from_before_a_run_is_still_collected_after_it(demo_settings: Path, sandbox_clean) -> None:
    """The pane freezes the heap during a run (no full collection stalls the loop); the run's end unfreezes it. The
    second run is r (the pane's rerun, as F5): it takes the token from the cache."""
    import gc
    import weakref

    class Cycle:
        pass

    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for run in range(2):
            garbage = Cycle()
            garbage.me = garbage  # only a collection frees a cycle
            alive = weakref.ref(garbage)
            del garbage
            token_requests = len(sandbox_clean.token_events())
            pane = await run_f5(pilot) if run == 0 else await rerun_with(pilot, "r")
            assert pane.report.ok
            assert gc.get_freeze_count() == 0
            gc.collect()
            assert alive() is None, "a cycle made before the run was kept frozen after it"
        token = pane.report.step("token")
        assert token.status == "ok" and token.detail[0].startswith("token from cache")
        assert len(sandbox_clean.token_events()) == token_requests  # nothing asked of Entra: the cache answered
        assert "Token (from cache)" in step_lines(app)[1]
        assert summary(app).startswith("✔ Passed in ")


async def test_a_failure_at_80x24_fix_scrolling_copies_and_save(demo_settings: Path, sandbox_clean) -> None:
    """A run that fails at AUTH (no-mailbox-permission, 535 5.7.3) at 80x24: the failed step selected, its reply, why,
    the setup steps and the fix with the admin's values on screen; c and y copy and say so on the message line; PgDn
    brings the PowerShell into view and PgUp goes back while the list stays; another step's detail starts at its
    top; s saves a private, redacted report and a second save gets a new name. (Which step is selected and what a
    copy takes: tests/diagnostics/test_progress.py.)"""
    sandbox_clean.set_fault("no-mailbox-permission")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        assert summary(app).startswith("✖ FAILED at auth in ")
        assert step_lines(app)[5].startswith("✖ FAIL")
        options = pane.query_one("#diag-steps", OptionList)
        assert options.highlighted == 5
        text = detail_text(app)
        assert "535 5.7.3 Authentication unsuccessful [" in text  # Exchange's [host ...] suffix shown literally
        assert "Why:" in text and "Fix:" in text
        assert "S5 Exchange service principal" in text and "S6 Mailbox permission" in text
        info = sandbox_clean.info
        auth = pane.steps[5]
        assert f'Add-MailboxPermission -Identity "{info.mailbox}" -User {info.object_id}' in text
        # c copies the PowerShell (OSC 52) and says what it copied
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == auth.hint.command
        assert app.main_screen.message.startswith("✔ Copied the PowerShell for AUTH") and not app._notifications
        # y copies the transcript, redacted
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == pane.report.transcript_text()
        assert "S: 535 5.7.3" in app.clipboard and info.client_secret not in app.clipboard
        assert app.main_screen.message.startswith("✔ Copied the transcript (")
        # PgDn brings the PowerShell into view, wherever the focus (the step list has it), and PgUp goes back
        view = pane.query_one("#diag-detail-scroll")
        assert app.focused is pane.query_one("#diag-steps")
        assert "Add-MailboxPermission" not in screen_text(app) and view.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > 0 and "Add-MailboxPermission" in screen_text(app)
        assert options.highlighted == 5  # the list did not move
        await pilot.press("pageup")
        await pilot.pause()
        assert view.scroll_y == 0
        # after PgDn in AUTH's long fix, the token step's detail shows from its first line, not scrolled
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > 0
        await pilot.click(options, offset=(20, 1))  # the Token row (a click, or keys typed faster than a frame)
        await pilot.pause()
        assert options.highlighted == 1 and view.max_scroll_y > 0  # the token's detail is long enough to scroll
        assert view.scroll_y == 0
        assert "token from " in detail_text(app).splitlines()[1]
        # s saves the report next to the settings, readable by the owner only, redacted
        await pilot.press("s")
        await pilot.pause()
        [report] = list(demo_settings.parent.glob("outmail-report-*.txt"))
        assert stat.S_IMODE(report.stat().st_mode) == 0o600
        saved = report.read_text()
        assert "FAILED at auth" in saved and "Transcript" in saved and "C: AUTH XOAUTH2 <redacted" in saved
        assert info.client_secret not in saved
        said = app.main_screen.message
        assert said == f"✔ Saved the report (secrets redacted, readable by you only) to {report}", said
        await pilot.press("s")  # a second save in the same second gets a new name
        await pilot.pause()
        assert len(list(demo_settings.parent.glob("outmail-report-*.txt"))) == 2


async def test_cancel_during_slow_smtp(demo_settings: Path, sandbox_clean) -> None:
    sandbox_clean.delay_seconds = 2.0
    sandbox_clean.set_fault("slow-smtp")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: app.query(DiagnosticsPane) and any(
            s.id == "ehlo" and s.status == "running" for s in pane_of(app).steps), what="EHLO running")
        pane = pane_of(app)
        worker = pane.worker
        assert summary(app).startswith("… running")
        assert not pane.query_one("#diag-cancel", PaneButton).disabled  # a visible Cancel button while running
        await pilot.press("x")
        # Prompt: EHLO's reply (2 s late) never comes in; how fast is benchmarks/ui_diagnostics.py's to measure
        await until(pilot, lambda: summary(app).startswith("Cancelled"), what="Cancelled")
        assert worker.state == WorkerState.CANCELLED
        assert not [w for w in app.workers if w.group == "diagnostics" and w.is_running]
        assert {s.id: s.status for s in pane.steps}["ehlo"] == "skipped"
        assert all(s.status not in ("running", "pending") for s in pane.steps)
        assert pane.report is not None and pane.report.cancelled
        assert not pane.query_one("#diag-save", PaneButton).disabled  # a cancelled run can be saved too
        # the Cancel button itself does the same on a second run
        await pilot.press("r")
        await until(pilot, lambda: pane.worker is not worker and pane.running and any(
            s.status == "running" and s.id in ("connect", "ehlo") for s in pane.steps), what="the rerun")
        await pilot.click("#diag-cancel")
        await until(pilot, lambda: summary(app).startswith("Cancelled"), what="Cancelled (button)")
        assert pane.worker.state == WorkerState.CANCELLED
        assert not [w for w in app.workers if w.is_running and w.group == "diagnostics"]
        await until(pilot, lambda: __import__("gc").get_freeze_count() == 0, what="the heap unfrozen after cancel")


async def choose_fault(pilot, name: str | None) -> None:
    """F7, choose `name` in the sandbox panel as the admin does (None: n, no fault), then q; back on the pane."""
    from tui.sandbox import FAULTS
    from tui.console.sandbox_panel import SandboxPanel

    app = pilot.app
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(app.screen, SandboxPanel), what="the sandbox panel")
    if name is None:
        await pilot.press("n")
    else:
        faults = app.screen.query_one("#sandbox-faults", OptionList)
        faults.highlighted = list(FAULTS).index(name) + 1  # after "no fault"
        await pilot.press("enter")
    await until(pilot, lambda: app.demo.fault == name, what=f"the fault {name}")
    await pilot.press("q")
    await until(pilot, lambda: not isinstance(app.screen, SandboxPanel), what="the panel closed")


async def rerun_with(pilot, key: str) -> DiagnosticsPane:
    """Press `key` (F5, r or n) on the pane after a run, and wait for the new run's end."""
    pane = pane_of(pilot.app)
    before = pane.worker
    await pilot.press(key)
    await until(pilot, lambda: pane.worker is not before, what=f"the run {key} started")
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), 30)
    await until(pilot, lambda: not pane.running, what=f"the end of the run {key} started")
    await pilot.pause()
    return pane


async def test_a_token_refused_at_auth_is_not_reused(demo_settings: Path, sandbox_clean) -> None:
    """The issue's sequence in the demo: fault no-smtp-role, F5 (Exchange refuses the token at AUTH: 535 5.7.3), no
    fault, F5 again: the token step says it is a new token and the run passes (never `Token (from cache)` with the
    refused token); the next rerun takes that good token from the cache; n asks Entra ID for a fresh one."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await choose_fault(pilot, "no-smtp-role")  # a token fault: the panel empties the token cache
        pane = await run_f5(pilot)
        auth, token = pane.report.step("auth"), pane.report.step("token")
        assert auth.status == "fail" and auth.hint.id == "exchange-refused-token-rbac"
        assert auth.detail[0].startswith("535 5.7.3 Authentication unsuccessful")
        assert summary(app).startswith("✖ FAILED at auth in ")
        # a missing roles claim is not the token step's failure: it names the model and lets AUTH decide
        assert token.status == "ok"
        assert any(line.startswith("authorization model: RBAC for Applications (Exchange role assignment)")
                   for line in token.detail), token.detail
        assert pane.report.step("envelope").status == "skipped"
        lines = step_lines(app)
        assert lines[5].startswith("✖ FAIL") and "AUTH" in lines[5]
        assert lines[6].startswith("– skipped") and "Envelope" in lines[6]
        text = detail_text(app)  # AUTH selected: the reply and the RBAC fix
        assert "AUTH  ✖ FAIL" in text and "535 5.7.3" in text and "R1 Management scope" in text

        await choose_fault(pilot, None)
        pane = await rerun_with(pilot, "f5")
        token = pane.report.step("token")
        assert token.status == "ok", token.detail
        assert token.detail[0].startswith("token from the identity provider, expires in ")
        assert "; new token: the last one was refused at AUTH (535 5.7.3" in token.detail[0], token.detail[0]
        assert any(line.startswith("authorization model: classic (Entra permission SMTP.SendAsApp)")
                   for line in token.detail), token.detail
        assert pane.report.ok and summary(app).startswith("✔ Passed in ")
        lines = step_lines(app)
        assert lines[1].startswith("✔ ok") and "Token (renewed)" in lines[1] and "from cache" not in lines[1], lines
        # the token step's detail, selected: the new-token line first, then the model
        pane.query_one("#diag-steps", OptionList).highlighted = 1
        await pilot.pause()
        text = detail_text(app)
        assert text.startswith("Token (renewed)  ✔ ok") and "(n: a new token)" in text.splitlines()[0]
        assert "new token: the last one was refused at AUTH" in text and "authorization model: classic" in text

        pane = await rerun_with(pilot, "r")  # the new token was good: this one comes from the cache
        token = pane.report.step("token")
        assert token.detail[0].startswith("token from cache") and "new token" not in token.detail[0]
        assert "Token (from cache)" in step_lines(app)[1] and pane.report.ok

        pane = await rerun_with(pilot, "n")  # n: rerun with a new token
        token = pane.report.step("token")
        assert token.detail[0].startswith("token from the identity provider")
        assert token.detail[0].endswith("; new token: a fresh token was asked for"), token.detail[0]
        assert "Token (renewed)" in step_lines(app)[1] and pane.report.ok


async def test_diagnose_with_a_new_token_from_the_form_and_the_palette(demo_settings: Path, sandbox_clean) -> None:
    """shift+F5 on the form and the palette's "Diagnose with a new token" run with a fresh token."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)  # fills the cache
        assert pane.report.ok
        await pilot.press("f2")
        await pilot.pause()
        assert app.main_screen.current_pane == "settings-pane"
        pane = await rerun_with(pilot, "shift+f5")  # from the form
        assert app.main_screen.current_pane == "diagnostics-pane"
        assert pane.report.step("token").detail[0].endswith("; new token: a fresh token was asked for")
        await pilot.press("f2")
        await pilot.pause()
        before = pane.worker
        await run_from_palette(pilot, "new token")
        await until(pilot, lambda: pane.worker is not before, what="the palette's run")
        await asyncio.wait_for(app.workers.wait_for_complete(), 30)
        await until(pilot, lambda: not pane.running, what="the end of the palette's run")
        assert pane.report.step("token").detail[0].endswith("; new token: a fresh token was asked for")
        assert app.main_screen.current_pane == "diagnostics-pane" and pane.report.ok


async def test_settings_errors_on_screen_skip_the_network(demo_settings: Path, sandbox_clean) -> None:
    """The values on screen, not the saved ones: an invalid Client ID in the form stops the run at settings."""
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        field = app.query_one("#f-client_id")
        field.value = "not-a-guid"
        await pilot.pause()
        pane = await run_f5(pilot)
        assert pane.steps[0].status == "fail" and all(s.status == "skipped" for s in pane.steps[1:])
        assert summary(app).startswith("✖ FAILED at settings")
        assert all(line.startswith("– skipped") for line in step_lines(app)[1:])


async def test_an_engine_crash_is_shown_in_the_pane(demo_settings: Path, sandbox_clean, monkeypatch) -> None:
    from tui.diagnostics import engine

    secret = sandbox_clean.info.client_secret

    async def broken(settings, **kwargs):
        raise RuntimeError(f"boom [/] {settings.client_secret.reveal()}")

    monkeypatch.setattr(engine, "diagnose", broken)
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        assert app.is_running
        text = summary(app)
        assert text.startswith("✖ FAILED: the diagnostics stopped: RuntimeError: boom [/]"), text
        assert secret not in text and secret not in detail_text(app)


async def test_step_line_shows_state_in_words() -> None:
    from tui.diagnostics.report import StepResult

    for status, word in [("ok", "✔ ok"), ("warn", "▲ warn"), ("fail", "✖ FAIL"), ("running", "… running"),
                         ("pending", "· pending"), ("skipped", "– skipped")]:
        step = StepResult("auth", "AUTH", status=status, duration_ms=50.0 if status not in ("pending", "running")
                          else None, started_ms=50.0 if status != "pending" else None)
        line = str(step_line(step, 100.0, 76))
        assert line.startswith(word) and "AUTH" in line
        assert len(line) <= 76
    done = StepResult("auth", "AUTH", status="ok", duration_ms=50.0, started_ms=50.0)
    bar = str(step_line(done, 100.0, 76))[39:]
    assert bar.strip() == "█" * len(bar.strip()) and bar.index("█") >= len(bar) // 2 - 1


def canned_progress(tmp_path: Path) -> RunProgress:
    """The canned run's events (canned_diagnose) applied to a RunProgress, as the pane applies them."""
    from tests.console.conftest import COMMENTED_M365
    from tui.settings.store import load_settings

    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    events_seen: list = []
    asyncio.run(canned_diagnose()(load_settings(path, env={}), emit=events_seen.append))
    progress = RunProgress()
    for event in events_seen:
        progress.apply(event)
    return progress


def test_the_token_bar_is_light_until_settings_passed(tmp_path: Path) -> None:
    """The engine starts the token step first (msal, the authority's discovery: nothing secret) and asks for the token
    once Settings passed: the pane's rows draw the token's wait ░ and its request █ from Settings' end, so it no
    longer looks as if the token ran before Settings; the token's detail says so (the cells themselves:
    tests/diagnostics/test_progress.py)."""
    progress = canned_progress(tmp_path)
    steps = progress.steps
    total = run_total_ms(steps, progress.report)
    lines = [str(step_line(s, total, 76, waited_until_ms=token_waited_until(steps, s))) for s in steps]
    settings_bar, token_bar = lines[0][39:], lines[1][39:]
    settings_at = settings_bar.index("█")
    assert token_bar.startswith("░") and token_bar.index("█") == settings_at, (settings_bar, token_bar)
    assert set(token_bar[:settings_at]) == {"░"}
    detail = str(detail_content(steps[1], token_order_note(steps, steps[1]), copy_key="c"))
    assert "░ from 0 ms: msal and the authority's discovery, nothing secret; █ the token request, sent once " \
           "Settings passed (at 120 ms)" in detail, detail


async def test_long_transcript_lines_wrap_under_their_text(tmp_path: Path, monkeypatch) -> None:
    """t at 80x24: a server reply longer than the view wraps, continued under its text (after `ms  S: `), so every
    character shows and each entry still starts with its time; nothing is cut at 80 columns."""
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine

    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        await pilot.press("t")
        await pilot.pause()
        reply = pane.transcript[-1].text
        assert len(reply) > 100
        rows = screen_text(app).splitlines()
        first = next(i for i, row in enumerate(rows) if "ms  S: 535 5.7.3" in row)
        column = rows[first].index("535 5.7.3")
        shown = rows[first][column:].rstrip(" ▁▂▃▄▅▆▇█")
        for row in rows[first + 1:]:
            if row[:column].strip():
                break  # the next entry (or the help line)
            shown += row[column:].rstrip(" ▁▂▃▄▅▆▇█")
        assert shown.replace(" ", "") == reply.replace(" ", ""), (shown, reply)


async def test_help_lists_the_pane_keys(demo_settings: Path, sandbox_clean) -> None:
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        text = await help_text(pilot)
        assert "Diagnostics pane (F5)" in text and "Copy the fix" in text and "Cancel the run" in text
        assert "  n              Rerun with a new token: Run again, asking Entra ID\n" in text
        assert "  shift+F5       Diagnose with a new token: As F5, but ask Entra ID\n" in text
        assert "Sandbox panel (outmail demo, F7)" in text


def message(subject: str, when: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "noreply@contoso.test"
    msg["To"] = "admin@contoso.test"
    msg["Subject"] = subject
    msg["Date"] = when
    msg.set_content("hello")
    return msg


async def test_sandbox_panel_switches_the_fault_and_shows_the_mailbox(settings_path: Path) -> None:
    """F7: the faults (the current one marked) and the mailbox; Enter chooses the highlighted fault and closes the
    panel, and the console's message line (not a toast over the panel) says which fault is on; n does the same for
    no fault."""
    from tui.sandbox import FAULTS
    from tui.console.sandbox_panel import SandboxPanel

    fake = FakeSandbox()
    fake.mail = [message("first [b]test[/b]", "Sun, 29 Nov 2026 07:00:00 +0000"),
                 message("second", "Sun, 29 Nov 2026 08:00:00 +0000")]
    app = build_app(settings_path, demo=fake)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, SandboxPanel)
        faults = app.screen.query_one("#sandbox-faults", OptionList)
        assert faults.option_count == len(FAULTS) + 1
        assert str(faults.get_option_at_index(0).prompt).startswith("● no fault")
        assert "(current)" in str(faults.get_option_at_index(0).prompt)
        mailbox = str(app.screen.query_one("#sandbox-messages", Static).render())
        assert mailbox.index("second") < mailbox.index("first [b]test[/b]")  # newest first, markup kept literal
        assert "From: noreply@contoso.test" in mailbox and "To: admin@contoso.test" in mailbox
        assert "2 messages received" in str(app.screen.query_one("#sandbox-mailbox-title", Label).render())
        fake.mail.append(message("third", "Sun, 29 Nov 2026 09:00:00 +0000"))
        await pilot.press("m")
        await pilot.pause()
        assert str(app.screen.query_one("#sandbox-messages", Static).render()).startswith("Subject: third")
        index = list(FAULTS).index("no-mailbox-permission") + 1
        faults.highlighted = index
        await pilot.press("enter")
        await pilot.pause()
        assert fake.fault == "no-mailbox-permission"
        assert not isinstance(app.screen, SandboxPanel)  # Enter chose and closed
        said = app.main_screen.message
        assert said.startswith("Sandbox fault: no-mailbox-permission") and said.endswith("F5 runs the diagnostics."), said
        assert not app._notifications
        assert said in " ".join(line.strip() for line in screen_text(app).splitlines())
        # again: the current fault is marked; n chooses no fault and closes too
        await pilot.press("f7")
        await pilot.pause()
        faults = app.screen.query_one("#sandbox-faults", OptionList)
        assert str(faults.get_option_at_index(index).prompt).startswith("● no-mailbox-permission")
        await pilot.press("n")
        await pilot.pause()
        assert fake.fault is None and not isinstance(app.screen, SandboxPanel)
        assert app.main_screen.message.startswith("Sandbox fault: none")
        # q closes without a change
        await pilot.press("f7")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, SandboxPanel) and fake.fault is None


async def test_f5_in_the_sandbox_panel_chooses_closes_and_runs(settings_path: Path, monkeypatch) -> None:
    """F5 in the panel: the highlighted fault is chosen, the panel closes and the diagnostics run; the message line
    names the fault while the pane shows the run."""
    from tui.diagnostics import engine
    from tui.sandbox import FAULTS
    from tui.console.sandbox_panel import SandboxPanel

    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    fake = FakeSandbox()
    app = build_app(settings_path, demo=fake)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f7")
        await pilot.pause()
        app.screen.query_one("#sandbox-faults", OptionList).highlighted = list(FAULTS).index("no-smtp-role") + 1
        await pilot.press("f5")
        await until(pilot, lambda: app.query(DiagnosticsPane) and pane_of(app).report is not None, what="the run")
        await pilot.pause()
        assert fake.fault == "no-smtp-role" and not isinstance(app.screen, SandboxPanel)
        assert app.main_screen.current_pane == "diagnostics-pane"
        assert summary(app).startswith("✖ FAILED at auth")
        assert app.main_screen.message.startswith("Sandbox fault: no-smtp-role")


async def test_sandbox_keys_and_palette_only_in_demo(settings_path: Path) -> None:
    from tui.console.commands import OutmailCommands
    from tui.console.sandbox_panel import SandboxPanel

    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f7")
        await pilot.pause()
        assert not isinstance(app.screen, SandboxPanel)
        titles = [hit.text for hit in [h async for h in OutmailCommands(app.screen).discover()]]
        assert not any(t.startswith("Sandbox") for t in titles)
    app = build_app(settings_path, demo=FakeSandbox())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = [hit.text for hit in [h async for h in OutmailCommands(app.screen).discover()]]
        at = titles.index("Sandbox: switch the fault")  # the palette lists the bindings in their order
        assert titles[at:at + 2] == ["Sandbox: switch the fault", "Sandbox: show the mailbox"]
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, SandboxPanel)
        assert app.focused is app.screen.query_one("#sandbox-mailbox")


async def test_copy_and_save_say_so_without_covering_the_fix(tmp_path: Path, monkeypatch) -> None:
    """c, y and s at 80x24: what they did is said on the line above the keys, no toast; the reply, Why, Setup step,
    Fix and every button stay on screen."""
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine

    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        needed = ["535 5.7.3 Authentication unsuccessful", "Why: ", "Setup step: S5", "Fix: ", "x Cancel",
                  "F5 Rerun", "c Copy fix", "y Copy transcript", "s Save", "t Transcript"]
        assert all(text in screen_text(app) for text in needed), screen_text(app)
        for key, said in [("c", "✔ Copied the PowerShell for AUTH (4 lines) to the clipboard (OSC 52"),
                          ("y", "✔ Copied the transcript (2 lines, secrets redacted)"),
                          ("s", "✔ Saved the report (secrets redacted, readable by you only) to ")]:
            await pilot.press(key)
            await pilot.pause()
            screen = screen_text(app)
            flat = " ".join(line.strip() for line in screen.splitlines())
            assert said in flat, (key, screen)
            missing = [text for text in needed if text not in screen]
            assert not missing, (key, missing, screen)
            assert not app._notifications, [n.message for n in app._notifications]
        assert str(tmp_path) in app.main_screen.message
        # moving to another step keeps it; F2 (another pane) clears it
        await pilot.press("up")
        await pilot.pause()
        assert app.main_screen.message.startswith("✔ Saved the report")
        await pilot.press("f2")
        await pilot.pause()
        assert app.main_screen.message == ""


def test_snapshot_failed_run(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that failed at AUTH (a classic token): the step list in words with the waterfall, the envelope skipped,
    AUTH selected, its reply, why, the setup steps S5/S6, the fix; the summary `✖ FAILED at auth in 228 ms`; the key
    line names n (a new token)."""
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine

    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(COMMENTED_M365)

    async def run_f5_then_wait(pilot) -> None:
        await ready(pilot)
        await run_f5(pilot)

    assert snap_compare(build_app(Path("settings.toml")), terminal_size=SIZE, run_before=run_f5_then_wait)

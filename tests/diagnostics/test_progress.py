"""RunProgress (tui/diagnostics/progress.py) without Textual: real event sequences recorded from the sandbox (each
recorded once per test session, `recorded`), and constructed ones, applied in order; the state asserted after each.

These are the run-logic assertions the pane's and the dialog's Pilot tests used to make (which step is shown, the
running text, the summary, the partial report of a cancelled or broken run, what a copy takes, the test send's
outcome); the Pilot tests keep what only the screen shows (tests/console/).
"""

from __future__ import annotations

from typing import Any

import pytest

from tui.diagnostics import events as E
from tui.diagnostics import hints as H
from tui.diagnostics.progress import RunProgress, redacted_error, send_outcome
from tui.diagnostics.report import Report, StepResult
from tui.diagnostics.run_text import (
    fix_copy,
    format_ms,
    running_text,
    step_title,
    summary_text,
    token_order_note,
    token_waited_until,
    waterfall_cells,
)
from tui.diagnostics.transcript import TranscriptLine

from tests.diagnostics.recording import T0, Recording, applied, recorded, sandbox_settings

CHECK_STEPS = ["settings", "token", "connect", "ehlo", "starttls", "auth", "envelope", "quit"]
SEND_STEPS = ["settings", "token", "connect", "ehlo", "starttls", "auth", "send", "quit"]


def index_of(events: list[Any], kind: type, step_id: str) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, kind) and getattr(e, "step", None) is not None
                and e.step.id == step_id)


@pytest.fixture
def passed(sandbox) -> Recording:
    return recorded(sandbox, "passed")


@pytest.fixture
def auth_failed(sandbox) -> Recording:
    return recorded(sandbox, "auth-failed")


# ------------------------------------------------------------------------------------------------ a passing run


def test_a_passing_run_step_by_step(passed: Recording, sandbox) -> None:
    """Every event in order: RunStarted lays out all eight steps pending; the running text counts the steps done and
    names the ones running; the step to show follows the latest step; the end is the engine's Report."""
    events = passed.events
    assert isinstance(events[0], E.RunStarted) and isinstance(events[-1], E.RunFinished)
    progress = RunProgress(begun_ms=T0)
    assert progress.running and progress.steps == [] and progress.selected is None
    change = progress.apply(events[0], now_ms=T0 + 5)
    assert change.laid_out and [s.id for s in progress.steps] == CHECK_STEPS
    assert {s.status for s in progress.steps} == {"pending"} and progress.selected == 0
    assert progress.running_text("x") == "… running (0 of 8 steps done; x cancels)"

    auth_started = index_of(events, E.StepStarted, "auth")
    for i, event in enumerate(events[1:auth_started + 1], start=1):
        change = progress.apply(event, now_ms=T0 + 5 + i)
        if isinstance(event, E.TranscriptAdded):
            assert change.line is event.line and change.step is None
        else:
            assert progress.steps[change.step] is event.step
            if event.step.status != "skipped":
                assert progress.selected == change.step  # the selection follows the run
    done = sum(1 for s in progress.steps if s.status not in ("pending", "running"))
    running = [s.title for s in progress.steps if s.status == "running"]
    assert "AUTH" in running and done >= 5  # settings, token, connect, EHLO, STARTTLS
    assert progress.running_text("x") == f"… running {', '.join(running)} ({done} of 8 steps done; x cancels)"
    assert progress.running_text("Esc").endswith("steps done; Esc cancels)")
    assert progress.selected_step.id == "auth" and progress.summary() == ("", "running")
    assert progress.report is None and not progress.complete

    applied(events[auth_started + 1:], progress=progress)
    report = passed.result
    assert progress.state == "ok" and progress.complete and not progress.running
    assert progress.report is report
    assert [s.status for s in progress.steps] == ["ok"] * 8, [(s.id, s.status, s.detail) for s in progress.steps]
    assert progress.steps is not report.steps and progress.steps[0] is not report.steps[0]  # copies
    text, kind = progress.summary()
    assert text == f"✔ Passed in {format_ms(report.duration_ms)}" and text.endswith(" ms") and kind == "ok"
    assert progress.selected_step.id == "quit"  # nothing failed or warned: the last step followed stays shown
    assert progress.fix_step() is None and progress.fix_copy(3) is None and not progress.has_fix
    # the envelope: MAIL FROM and RCPT TO accepted, RSET, nothing sent
    envelope = report.step("envelope")
    assert envelope.detail[0].startswith("the server accepts mail from ") and "nothing was sent" in envelope.detail[0]
    assert any(line.startswith("MAIL FROM:<") for line in envelope.detail)
    # the transcript: every line as it came, redacted
    assert progress.transcript == report.transcript and len(progress.transcript) > 10
    copied = progress.transcript_text()
    assert copied == report.transcript_text()
    assert "C: EHLO" in copied and "S: 235 2.7.0 Authentication successful" in copied and "I: TLS" in copied
    assert any(line.text.startswith("AUTH XOAUTH2 <redacted") for line in progress.transcript)
    assert sandbox.info.client_secret not in copied
    # events after the end change nothing
    assert progress.apply(events[1], now_ms=T0 + 999).ignored and progress.state == "ok"


def test_events_counted_once_per_step(passed: Recording) -> None:
    events = passed.events
    assert {e.step.id for e in events if isinstance(e, E.StepStarted)} == set(CHECK_STEPS)
    assert [e.step.id for e in events if isinstance(e, E.StepFinished)].count("auth") == 1
    assert sum(isinstance(e, E.RunStarted) for e in events) == sum(isinstance(e, E.RunFinished) for e in events) == 1


# ------------------------------------------------------------------------------------------------ a failed run


def test_a_failure_is_shown_and_its_fix_copied(auth_failed: Recording, sandbox) -> None:
    """535 5.7.3 at AUTH: the first failed step is shown at the end; a copy takes its PowerShell, filled with the
    token's oid and the mailbox, from whichever step is shown; the transcript copy is redacted."""
    progress = applied(auth_failed.events)
    statuses = {s.id: s.status for s in progress.steps}
    assert statuses["auth"] == "fail" and statuses["token"] == "ok" and statuses["envelope"] == "skipped"
    assert progress.state == "failed"
    text, kind = progress.summary()
    assert text == f"✖ FAILED at auth in {format_ms(progress.report.duration_ms)}" and kind == "fail"
    assert progress.selected == 5 and progress.selected_step.id == "auth"
    auth = progress.steps[5]
    assert auth.detail[0].startswith("535 5.7.3 Authentication unsuccessful [")  # Exchange's [host ...] suffix
    info = sandbox.info
    assert info.object_id in auth.hint.command and info.mailbox in auth.hint.command
    assert f'Add-MailboxPermission -Identity "{info.mailbox}" -User {info.object_id}' in auth.hint.command
    lines = len(auth.hint.command.splitlines())
    expected = (auth.hint.command, f"the PowerShell for AUTH ({lines} line{'s' if lines != 1 else ''})")
    assert progress.fix_copy(5) == expected
    assert progress.fix_copy(1) == expected and progress.fix_step(1) is auth  # the token step has no hint
    assert progress.fix_copy(None) == expected and progress.has_fix
    copied = progress.transcript_text()
    assert copied == progress.report.transcript_text() and "S: 535 5.7.3" in copied
    assert info.client_secret not in copied


def test_the_first_failure_is_shown_even_after_the_admin_chose_a_step(auth_failed: Recording) -> None:
    events = auth_failed.events
    progress = applied(events[:index_of(events, E.StepFinished, "connect") + 1])
    progress.choose(1)  # the admin selects the token step
    assert progress.admin_moved and progress.selected == 1
    applied(events[index_of(events, E.StepFinished, "connect") + 1:-1], progress=progress)
    assert progress.selected == 1  # no longer follows the run
    applied(events[-1:], progress=progress)
    assert progress.selected == 5  # the end: the first failed step


def _step(step_id: str, title: str, **changes: Any) -> StepResult:
    return StepResult(step_id, title, **changes)


def _warned_run(choose_at: int | None) -> RunProgress:
    """A constructed run whose settings step warned: the events the engine sends for it."""
    hint = H.by_id("smtp-permanent", H.HintContext(), reply="a warning", extra={"code": "550", "enhanced": "5.0.0"})
    plan = [_step("settings", "Settings", status="warn", started_ms=0.0, duration_ms=1.0, hint=hint),
            _step("connect", "Connect", status="ok", started_ms=1.0, duration_ms=2.0),
            _step("quit", "QUIT", status="ok", started_ms=3.0, duration_ms=1.0)]
    progress = RunProgress(begun_ms=T0)
    progress.apply(E.RunStarted(tuple(_step(s.id, s.title) for s in plan)), now_ms=T0)
    for i, step in enumerate(plan):
        progress.apply(E.StepStarted(_step(step.id, step.title, status="running", started_ms=step.started_ms)),
                       now_ms=T0)
        progress.apply(E.StepFinished(step.copy()), now_ms=T0)
        if choose_at is not None and i == 0:
            progress.choose(choose_at)
    progress.apply(E.RunFinished(Report(steps=[s.copy() for s in plan], transcript=[], duration_ms=4.0)), now_ms=T0)
    return progress


def test_a_warning_is_shown_at_the_end_unless_the_admin_chose_a_step() -> None:
    progress = _warned_run(None)
    assert progress.state == "ok" and progress.selected == 0  # the warned step, not QUIT (the latest)
    assert progress.summary() == ("▲ Passed with 1 warning in 4 ms", "warn")
    assert progress.fix_step(2).id == "settings"  # QUIT shown, no hint: the warned step's fix
    chosen = _warned_run(1)
    assert chosen.selected == 1  # the admin's choice stays


# ------------------------------------------------------------------------------------------------ the end without a report


def test_cancelled_mid_run_gives_a_partial_report(passed: Recording) -> None:
    """Cancelled while EHLO runs (x, or closing the dialog): EHLO ends skipped "cancelled" with its time so far, the
    steps not started too; the partial Report can be copied and saved; later events change nothing."""
    events = passed.events
    at = index_of(events, E.StepStarted, "ehlo")
    progress = applied(events[:at + 1])
    ehlo_started = progress.steps[3].started_ms
    assert progress.steps[3].status == "running" and ehlo_started is not None
    engine_start = T0 + 5
    report = progress.cancelled(now_ms=engine_start + 500.0)
    assert progress.state == "cancelled" and not progress.running and not progress.complete
    assert progress.report is report and report.cancelled and report.duration_ms == 500.0
    ehlo = progress.steps[3]
    assert ehlo.status == "skipped" and ehlo.detail[-1] == "cancelled"
    assert ehlo.duration_ms == round(500.0 - ehlo_started, 1)
    assert all(s.status not in ("pending", "running") for s in progress.steps)
    assert [s.detail for s in progress.steps[4:]] == [["cancelled"]] * 4
    assert [s.status for s in report.steps] == [s.status for s in progress.steps]
    assert progress.summary() == ("Cancelled after 500 ms", "cancelled")
    assert progress.send_summary() == ("Cancelled: nothing was sent", "cancelled")
    assert progress.transcript_text() == report.transcript_text() != ""
    # the engine's events of the cancelled run, should any still arrive, and a second end change nothing
    assert progress.apply(events[at + 1], now_ms=engine_start + 600).ignored
    assert progress.cancelled(now_ms=engine_start + 700) is None and report.duration_ms == 500.0


def test_cancelled_before_the_engine_started() -> None:
    progress = RunProgress(begun_ms=T0)
    report = progress.cancelled(now_ms=T0 + 12.34)
    assert report.steps == [] and report.cancelled and report.duration_ms == 12.3
    assert progress.summary() == ("Cancelled after 12 ms", "cancelled")


def test_a_broken_run_says_so_with_the_secrets_taken_out(passed: Recording, sandbox) -> None:
    """An unexpected error in the engine: the error text without the settings' secrets; the steps not run say so."""
    settings = sandbox_settings(sandbox)
    secret = sandbox.info.client_secret
    error = redacted_error(settings, RuntimeError(f"boom [/] {settings.client_secret.reveal()}"))
    assert error.startswith("RuntimeError: boom [/]") and secret not in error
    assert redacted_error(object(), RuntimeError(secret)) == "RuntimeError"  # no redactor: only the type
    events = passed.events
    progress = applied(events[:index_of(events, E.StepStarted, "connect") + 1])
    report = progress.broke(error, now_ms=T0 + 5 + 80.0)
    assert progress.state == "broken" and progress.error == error and not report.cancelled
    assert progress.summary() == (f"✖ FAILED: the diagnostics stopped: {error}", "fail")
    assert progress.send_summary() == (f"✖ The send stopped: {error}", "error")
    assert progress.steps[2].detail[-1] == "not run: the diagnostics stopped"
    assert all(s.status not in ("pending", "running") for s in progress.steps)
    assert progress.send_copy() is None  # no complete report: nothing to copy


def test_not_an_event() -> None:
    with pytest.raises(TypeError, match="not an engine event: str"):
        RunProgress().apply("RunStarted")


# ------------------------------------------------------------------------------------------------ the test send


def test_a_test_send_step_by_step(sandbox) -> None:
    """The send step is laid out from RunStarted (before QUIT); each command answered adds to the commands while the
    step runs; the end: sent, the queue id, the reply to copy."""
    recording = recorded(sandbox, "sent")
    events = recording.events
    progress = RunProgress(begun_ms=T0)
    progress.apply(events[0], now_ms=T0)
    assert [s.id for s in progress.steps] == SEND_STEPS and progress.steps[6].title == "Send test message"
    answered = 0
    handed_over_before_its_reply = False
    for event in events[1:-1]:
        change = progress.apply(event, now_ms=T0)
        if isinstance(event, E.StepProgress):
            answered += bool(event.reply)  # a reply of "": the command went out, its reply is not in yet
            assert change.command and progress.steps[change.step].id == "send"
            assert progress.commands[-1] == (event.command, event.reply)
            assert len(progress.commands) == answered + (not event.reply)
            assert progress.steps[6].status == "running"
            if not event.reply:
                assert event.command.startswith("DATA (") and progress.handed_over
                handed_over_before_its_reply = True
            else:
                assert progress.handed_over == event.command.startswith("DATA (")
    assert handed_over_before_its_reply
    assert progress.commands[0][0].startswith("MAIL FROM:<") and progress.commands[0][1].startswith("250")
    assert [c for c, _ in progress.commands[1:3]] == ["RCPT TO:<alice@example.com>", "RCPT TO:<bob@example.com>"]
    assert progress.commands[-1][0].startswith("DATA (") and answered == 4
    assert progress.running_text("Esc").startswith("… running ")
    progress.apply(events[-1], now_ms=T0)
    outcome = send_outcome(progress.report)
    assert outcome is send_outcome(recording.result) and outcome.sent and outcome.queue_id
    assert progress.state == "ok" and progress.sent and progress.commands == outcome.commands
    assert progress.send_summary() == (f"✔ Sent in {format_ms(progress.report.duration_ms)}: queue id "
                                       f"{outcome.queue_id}", "ok")
    assert progress.send_copy() == (outcome.reply, "the server's reply") and outcome.reply.startswith("250 2.0.0 OK")
    assert sandbox.info.client_secret not in progress.transcript_text()


def test_a_refused_send_names_the_reply_and_copies_the_fix(sandbox) -> None:
    """Send As an address the app may not send as: 554 5.2.252 after DATA; the status names it, the copy takes the
    PowerShell that grants Send As on that address."""
    progress = applied(recorded(sandbox, "send-as-denied").events)
    outcome = send_outcome(progress.report)
    assert progress.state == "failed" and not progress.sent and not outcome.sent
    assert outcome.reply.startswith("554 5.2.252 SendAsDenied;") and "bob@contoso.test" in outcome.reply
    assert progress.send_summary() == (f"✖ Not sent at send: {outcome.reply}", "error")
    assert progress.selected_step.id == "send"
    text, what = progress.send_copy()
    assert "Add-RecipientPermission" in text and "bob@contoso.test" in text.split("Add-RecipientPermission")[1]
    assert what.startswith("the PowerShell for Send test message (")


def test_a_send_refused_at_auth_sends_nothing(sandbox) -> None:
    progress = applied(recorded(sandbox, "send-auth-failed").events)
    report = progress.report
    assert report.failed_step.id == "auth" and progress.state == "failed" and not progress.sent
    text, kind = progress.send_summary()
    assert text.startswith("✖ Not sent at auth: 535 5.7.3 Authentication unsuccessful") and kind == "error"
    send = progress.steps[6]
    assert send.id == "send" and send.status == "skipped" and progress.commands == []
    assert progress.send_copy() == fix_copy(report.failed_step)


# ------------------------------------------------------------------------------------------------ the words


def test_step_words() -> None:
    token = _step("token", "Token", status="ok", detail=["token from cache, expires in 59 min"])
    renewed = _step("token", "Token", status="ok",
                    detail=["token from the identity provider, expires in 59 min; new token: a fresh token was asked"])
    fresh = _step("token", "Token", status="ok", detail=["token from the identity provider, expires in 59 min"])
    assert [step_title(s) for s in (token, renewed, fresh)] == ["Token (from cache)", "Token (renewed)", "Token"]
    assert [format_ms(v) for v in (None, 0.4, 999.4, 1234.0, 12345.0)] == ["", "0 ms", "999 ms", "1.23 s", "12.3 s"]
    steps = [_step("settings", "Settings", status="ok"), _step("auth", "AUTH", status="running")]
    assert running_text(steps, "x") == "… running AUTH (1 of 2 steps done; x cancels)"
    report = Report(steps=[_step("a", "A", status="ok"), _step("b", "B", status="warn"),
                           _step("c", "C", status="warn")], transcript=[], duration_ms=1500.0)
    assert summary_text(report) == ("▲ Passed with 2 warnings in 1.50 s", "warn")


def test_the_token_bar_is_light_until_settings_passed() -> None:
    """The token step starts before Settings (msal, the authority's discovery: nothing secret) and asks for the
    token once Settings passed: its cells are ░ until Settings' end, then █; the note says why."""
    settings = _step("settings", "Settings", status="ok", started_ms=120.2, duration_ms=0.3)
    token = _step("token", "Token", status="ok", started_ms=0.1, duration_ms=212.0)
    steps = [settings, token]
    waited = token_waited_until(steps, token)
    assert waited == pytest.approx(120.5) and token_waited_until(steps, settings) is None
    cells = waterfall_cells(token, 228.5, 41, waited_until_ms=waited)
    assert [kind for _, kind in cells] == ["ok", "ok", ""] and "".join(t for t, _ in cells) == (
        "░" * 21 + "█" * 18 + " " * 2)
    settings_cells = waterfall_cells(settings, 228.5, 41)
    assert "".join(t for t, _ in settings_cells).index("█") == 21  # the token's █ starts where Settings is
    assert token_order_note(steps, token) == ("░ from 0 ms: msal and the authority's discovery, nothing secret; █ "
                                              "the token request, sent once Settings passed (at 120 ms)")
    # a running step reaches `now`, a cancelled one is light, one not started has no bar
    running = _step("ehlo", "EHLO", status="running", started_ms=100.0)
    assert waterfall_cells(running, 200.0, 10, now_ms=150.0) == [(" " * 5, ""), ("▒" * 3, "running"), (" " * 2, "")]
    stopped = _step("ehlo", "EHLO", status="skipped", started_ms=100.0, duration_ms=50.0)
    assert waterfall_cells(stopped, 200.0, 10)[1] == ("░" * 3, "skipped")
    assert waterfall_cells(_step("quit", "QUIT"), 200.0, 10) == [(" " * 10, "")]


def test_transcript_lines_come_as_they_are() -> None:
    progress = RunProgress(begun_ms=T0)
    progress.apply(E.RunStarted((_step("settings", "Settings"),)), now_ms=T0)
    line = TranscriptLine(1.5, "S", "220 ready")
    assert progress.apply(E.TranscriptAdded(line), now_ms=T0).line is line
    assert progress.transcript_text() == "      1.5 ms  S: 220 ready\n"


def test_a_send_cancelled_after_data_went_out_says_it_may_be_delivered(sandbox) -> None:
    """Once DATA went out the server may deliver the message whatever the run does next: a cancel while its reply is
    awaited never says "nothing was sent"; before DATA it does."""
    from tui.diagnostics.progress import CANCELLED_AFTER_DATA

    events = recorded(sandbox, "sent").events
    data_out = next(i for i, e in enumerate(events)
                    if isinstance(e, E.StepProgress) and e.command.startswith("DATA (") and not e.reply)
    mail_answered = next(i for i, e in enumerate(events) if isinstance(e, E.StepProgress))
    for upto, expected in ((data_out, CANCELLED_AFTER_DATA), (mail_answered, "Cancelled: nothing was sent")):
        progress = applied(events[:upto + 1])
        progress.cancelled(now_ms=T0 + 900.0)
        assert progress.send_summary() == (expected, "cancelled")

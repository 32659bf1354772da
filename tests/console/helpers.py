"""Helpers shared by the console's Pilot tests (a helper module, not a test module; the fixtures are in conftest.py).

- `type_into(pilot, widget_id, text)`: focus the Input `#widget_id`, set all of `text` but its last two characters,
  type those as keys (long values are pasted, for speed; an empty `text` is a backspace on an emptied field).
- `pane_of(app)`: the app's DiagnosticsPane (LookupError from Textual's query_one when there is none).
- `run_f5(pilot)`: F5, then wait for the run to end (worker complete, its last message handled); returns the pane.
  Each wait is bounded at 30 s (then AssertionError from conftest.until, or asyncio.TimeoutError).
- `field_line(app, label)`: the screen line of the field labelled `label` (the first that starts with it), its runs
  of spaces as one: "Protocol SMTP Microsoft 365 ▼", "Client secret ••• hidden".
- `FakeSandbox`: what the demo's sandbox panel uses of a `tui.sandbox.Sandbox` (fault, set_fault, messages).
- `canned_diagnose()`: a stand-in for `tui.diagnostics.engine.diagnose` that replays one fixed run failed at AUTH
  (535 5.7.3, a classic token; fixed times in ms, ids and replies) through the engine's events, for stable screens.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from textual.widgets import Input

from tests.console.conftest import until
from tests.console.contrast import screen_text
from tui.console.diagnostics_pane import DiagnosticsPane


async def type_into(pilot, widget_id: str, text: str) -> None:
    """Focus an Input, replace its text and type the last characters as keys (long values are pasted, for speed)."""
    field = pilot.app.query_one(f"#{widget_id}", Input)
    field.focus()
    await pilot.pause()
    field.value = text[:-2]
    field.cursor_position = len(field.value)
    if text[-2:]:
        await pilot.press(*text[-2:])
    elif field.value == "":
        await pilot.press("backspace")
    await pilot.pause()


def pane_of(app) -> DiagnosticsPane:
    return app.query_one(DiagnosticsPane)


async def run_f5(pilot) -> DiagnosticsPane:
    """F5, then wait for the run to end (worker complete, its last message handled)."""
    await pilot.press("f5")
    await until(pilot, lambda: pilot.app.query(DiagnosticsPane) and pane_of(pilot.app).worker is not None,
                what="the pane's worker")
    pane = pane_of(pilot.app)
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), 30)
    await until(pilot, lambda: not pane.running, what="the end of the run")
    await pilot.pause()
    return pane


class FakeSandbox:
    """What the panel uses of a Sandbox: fault, set_fault, messages."""

    def __init__(self) -> None:
        self.fault: str | None = None
        self.mail: list[EmailMessage] = []

    def set_fault(self, name: str | None) -> None:
        self.fault = name

    def messages(self) -> list[EmailMessage]:
        return list(self.mail)


def canned_diagnose():
    """An engine stand-in that replays a fixed failed run (fixed times, ids and replies) with the engine's events,
    for a stable snapshot."""
    from tui.diagnostics import events as E
    from tui.diagnostics import hints as H
    from tui.diagnostics.report import Report, StepResult
    from tui.diagnostics.transcript import TranscriptLine

    async def diagnose(settings, *, emit=None, token_cache=None, fresh_token=False, envelope=True, rcpt="",
                       extra_steps=None):
        ctx = H.HintContext(client_id=settings.client_id, object_id="22222222-3333-4444-5555-666666666666",
                            mailbox=settings.username, sender=settings.sender, tenant="contoso.onmicrosoft.com",
                            mechanism="XOAUTH2", model="classic")
        reply = ("5.7.3 Authentication unsuccessful [SBX0P281CA0001.outlook.sandbox.test "
                 "2026-11-29T07:00:00.000Z 0123456789ABCDEF]")
        plan = [  # id, title, status, started, duration, detail; the token step starts first (msal, discovery)
            ("settings", "Settings", "ok", 120.2, 0.3, ["smtpmicrosoft365 smtp.office365.com:587"]),
            ("token", "Token", "ok", 0.1, 212.0, ["token from the identity provider, expires in 59 min",
                                                  "authorization model: classic (Entra permission SMTP.SendAsApp)"]),
            ("connect", "Connect", "ok", 120.6, 21.0, ["connected to 127.0.0.1:587 in 1 ms"]),
            ("ehlo", "Banner and EHLO", "ok", 141.7, 14.0, ["banner: 220 SBX0P281CA0001 ready"]),
            ("starttls", "STARTTLS", "ok", 155.8, 40.0, ["TLSv1.3, cipher TLS_AES_256_GCM_SHA384"]),
            ("auth", "AUTH", "fail", 213.0, 6.0, ["AUTH XOAUTH2 user=noreply@contoso.com"]),
            ("envelope", "Envelope (MAIL, RCPT)", "skipped", None, None, ["AUTH failed"]),
            ("quit", "QUIT", "ok", 219.5, 9.0, ["221 2.0.0 Service closing transmission channel"]),
        ]
        steps = [StepResult(i, t) for i, t, *_ in plan]
        emit(E.RunStarted(tuple(s.copy() for s in steps)))
        transcript = [TranscriptLine(213.1, "C", "AUTH XOAUTH2 <redacted, 1820 bytes>"),
                      TranscriptLine(218.9, "S", f"535 {reply}")]
        for step, (_, _, status, started, duration, detail) in zip(steps, plan):
            if status != "skipped":  # the engine skips a step without starting it
                step.status, step.started_ms = "running", started
                emit(E.StepStarted(step.copy()))
            step.status, step.duration_ms, step.detail = status, duration, list(detail)
            if status == "fail":
                step.hint = H.for_smtp_reply(535, reply, ctx)
                step.detail.insert(0, step.hint.reply)
                for line in transcript:
                    emit(E.TranscriptAdded(line))
            emit(E.StepFinished(step.copy()))
        report = Report(steps=steps, transcript=transcript, target="smtpmicrosoft365", duration_ms=228.5,
                        model="classic")
        emit(E.RunFinished(report))
        return report

    return diagnose


def field_line(app, label: str) -> str:
    """The screen line of the field labelled `label` (the first line that starts with it), spaces collapsed."""
    line = next(line for line in screen_text(app).splitlines() if line.strip().startswith(label))
    return " ".join(line.split())

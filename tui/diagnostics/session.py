"""Steps after AUTH: how they are declared (`ExtraStep`) and what they work on (`Session`). No Textual here.

A run's steps beyond the built-in ones are declared up front, so `RunStarted.steps` lists them (pending) before
anything happens:

    async def send(session: Session, step: StepHandle) -> None:
        reply = await session.smtp.mail(...)            # every line lands in the transcript
        step.detail(f"MAIL FROM:<x> → {reply.code}")    # redacted
        step.progress("MAIL FROM:<x>", "250 2.1.0 OK")  # a StepProgress event: the command let the step go on
        ...                                             # step.fail(hint) ends it `fail`; so does any exception

    report = await diagnose(settings, extra_steps=[ExtraStep("send", "Send test message", send)])

Position: AFTER_AUTH, the only one: after a successful `auth` (or where LogicalDOC sends without logging in:
protocol smtp with no Username, or a server that offers no AUTH), in the order given, before `quit`, on the same
authenticated connection. Each is bounded by `timeout_seconds` x `round_trips`. A step that cannot run (an earlier
step failed, or one before it in `extra_steps` did) ends `skipped` with the engine's reason, or with `not_run(reason,
failed)` when declared (`failed`: the run's first failed step, or None). `outcome` (any object with `to_json()`)
lands in `Report.outcomes[id]`, ran or not. The built-in `envelope` step (`steps_smtp.envelope_step`) is declared
this way; `diagnose(..., extra_steps=...)` replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from tui.diagnostics import hints as H
from tui.diagnostics.hints import Hint, HintContext
from tui.diagnostics.report import StepResult
from tui.diagnostics.runner import StepHandle

if TYPE_CHECKING:
    from tui.diagnostics.run import Run

AFTER_AUTH = "after-auth"
POSITIONS = (AFTER_AUTH,)


@dataclass(frozen=True)
class ExtraStep:
    """One step declared up front: `id` (unique in the run), `title`, `run(session, step)` its async body,
    `position` (AFTER_AUTH), `round_trips` (its time bound is timeout_seconds x round_trips), `not_run(reason,
    failed) -> str` the detail when it cannot run (default: the reason), `outcome` what it fills in (kept in
    `Report.outcomes[id]`)."""

    id: str
    title: str
    run: Callable[["Session", StepHandle], Awaitable[None]]
    position: str = AFTER_AUTH
    round_trips: int = 1
    not_run: Callable[[str, StepResult | None], str] | None = None
    outcome: Any = None

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"extra step {self.id}: position {self.position!r} is not one of {POSITIONS}")

    def skipped_because(self, reason: str, failed: StepResult | None) -> str:
        return self.not_run(reason, failed) if self.not_run is not None else reason


class Session:
    """What an extra step's body works on: the authenticated connection of the run (before QUIT).

    - `smtp`: the `TracedSMTP` (an aiosmtplib.SMTP, authenticated or where LogicalDOC sends without a login):
      `await session.smtp.mail(...)`, `.rcpt(...)`, `.data(...)`, `.sendmail(...)`, `.rset()`; every line lands in
      the transcript, redacted.
    - `settings`, `claims` (the token's claims or None), `redactor`, `recorder` (the transcript), `timeout` (s).
    - `mechanism`: the SASL mechanism of the login ("XOAUTH2", "LOGIN", "PLAIN"), "" without one.
    - `server_said`: the banner and EHLO greeting (hints.server_kind tells Exchange Online from others).
    - `phase`: the SMTP phase running ("mail", "rcpt", "data"), settable: it selects hint rows when a command fails.
    - `hint_context` (this run's client id, oid, mailbox, sender, mechanism, model, phase) and
      `hint_for_reply(code, message)`: the hint table's row for a server reply, redacted.
    """

    def __init__(self, run: "Run") -> None:
        self._run = run
        self.settings = run.settings
        self.smtp = run.smtp
        self.recorder = run.recorder
        self.claims = run.claims
        self.redactor = run.redactor
        self.timeout = run.timeout

    @property
    def mechanism(self) -> str:
        return self._run.mechanism

    @property
    def server_said(self) -> str:
        return self._run.server_said

    @property
    def phase(self) -> str:
        return self._run.phase

    @phase.setter
    def phase(self, value: str) -> None:
        self._run.phase = value

    @property
    def hint_context(self) -> HintContext:
        return self._run.hint_ctx()

    def hint_for_reply(self, code: int, message: str) -> Hint:
        return H.for_smtp_reply(code, message, self.hint_context).redacted(self.redactor.text)

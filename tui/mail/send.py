"""The test send: the diagnostics engine's steps, with a `send` step (MAIL FROM, RCPT TO, DATA) after AUTH.

No Textual here. The console's dialog and `outmail send` both call `send_test`:

    test = build_message(settings, to, subject, body, send_as)   # MessageError: show it, nothing was sent
    report = await send_test(settings, test, emit=callback)       # a SendReport: a view of the engine's Report
    report.ok                     # no step failed and the server accepted the message
    report.send.sent, report.send.reply, report.send.queue_id     # the SendOutcome (Report.outcomes["send"])
    report.step("send")           # StepResult: detail[0] is the server's whole final (or refusing) reply, then
                                  # one line per command: "MAIL FROM:<x> BODY=8BITMIME → 250 2.1.0 Sender OK", ...
    report.to_json()              # check's document; the "send" step also carries "reply" and "queue_id"
    tui.mail.cli.send_text(report)    # check's text, then "Sent: <reply> (queue id <id>)" or "Not sent."

Rules:
- The message is built and serialized before anything connects: a MessageError (bad address, CR or LF in a header
  field) means no network at all.
- The send follows LogicalDOC's sender: the engine runs it after a successful `auth`, and, with protocol smtp, also
  where LogicalDOC sends without logging in (Username empty, or a server that offers no AUTH); the server's answer
  to MAIL FROM and RCPT TO then tells whether it takes mail without a login. Never after a failed AUTH.
- A refused MAIL FROM, RCPT TO or DATA ends the `send` step `fail` with the server's exact reply (detail[0] and
  `hint.reply`) and the hint from the engine's table; the hint's PowerShell names the From address that was tried
  (the Send As address, not Sender Email) and the token's oid.
- The `send` step is always in the report: `skipped` ("not sent: the <id> step failed") when an earlier step failed.
  A test send has no `envelope` step (its own MAIL FROM and RCPT TO replace it).
- Secrets are redacted by the engine's redactor (every detail, hint and the reply).

Events: the engine's (`tui.diagnostics.events`), with the `send` step declared up front (`send_step(...)`, an
`ExtraStep`): `RunStarted.steps` lists it (pending, before `quit`); `StepProgress(step, command, reply)` after each
SMTP command of the send that lets it go on (MAIL FROM, each RCPT TO, DATA; the step so far, status "running");
its `StepFinished` in step order, also when it is skipped; `RunFinished.report` is the engine's Report (whose
`outcomes["send"]` is the SendOutcome). Cancelling the awaiting task cancels the send (the socket is closed).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from email.utils import getaddresses
from typing import Any, Callable

from tui.diagnostics import hints as H
from tui.diagnostics.engine import diagnose
from tui.diagnostics.report import Report, StepResult
from tui.diagnostics.runner import StepHandle
from tui.diagnostics.session import ExtraStep, Session
from tui.mail.message import MessageError, OutgoingMessage

SEND_STEP_ID = "send"
SEND_STEP_TITLE = "Send test message"
ARROW = "→"

_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\s+")
_QUEUE_PATTERNS = (
    re.compile(r"<([^<>\s]+)>"),                                 # Exchange, sandbox: OK <id> [Hostname=...]
    re.compile(r"\bqueued as\s+([^\s;,\]]+)", re.IGNORECASE),    # Postfix: Ok: queued as 4F3B21C0
    re.compile(r"\b(?:queue[ -]?id|id)\s*[=:]\s*([^\s;,\]]+)", re.IGNORECASE),  # id=..., queue id: ...
    re.compile(r"^(?:ok|queued)\b[:\s]+([A-Za-z0-9][^\s;,\[\]]{3,})", re.IGNORECASE),  # OK 1695 ..., Queued ABC
    re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{5,})\s+message accepted", re.IGNORECASE),  # Sendmail: x7QN Message ..
)


def queue_id(reply: str) -> str | None:
    """The queue id in a final DATA reply, or None. `reply` may start with the code and enhanced status.

    "250 2.0.0 OK <id@host> [Hostname=X]" (Exchange Online, the sandbox) -> "id@host";
    "250 2.0.0 Ok: queued as 4F3B21C0" (Postfix) -> "4F3B21C0"; "250 2.0.0 x7QNd1 Message accepted" -> "x7QNd1".
    """
    text = " ".join((reply or "").split())
    text = re.sub(r"^\d{3}[ -]", "", text)
    text = _ENHANCED.sub("", text)
    for pattern in _QUEUE_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None


@dataclass
class SendOutcome:
    """What the send did. `reply` is the server's whole final reply (success) or refusing reply (failure), redacted;
    `commands` the (command, reply) pairs in order; `sent` only when DATA was answered 250."""

    sent: bool = False
    reply: str | None = None
    queue_id: str | None = None
    message_id: str = ""
    envelope_from: str = ""
    recipients: tuple[str, ...] = ()
    commands: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "reply": self.reply, "queue_id": self.queue_id, "message_id": self.message_id,
                "envelope_from": self.envelope_from, "recipients": list(self.recipients),
                "commands": [{"command": c, "reply": r} for c, r in self.commands]}


class SendReport:
    """A thin view of the engine's Report of a test send: every Report attribute and method (`steps`, `step(id)`,
    `failed_step`, `transcript`, `token`, `model`, `target`, `duration_ms`, `cancelled`, `transcript_text()`), plus
    `send` (the SendOutcome, `report.outcomes["send"]`). `ok` is False unless the message was accepted."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __getattr__(self, name: str) -> Any:  # only for names the view does not define
        if name == "report":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.report, name)

    @property
    def send(self) -> "SendOutcome":
        return self.report.outcomes[SEND_STEP_ID]

    @property
    def ok(self) -> bool:
        return self.report.ok and self.send.sent

    def to_json(self) -> dict[str, Any]:
        """check's document; the `send` step also has "reply" (the server's whole reply) and "queue_id"."""
        doc = self.report.to_json()
        doc["ok"] = self.ok
        for step in doc["steps"]:
            if step["id"] == SEND_STEP_ID:
                step["reply"] = self.send.reply
                step["queue_id"] = self.send.queue_id
        return doc

    def to_full_json(self) -> dict[str, Any]:
        """to_json() plus the Report's full document (target, token, transcript) and "send": the SendOutcome."""
        doc = self.report.to_full_json()
        doc.update(self.to_json())
        return doc


def _one_line(code: int, message: str) -> str:
    return f"{code} " + " ".join(line.strip() for line in (message or "").splitlines()).strip()


def _check(test: OutgoingMessage) -> None:
    """Belt and braces for a OutgoingMessage made by hand: the envelope must be one line per address."""
    for name, value in [("From", test.envelope_from)] + [("To", r) for r in test.recipients]:
        if not value or any(c in value for c in "\r\n<>") or value != value.strip():
            raise MessageError(f"{name} '{value.strip()}' cannot be used as an envelope address")
    if not test.recipients:
        raise MessageError("To: at least one recipient is required")
    for key, value in test.message.items():
        if "\r" in str(value) or "\n" in str(value):
            raise MessageError(f"{key} cannot contain a line break (header injection)")


def _header_from(test: OutgoingMessage) -> str:
    found = [addr for _name, addr in getaddresses(test.message.get_all("From", [])) if addr]
    return found[0] if found else test.envelope_from


def _not_run(reason: str, failed: StepResult | None) -> str:
    return f"not sent: the {failed.id} step failed" if failed is not None else "not sent"


def send_step(message: OutgoingMessage, outcome: "SendOutcome") -> ExtraStep:
    """The `send` step for `diagnose(extra_steps=...)`: MAIL FROM, RCPT TO and DATA of `message` on the
    authenticated session, filling `outcome` (which the Report keeps as `outcomes["send"]`)."""
    from_header = _header_from(message)

    async def body(session: Session, step: StepHandle) -> None:
        await _send(session, step, message, outcome, from_header)

    return ExtraStep(SEND_STEP_ID, SEND_STEP_TITLE, body, not_run=_not_run, outcome=outcome)


async def send_test(settings: Any, message: OutgoingMessage, *, emit: Callable[[Any], None] | None = None,
                    token_cache: Any = None, fresh_token: bool = False) -> SendReport:
    """Run the diagnostics steps on `settings` (saved or as on screen) with the `send` step after AUTH, which
    sends `message` on the authenticated connection; return the SendReport. Raises MessageError before any network
    I/O if the message cannot be sent. Cancelling the awaiting task cancels the run and the send at once."""
    from aiosmtplib.email import flatten_message

    _check(message)
    flatten_message(message.message, utf8=True, cte_type="8bit")  # serializes now: no surprise after connecting
    outcome = SendOutcome(message_id=str(message.message.get("Message-ID", "")),
                          envelope_from=message.envelope_from, recipients=tuple(message.recipients))
    report = await diagnose(settings, emit=emit, token_cache=token_cache, fresh_token=fresh_token,
                            extra_steps=[send_step(message, outcome)])
    return SendReport(report)


async def _send(session: Session, step: StepHandle, test: OutgoingMessage, outcome: SendOutcome,
                from_header: str) -> None:
    import aiosmtplib
    from aiosmtplib.email import flatten_message

    settings = session.settings
    smtp = session.smtp
    redact = session.redactor.text
    ctx = replace(session.hint_context, sender=from_header)  # S7's Add-RecipientPermission names the From tried

    def progress() -> None:
        if outcome.commands:
            step.progress(*outcome.commands[-1])

    def answered(command: str, code: int, text: str) -> str:
        """One command and its reply, in the step's detail and the outcome's command list; the reply line."""
        reply = _one_line(code, text)
        step.detail(f"{command} {ARROW} {reply}")
        outcome.commands.append((redact(command), redact(reply)))
        return reply

    def refused(command: str, code: int, text: str) -> None:
        outcome.reply = redact(answered(command, code, text))
        phase = "mail" if command.startswith("MAIL") else "data" if command.startswith("DATA") else "rcpt"
        step.fail(H.for_smtp_reply(code, text, replace(ctx, phase=phase)))

    step.detail(f"From: {test.message.get('From', '')}"
                + (f" (Sender: {test.message['Sender']})" if test.message.get("Sender") else ""))
    step.detail(f"To: {', '.join(test.recipients)}")
    step.detail(f"Subject: {test.message.get('Subject', '')}")
    if outcome.message_id:
        step.detail(f"Message-ID: {outcome.message_id}")
    if from_header.lower() != settings.sender.strip().lower() and not settings.userasfrom:
        step.detail(f"note: 'Use user's email as sender' is off: LogicalDOC would send From "
                    f"{settings.sender.strip() or '(empty Sender Email)'}, not {from_header}")
    elif settings.userasfrom and from_header.lower() == settings.sender.strip().lower():
        step.detail("note: 'Use user's email as sender' is on: LogicalDOC sends From each user's own address; "
                    "try one as the Send-as address")
    if not settings.is_m365 and not settings.username.strip():
        step.detail("no AUTH: Username is empty, so LogicalDOC sends without logging in; so does this test")

    addresses = [test.envelope_from, *test.recipients]
    utf8 = any(not a.isascii() for a in addresses)
    options: list[str] = []
    if utf8:
        if not smtp.supports_extension("smtputf8"):
            step.detail("the server does not offer SMTPUTF8, needed for a non-ASCII address")
            step.fail(H.by_id("smtp-permanent", ctx, reply="SMTPUTF8 not offered",
                              extra={"code": "EHLO", "enhanced": "no SMTPUTF8"}))
        options.append("SMTPUTF8")
    eight_bit = smtp.supports_extension("8bitmime")
    if eight_bit:
        options.append("BODY=8BITMIME")
    data = flatten_message(test.message, utf8=utf8, cte_type="8bit" if eight_bit else "7bit")
    encoding = "utf-8" if utf8 else "ascii"

    command = " ".join([f"MAIL FROM:<{test.envelope_from}>", *options])
    try:
        response = await smtp.mail(test.envelope_from, options=options, encoding=encoding)
    except aiosmtplib.SMTPResponseException as exc:
        refused(command, exc.code, exc.message)
    else:
        answered(command, response.code, response.message)
        progress()

    first_refusal: tuple[int, str] | None = None
    for rcpt in test.recipients:
        command = f"RCPT TO:<{rcpt}>"
        try:
            response = await smtp.rcpt(rcpt, encoding=encoding)
        except aiosmtplib.SMTPResponseException as exc:
            answered(command, exc.code, exc.message)
            if first_refusal is None:
                first_refusal = (exc.code, exc.message)
        else:
            answered(command, response.code, response.message)
        progress()
    if first_refusal is not None:
        # One refused recipient stops the send, as LogicalDOC's JavaMail does (no partial send).
        code, text = first_refusal
        outcome.reply = redact(_one_line(code, text))
        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            pass
        step.fail(H.for_smtp_reply(code, text, replace(ctx, phase="rcpt")))

    command = f"DATA ({len(data)} bytes)"
    # From here the server may deliver the message whatever happens to this run: listeners learn it now (a reply
    # of "" is "sent, its reply not in yet"), so a cancel while the final reply is awaited is not "nothing was sent".
    step.progress(command, "")
    try:
        response = await smtp.data(data)
    except aiosmtplib.SMTPResponseException as exc:
        refused(command, exc.code, exc.message)
    else:
        outcome.reply = redact(answered(command, response.code, response.message))
        outcome.queue_id = queue_id(outcome.reply)
        outcome.sent = True
        step.result.detail.insert(0, outcome.reply)
        if outcome.queue_id:
            step.detail(f"queue id {outcome.queue_id}")
        progress()


def send_test_sync(settings: Any, message: OutgoingMessage, *, token_cache: Any = None,
                   fresh_token: bool = False) -> SendReport:
    """`send_test` for the CLI: runs its own event loop."""
    return asyncio.run(send_test(settings, message, token_cache=token_cache, fresh_token=fresh_token))

"""The test send (`tui.mail.send`, `outmail send`) against the sandbox: real token, STARTTLS, AUTH XOAUTH2, MAIL FROM,
RCPT TO and DATA on 127.0.0.1; plus a tiny aiosmtpd relay for refused MAIL/RCPT replies the sandbox never gives."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from email.message import EmailMessage
from email.policy import compat32
from pathlib import Path

import pytest

from tui.diagnostics.events import RunFinished, RunStarted, StepFinished, StepProgress
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.mail.cli import send_text
from tui.mail.message import MessageError, build_message
from tui.mail.message import OutgoingMessage as Built  # (not a pytest class)
from tui.mail.send import SendOutcome, SendReport, queue_id, send_test
from tui.settings.store import load_settings

ROOT = Path(__file__).resolve().parents[2]
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
ENVELOPE = ("MAIL", "RCPT", "DATA", "(END OF DATA)", "BDAT")


def settings_for(sb, **changes):
    s = load_settings(Path(sb.info.settings_path))
    return s.with_changes(**{"timeout_seconds": 5.0, **changes})


def envelope_events(events):
    return [e for e in events if str(e["command"]).upper().startswith(ENVELOPE)]


def assert_clean(sb, *texts):
    for text in texts:
        assert sb.info.client_secret not in text
        assert sb.info.password not in text
        assert not JWT_RE.search(text), "a whole token leaked"


def assert_report_clean(sb, report):
    assert_clean(sb, json.dumps(report.to_full_json()), send_text(report, verbose=True), report.transcript_text())


# ---- the message arrives -----------------------------------------------------------------------------------------
async def test_message_arrives_with_headers_and_queue_id(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    n, before = len(sb.messages()), len(sb.smtp_events())
    test = build_message(settings, ["alice@contoso.test", "bob@relay.local"], "Quarterly test", "Hello.\n")
    report = await send_test(settings, test, token_cache=TokenCache())

    assert isinstance(report, SendReport) and report.ok, report_text(report)
    assert [s.id for s in report.steps] == ["settings", "token", "connect", "ehlo", "starttls", "auth", "send", "quit"]
    got = sb.messages()[n:]
    assert len(got) == 1
    msg = got[0]
    assert msg["From"] == "noreply@contoso.test" and msg["Sender"] is None
    assert msg["To"] == "alice@contoso.test, bob@relay.local"
    assert msg["Subject"] == "Quarterly test"
    assert msg.get_content() == "Hello.\n"
    assert msg["Message-ID"] == test.message["Message-ID"] and msg["Date"] == test.message["Date"]
    assert msg["MIME-Version"] == "1.0" and msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Return-Path"] == "<noreply@contoso.test>"
    assert msg["X-Sandbox-Rcpt-To"].replace(" ", "") == "alice@contoso.test,bob@relay.local"

    # the server's whole reply and its queue id (Exchange answers with the Message-ID in angle brackets)
    final = [e for e in sb.smtp_events()[before:] if e["command"] == "(end of data)"][-1]["reply"]
    mid = test.message["Message-ID"].strip("<>")
    assert report.send.sent and report.send.reply == final and report.send.queue_id == mid
    step = report.step("send")
    assert step.status == "ok" and step.detail[0] == final
    assert "MAIL FROM:<noreply@contoso.test> BODY=8BITMIME → 250 2.1.0 Sender OK" in step.detail
    assert "RCPT TO:<alice@contoso.test> → 250 2.1.5 Recipient OK" in step.detail
    assert "RCPT TO:<bob@relay.local> → 250 2.1.5 Recipient OK" in step.detail
    assert any(re.fullmatch(r"DATA \(\d+ bytes\) → " + re.escape(final), d) for d in step.detail)
    doc = report.to_json()
    send = next(s for s in doc["steps"] if s["id"] == "send")
    assert send["reply"] == final and send["queue_id"] == mid and doc["ok"] is True
    assert send_text(report).rstrip().endswith(f"Sent: {final} (queue id {mid})")
    assert_report_clean(sb, report)


async def test_utf8_subject_and_body_survive(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    n = len(sb.messages())
    subject = "Grüße – テスト ✓"
    body = "Körper: naïve café ✓\n.a line starting with a dot\n\nÜnïcödé again\n"
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"], subject, body),
                             token_cache=TokenCache())
    assert report.ok, report_text(report)
    msg = sb.messages()[n]
    assert msg["Subject"] == subject
    assert msg.get_content() == body
    assert msg.get_content_charset() == "utf-8"
    assert f"Subject: {subject}" in report.step("send").detail


async def test_non_ascii_recipient_uses_smtputf8(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    n = len(sb.messages())
    report = await send_test(settings, build_message(settings, ["jürgen@contoso.test"]), token_cache=TokenCache())
    assert report.ok, report_text(report)
    assert any(d.startswith("MAIL FROM:<noreply@contoso.test> SMTPUTF8") for d in report.step("send").detail)
    assert sb.messages()[n]["To"] == "jürgen@contoso.test"


async def test_secrets_typed_into_the_message_are_redacted_in_the_report(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"], f"oops {sb.info.client_secret}"),
                             token_cache=TokenCache())
    assert report.ok
    assert "Subject: oops <redacted>" in report.step("send").detail
    assert_report_clean(sb, report)


async def test_send_as_granted_address_sets_from_and_sender(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb, userasfrom=True)
    n = len(sb.messages())
    test = build_message(settings, ["alice@contoso.test"], send_as="shared@contoso.test")
    report = await send_test(settings, test, token_cache=TokenCache())
    assert report.ok, report_text(report)
    msg = sb.messages()[n]
    assert msg["From"] == "shared@contoso.test" and msg["Sender"] == "noreply@contoso.test"
    assert msg["Return-Path"] == "<shared@contoso.test>"
    assert not any(d.startswith("note:") for d in report.step("send").detail)


# ---- Send As denied ----------------------------------------------------------------------------------------------
async def test_send_as_ungranted_address_gives_exact_554_and_s7_hint(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb, userasfrom=True)
    n, before = len(sb.messages()), len(sb.smtp_events())
    test = build_message(settings, ["alice@contoso.test"], send_as="jane@contoso.test")
    report = await send_test(settings, test, token_cache=TokenCache())

    assert not report.ok and len(sb.messages()) == n
    exact = [e for e in sb.smtp_events()[before:] if e["command"] == "(end of data)"][-1]["reply"]
    assert exact.startswith("554 5.2.252 SendAsDenied; noreply@contoso.test not allowed to send as jane@contoso.test;")
    step = report.step("send")
    assert step.status == "fail" and step.detail[0] == exact
    assert step.hint.id == "sendas-denied" and step.hint.setup_step == "S7" and step.hint.reply == exact
    assert step.hint.command == (f'Add-RecipientPermission "jane@contoso.test" -Trustee {sb.info.object_id} '
                                 f"-AccessRights SendAs")
    assert report.step("quit").status == "ok"
    assert report.send.sent is False and report.send.reply == exact and report.send.queue_id is None
    text = send_text(report)
    assert "FAILED at send" in text and "Setup step: S7 Send As" in text and text.rstrip().endswith("Not sent.")
    send = next(s for s in report.to_json()["steps"] if s["id"] == "send")
    assert send["status"] == "fail" and send["reply"] == exact and send["queue_id"] is None
    assert_report_clean(sb, report)


async def test_unknown_recipient_in_the_tenant_domain_is_refused_at_rcpt_with_its_hint(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    n, before = len(sb.messages()), len(sb.smtp_events())
    test = build_message(settings, ["alice@contoso.test", "alcie@contoso.test", "bob@relay.local"])
    report = await send_test(settings, test, token_cache=TokenCache())

    exact = ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient alcie@contoso.test not found by SMTP address "
             "lookup")
    assert not report.ok and len(sb.messages()) == n
    rcpts = [e["reply"] for e in sb.smtp_events()[before:] if str(e["command"]).upper().startswith("RCPT")]
    assert rcpts == ["250 2.1.5 Recipient OK", exact, "250 2.1.5 Recipient OK"]
    assert not [e for e in sb.smtp_events()[before:] if str(e["command"]).upper().startswith(("DATA", "BDAT"))]
    step = report.step("send")
    assert step.status == "fail" and step.detail[0] == exact
    assert step.hint.id == "recipient-not-found" and step.hint.reply == exact
    text = send_text(report)
    assert "alcie@contoso.test" in text and "Get-Recipient" in text and text.rstrip().endswith("Not sent.")


async def test_sendas_denied_fault_names_the_sender(sandbox_clean):
    sb = sandbox_clean
    sb.set_fault("sendas-denied")
    settings = settings_for(sb, userasfrom=True)
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"], send_as="ceo@contoso.test"),
                             token_cache=TokenCache())
    step = report.step("send")
    assert step.status == "fail" and step.hint.id == "sendas-denied" and step.hint.setup_step == "S7"
    assert step.detail[0].startswith("554 5.2.252 SendAsDenied; noreply@contoso.test not allowed to send as "
                                     "ceo@contoso.test;")
    assert step.hint.command.startswith(f'Add-RecipientPermission "ceo@contoso.test" -Trustee {sb.info.object_id}')


async def test_sendas_refused_for_the_mailbox_itself_does_not_ask_for_send_as(sandbox_clean):
    """From is already the Username: the fix must not tell the admin to grant what is not missing (kind 5)."""
    sb = sandbox_clean
    sb.set_fault("sendas-denied")
    settings = settings_for(sb)
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"]), token_cache=TokenCache())
    step = report.step("send")
    assert step.status == "fail" and step.hint.id == "sendas-refused-own-mailbox"
    assert step.detail[0].startswith("554 5.2.252 SendAsDenied; noreply@contoso.test not allowed to send as "
                                     "noreply@contoso.test;")
    assert "which is the Username itself, so Send As is not what is missing" in step.hint.cause
    assert "Add-RecipientPermission" not in step.hint.command
    assert step.hint.command == ('Get-Mailbox -Identity "noreply@contoso.test" | fl PrimarySmtpAddress,'
                                 'UserPrincipalName,EmailAddresses')


async def test_note_when_send_as_is_tried_with_userasfrom_off(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb, userasfrom=False)
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"], send_as="shared@contoso.test"),
                             token_cache=TokenCache())
    assert report.ok
    assert any("'Use user's email as sender' is off" in d for d in report.step("send").detail)


# ---- nothing is sent unless AUTH succeeded, and only over TLS ----------------------------------------------------
async def test_mail_from_only_after_successful_auth_and_tls(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    before = len(sb.smtp_events())
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"]), token_cache=TokenCache())
    assert report.ok
    events = sb.smtp_events()[before:]
    (conn,) = {e["connection"] for e in events}
    commands = [str(e["command"]).upper() for e in events]
    auth_at = next(i for i, c in enumerate(commands) if c.startswith("AUTH"))
    assert events[auth_at]["reply"].startswith("235 ") and events[auth_at]["tls"]
    mail_at = next(i for i, c in enumerate(commands) if c.startswith("MAIL"))
    assert auth_at < mail_at
    assert all(e["tls"] for e in envelope_events(events))
    assert not any(e["reply"] and e["reply"].startswith("530") for e in events)  # 5.7.57 cannot happen


@pytest.mark.parametrize("fault,failed", [("wrong-secret", "token"), ("no-mailbox-permission", "auth")])
async def test_no_envelope_when_auth_did_not_succeed(sandbox_clean, fault, failed):
    sb = sandbox_clean
    sb.set_fault(fault)
    settings = settings_for(sb)
    n, before = len(sb.messages()), len(sb.smtp_events())
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"]), token_cache=TokenCache())
    assert not report.ok and report.failed_step.id == failed
    assert envelope_events(sb.smtp_events()[before:]) == [] and len(sb.messages()) == n
    step = report.step("send")
    assert step.status == "skipped" and step.detail == [f"not sent: the {failed} step failed"]
    send = next(s for s in report.to_json()["steps"] if s["id"] == "send")
    assert send["reply"] is None and send["queue_id"] is None


async def test_plain_smtp_without_username_sends_as_logicaldoc_does(sandbox_clean):
    """Protocol smtp with no Username: LogicalDOC sends without AUTH, and so does the test send. The sandbox (like
    Exchange) refuses mail without a login: 530 5.7.57 at MAIL FROM, shown as the send's own refusal."""
    sb = sandbox_clean
    s = settings_for(sb, protocol="smtp", username="", connection_security=1, auth_encrypted=False)
    before = len(sb.smtp_events())
    report = await send_test(s, build_message(s, ["alice@contoso.test"]), token_cache=TokenCache())
    assert report.step("auth").status == "skipped"
    assert "LogicalDOC sends without AUTH" in report.step("auth").detail[0]
    step = report.step("send")
    assert step.status == "fail" and step.hint.id == "not-authenticated"
    assert step.hint.reply.startswith("530 5.7.57")
    assert [e["command"].split(":")[0] for e in envelope_events(sb.smtp_events()[before:])] == ["MAIL FROM"]


# ---- refused before anything connects ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,words", [
    ({"to": ["not-an-address"]}, "is not a valid email address"),
    ({"to": ["alice@contoso.test\r\nBcc: victim@evil.test"]}, "line break"),
    ({"to": ["alice@contoso.test"], "subject": "hi\nBcc: victim@evil.test"}, "line break"),
    ({"to": ["alice@contoso.test"], "send_as": "jane@contoso.test\rBcc: victim@evil.test"}, "line break"),
])
def test_bad_input_is_refused_before_connecting(sandbox_clean, kwargs, words):
    settings = settings_for(sandbox_clean)
    with pytest.raises(MessageError, match=words):
        build_message(settings, **kwargs)


async def test_hand_made_message_with_line_breaks_never_connects(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    good = build_message(settings, ["alice@contoso.test"])
    smtp_before, token_before = len(sb.smtp_events()), len(sb.token_events())
    bad_rcpt = Built(good.message, good.envelope_from, ("alice@contoso.test>\r\nRCPT TO:<victim@evil.test",))
    with pytest.raises(MessageError):
        await send_test(settings, bad_rcpt, token_cache=TokenCache())
    raw = EmailMessage(policy=compat32)  # compat32 stores a header with a line break as given
    raw["From"] = "noreply@contoso.test"
    raw["To"] = "alice@contoso.test"
    raw["X-Note"] = "x\r\nBcc: victim@evil.test"
    raw.set_payload("hi")
    with pytest.raises(MessageError, match="line break"):
        await send_test(settings, Built(raw, "noreply@contoso.test", ("alice@contoso.test",)),
                        token_cache=TokenCache())
    assert len(sb.smtp_events()) == smtp_before and len(sb.token_events()) == token_before


# ---- events and cancellation -------------------------------------------------------------------------------------
async def test_events_announce_and_report_the_send_step(sandbox_clean):
    sb = sandbox_clean
    settings = settings_for(sb)
    events = []
    report = await send_test(settings, build_message(settings, ["alice@contoso.test"]), emit=events.append,
                             token_cache=TokenCache())
    started = events[0]
    assert isinstance(started, RunStarted)
    assert [s.id for s in started.steps][-2:] == ["send", "quit"]
    progress = [e for e in events if isinstance(e, StepProgress)]
    # DATA is announced as it goes out (reply "": not in yet), then answered
    assert [p.command.split(" ")[0] for p in progress] == ["MAIL", "RCPT", "DATA", "DATA"]
    assert [p.reply[:3] for p in progress] == ["250", "250", "", "250"]
    assert all(p.step.status == "running" and p.step.id == "send" for p in progress)
    finished = [e.step for e in events if isinstance(e, StepFinished) and e.step.id == "send"]
    assert len(finished) == 1 and finished[0].status == "ok"
    assert isinstance(events[-1], RunFinished) and events[-1].report is report.report  # SendReport: a view
    assert events[-1].report.outcomes["send"] is report.send and report.send.sent
    assert "envelope" not in [s.id for s in started.steps]  # the send replaces the envelope step


async def test_skipped_send_step_is_announced(sandbox_clean):
    sb = sandbox_clean
    sb.set_fault("wrong-secret")
    settings = settings_for(sb)
    events = []
    await send_test(settings, build_message(settings, ["alice@contoso.test"]), emit=events.append,
                    token_cache=TokenCache())
    finished = [e.step for e in events if isinstance(e, StepFinished) and e.step.id == "send"]
    assert [s.status for s in finished] == ["skipped"]
    assert finished[0].detail == ["not sent: the token step failed"]
    order = [e.step.id for e in events if isinstance(e, StepFinished)]
    assert order.index("send") < order.index("quit")  # in step order, as the engine skips it
    assert isinstance(events[-1], RunFinished)
    outcome = events[-1].report.outcomes["send"]
    assert isinstance(outcome, SendOutcome) and outcome.sent is False and outcome.reply is None


async def test_cancel_mid_send_sends_nothing(sandbox_clean, monkeypatch):
    sb = sandbox_clean
    sb.set_fault("slow-smtp")  # each reply late, RCPT TO's never in time: the cancel lands while it waits
    sb.delay_seconds = 0.05
    monkeypatch.setattr(sb, "reply_delays", {"RCPT": 30.0})
    settings = settings_for(sb)
    n, before = len(sb.messages()), len(sb.smtp_events())
    mail_done = asyncio.Event()

    def emit(event):
        if isinstance(event, StepProgress):
            mail_done.set()

    task = asyncio.create_task(send_test(settings, build_message(settings, ["alice@contoso.test"]), emit=emit,
                                         token_cache=TokenCache()))
    await asyncio.wait_for(mail_done.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    connection = sb.smtp_events()[-1]["connection"]
    for _ in range(1000):  # until the sandbox sees the connection end (bounded: 10 s)
        if connection in sb.smtp_closed_connections():
            break
        await asyncio.sleep(0.01)
    assert connection in sb.smtp_closed_connections(), "the cancelled send's connection is still open"
    assert len(sb.messages()) == n
    assert not any(e["command"] == "(end of data)" for e in sb.smtp_events()[before:])


# ---- refused MAIL FROM / RCPT TO (a relay that says no; the sandbox never refuses these) -------------------------
MAIL_REFUSALS = {  # From local part -> the reply the relay gives to MAIL FROM (reference 7.3)
    "jane": "550 5.7.60 SMTP; Client does not have permissions to send as this sender [relay.test]",
    "busy": "451 4.7.500 Server busy. Please try again later from [127.0.0.1]. (S77)",
    "rate": "421 4.4.2 Message submission rate for this client has exceeded the configured limit",
    "threads": "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded",
}


class _Refusing:
    async def handle_MAIL(self, server, session, envelope, address, options):
        if address.split("@")[0] in MAIL_REFUSALS:
            return MAIL_REFUSALS[address.split("@")[0]]
        envelope.mail_from = address
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("nobody@"):
            return ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.test not found by SMTP "
                    "address lookup")
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        self.data = envelope.content
        return "250 2.0.0 Ok: queued as 4F3B21C0"


@pytest.fixture
def relay():
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Refusing()
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=lambda *a: AuthResult(success=True))
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def relay_settings(controller):
    from tui.secret import Secret
    from tui.settings.model import Settings

    return Settings(protocol="smtp", host="127.0.0.1", port=controller.port, connection_security=0,
                    auth_encrypted=False,
                    username="noreply@contoso.test", password=Secret("relay-password-1"),
                    sender="noreply@contoso.test", userasfrom=True, timeout_seconds=5.0)


async def test_refused_rcpt_fails_with_exact_reply_and_sends_no_data(relay):
    controller, handler = relay
    s = relay_settings(controller)
    report = await send_test(s, build_message(s, ["alice@contoso.test", "nobody@contoso.test"]))
    step = report.step("send")
    exact = ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.test not found by SMTP address "
             "lookup")
    assert report.step("auth").status in ("ok", "warn")
    assert step.status == "fail" and step.detail[0] == exact and step.hint.reply == exact
    assert step.hint.id == "recipient-not-found" and "Get-Recipient" in step.hint.fix
    assert "RCPT TO:<alice@contoso.test> → 250 2.1.5 Recipient OK" in step.detail
    assert f"RCPT TO:<nobody@contoso.test> → {exact}" in step.detail
    assert not any(d.startswith("DATA") for d in step.detail) and not hasattr(handler, "data")
    assert report.send.reply == exact and not report.send.sent
    assert "relay-password-1" not in json.dumps(report.to_full_json()) + report.transcript_text()


async def test_refused_mail_from_gets_the_s7_hint(relay):
    controller, handler = relay
    s = relay_settings(controller)
    report = await send_test(s, build_message(s, ["alice@contoso.test"], send_as="jane@contoso.test"))
    step = report.step("send")
    exact = MAIL_REFUSALS["jane"]
    assert step.status == "fail" and step.detail[0] == exact
    assert step.hint.id == "sendas-no-permission" and step.hint.setup_step == "S7"
    assert 'Add-RecipientPermission "jane@contoso.test"' in step.hint.command
    assert not any(d.startswith("RCPT") for d in step.detail)


@pytest.mark.parametrize("who,hint_id", [("busy", "server-busy"), ("rate", "rate-limit"), ("threads", "thread-limit")])
async def test_throttling_replies_get_their_hints(relay, who, hint_id):
    controller, handler = relay
    s = relay_settings(controller)
    report = await send_test(s, build_message(s, ["alice@contoso.test"], send_as=f"{who}@contoso.test"))
    step = report.step("send")
    assert step.status == "fail" and step.detail[0] == MAIL_REFUSALS[who]
    assert step.hint.id == hint_id and "Retry later" in step.hint.fix
    assert report.send.reply == MAIL_REFUSALS[who] and not report.ok


async def test_postfix_style_queue_id(relay):
    controller, handler = relay
    s = relay_settings(controller)
    report = await send_test(s, build_message(s, ["alice@contoso.test"], "relay", "body\n"))
    assert report.ok, report_text(report)
    assert report.send.reply == "250 2.0.0 Ok: queued as 4F3B21C0" and report.send.queue_id == "4F3B21C0"
    assert b"body" in handler.data


@pytest.mark.parametrize("reply,expected", [
    ("250 2.0.0 OK <MN2PR11MB1234.namprd11.prod.outlook.com@x> [Hostname=MN2PR11MB1234.namprd11.prod.outlook.com]",
     "MN2PR11MB1234.namprd11.prod.outlook.com@x"),
    ("250 2.0.0 OK <179.1.2.outmail@contoso.test> [Hostname=SBX]", "179.1.2.outmail@contoso.test"),
    ("250 2.0.0 Ok: queued as 4F3B21C0", "4F3B21C0"),
    ("250 2.0.0 x7QNd1Pq012345 Message accepted for delivery", "x7QNd1Pq012345"),
    ("250 2.0.0 OK  1695812345 d9-20020a05.123 - gsmtp", "1695812345"),
    ("250 OK id=1qA2bC-0004xY-9Z", "1qA2bC-0004xY-9Z"),
    ("250 2.0.0 OK", None),
    ("250 Ok", None),
])
def test_queue_id_parsing(reply, expected):
    assert queue_id(reply) == expected


# ---- the CLI in a subprocess -------------------------------------------------------------------------------------
def run_send(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OUTMAIL_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tui", "send", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60, input=stdin)


def test_cli_sends_with_json_and_body_from_stdin(sandbox_clean):
    sb = sandbox_clean
    n = len(sb.messages())
    body = "Body from stdin ✓\nsecond line\n"
    proc = run_send("--config", str(sb.info.settings_path), "--to", "alice@contoso.test", "--to", "bob@relay.local",
                    "--subject", "CLI ✓", "--body-file", "-", "--json", stdin=body)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    assert [s["id"] for s in doc["steps"]] == ["settings", "token", "connect", "ehlo", "starttls", "auth", "send",
                                               "quit"]
    send = next(s for s in doc["steps"] if s["id"] == "send")
    msg = sb.messages()[n]
    assert send["queue_id"] == msg["Message-ID"].strip("<>") and send["reply"].startswith("250 2.0.0 OK <")
    assert msg["Subject"] == "CLI ✓" and msg.get_content() == body
    assert_clean(sb, proc.stdout, proc.stderr)


def test_cli_send_as_denied_exits_1_with_hint(sandbox_clean):
    sb = sandbox_clean
    proc = run_send("--config", str(sb.info.settings_path), "--to", "alice@contoso.test", "--from",
                    "jane@contoso.test", "--body", "x")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^\s+FAIL\s+send\b.*554 5\.2\.252 SendAsDenied;", proc.stdout, re.M)
    assert (f'Add-RecipientPermission "jane@contoso.test" -Trustee {sb.info.object_id} -AccessRights SendAs'
            in proc.stdout)
    assert proc.stdout.rstrip().endswith("Not sent.")
    assert "userasfrom" in proc.stderr and "warning" in proc.stderr  # the sandbox settings have userasfrom off
    assert_clean(sb, proc.stdout, proc.stderr)


def test_cli_token_failure_exits_1_without_secrets(sandbox_clean):
    sb = sandbox_clean
    sb.set_fault("wrong-secret")
    proc = run_send("--config", str(sb.info.settings_path), "--to", "alice@contoso.test", "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert next(s for s in doc["steps"] if s["id"] == "send")["status"] == "skipped"
    assert_clean(sb, proc.stdout, proc.stderr)


@pytest.mark.parametrize("args,words", [
    (["--to", "not-an-address"], "not a valid email address"),
    (["--to", "alice@contoso.test\r\nBcc: victim@evil.test"], "line break"),
    (["--to", "alice@contoso.test", "--subject", "hi\nBcc: victim@evil.test"], "line break"),
    (["--to", "alice@contoso.test", "--from", "jane@contoso.test\nBcc: victim@evil.test"], "line break"),
    (["--to", "alice@contoso.test", "--body-file", "/nonexistent/body.txt"], "--body-file /nonexistent/body.txt"),
])
def test_cli_unusable_arguments_exit_2_and_never_connect(sandbox_clean, args, words):
    sb = sandbox_clean
    smtp_before, token_before = len(sb.smtp_events()), len(sb.token_events())
    proc = run_send("--config", str(sb.info.settings_path), *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in proc.stderr and proc.stdout == ""
    assert len(sb.smtp_events()) == smtp_before and len(sb.token_events()) == token_before
    assert_clean(sb, proc.stdout, proc.stderr)


def test_cli_unusable_settings_file_exits_2(tmp_path):
    proc = run_send("--config", str(tmp_path / "missing.toml"), "--to", "alice@contoso.test")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_cli_body_file_not_utf8_exits_2(sandbox_clean, tmp_path):
    sb = sandbox_clean
    bad = tmp_path / "body.txt"
    bad.write_bytes(b"caf\xe9\n")
    smtp_before = len(sb.smtp_events())
    proc = run_send("--config", str(sb.info.settings_path), "--to", "alice@contoso.test", "--body-file", str(bad))
    assert proc.returncode == 2 and "not UTF-8 text" in proc.stderr
    assert len(sb.smtp_events()) == smtp_before

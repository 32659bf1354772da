"""The engine against the sandbox: real HTTPS, real SMTP, real TLS on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from tui.diagnostics.engine import STEP_IDS, diagnose
from tui.diagnostics.events import RunFinished, RunStarted, StepFinished, StepStarted, TranscriptAdded
from tui.diagnostics.session import ExtraStep
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.secret import Secret
from tui.settings.store import load_settings

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


def settings_for(sb, **changes):
    s = load_settings(sb.info.settings_path, env={})
    return s.with_changes(**{"timeout_seconds": 5.0, **changes})


def statuses(report):
    return {s.id: s.status for s in report.steps}


def assert_no_secrets(sb, report):
    blob = json.dumps(report.to_full_json()) + report_text(report) + report.transcript_text()
    assert sb.info.client_secret not in blob
    assert sb.info.password not in blob
    assert not JWT_RE.search(blob), "a whole token leaked"


async def test_happy_path_then_cached_token(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    cache = TokenCache()
    report = await diagnose(settings_for(sb), token_cache=cache)
    st = statuses(report)
    assert report.ok, report_text(report)
    assert [s.id for s in report.steps] == list(STEP_IDS)
    assert all(st[i] == "ok" for i in STEP_IDS if i != "settings"), st
    assert st["settings"] in ("ok", "warn")  # the sandbox's port is not 587: a warning
    assert report.token.source == "identity_provider"
    assert report.token.oid == sb.info.object_id
    token_detail = "\n".join(report.step("token").detail)
    assert sb.info.object_id in token_detail and "New-ServicePrincipal -ObjectId" in token_detail
    assert "CA: ca_file" in token_detail
    starttls = "\n".join(report.step("starttls").detail)
    assert "TLSv1." in starttls and "subject" in starttls and "issuer" in starttls and "days" in starttls
    assert "AUTH LOGIN XOAUTH2" in starttls
    lines = [f"{l.direction}: {l.text}" for l in report.transcript]
    assert any(re.fullmatch(r"C: AUTH XOAUTH2 <redacted, \d+ bytes>", l) for l in lines)
    assert "S: 235 2.7.0 Authentication successful" in lines
    assert any(l.startswith("I: POST https://127.0.0.1") for l in lines)
    assert_no_secrets(sb, report)
    # the real token (from the shared msal cache) appears nowhere, not even in part
    import msal

    entries = list(cache.entry(settings_for(sb)).msal_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN))
    token = entries[0]["secret"]
    blob = json.dumps(report.to_full_json()) + report_text(report) + report.transcript_text()
    assert token not in blob and token[20:60] not in blob and token.split(".")[1][:40] not in blob
    assert report.token.preview == token[:8] + "…<redacted>"

    assert cache.serves_from_memory(settings_for(sb))
    assert not TokenCache().serves_from_memory(settings_for(sb))
    assert not cache.serves_from_memory(settings_for(sb, client_secret=Secret("other-secret-value")))
    again = await diagnose(settings_for(sb), token_cache=cache)
    assert again.ok
    assert again.token.source == "cache"
    assert again.step("token").detail[0].startswith("token from cache")
    # a changed secret misses the cache
    other = settings_for(sb, client_secret=Secret(sb.info.client_secret + "x"))
    assert TokenCache.key(other) != TokenCache.key(settings_for(sb))


FAULT_EXPECTATIONS = [
    ("wrong-secret", "token", "invalid-secret"),
    ("expired-secret", "token", "expired-secret"),
    ("unknown-client", "token", "unknown-client"),
    ("unknown-tenant", "token", "unknown-tenant"),
    ("bad-scope", "token", "scope-refused-exchange-scope"),  # the sandbox refuses even the right scope
    ("no-smtp-role", "auth", "exchange-refused-token-rbac"),
    ("rbac-out-of-scope", "auth", "exchange-refused-token-rbac"),
    ("no-mailbox-permission", "auth", "exchange-refused-token"),
    ("smtp-auth-disabled-tenant", "auth", "smtp-auth-disabled-tenant"),
    ("smtp-auth-disabled-mailbox", "auth", "smtp-auth-disabled-mailbox"),
    ("no-starttls", "starttls", "starttls-not-offered"),
    ("drop-during-starttls", "starttls", "connection-dropped"),
    ("untrusted-cert", "starttls", "tls-verify-ca-file"),  # the sandbox's settings set ca_file
    ("silent-server", "ehlo", "server-silent"),
    ("token-hang", "token", "token-timeout"),
]


@pytest.mark.parametrize("fault,step_id,hint_id", FAULT_EXPECTATIONS)
async def test_fault(sandbox_clean, sandbox_env, fault, step_id, hint_id):
    sb = sandbox_clean
    sb.set_fault(fault)
    timeout = 1.0
    t = time.perf_counter()
    report = await diagnose(settings_for(sb, timeout_seconds=timeout), token_cache=TokenCache())
    elapsed = time.perf_counter() - t
    assert not report.ok
    failed = [s for s in report.steps if s.status == "fail"]
    assert [s.id for s in failed] == [step_id], report_text(report)
    assert failed[0].hint is not None and failed[0].hint.id == hint_id, report_text(report)
    st = statuses(report)
    assert st["auth"] in ("skipped", "fail")
    if step_id in ("token", "connect", "ehlo", "starttls"):
        assert st["auth"] == "skipped"
    assert elapsed < 2 * timeout + 2.0  # every step ends by its timeout (both paths concurrently)
    assert_no_secrets(sb, report)


async def test_fault_hint_commands_filled(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("no-mailbox-permission")
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    hint = report.step("auth").hint
    assert f"New-ServicePrincipal -AppId {sb.info.client_id} -ObjectId {sb.info.object_id}" in hint.command
    assert f'Add-MailboxPermission -Identity "{sb.info.mailbox}" -User {sb.info.object_id}' in hint.command
    assert hint.reply.startswith("535 5.7.3 Authentication unsuccessful [")  # suffix kept for support
    assert hint.setup_step == "S5, S6"


async def test_token_error_shows_support_ids(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("wrong-secret")
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    hint = report.step("token").hint
    joined = "\n".join(hint.details)
    for key in ("error: invalid_client", "correlation_id: ", "trace_id: ", "timestamp: ", "error_description: AADSTS7000215"):
        assert key in joined


async def test_untrusted_cert_names_the_certificate(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("untrusted-cert")
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    step = report.step("starttls")
    text = "\n".join(step.detail)
    assert "certificate verify failed" in text
    assert "certificate issuer" in text and "untrusted CA" in text  # the certificate is named
    assert "CA: ca_file" in text


async def test_wrong_ca_file_fails_token_and_starttls(sandbox_clean, sandbox_env, tmp_path):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    report = await diagnose(settings_for(sandbox_clean, ca_file=str(other)), token_cache=TokenCache())
    st = statuses(report)
    assert st["token"] == "fail" and report.step("token").hint.id == "token-tls"
    hint = report.step("starttls").hint
    assert st["starttls"] == "fail" and hint.id == "tls-verify-ca-file"  # ca_file is set: it lacks the CA
    assert "is not signed by a CA in [console] ca_file" in hint.cause and "Add the PEM of the CA" in hint.fix
    assert f"ca_file ({other})" in hint.cause and f"to {other};" in hint.fix  # the admin's own file, named
    assert any("certificate issuer" in d for d in report.step("token").detail)
    assert st["auth"] == "skipped"


async def test_ca_file_wins_over_requests_ca_bundle(sandbox_clean, monkeypatch, tmp_path):
    import trustme

    other = tmp_path / "unrelated.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other))
    report = await diagnose(settings_for(sandbox_clean), token_cache=TokenCache())
    assert report.ok, report_text(report)
    assert "wins over REQUESTS_CA_BUNDLE" in "\n".join(report.step("token").detail)


async def test_no_auth_before_starttls_server_side(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    before = len(sb.smtp_events())
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    assert report.ok
    events = sb.smtp_events()[before:]
    auth = [e for e in events if str(e["command"]).upper().startswith("AUTH")]
    assert auth and all(e["tls"] for e in auth)
    # and with no STARTTLS on offer, no AUTH at all
    sb.set_fault("no-starttls")
    before = len(sb.smtp_events())
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    events = sb.smtp_events()[before:]
    assert not [e for e in events if str(e["command"]).upper().startswith("AUTH")]
    assert report.step("auth").status == "skipped"


async def test_m365_ignores_connection_security_none(sandbox_clean, sandbox_env):
    report = await diagnose(settings_for(sandbox_clean, connection_security=0), token_cache=TokenCache())
    assert report.ok and report.step("starttls").status == "ok"


async def test_events_in_order(sandbox_clean, sandbox_env):
    events = []
    report = await diagnose(settings_for(sandbox_clean), emit=events.append, token_cache=TokenCache())
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert events[-1].report is report
    started = [e.step.id for e in events if isinstance(e, StepStarted)]
    finished = [e.step.id for e in events if isinstance(e, StepFinished)]
    assert sorted(started) == sorted(finished) == sorted(STEP_IDS)
    for sid in STEP_IDS:
        i = next(n for n, e in enumerate(events) if isinstance(e, StepStarted) and e.step.id == sid)
        j = next(n for n, e in enumerate(events) if isinstance(e, StepFinished) and e.step.id == sid)
        assert i < j and events[i].step.status == "running"
    lines = [e.line for e in events if isinstance(e, TranscriptAdded)]
    assert lines == report.transcript


async def test_cancel_is_prompt_while_token_hangs(sandbox_clean, sandbox_env):
    sandbox_clean.set_fault("token-hang")
    task = asyncio.create_task(diagnose(settings_for(sandbox_clean, timeout_seconds=10.0), token_cache=TokenCache()))
    for _ in range(1000):  # until the token request is held by the service (bounded: 10 s)
        if any(e.get("fault") == "token-hang" for e in sandbox_clean.token_events()):
            break
        await asyncio.sleep(0.01)
    assert any(e.get("fault") == "token-hang" for e in sandbox_clean.token_events()), "the token request never came"
    task.cancel()
    # The held request would end only at the token step's own limit (2 x 10 s): the cancel ends the run long before,
    # without waiting for msal's thread.
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_plain_smtp_with_password(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    s = settings_for(sb, protocol="smtp", password=Secret(sb.info.password), connection_security=1,
                     auth_encrypted=False)
    before = len(sb.smtp_events())
    report = await diagnose(s, token_cache=TokenCache())
    st = statuses(report)
    assert st["token"] == "skipped"
    assert st["auth"] == "ok", report_text(report)
    # LogicalDOC's sender takes the first of LOGIN, PLAIN the server offers (the sandbox offers LOGIN XOAUTH2)
    assert any(re.fullmatch(r"AUTH LOGIN <redacted>", l.text) for l in report.transcript)
    assert all(e["tls"] for e in sb.smtp_events()[before:] if str(e["command"]).upper().startswith("AUTH"))
    assert_no_secrets(sb, report)


async def test_extra_step_sends_on_the_same_connection(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    n = len(sb.messages())
    claims = []

    async def send(session, step):
        claims.append(session.claims["oid"])
        msg = (f"From: {sb.info.mailbox}\r\nTo: {sb.info.mailbox}\r\nSubject: t\r\n\r\nhello\r\n")
        await session.smtp.sendmail(sb.info.mailbox, [sb.info.mailbox], msg)
        step.detail("sent")

    extra = [ExtraStep("send", "Send test message", send)]
    events = []
    report = await diagnose(settings_for(sb), extra_steps=extra, token_cache=TokenCache(), emit=events.append)
    order = ["settings", "token", "connect", "ehlo", "starttls", "auth", "send", "quit"]
    assert [s.id for s in report.steps] == order  # no envelope step: the extra steps replace it
    assert [s.id for s in events[0].steps] == order and {s.status for s in events[0].steps} == {"pending"}
    assert report.ok and report.step("send").status == "ok" and report.step("send").detail == ["sent"]
    assert claims == [sb.info.object_id]
    assert len(sb.messages()) == n + 1
    texts = [l.text for l in report.transcript]
    assert any(t.startswith("MAIL FROM:") for t in texts) and any(t.startswith("<message content") for t in texts)

    sb.set_fault("sendas-denied")
    report = await diagnose(settings_for(sb), extra_steps=extra, token_cache=TokenCache())
    step = report.step("send")
    assert step.status == "fail" and step.hint.id == "sendas-refused-own-mailbox"  # From is the mailbox itself
    assert step.hint.command.startswith(f'Get-Mailbox -Identity "{sb.info.mailbox}"')
    assert report.step("quit").status == "ok"


async def test_extra_steps_that_cannot_run_are_skipped_in_step_order(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("wrong-secret")  # no token: auth and every extra step cannot run
    ran = []

    async def body(session, step):
        ran.append(step.result.id)

    extra = [ExtraStep("one", "One", body, not_run=lambda why, failed: f"not run: {why}; the {failed.id} step failed"),
             ExtraStep("two", "Two", body)]
    events = []
    report = await diagnose(settings_for(sb), extra_steps=extra, token_cache=TokenCache(), emit=events.append)
    assert ran == []
    assert report.step("one").status == report.step("two").status == "skipped"
    assert report.step("one").detail == ["not run: no token; the token step failed"]
    assert report.step("two").detail == ["no token"]
    finished = [e.step.id for e in events if isinstance(e, StepFinished)]
    assert finished.index("auth") < finished.index("one") < finished.index("two") < finished.index("quit")


async def test_a_failed_extra_step_skips_the_later_ones(sandbox_clean, sandbox_env):
    ran = []

    async def failing(session, step):
        ran.append("one")
        step.fail(None, "refused here")

    async def later(session, step):
        ran.append("two")

    extra = [ExtraStep("one", "One", failing), ExtraStep("two", "Two", later)]
    report = await diagnose(settings_for(sandbox_clean), extra_steps=extra, token_cache=TokenCache())
    assert ran == ["one"]
    assert report.step("one").status == "fail" and report.step("one").detail == ["refused here"]
    assert report.step("two").status == "skipped" and report.step("two").detail == ["the one step failed"]
    assert report.step("quit").status == "ok" and report.failed_step.id == "one"


async def test_extra_steps_are_checked_before_anything_connects(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    before = len(sb.smtp_events()), len(sb.token_events())

    async def body(session, step):
        pass

    with pytest.raises(ValueError, match="auth"):
        await diagnose(settings_for(sb), extra_steps=[ExtraStep("auth", "AUTH again", body)], token_cache=TokenCache())
    with pytest.raises(ValueError, match="position"):
        ExtraStep("later", "Later", body, position="after-quit")
    assert (len(sb.smtp_events()), len(sb.token_events())) == before


async def test_saved_report_is_private_from_its_first_byte(sandbox_clean, sandbox_env, tmp_path, monkeypatch):
    import os
    import stat

    from tui.diagnostics.text import save_report

    sb = sandbox_clean
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    modes = []
    real_write = os.write

    def write(fd, data):  # the file's mode before each write into it
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    old_umask = os.umask(0)  # a 0644 or 0666 default would show
    try:
        save_report(report, tmp_path / "report.txt")
    finally:
        os.umask(old_umask)
    assert modes and set(modes) == {0o600} and stat.S_IMODE((tmp_path / "report.txt").stat().st_mode) == 0o600
    text = (tmp_path / "report.txt").read_text(encoding="utf-8")
    head, transcript = text.split("\nTranscript\n")
    assert head == report_text(report, verbose=True) and transcript == report.transcript_text()
    assert all(re.search(rf"^\s+ok\s+{sid}\b", head, re.M) for sid in STEP_IDS if sid != "settings")
    assert sb.info.client_secret not in text and sb.info.password not in text and not JWT_RE.search(text)


async def test_settings_errors_stop_everything(sandbox_clean, sandbox_env):
    report = await diagnose(settings_for(sandbox_clean, client_id="not-a-guid"), token_cache=TokenCache())
    st = statuses(report)
    hint = report.step("settings").hint
    assert st["settings"] == "fail" and hint.id == "field-client-id" and hint.setup_step == "S1"
    assert hint.reply == "Client ID must be a GUID: the Application (client) ID, setup step S1"
    assert "App registrations" in hint.fix
    assert all(st[i] == "skipped" for i in STEP_IDS[1:])


async def test_connection_refused(sandbox_env):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    from tui.settings.model import Settings

    settings = Settings(protocol="smtp", host="127.0.0.1", port=port, connection_security=1, username="",
                        sender="a@contoso.com", timeout_seconds=2.0)
    report = await diagnose(settings, token_cache=TokenCache())
    assert report.step("connect").status == "fail"
    assert report.step("connect").hint.id == "connect-refused"
    assert [report.step(i).status for i in ("ehlo", "starttls", "auth", "quit")] == ["skipped"] * 4


async def test_dns_failure(sandbox_env, monkeypatch):
    """A name no resolver knows: the connect step fails with the DNS hint. The lookup is answered here, never sent
    (tests/diagnostics/local_resolver.py answers `.invalid` as RFC 6761 asks of resolvers)."""
    import socket

    from tests.diagnostics.local_resolver import resolver
    from tui.settings.model import Settings

    monkeypatch.setattr(socket, "getaddrinfo", resolver(socket.getaddrinfo))
    settings = Settings(protocol="smtp", host="no-such-host.invalid", port=587, connection_security=1,
                        sender="a@contoso.com", timeout_seconds=3.0)
    report = await diagnose(settings, token_cache=TokenCache())
    assert report.step("connect").status == "fail"
    assert report.step("connect").hint.id == "dns-failure"


@pytest.mark.parametrize("changes,why", [
    ({"connection_security": 3, "auth_encrypted": False}, "Connection Security SSL"),
    # 'Use secure authentication' is LogicalDOC's smtps transport: implicit TLS whatever Connection Security says
    ({"connection_security": 1, "auth_encrypted": True}, "'Use secure authentication' is on"),
    ({"connection_security": 0, "auth_encrypted": True}, "'Use secure authentication' is on"),
])
async def test_implicit_tls_against_starttls_port_fails_in_connect(sandbox_clean, sandbox_env, changes, why):
    sb = sandbox_clean
    s = settings_for(sb, protocol="smtp", password=Secret(sb.info.password), timeout_seconds=2.0, **changes)
    report = await diagnose(s, token_cache=TokenCache())
    step = report.step("connect")
    assert step.status == "fail" and step.hint.id == "implicit-tls-plain-port", report_text(report)
    assert why in step.hint.cause and f"127.0.0.1:{sb.info.smtp_port} speaks plain SMTP" in step.hint.cause
    assert step.detail[0].startswith("no TLS: the server sent its greeting in clear: 220 ")
    assert report.step("auth").status == "skipped"


async def test_plain_smtp_without_tls_logs_in_only_where_offered(sandbox_clean, sandbox_env):
    """Connection Security None: LogicalDOC never starts TLS; the sandbox (like Exchange) offers AUTH only after TLS,
    so LogicalDOC's Jakarta Mail sends without logging in, and MAIL FROM gets 530 5.7.57."""
    sb = sandbox_clean
    s = settings_for(sb, protocol="smtp", password=Secret(sb.info.password), connection_security=0,
                     auth_encrypted=False)
    report = await diagnose(s, token_cache=TokenCache())
    st = statuses(report)
    assert st["starttls"] == "skipped"
    hint = report.step("auth").hint
    assert st["auth"] == "warn" and hint.id == "auth-after-starttls-only", report_text(report)
    assert "offers STARTTLS and AUTH only after it" in hint.cause and "Connection Security to STARTTLS" in hint.fix
    assert st["envelope"] == "fail" and report.step("envelope").hint.id == "not-authenticated", report_text(report)
    assert not report.ok
    assert not any("AUTH" in l.text and l.direction == "C" for l in report.transcript)


async def test_report_save_is_private_and_redacted(sandbox_clean, sandbox_env, tmp_path):
    import os
    import stat

    sb = sandbox_clean
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    path = tmp_path / "run.txt"
    from tui.diagnostics.text import save_report

    save_report(report, path)
    text = path.read_text()
    assert "Transcript" in text and "AUTH XOAUTH2 <redacted" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sb.info.client_secret not in text and not JWT_RE.search(text)


async def test_settings_errors_never_send_the_secret(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    before = len(sb.token_events())
    report = await diagnose(settings_for(sb, sender="not an address"), token_cache=TokenCache())
    assert report.step("settings").status == "fail"
    assert report.step("token").status == "skipped" and report.step("token").detail == ["settings have errors"]
    assert not [e for e in sb.token_events()[before:] if e.get("method") == "POST"]


async def test_fixed_fault_is_not_answered_from_msal_400_cache(sandbox_clean, sandbox_env):
    """msal caches HTTP 400 answers for 60 s per app; a fresh app per run (and no POST in the shared HTTP cache)
    means a rerun after the admin fixed the problem goes to the network again."""
    sb = sandbox_clean
    cache = TokenCache()
    sb.set_fault("bad-scope")
    first = await diagnose(settings_for(sb), token_cache=cache)
    assert first.step("token").hint.id == "scope-refused-exchange-scope"
    assert "Scope is already https://outlook.office365.com/.default" in first.step("token").hint.cause
    sb.set_fault(None)
    before = len(sb.token_events())
    second = await diagnose(settings_for(sb), token_cache=cache)
    assert second.ok, report_text(second)
    assert second.token.source == "identity_provider"
    methods = [e.get("method") for e in sb.token_events()[before:]]
    assert methods == ["POST"]  # the discovery GET came from the shared cache, the token POST from the network


def test_discovery_only_cache_keeps_gets_only():
    from tui.diagnostics.token import _DiscoveryOnlyCache

    c = _DiscoveryOnlyCache()
    c["GET https://x/.well-known hash=1 2xx"] = 1
    c["POST https://x/token hash=2 400"] = 2
    c["_index_"] = 3
    assert set(c) == {"GET https://x/.well-known hash=1 2xx", "_index_"}


async def test_unreadable_ca_file(sandbox_clean, sandbox_env, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    report = await diagnose(settings_for(sandbox_clean, ca_file=str(bad)), token_cache=TokenCache())
    assert report.step("connect").status == "fail" and report.step("connect").hint.id == "ca-file-invalid"
    assert report.step("token").status == "fail" and report.step("token").hint.id == "ca-file-invalid"


async def test_refused_token_is_not_reused_and_the_next_run_says_why(sandbox_clean, sandbox_env):
    """verdict.md section 4: the admin fixes the cause (here: the sandbox fault goes away) and reruns at once; a token
    refused at AUTH must not come back from the cache."""
    sb = sandbox_clean
    cache = TokenCache()
    sb.set_fault("no-smtp-role")
    first = await diagnose(settings_for(sb), token_cache=cache)
    assert first.step("token").status == "ok" and first.model == "rbac"
    assert "authorization model: RBAC for Applications" in "\n".join(first.step("token").detail)
    auth = first.step("auth")
    assert auth.status == "fail" and auth.hint.id == "exchange-refused-token-rbac"
    assert "New-ManagementRoleAssignment -App " + sb.info.client_id in auth.hint.command
    assert f"-ObjectId {sb.info.object_id}" in auth.hint.command
    assert first.to_json()["model"] == "rbac"

    sb.set_fault(None)
    second = await diagnose(settings_for(sb), token_cache=cache)
    assert second.ok, report_text(second)
    assert second.token.source == "identity_provider"
    assert "new token: the last one was refused at AUTH (535 5.7.3" in second.step("token").detail[0]
    assert second.model == "classic"
    assert second.step("auth").detail[0] == ("235 2.7.0 Authentication successful; authorized by classic (Entra "
                                             "permission SMTP.SendAsApp)")

    third = await diagnose(settings_for(sb), token_cache=cache)
    assert third.token.source == "cache" and "new token" not in third.step("token").detail[0]

    fresh = await diagnose(settings_for(sb), token_cache=cache, fresh_token=True)
    assert fresh.token.source == "identity_provider"
    assert "new token: a fresh token was asked for" in fresh.step("token").detail[0]
    assert any(l.text == "new token: a fresh token was asked for" for l in fresh.transcript)


async def test_invalidated_token_reason_is_told_once_with_the_new_token(sandbox_clean, sandbox_env):
    """The engine invalidates after a failed claim check as after a refused AUTH; the reason waits for the entry
    (no msal import needed to record it) and is told once, with the token that replaces the dropped one."""
    sb = sandbox_clean
    cache = TokenCache()
    s = settings_for(sb)
    cache.invalidate(s, "the last one failed the claim check (tid)")  # no entry yet: kept as pending
    assert cache.renew_reason(s) == "the last one failed the claim check (tid)"
    sb.set_fault("wrong-secret")  # no token comes: the reason stays for the next attempt
    failed = await diagnose(s, token_cache=cache)
    assert failed.step("token").status == "fail"
    assert cache.renew_reason(s) == "the last one failed the claim check (tid)"
    sb.set_fault(None)
    again = await diagnose(s, token_cache=cache)
    assert again.token.source == "identity_provider"
    assert "new token: the last one failed the claim check (tid)" in again.step("token").detail[0]
    assert cache.renew_reason(s) == ""
    assert (await diagnose(s, token_cache=cache)).token.source == "cache"


async def test_rbac_for_applications_passes_and_says_which_model(sandbox_clean, sandbox_env):
    """A token without roles is normal under RBAC for Applications: AUTH decides, and the report names the model."""
    sb = sandbox_clean
    sb.set_fault("rbac")
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    assert report.ok, report_text(report)
    assert report.model == "rbac" and report.to_json()["model"] == "rbac"
    assert "roles" not in report.token.claims
    token = report.step("token")
    assert token.status in ("ok", "warn") and not token.hint  # nothing to fix
    assert any("no roles claim: RBAC for Applications" in d for d in token.detail)
    assert report.step("auth").detail[0] == ("235 2.7.0 Authentication successful; authorized by RBAC for "
                                             "Applications (Exchange role assignment)")
    assert report.step("envelope").status == "ok"


async def test_rbac_mailbox_out_of_scope_gets_the_rbac_fix_with_own_values(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("rbac-out-of-scope")
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    hint = report.step("auth").hint
    assert hint.id == "exchange-refused-token-rbac" and hint.setup_step == "S5, R1, R2, R3"
    assert f"New-ServicePrincipal -AppId {sb.info.client_id} -ObjectId {sb.info.object_id}" in hint.command
    assert f"PrimarySmtpAddress -eq '{sb.info.mailbox}'" in hint.command
    assert f"Test-ServicePrincipalAuthorization -Identity {sb.info.client_id} -Resource {sb.info.mailbox}" \
        in hint.command
    assert "Add-MailboxPermission" not in hint.command
    assert "30 minutes to 2 hours" in hint.fix
    assert report.step("envelope").status == "skipped"


async def test_over_privileged_app_passes_with_a_least_privilege_warning(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("over-privileged")
    report = await diagnose(settings_for(sb), token_cache=TokenCache())
    assert report.ok and report.model == "classic", report_text(report)
    token = report.step("token")
    assert token.status == "warn" and token.hint.id == "least-privilege"
    for role in ("full_access_as_app", "IMAP.AccessAsApp", "Mail.Read", "Mail.Send"):
        assert role in token.hint.reply
    assert "SMTP.SendAsApp lets" not in token.hint.reply
    assert "remove every permission except" in token.hint.fix
    assert "WARN  token" in report_text(report) and "least privilege: full_access_as_app lets the app" in \
        report_text(report)

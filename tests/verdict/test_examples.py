"""The issue's examples, each on a real server (our Postfix + Dovecot SASL), each with the words the admin reads.

They are samples of the kinds the matrix (test_matrix.py) covers whole; here each one also pins the step, the hint
and what the server saw (Postfix's own log), and `send` / the CLI where the example is about them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys

import pytest

from tui.diagnostics.engine import diagnose
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.mail.message import build_message
from tui.mail.send import send_test
from tui.settings.model import Settings

from tests.verdict.servers_settings import OUTSIDE, SENDER, settings

def check(s: Settings, rcpt: str = OUTSIDE):
    return asyncio.run(diagnose(s, token_cache=TokenCache(), rcpt=rcpt))


def test_use_secure_authentication_on_a_starttls_port_fails_as_logicaldoc_does(mail_servers):
    report = check(settings(mail_servers, "starttls_optional", auth_encrypted=True, username=mail_servers.sasl_user))
    step = report.step("connect")
    assert step.status == "fail" and step.hint.id == "implicit-tls-plain-port", report_text(report)
    assert "'Use secure authentication' is on, so LogicalDOC uses the smtps transport" in step.hint.cause
    assert "turn 'Use secure authentication' off" in step.hint.fix
    assert not any(l.direction == "C" and l.text.startswith("AUTH") for l in report.transcript)


@pytest.mark.parametrize("security", [0, 1])
def test_use_secure_authentication_on_an_smtps_port_passes_whatever_connection_security(mail_servers, security):
    report = check(settings(mail_servers, "smtps", auth_encrypted=True, connection_security=security,
                            username=mail_servers.sasl_user))
    assert report.ok, report_text(report)
    assert "implicit TLS from the first byte: 'Use secure authentication' is on" in \
        "\n".join(report.step("connect").detail)
    assert report.step("starttls").status == "skipped"


def test_sasl_name_logs_in(mail_servers):
    report = check(settings(mail_servers, "starttls_optional", username="svc-ldoc"))
    assert report.ok, report_text(report)
    assert report.step("settings").status in ("ok", "warn")
    assert report.step("auth").detail[0].startswith("235 ")
    assert "AUTH LOGIN as svc-ldoc" in "\n".join(report.step("auth").detail)
    mail_servers.wait_for_log(r"sasl_method=LOGIN, sasl_username=svc-ldoc")


def test_tls13_only_server_fails_as_logicaldoc_does(mail_servers):
    report = check(settings(mail_servers, "tls13_only", username=mail_servers.sasl_user))
    step = report.step("starttls")
    assert step.status == "fail" and step.hint.id == "tls13-only", report_text(report)
    assert "TLSv1.1 TLSv1.2" in step.hint.cause and "speaks only TLS 1.3" in step.hint.cause


def test_empty_username_where_the_server_requires_auth_fails_at_the_envelope(mail_servers):
    """`check` used to pass here; the first real mail got 554 5.7.1."""
    report = check(settings(mail_servers, "starttls_optional"))
    assert report.step("auth").status == "skipped"
    step = report.step("envelope")
    assert step.status == "fail" and step.hint.id == "relay-denied", report_text(report)
    assert step.hint.reply.startswith("554 5.7.1") and "Relay access denied" in step.hint.reply
    assert "Set Username and Password" in step.hint.fix and "127.0.0.1" in step.hint.fix
    assert "Microsoft" not in step.hint.cause + step.hint.fix and step.hint.command is None
    assert not report.ok


def test_username_on_a_server_offering_no_auth_sends_unauthenticated(mail_servers):
    report = check(settings(mail_servers, "relay_noauth", connection_security=0, username=mail_servers.sasl_user))
    assert report.ok, report_text(report)
    auth = report.step("auth")
    assert auth.status == "warn" and auth.hint.id == "no-auth-offered"
    assert "LogicalDOC (Jakarta Mail) sends without logging in although Username is set" in auth.hint.cause
    assert "STARTTLS" not in auth.hint.cause  # not a STARTTLS hint, as it was
    assert report.step("envelope").status == "ok"


def test_no_password_in_clear_when_starttls_is_not_offered(mail_servers):
    """Connection Security STARTTLS is opportunistic in LogicalDOC: it would send the password in clear here.
    outmail refuses, says both things, and the server never sees an AUTH."""
    marker = f"outmail-clear-{os.getpid()}"
    s = settings(mail_servers, "auth_in_clear", username=mail_servers.sasl_user, sender=f"{marker}@example.test")
    report = check(s)
    step = report.step("starttls")
    assert step.status == "fail" and step.hint.id == "refuse-cleartext-auth", report_text(report)
    assert "LogicalDOC goes on without TLS" in step.hint.cause and "outmail does not send them" in step.hint.cause
    assert report.step("auth").status == "skipped" and not report.ok
    assert not any(l.direction == "C" and l.text.upper().startswith("AUTH") for l in report.transcript)
    assert mail_servers.sasl_password not in report_text(report) + report.transcript_text()


def test_connection_security_none_is_the_admins_choice_warned(mail_servers):
    report = check(settings(mail_servers, "auth_in_clear", connection_security=0, username=mail_servers.sasl_user))
    assert report.ok, report_text(report)
    assert report.step("auth").status == "warn"
    assert "the password is sent without TLS (Connection Security None)" in "\n".join(report.step("auth").detail)
    assert mail_servers.sasl_password not in report_text(report) + report.transcript_text()


def test_self_signed_certificate_without_username_goes_on_unverified_and_says_so(mail_servers):
    """No credential at stake: LogicalDOC (ssl.trust=*) goes on; so does outmail, over the unverified session, and
    says the certificate was not verified. The envelope is then judged on that session: this server relays only for
    logged-in clients, as LogicalDOC's own send learns (the matrix compares the two)."""
    report = check(settings(mail_servers, "starttls_optional_selfsigned"))
    step = report.step("starttls")
    assert step.status == "warn" and step.hint.id == "tls-unverified-no-credential", report_text(report)
    assert "certificate NOT verified" in step.detail
    assert "LogicalDOC accepts any certificate here" in step.hint.cause
    envelope = report.step("envelope")
    assert envelope.status == "fail" and envelope.hint.id == "relay-denied", report_text(report)
    assert envelope.detail[1].startswith(f"MAIL FROM:<{SENDER}> → 250")


def test_send_through_a_relay_without_auth_as_logicaldoc_does(mail_servers):
    s = settings(mail_servers, "relay_noauth", connection_security=0)
    report = asyncio.run(send_test(s, build_message(s, [OUTSIDE]), token_cache=TokenCache()))
    assert report.ok and report.send.sent, report_text(report)
    assert report.step("auth").status == "skipped"
    assert report.send.queue_id
    mail_servers.wait_for_delivery(report.send.queue_id)


def test_send_with_a_sasl_name_over_starttls(mail_servers):
    s = settings(mail_servers, "starttls_required", connection_security=2, username=mail_servers.sasl_user)
    report = asyncio.run(send_test(s, build_message(s, [OUTSIDE]), token_cache=TokenCache()))
    assert report.ok and report.send.sent, report_text(report)
    lines = mail_servers.session_log(report.send.queue_id)
    assert any("sasl_username=svc-ldoc" in ln for ln in lines)
    assert any("TLS connection established" in ln for ln in lines)


def test_check_cli_json_against_a_real_server(mail_servers, tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(
        "[tenants.default.smtp]\n"
        'protocol = "smtp"\n'
        f'host = "{mail_servers.host}"\n'
        f"port = {mail_servers.ports['starttls_optional']}\n"
        "connectionSecurity = 1\n"
        "authEncrypted = false\n"
        'username = ""\n'
        f'sender = "{SENDER}"\n'
        "[console]\n"
        "timeout_seconds = 3\n"
        f'ca_file = "{mail_servers.ca_file}"\n')
    proc = subprocess.run([sys.executable, "-m", "tui", "check", "--config", str(path), "--json", "--rcpt", OUTSIDE],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"] is None
    by_id = {s["id"]: s for s in doc["steps"]}
    assert by_id["auth"]["status"] == "skipped" and by_id["envelope"]["status"] == "fail"
    assert by_id["envelope"]["hint"]["id"] == "relay-denied"


def test_a_sender_with_a_display_name_is_used_as_logicaldoc_does(mail_servers):
    """Sender Email "LogicalDOC <logicaldoc@example.test>": Jakarta Mail's InternetAddress takes it; MAIL FROM is the
    address, the From header keeps the name (found by a new-user trial: outmail refused it in the settings step)."""
    s = settings(mail_servers, "starttls_optional", username=mail_servers.sasl_user,
                 sender=f"LogicalDOC <{SENDER}>")
    report = check(s)
    assert report.ok, report_text(report)
    assert any(d.startswith(f"MAIL FROM:<{SENDER}> → 250") for d in report.step("envelope").detail)
    sent = asyncio.run(send_test(s, build_message(s, [OUTSIDE]), token_cache=TokenCache()))
    assert sent.ok, report_text(sent)
    assert sent.send.envelope_from == SENDER
    mail_servers.wait_for_log(rf"{sent.send.queue_id}: from=<{re.escape(SENDER)}>")  # Postfix's queue manager

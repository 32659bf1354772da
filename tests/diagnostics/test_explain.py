"""`outmail explain`: what admins actually paste (LogicalDOC's log with its stack traces, bare replies, AADSTS
messages, bounces), each with the cause words, the setup step and a fix in the configured values; secrets never
shown; unknown text said to be unknown."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tui.diagnostics.explain import explain
from tui.secret import Secret
from tui.settings.model import Settings

M365 = Settings(username="noreply@contoso.com", sender="noreply@contoso.com",
                client_id="11111111-2222-3333-4444-555555555555", client_tenant="contoso.com",
                client_secret=Secret("Abc8Q~" + "z" * 34))
SMTP = Settings(protocol="smtp", host="mail.example.net", port=587, connection_security=1, auth_encrypted=False,
                username="svc-ldoc", password=Secret("s3cret-pw!"), sender="ldoc@example.net")

AUTH_535 = """\
2026-11-29 10:42:01,123 ERROR [Email-1] c.l.c.c.EMailSender - 535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com 2026-11-29T10:42:01.998Z 08DC48BEE95C08E5]
jakarta.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com 2026-11-29T10:42:01.998Z 08DC48BEE95C08E5]

	at com.sun.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:947)
	at com.sun.mail.smtp.SMTPTransport.authenticate(SMTPTransport.java:858)
	at jakarta.mail.Service.connect(Service.java:342)
	at com.logicaldoc.core.communication.EMailSender.buildTransport(EMailSender.java:412)
"""

PKIX = """\
2026-11-29 10:43:00,001 ERROR [Email-2] c.l.c.c.EMailSender - Could not connect to SMTP host: mail.example.net, port: 465
jakarta.mail.MessagingException: Could not connect to SMTP host: mail.example.net, port: 465;
  nested exception is:
	javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
	at com.sun.mail.smtp.SMTPTransport.openServer(SMTPTransport.java:2211)
Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
	at java.base/sun.security.ssl.Alert.createSSLException(Alert.java:131)
	... 12 more
"""

REFUSED = """\
com.sun.mail.util.MailConnectException: Couldn't connect to host, port: smtp.example.org, 2525; timeout -1;
  nested exception is:
	java.net.ConnectException: Connection refused
	at com.sun.mail.smtp.SMTPTransport.openServer(SMTPTransport.java:2209)
"""

UNKNOWN_HOST = """\
jakarta.mail.MessagingException: Unknown SMTP host: smtp.offic365.com;
  nested exception is:
	java.net.UnknownHostException: smtp.offic365.com
"""

READ_TIMEOUT = """\
jakarta.mail.MessagingException: Exception reading response;
  nested exception is:
	java.net.SocketTimeoutException: Read timed out
"""

SENDAS = """\
com.sun.mail.smtp.SMTPSendFailedException: 554 5.2.252 SendAsDenied; noreply@contoso.com not allowed to send as ceo@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. [AM6PR04MB1234.eurprd04.prod.outlook.com 2026-11-29T10:44:00.000Z 08DC0000]
	at com.sun.mail.smtp.SMTPTransport.issueSendCommand(SMTPTransport.java:2374)
"""

TOKEN_IOEXCEPTION = """\
2026-11-29 10:45:00,000 ERROR [Email-3] c.l.c.c.EMailSender - invalid_client - AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'. Trace ID: 0f1e Correlation ID: 9a8b Timestamp: 2026-11-29 10:45:00Z
java.io.IOException: invalid_client - AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'.
	at com.logicaldoc.core.communication.oauth.Microsoft365TokenProvider.getAccessToken(Microsoft365TokenProvider.java:77)
"""

STARTTLS_REQUIRED = "jakarta.mail.MessagingException: STARTTLS is required but host does not support STARTTLS\n"
RELAY = """\
com.sun.mail.smtp.SMTPAddressFailedException: 554 5.7.1 <someone@external.test>: Relay access denied
	at com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2064)
"""
NDR = """\
Reporting-MTA: dns;AM6PR04MB1234.eurprd04.prod.outlook.com
Final-Recipient: rfc822;someone@external.test
Action: failed
Status: 5.7.708
Diagnostic-Code: smtp; 550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7230)
"""
NOSEND = "2026-11-29 10:46:00,000 INFO [Email-4] c.l.c.c.EMailSender - Email with subject 'Hello' not sent because of the config parameter smtp.nosend\n"
SMTPS_ON_587 = """\
jakarta.mail.MessagingException: Could not connect to SMTP host: mail.example.net, port: 587;
  nested exception is:
	javax.net.ssl.SSLException: Unsupported or unrecognized SSL message
"""


@pytest.mark.parametrize("text,settings,hint_id,step,words", [
    (AUTH_535, M365, "exchange-refused-token-any-model", "S5, S6, R1, R2",
     'Add-MailboxPermission -Identity "noreply@contoso.com"'),
    (AUTH_535, None, "exchange-refused-login", "S5, S6, R1, R2, S8", "With SMTP (a password)"),
    (AUTH_535, SMTP.with_changes(host="smtp.office365.com"), "basic-auth-exchange", "S8", "switch Protocol to SMTP "
     "Microsoft 365"),
    (PKIX, None, "tls-verify-logicaldoc", None, "Java trust store"),  # LogicalDOC's store, not outmail's ca_file
    (PKIX, SMTP.with_changes(auth_encrypted=True, port=465), "tls-verify-logicaldoc", None, "Java trust store"),
    (REFUSED, None, "connect-refused", None, "smtp.example.org:2525"),
    (UNKNOWN_HOST, None, "dns-failure", None, "smtp.offic365.com"),  # a typo: not a host outmail knows as Microsoft's
    (READ_TIMEOUT, SMTP, "logicaldoc-read-timeout", None, "mail.example.net:587 stopped getting answers"),
    (SENDAS, M365, "sendas-denied", "S7", 'Add-RecipientPermission "ceo@contoso.com"'),  # the From refused
    (TOKEN_IOEXCEPTION, M365, "invalid-secret", "S2", "AADSTS7000215"),
    (STARTTLS_REQUIRED, SMTP, "starttls-required-missing", None, "mail.example.net:587 does not offer it"),
    (RELAY, SMTP, "relay-denied", None, "mail.example.net refuses to relay"),
    (NDR, None, "ip-blocked", None, "Outbound restriction"),
    (NOSEND, None, "nosend", None, "smtp.nosend"),
    (SMTPS_ON_587, None, "implicit-tls-plain-port", None, "mail.example.net:587 speaks plain SMTP"),
    ("535 5.7.8 Error: authentication failed: authentication failure", SMTP, "password-rejected", None,
     "mail.example.net refused the Username and Password"),
    ("AADSTS700016: Application with identifier 'x' was not found in the directory 'contoso.com'.", M365,
     "unknown-client", "S1", "Application (client) ID"),
])
def test_logicaldoc_shaped_pastes(text, settings, hint_id, step, words):
    result = explain(text, settings)
    assert len(result.findings) == 1, result.to_text()
    f = result.findings[0]
    assert f.hint is not None and f.hint.id == hint_id, result.to_text()
    assert f.hint.setup_step == step
    blob = f.hint.cause + f.hint.fix + (f.hint.command or "")
    assert words in blob, blob
    assert f.matched.rstrip("…") in text  # the line it matched, as pasted (cut at 300 characters)
    assert result.ok
    assert result.to_json()["findings"][0]["hint"]["id"] == hint_id
    assert f"line {f.line}: " in result.to_text()


def test_a_wrapper_and_its_cause_are_one_error_and_the_cause_wins():
    result = explain(PKIX)
    assert [f.hint.id for f in result.findings] == ["tls-verify-logicaldoc"]
    assert "PKIX path building failed" in result.findings[0].matched


def test_several_errors_each_explained_in_order():
    text = NOSEND + "\n" + TOKEN_IOEXCEPTION + "\n" + REFUSED + "\n451 4.7.500 Server busy, please try again later.\n"
    result = explain(text, M365)
    assert [f.hint.id for f in result.findings] == ["nosend", "invalid-secret", "connect-refused", "server-busy"]
    lines = [f.line for f in result.findings]
    assert lines == sorted(lines)


def test_unknown_reply_gets_its_class_and_says_not_known():
    result = explain("451 4.3.0 Mail server temporarily rejected message.")
    assert not result.ok
    (f,) = result.findings
    assert f.klass == "temporary" and f.hint.id == "smtp-temporary" and not f.known
    assert "not known" in result.to_text() and "temporary error (451 4.3.0)" in f.hint.cause
    f = explain("554 5.6.99 Something odd").findings[0]
    assert f.klass == "permanent" and not f.known


def test_text_with_nothing_known_is_never_guessed():
    result = explain("the printer is on fire\nplease help")
    assert result.findings == [] and not result.ok
    assert result.to_text().startswith("outmail explain: not known")
    assert result.to_json() == {"ok": False, "findings": []}
    assert explain("").findings == []


def test_successful_replies_in_a_pasted_transcript_are_not_errors():
    text = ("S: 220 mail.example.net ESMTP Postfix\nC: EHLO ldoc\nS: 250-mail.example.net\nS: 250 AUTH PLAIN LOGIN\n"
            "S: 235 2.7.0 Authentication successful\nS: 550 5.7.1 <x@example.net>: Relay access denied\n")
    result = explain(text, SMTP)
    assert [f.hint.id for f in result.findings] == ["relay-denied"]


def test_secrets_in_the_paste_are_redacted_everywhere():
    secret = "Xy9" + "8Q~" + "k" * 34
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJl"
    text = (f"client_secret={secret}&grant_type=client_credentials\n"
            f"Authorization: Bearer {token}\n"
            "C: AUTH PLAIN AHN2Yy1sZG9jAHN2YzpQYTU1LXcwcmQh\n"
            "S: 334 \nC: c3ZjLWxkb2M=\n"
            f"smtp.clientSecret={secret}\n"
            "smtp.password=s3cret-pw!\n"
            "password=secret pass phrase\n"
            "smtp.password = other secret words\n"
            'password: "Plain Pw With Space"\n'
            "clientSecret=NotEntraShapeSecret4567\n"
            "clientSecret: 'Quoted Secret 1'\n"
            'access_token: "opaque-token-value"\n'
            "535 5.7.8 Error: authentication failed: authentication failure\n")
    result = explain(text, SMTP)
    shown = result.to_text() + json.dumps(result.to_json())
    for leaked in (secret, token, token.split(".")[1], "AHN2Yy1sZG9jAHN2YzpQYTU1LXcwcmQh", "c3ZjLWxkb2M=",
                   "s3cret-pw!", "pass phrase", "other secret words", "Plain Pw", "NotEntraShapeSecret4567",
                   "Quoted Secret 1", "opaque-token-value"):
        assert leaked not in shown
    assert [f.hint.id for f in result.findings] == ["password-rejected"]


def run_cli(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "tui", "explain", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def test_cli_text_stdin_json_and_exit_codes(tmp_path):
    proc = run_cli("550", "5.7.60", "SMTP;", "Client", "does", "not", "have", "permissions", "to", "send", "as",
                   "this", "sender", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Setup step: S7 Send As" in proc.stdout
    proc = run_cli("-", "--json", stdin=PKIX + "\n" + RELAY, cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["ok"] is True
    assert [f["hint"]["id"] for f in doc["findings"]] == ["tls-verify-logicaldoc", "relay-denied"]
    proc = run_cli("-", "--json", stdin="nothing to see", cwd=tmp_path)
    assert proc.returncode == 1 and json.loads(proc.stdout) == {"ok": False, "findings": []}
    proc = run_cli("--json", "--bogus", cwd=tmp_path)  # argparse's error, as JSON too
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["kind"] == "arguments"
    proc = run_cli("-", "--json", stdin="", cwd=tmp_path)
    assert proc.returncode == 2 and "nothing to explain" in json.loads(proc.stdout)["error"]["message"]
    proc = run_cli("--config", str(tmp_path / "missing.toml"), "--json", "535 5.7.3 x", cwd=tmp_path)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["kind"] == "settings"


def test_cli_fills_the_fix_from_the_settings_file(tmp_path):
    (tmp_path / "settings.toml").write_text(
        '[tenants.default.smtp]\nprotocol = "smtpmicrosoft365"\nhost = "smtp.office365.com"\nport = 587\n'
        'username = "box@contoso.com"\nsender = "box@contoso.com"\n'
        'clientId = "11111111-2222-3333-4444-555555555555"\nclientTenant = "contoso.com"\n'
        'clientSecret = "Abc8Q~zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"\n')
    proc = run_cli("535 5.7.3 Authentication unsuccessful [X]", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "New-ServicePrincipal -AppId 11111111-2222-3333-4444-555555555555" in proc.stdout
    assert 'Add-MailboxPermission -Identity "box@contoso.com"' in proc.stdout
    assert "Abc8Q~" not in proc.stdout


BOUNCE = """\
This is the mail system at host mail.example.net.

I'm sorry to have to inform you that your message could not be delivered to one or more recipients.

<nobody@example.org>: host mx.example.org[203.0.113.5] said: 550 5.1.1 <nobody@example.org>: Recipient address
    rejected: User unknown in local recipient table (in reply to RCPT TO command)

Reporting-MTA: dns; mail.example.net
Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table
"""


def test_a_bounce_is_one_error_named_with_the_server_it_talked_to():
    result = explain(BOUNCE)
    assert [f.hint.id for f in result.findings] == ["recipient-unknown"], result.to_text()
    assert "mx.example.org does not know the recipient" in result.findings[0].hint.cause
    assert "<server>" not in result.to_text()


def test_the_server_the_paste_names_wins_over_the_settings():
    result = explain(UNKNOWN_HOST, SMTP)  # SMTP's host is mail.example.net
    assert "The server name smtp.offic365.com does not resolve" in result.findings[0].hint.cause
    result = explain(REFUSED, SMTP)
    assert "smtp.example.org:2525" in result.findings[0].hint.cause


def test_the_mechanism_jakarta_mail_used_decides_not_its_list():
    debug = ("DEBUG SMTP: Attempt to authenticate using mechanisms: LOGIN PLAIN DIGEST-MD5 NTLM XOAUTH2\n"
             "DEBUG SMTP: Using mechanism LOGIN\n"
             "jakarta.mail.AuthenticationFailedException: 535 5.7.8 Error: authentication failed: authentication "
             "failure\n")
    result = explain(debug)
    assert [f.hint.id for f in result.findings] == ["password-rejected"], result.to_text()


def test_identical_errors_are_reported_once_at_their_first_line():
    text = "\n".join(["550 5.7.1 <a@b.test>: Relay access denied"] * 3)
    (f,) = explain(text).findings
    assert f.line == 1

"""Hints on real servers (issue 10): a Postfix server is explained in its own terms, with the configured host and
port, never with Microsoft's setup steps or PowerShell; the mechanism of the login decides the 535's explanation."""

from __future__ import annotations

import asyncio
import socket

from tests.verdict.servers_settings import settings
from tui.diagnostics.engine import diagnose
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.secret import Secret
from tui.settings.store import load_settings

MICROSOFT = ("Entra", "New-ServicePrincipal", "smtp.office365.com", "Exchange Online PowerShell", "S9")


def run(s, **kw):
    return asyncio.run(diagnose(s, token_cache=TokenCache(), **kw))


def assert_no_microsoft_advice(hint):
    text = hint.cause + hint.fix + (hint.command or "")
    assert hint.setup_step is None and hint.command is None, hint
    for word in MICROSOFT:
        assert word not in text, (word, hint)


def test_wrong_password_on_postfix_is_a_password_problem_not_oauth(mail_servers):
    s = settings(mail_servers, "starttls_optional", username=mail_servers.sasl_user, password=Secret("wrong-pw-1"))
    report = run(s)
    hint = report.step("auth").hint
    assert report.step("auth").status == "fail" and hint.id == "password-rejected", report_text(report)
    assert hint.reply.startswith("535 5.7.8")
    assert "127.0.0.1 refused the Username and Password" in hint.cause
    assert_no_microsoft_advice(hint)


def test_connection_refused_names_the_configured_port(mail_servers):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    s = settings(mail_servers, "relay_noauth").with_changes(port=port)
    hint = run(s).step("connect").hint
    assert hint.id == "connect-refused" and f"127.0.0.1:{port}" in hint.cause and "587" not in hint.cause + hint.fix
    assert_no_microsoft_advice(hint)


def test_silent_implicit_tls_port_says_implicit_tls(mail_servers):
    report = run(settings(mail_servers, "smtps", connection_security=1, timeout_seconds=1.5))
    step = report.step("ehlo")
    assert step.status == "fail" and step.hint.id == "plain-on-implicit-tls-port", report_text(report)
    assert "expects implicit TLS (SMTPS)" in step.hint.cause and "Connection Security to SSL" in step.hint.fix


def test_microsoft_365_protocol_pointed_at_postfix(mail_servers, sandbox_clean, sandbox_env):
    """Protocol SMTP Microsoft 365 with a Postfix host: the token comes from the sandbox, the SMTP side is Postfix,
    and its hints are Postfix's (the certificate's own names; no S9)."""
    sb = sandbox_clean
    base = load_settings(sb.info.settings_path, env={})
    bundle = mail_servers.base / "both-cas.pem"
    bundle.write_text(open(sb.info.ca_file).read() + open(mail_servers.ca_file).read())
    s = base.with_changes(host="127.0.0.1", port=mail_servers.ports["starttls_optional_wrongname"],
                          timeout_seconds=3.0, ca_file=str(bundle))
    report = run(s)
    step = report.step("starttls")
    assert step.status == "fail" and step.hint.id == "tls-hostname-other", report_text(report)
    assert any("mail.wrong-name.test" in d for d in step.detail)  # the certificate's names, shown with the fix
    assert "its names are in this step's detail" in step.hint.fix
    assert_no_microsoft_advice(step.hint)

    s = s.with_changes(port=mail_servers.ports["starttls_optional"])
    report = run(s)
    step = report.step("starttls")
    assert step.status == "fail" and step.hint.id == "xoauth2-not-offered", report_text(report)
    assert step.hint.setup_step is None and "it is not Exchange Online" in step.hint.cause

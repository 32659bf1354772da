"""The test infrastructure itself: the real mail servers and the LogicalDOC stand-in behave as promised.

The servers (fixture `mail_servers`, tests/servers/mailservers.py): our own Postfix with Dovecot SASL, on 127.0.0.1
only, nothing relayed off the machine (accepted mail is discarded). Listeners, by name in `mail_servers.ports`:

- `relay_noauth`: internal relay, no TLS, no AUTH offered, relays for 127.0.0.0/8 (LogicalDOC with an empty
  Username).
- `starttls_optional`: STARTTLS offered, AUTH PLAIN LOGIN only after it, relay only for authenticated clients
  (unauthenticated: `554 5.7.1 ... Relay access denied` at RCPT TO).
- `starttls_required`: as above with TLS mandatory (`530 5.7.0 Must issue a STARTTLS command first`).
- `smtps`: implicit TLS from the first byte, AUTH PLAIN LOGIN, relay for authenticated only.
- `plain_only`, `login_only`: as `starttls_optional`, announcing AUTH PLAIN only, resp. LOGIN only.
- `auth_in_clear`: no TLS at all, AUTH PLAIN LOGIN in clear, relay for authenticated only.
- `tls13_only`: as `starttls_optional` with TLS 1.3 only; `smtps_tls13_only`: as `smtps` with TLS 1.3 only.
- `starttls_optional_selfsigned`, `starttls_required_selfsigned`, `smtps_selfsigned`: a self-signed certificate.
- `starttls_optional_wrongname`, `smtps_wrongname`: a certificate from the private CA for another name only.

Certificates: the private CA (`ca_file`) issued the default one for 127.0.0.1 and localhost.
Users (Dovecot passwd-file): `ldoc@example.test` (email-shaped) and `svc-ldoc` (a plain SASL name).

The stand-in (tests/servers/standin.py) is LogicalDOC's EMailSender on Debian's Jakarta Mail 2.0.0; these tests pin
what it does, which is what outmail's verdict must predict.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.servers.mailservers import IMPLICIT_TLS, LISTENER_NAMES, MailServers
from tests.servers.standin import StandinCase, run_logicaldoc_sender

H = "127.0.0.1"
EXTERNAL = "someone@external.test"
CLIENT_NAME = "client.outmail.test"


# ---- helpers --------------------------------------------------------------------------------------------------------
def ca_context(servers: MailServers, **kw) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(servers.ca_file))
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def connect(servers: MailServers, name: str, *, tls: ssl.SSLContext | None = None, host: str = H,
            timeout: float = 5) -> smtplib.SMTP:
    """An SMTP client after EHLO on listener `name`; with `tls`, after STARTTLS (or implicit TLS) and EHLO again."""
    port = servers.ports[name]
    if name in IMPLICIT_TLS:
        s: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls or ca_context(servers))
        s.ehlo(CLIENT_NAME)
        return s
    s = smtplib.SMTP(host, port, timeout=timeout)
    s.ehlo(CLIENT_NAME)
    if tls is not None:
        s.starttls(context=tls)
        s.ehlo(CLIENT_NAME)
    return s


def auth_mechanisms(s: smtplib.SMTP) -> set[str]:
    return set(s.esmtp_features.get("auth", "").upper().split())


def send(s: smtplib.SMTP, to: str = EXTERNAL, sender: str = "logicaldoc@example.test") -> str:
    """MAIL FROM / RCPT TO / DATA; the queue id from `250 2.0.0 Ok: queued as <id>`."""
    assert s.mail(sender)[0] == 250
    code, msg = s.rcpt(to)
    assert code == 250, (code, msg)
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, "outmail infrastructure test"
    m.set_content("hello")
    code, msg = s.data(m.as_bytes())
    assert code == 250, (code, msg)
    found = re.search(rb"queued as ([0-9A-F]+)", msg)
    assert found, msg
    return found.group(1).decode()


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as in /proc/net/tcp) with a listening socket on `port`."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            out.add(addr)
    return out


# ---- the servers ----------------------------------------------------------------------------------------------------
def test_every_listener_listens_on_loopback_only(mail_servers):
    assert set(mail_servers.ports) == set(LISTENER_NAMES)
    assert len(set(mail_servers.ports.values())) == len(LISTENER_NAMES)
    for name, port in mail_servers.ports.items():
        assert listening_addresses(port) == {"0100007F"}, name  # 127.0.0.1, nothing else
    postconf = subprocess.run(["postconf", "-c", str(mail_servers.conf_dir), "-h", "inet_interfaces", "relayhost",
                               "default_transport", "relay_transport", "local_transport", "smtp_dns_support_level"],
                              capture_output=True, text=True, check=True, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
    inet, relayhost, *transports, dns = postconf.stdout.splitlines()
    assert (inet, relayhost, dns) == ("127.0.0.1", "", "disabled")
    assert all(t.startswith("discard:") for t in transports), transports


def test_relay_noauth_relays_for_localhost_without_tls_or_auth(mail_servers):
    with connect(mail_servers, "relay_noauth") as s:
        assert not s.has_extn("starttls")
        assert not s.has_extn("auth")
        queue_id = send(s)
    line = mail_servers.wait_for_delivery(queue_id)
    assert f"to=<{EXTERNAL}>" in line and "status=sent" in line
    assert not any("sasl_" in ln for ln in mail_servers.session_log(queue_id))


def test_starttls_optional_offers_auth_only_after_tls_and_denies_relay_without_it(mail_servers):
    with connect(mail_servers, "starttls_optional") as s:
        assert s.has_extn("starttls")
        assert not s.has_extn("auth")
        assert s.mail("logicaldoc@example.test")[0] == 250
        code, msg = s.rcpt(EXTERNAL)
        assert code == 554 and b"5.7.1" in msg and b"Relay access denied" in msg, (code, msg)
    with connect(mail_servers, "starttls_optional", tls=ca_context(mail_servers)) as s:
        assert auth_mechanisms(s) == {"PLAIN", "LOGIN"}
        assert s.mail("logicaldoc@example.test")[0] == 250
        code, msg = s.rcpt(EXTERNAL)
        assert code == 554 and b"Relay access denied" in msg, (code, msg)


@pytest.mark.parametrize("who", ["sasl", "email"])
def test_starttls_optional_relays_for_both_users_after_auth(mail_servers, who):
    user, password = ((mail_servers.sasl_user, mail_servers.sasl_password) if who == "sasl"
                      else (mail_servers.email_user, mail_servers.email_password))
    with connect(mail_servers, "starttls_optional", tls=ca_context(mail_servers)) as s:
        assert s.login(user, password)[0] == 235
        queue_id = send(s)
    mail_servers.wait_for_delivery(queue_id)
    session = "\n".join(mail_servers.session_log(queue_id))
    assert f"sasl_username={user}" in session


def test_wrong_password_gets_535(mail_servers):
    with connect(mail_servers, "starttls_optional", tls=ca_context(mail_servers)) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.login(mail_servers.sasl_user, "not the password")
    assert err.value.smtp_code == 535 and b"5.7.8" in err.value.smtp_error


def test_starttls_required_refuses_mail_before_tls(mail_servers):
    with connect(mail_servers, "starttls_required") as s:
        assert s.has_extn("starttls") and not s.has_extn("auth")
        code, msg = s.mail("logicaldoc@example.test")
        assert code == 530 and b"5.7.0 Must issue a STARTTLS command first" in msg, (code, msg)
    with connect(mail_servers, "starttls_required", tls=ca_context(mail_servers)) as s:
        assert auth_mechanisms(s) == {"PLAIN", "LOGIN"}
        s.login(mail_servers.sasl_user, mail_servers.sasl_password)
        mail_servers.wait_for_delivery(send(s))


@pytest.mark.parametrize("name", sorted(IMPLICIT_TLS))
def test_smtps_listeners_speak_tls_from_the_first_byte(mail_servers, name):
    with socket.create_connection((H, mail_servers.ports[name]), timeout=5) as raw:
        raw.sendall(b"EHLO " + CLIENT_NAME.encode() + b"\r\n")  # plain text where a ClientHello is expected
        data = b""
        try:
            while chunk := raw.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
    assert not data.startswith(b"220")  # no SMTP greeting in clear; the server hung up (or reset)
    ctx = ca_context(mail_servers, check_hostname=False, verify_mode=ssl.CERT_NONE)
    with connect(mail_servers, name, tls=ctx) as s:
        assert not s.has_extn("starttls")
        assert auth_mechanisms(s) == {"PLAIN", "LOGIN"}


def test_smtps_authenticated_send(mail_servers):
    with connect(mail_servers, "smtps") as s:
        s.login(mail_servers.email_user, mail_servers.email_password)
        queue_id = send(s)
    mail_servers.wait_for_delivery(queue_id)


@pytest.mark.parametrize(("name", "mechanism"), [("plain_only", "PLAIN"), ("login_only", "LOGIN")])
def test_mechanism_restricted_listeners(mail_servers, name, mechanism):
    """Only `mechanism` is announced, and it works. (Postfix's filter is on the announcement only: a client that
    uses the other one unannounced is still served; Jakarta Mail and smtplib pick from the announced list.)"""
    with connect(mail_servers, name, tls=ca_context(mail_servers)) as s:
        assert auth_mechanisms(s) == {mechanism}
        s.login(mail_servers.sasl_user, mail_servers.sasl_password)
        queue_id = send(s)
    mail_servers.wait_for_delivery(queue_id)
    assert f"sasl_method={mechanism}," in "\n".join(mail_servers.session_log(queue_id))
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    with connect(mail_servers, name, tls=ca_context(mail_servers)) as s:
        s.user, s.password = mail_servers.sasl_user, mail_servers.sasl_password
        assert s.auth(other, getattr(s, f"auth_{other.lower()}"), initial_response_ok=True)[0] == 235


def test_auth_in_clear_offers_auth_without_tls(mail_servers):
    with connect(mail_servers, "auth_in_clear") as s:
        assert not s.has_extn("starttls")
        assert auth_mechanisms(s) == {"PLAIN", "LOGIN"}
        assert s.mail("logicaldoc@example.test")[0] == 250
        code, msg = s.rcpt(EXTERNAL)
        assert code == 554 and b"Relay access denied" in msg
        s.rset()
        s.login(mail_servers.sasl_user, mail_servers.sasl_password)
        mail_servers.wait_for_delivery(send(s))


@pytest.mark.parametrize(("name", "control"), [("tls13_only", "starttls_optional"), ("smtps_tls13_only", "smtps")])
def test_tls13_only_refuses_tls12_and_accepts_tls13(mail_servers, name, control):
    tls12 = ca_context(mail_servers, maximum_version=ssl.TLSVersion.TLSv1_2)
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|protocol version"):
        connect(mail_servers, name, tls=tls12).close()
    with connect(mail_servers, name, tls=ca_context(mail_servers)) as s:
        assert s.sock.version() == "TLSv1.3"
        assert auth_mechanisms(s) == {"PLAIN", "LOGIN"}
    with connect(mail_servers, control, tls=tls12) as s:  # the control: TLS 1.2 works elsewhere
        assert s.sock.version() == "TLSv1.2"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_ca_certificate_verifies_for_both_names(mail_servers, host):
    with connect(mail_servers, "starttls_optional", tls=ca_context(mail_servers), host=host) as s:
        assert s.has_extn("auth")
    with connect(mail_servers, "smtps", host=host) as s:
        assert s.has_extn("auth")


@pytest.mark.parametrize("name", ["starttls_optional_selfsigned", "starttls_required_selfsigned",
                                  "smtps_selfsigned"])
def test_selfsigned_listeners_fail_the_ca_and_pass_their_own_certificate(mail_servers, name):
    with pytest.raises(ssl.SSLCertVerificationError, match="self.signed"):
        connect(mail_servers, name, tls=ca_context(mail_servers)).close()
    own = ssl.create_default_context(cafile=str(mail_servers.selfsigned_cert_file))
    with connect(mail_servers, name, tls=own) as s:
        assert auth_mechanisms(s) == {"PLAIN", "LOGIN"}


@pytest.mark.parametrize("name", ["starttls_optional_wrongname", "smtps_wrongname"])
def test_wrongname_listeners_have_a_trusted_certificate_for_another_name(mail_servers, name):
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|doesn't match|not valid for"):
        connect(mail_servers, name, tls=ca_context(mail_servers)).close()
    with connect(mail_servers, name, tls=ca_context(mail_servers, check_hostname=False)) as s:
        assert s.has_extn("auth")


# Its own servers, not the fixture's: grouped with the other Postfix tests anyway (as tests/verdict/conftest.py says of
# this folder), else it is handed out last (collection order) and its start and stop (2-3 s) end the parallel run.
@pytest.mark.xdist_group("mail_servers")
def test_stop_ends_every_process_and_removes_the_directory():
    servers = MailServers()
    servers.start()
    base = servers.base
    master = servers._master_pid()
    dovecot = servers._dovecot.pid
    servers.stop()
    assert base is not None and not base.exists()
    for pid in (master, dovecot):
        assert pid is not None and not Path(f"/proc/{pid}").exists(), pid
    servers.stop()  # twice is harmless


# ---- the LogicalDOC stand-in ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def standin(mail_servers):
    """Every stand-in case of this module, run in one JVM, all at once; name -> StandinResult."""
    P, ms = mail_servers.ports, mail_servers
    svc = {"username": ms.sasl_user, "password": ms.sasl_password}
    cases = {
        "relay_empty_user": StandinCase(H, P["relay_noauth"]),
        "relay_with_user": StandinCase(H, P["relay_noauth"], debug=True, **svc),
        "optional_empty_user": StandinCase(H, P["starttls_optional"], connection_security=1),
        "optional_cs1_svc": StandinCase(H, P["starttls_optional"], connection_security=1, **svc),
        "optional_cs1_email": StandinCase(H, P["starttls_optional"], connection_security=1,
                                          username=ms.email_user, password=ms.email_password),
        "optional_cs0_svc": StandinCase(H, P["starttls_optional"], debug=True, **svc),
        "optional_cs1_wrong_password": StandinCase(H, P["starttls_optional"], connection_security=1,
                                                   username=ms.sasl_user, password="not the password", debug=True),
        "optional_auth_encrypted": StandinCase(H, P["starttls_optional"], connection_security=1,
                                               auth_encrypted=True, **svc),
        "required_cs0_svc": StandinCase(H, P["starttls_required"], **svc),
        "smtps_cs0": StandinCase(H, P["smtps"], timeout_ms=1500, **svc),
        "smtps_cs3": StandinCase(H, P["smtps"], connection_security=3, **svc),
        "smtps_selfsigned_cs3": StandinCase(H, P["smtps_selfsigned"], connection_security=3, **svc),
        "smtps_selfsigned_auth_encrypted": StandinCase(H, P["smtps_selfsigned"], auth_encrypted=True, **svc),
        "smtps_auth_encrypted": StandinCase(H, P["smtps"], auth_encrypted=True, **svc),
        "smtps_auth_encrypted_ca_trusted": StandinCase(H, P["smtps"], auth_encrypted=True,
                                                       trust_ca=str(ms.ca_file), **svc),
        "smtps_wrongname_auth_encrypted_ca_trusted": StandinCase(H, P["smtps_wrongname"], auth_encrypted=True,
                                                                 trust_ca=str(ms.ca_file), **svc),
        "required_selfsigned_cs2": StandinCase(H, P["starttls_required_selfsigned"], connection_security=2, **svc),
        "wrongname_cs1": StandinCase(H, P["starttls_optional_wrongname"], connection_security=1, **svc),
        "tls13_cs1": StandinCase(H, P["tls13_only"], connection_security=1, **svc),
        "smtps_tls13_cs3": StandinCase(H, P["smtps_tls13_only"], connection_security=3, **svc),
        "smtps_tls13_auth_encrypted_ca_trusted": StandinCase(H, P["smtps_tls13_only"], auth_encrypted=True,
                                                             trust_ca=str(ms.ca_file), **svc),
        "plain_only_cs1": StandinCase(H, P["plain_only"], connection_security=1, **svc),
        "login_only_cs1": StandinCase(H, P["login_only"], connection_security=1, **svc),
        "clear_cs0": StandinCase(H, P["auth_in_clear"], **svc),
        "clear_cs1": StandinCase(H, P["auth_in_clear"], connection_security=1, **svc),
        "clear_cs2": StandinCase(H, P["auth_in_clear"], connection_security=2, **svc),
    }
    return dict(zip(cases, run_logicaldoc_sender(cases.values(), threads=len(cases))))


def queue_id_of(result) -> str:
    m = re.search(r"queued as ([0-9A-F]+)", result.reply or "")
    assert m, result
    return m.group(1)


def assert_sent(mail_servers, result, *, sasl_user: str | None) -> list[str]:
    """The stand-in's send went all the way through Postfix (queued, then discarded); its session's log lines."""
    assert result.ok, result.text
    queue_id = queue_id_of(result)
    mail_servers.wait_for_delivery(queue_id)
    session = mail_servers.session_log(queue_id)
    joined = "\n".join(session)
    if sasl_user is None:
        assert "sasl_username=" not in joined
    else:
        assert f"sasl_username={sasl_user}" in joined
    return session


def test_standin_relay_with_empty_username_sends_without_auth(mail_servers, standin):
    assert_sent(mail_servers, standin["relay_empty_user"], sasl_user=None)


def test_standin_username_without_auth_offered_sends_unauthenticated(mail_servers, standin):
    """Username set, the server offers no AUTH: Jakarta Mail skips AUTH silently and sends anyway."""
    result = standin["relay_with_user"]
    assert_sent(mail_servers, result, sasl_user=None)
    assert "useAuth true" in result.transcript and "Attempt to authenticate" not in result.transcript


def test_standin_empty_username_on_submission_port_is_relay_denied(standin):
    result = standin["optional_empty_user"]
    assert not result.ok
    assert result.exception == "jakarta.mail.SendFailedException"
    assert "com.sun.mail.smtp.SMTPAddressFailedException" in result.classes
    assert "554 5.7.1" in result.text and "Relay access denied" in result.text


def test_standin_username_with_cs0_where_auth_needs_tls_is_relay_denied_not_auth_failed(standin):
    """Connection Security None on a port that offers AUTH only after STARTTLS: no AUTH is tried at all, the
    failure comes at RCPT TO."""
    result = standin["optional_cs0_svc"]
    assert not result.ok and "554 5.7.1" in result.text and "Relay access denied" in result.text
    commands = [ln.strip() for ln in result.transcript.splitlines()]
    assert "250-STARTTLS" in commands and "STARTTLS" not in commands  # offered, not used
    assert "Attempt to authenticate" not in result.transcript


@pytest.mark.parametrize(("case", "user"), [("optional_cs1_svc", "svc-ldoc"),
                                            ("optional_cs1_email", "ldoc@example.test"),
                                            ("plain_only_cs1", "svc-ldoc"), ("login_only_cs1", "svc-ldoc"),
                                            ("smtps_cs3", "svc-ldoc"), ("clear_cs0", "svc-ldoc")])
def test_standin_authenticated_sends(mail_servers, standin, case, user):
    assert_sent(mail_servers, standin[case], sasl_user=user)


def test_standin_uses_tls12_with_java17(mail_servers, standin):
    """`ssl.protocols = "TLSv1.1 TLSv1.2"` on Java 17 (TLS 1.1 disabled by the JDK): TLS 1.2."""
    session = "\n".join(assert_sent(mail_servers, standin["optional_cs1_svc"], sasl_user="svc-ldoc"))
    assert re.search(r"TLS connection established from .*: TLSv1\.2 ", session), session


def test_standin_tls13_only_server_fails(standin):
    result = standin["tls13_cs1"]
    assert not result.ok
    assert result.message == "Could not convert socket to TLS"
    assert "javax.net.ssl.SSLHandshakeException" in result.classes and "protocol_version" in result.text


@pytest.mark.parametrize("case", ["smtps_tls13_cs3", "smtps_tls13_auth_encrypted_ca_trusted"])
def test_standin_tls13_only_smtps_fails_on_both_transports(standin, case):
    """`ssl.protocols` is set for smtp and for smtps: neither implicit-TLS path reaches a TLS 1.3-only server."""
    result = standin[case]
    assert not result.ok
    assert result.message.startswith("Could not connect to SMTP host: 127.0.0.1")
    assert "javax.net.ssl.SSLHandshakeException" in result.classes and "protocol_version" in result.text


def test_standin_wrong_password_is_535(standin):
    result = standin["optional_cs1_wrong_password"]
    assert not result.ok and result.exception == "jakarta.mail.AuthenticationFailedException"
    assert "535 5.7.8" in result.message
    # Service.connect asks the Authenticator again after a failed login: two connections, two AUTH attempts.
    assert result.transcript.count("AUTH LOGIN failed") == 2


def test_standin_auth_encrypted_against_starttls_port_fails(standin):
    result = standin["optional_auth_encrypted"]
    assert not result.ok
    assert result.message.startswith("Could not connect to SMTP host: 127.0.0.1")
    assert ("javax.net.ssl.SSLException", "Unsupported or unrecognized SSL message") in result.chain


def test_standin_cs0_against_smtps_times_out(standin):
    result = standin["smtps_cs0"]
    assert not result.ok
    assert ("java.net.SocketTimeoutException", "Read timed out") in result.chain


def test_standin_starttls_required_server_with_cs0_is_530(standin):
    result = standin["required_cs0_svc"]
    assert not result.ok and result.exception == "com.sun.mail.smtp.SMTPSendFailedException"
    assert "530 5.7.0 Must issue a STARTTLS command first" in result.message


@pytest.mark.parametrize("case", ["smtps_selfsigned_cs3", "required_selfsigned_cs2", "wrongname_cs1"])
def test_standin_trusts_any_certificate_on_the_smtp_transport(mail_servers, standin, case):
    assert_sent(mail_servers, standin[case], sasl_user="svc-ldoc")


@pytest.mark.parametrize("case", ["smtps_selfsigned_auth_encrypted", "smtps_auth_encrypted"])
def test_standin_auth_encrypted_uses_the_default_trust_store(standin, case):
    result = standin[case]
    assert not result.ok
    assert "javax.net.ssl.SSLHandshakeException" in result.classes
    assert "PKIX path building failed" in result.text


@pytest.mark.parametrize("case", ["smtps_auth_encrypted_ca_trusted", "smtps_wrongname_auth_encrypted_ca_trusted"])
def test_standin_auth_encrypted_with_ca_in_trust_store_sends_without_checking_the_name(mail_servers, standin, case):
    """The smtps transport (Use secure authentication) trusts the JVM's store, checks no name, and still AUTHs
    although `mail.smtps.auth` is not set (connect() is given a user and a password); TLS 1.2 there too."""
    session = "\n".join(assert_sent(mail_servers, standin[case], sasl_user="svc-ldoc"))
    assert re.search(r"TLS connection established from .*: TLSv1\.2 ", session), session


def test_standin_opportunistic_starttls_goes_on_in_clear(mail_servers, standin):
    """Connection Security STARTTLS (enable) on a server without STARTTLS: AUTH and the mail go in clear."""
    session = assert_sent(mail_servers, standin["clear_cs1"], sasl_user="svc-ldoc")
    assert not any("TLS connection established" in ln for ln in session)


def test_standin_required_starttls_without_it_fails(standin):
    result = standin["clear_cs2"]
    assert not result.ok and result.message == "STARTTLS is required but host does not support STARTTLS"

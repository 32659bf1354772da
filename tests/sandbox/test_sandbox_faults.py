"""Every sandbox fault, driven from outside with msal, requests and smtplib, asserting Microsoft's exact texts."""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time

import jwt
import pytest
import requests

from tui.sandbox import FAULTS, build_xoauth2

from sandbox_clients import AUTH_5_7_3, SCOPE, auth_reply, connect_tls, get_token, msal_app, tls_context

TRACE = (r"\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\n"
         r"Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")


def token_error(info, **kw) -> dict:
    result = msal_app(info, **kw).acquire_token_for_client(scopes=kw.pop("scopes", SCOPE))
    assert "access_token" not in result, result
    return result


def assert_entra_error(result: dict, error: str, code: int, text: str) -> None:
    assert result["error"] == error
    assert result["error_codes"] == [code]
    assert re.fullmatch(f"AADSTS{code}: " + re.escape(text) + TRACE, result["error_description"]), \
        result["error_description"]
    assert result["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    for key in ("trace_id", "correlation_id", "timestamp"):
        assert result[key]
    assert result["error_description"].endswith(result["timestamp"])


def post_token(info, *, tenant=None, **form) -> requests.Response:
    data = {"client_id": info.client_id, "client_secret": info.client_secret, "grant_type": "client_credentials",
            "scope": SCOPE[0]}
    data.update(form)
    data = {k: v for k, v in data.items() if v is not None}
    return requests.post(f"{info.authority_host}/{tenant or info.tenant_id}/oauth2/v2.0/token", data=data,
                         verify=str(info.ca_file), timeout=5)


# --- token service -----------------------------------------------------------------------------------------------

def test_fault_table_names():
    assert list(FAULTS) == [
        "wrong-secret", "expired-secret", "unknown-client", "unknown-tenant", "bad-scope", "no-smtp-role",
        "no-mailbox-permission", "smtp-auth-disabled-tenant", "smtp-auth-disabled-mailbox", "no-starttls",
        "silent-server", "drop-during-starttls", "untrusted-cert", "slow-smtp", "slow-token", "token-hang",
        "sendas-denied", "rbac", "rbac-out-of-scope", "over-privileged"]
    assert all(FAULTS.values())


def test_set_fault_rejects_unknown_name(sandbox_clean):
    with pytest.raises(ValueError, match="unknown fault 'nope'"):
        sandbox_clean.set_fault("nope")
    assert sandbox_clean.fault is None


def test_wrong_secret_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("wrong-secret")
    result = token_error(info)
    assert_entra_error(result, "invalid_client", 7000215,
                       "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                       f"secret value, not the client secret ID, for a secret added to app '{info.client_id}'.")
    assert post_token(info).status_code == 401


def test_wrong_secret_without_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    result = token_error(info, secret="not-the-secret")
    assert result["error_codes"] == [7000215]


def test_expired_secret_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("expired-secret")
    result = token_error(info)
    assert_entra_error(result, "invalid_client", 7000222,
                       f"The provided client secret keys for app '{info.client_id}' are expired. Visit the Azure "
                       "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
                       "certificate credentials for added security: https://aka.ms/certCreds.")
    assert post_token(info).status_code == 401


def test_unknown_client_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("unknown-client")
    result = token_error(info)
    assert_entra_error(result, "unauthorized_client", 700016,
                       f"Application with identifier '{info.client_id}' was not found in the directory 'Contoso'. "
                       "This can happen if the application has not been installed by the administrator of the tenant "
                       "or consented to by any user in the tenant. You may have sent your authentication request to "
                       "the wrong tenant.")
    assert post_token(info).status_code == 400


def test_unknown_client_id_without_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    other = "11111111-2222-3333-4444-555555555555"
    result = token_error(info, client_id=other)
    assert result["error_codes"] == [700016] and f"'{other}'" in result["error_description"]


def test_unknown_tenant_fault_msal_raises_at_discovery(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("unknown-tenant")
    with pytest.raises(ValueError, match="Unable to get authority configuration for") as excinfo:
        msal_app(info)
    context = str(excinfo.value.__context__)
    assert "OIDC Discovery failed on" in context and "HTTP status: 400" in context and "AADSTS90002" in context
    r = requests.get(f"{info.authority_host}/{info.tenant_id}/v2.0/.well-known/openid-configuration",
                     verify=str(info.ca_file), timeout=5)
    assert r.status_code == 400
    assert_entra_error(r.json(), "invalid_tenant", 90002,
                       f"Tenant '{info.tenant_id}' not found. This may happen if there are no active subscriptions "
                       "for the tenant. Check to make sure you have the correct tenant ID. Check with your "
                       "subscription administrator.")
    r = post_token(info)
    assert r.status_code == 400 and r.json()["error_codes"] == [90002] and r.json()["error"] == "invalid_request"


def test_unknown_and_malformed_tenant_without_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal_app(info, tenant="fabrikam.test")
    r = requests.get(f"{info.authority_host}/not%20a%20tenant/v2.0/.well-known/openid-configuration",
                     verify=str(info.ca_file), timeout=5)
    assert r.status_code == 400
    assert_entra_error(r.json(), "invalid_request", 900023,
                       "Specified tenant identifier 'not a tenant' is neither a valid DNS name, nor a valid external "
                       "domain.")


def test_bad_scope_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("bad-scope")
    result = token_error(info)
    assert_entra_error(result, "invalid_scope", 1002012,
                       "The provided value for scope https://outlook.office365.com/.default is not valid. Client "
                       "credential flows must have a scope value with /.default suffixed to the resource identifier "
                       "(application ID URI).")


def test_scope_checks_without_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    r = post_token(info, scope="https://outlook.office.com/SMTP.Send")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope" and r.json()["error_codes"] == [1002012]
    r = post_token(info, scope="https://outlook.office365.example/.default")
    assert r.status_code == 400 and r.json()["error"] == "invalid_resource" and r.json()["error_codes"] == [500011]
    assert r.json()["error_description"].startswith(
        "AADSTS500011: The resource principal named https://outlook.office365.example was not found in the tenant")
    r = post_token(info, scope="https://outlook.office365.com/.default https://graph.microsoft.com/.default")
    assert r.status_code == 400 and r.json()["error_codes"] == [70011]
    r = post_token(info, scope=None)
    assert r.status_code == 400 and r.json()["error_codes"] == [900144]
    r = post_token(info, grant_type="password")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = post_token(info, client_secret=None)
    assert r.status_code == 401 and r.json()["error_codes"] == [7000218]


def test_graph_token_has_no_smtp_role_and_is_refused(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    r = post_token(info, scope="https://graph.microsoft.com/.default")
    assert r.status_code == 200
    token = r.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com" and "roles" not in claims
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode())


def test_no_smtp_role_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("no-smtp-role")
    token = get_token(info)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "https://outlook.office365.com" and "roles" not in claims
    sandbox_clean.set_fault(None)
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode()), reply


def test_slow_token_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("slow-token")
    start = time.monotonic()
    get_token(info)
    assert time.monotonic() - start >= 0.6  # discovery and token, 0.3 s each


def test_token_hang_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    sandbox_clean.set_fault("token-hang")
    app = msal_app(info, timeout=0.5)  # discovery still answers
    with pytest.raises(requests.exceptions.Timeout):
        app.acquire_token_for_client(scopes=SCOPE)


# --- SMTP server -------------------------------------------------------------------------------------------------

def test_no_mailbox_permission_fault(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    token = get_token(info)
    sandbox_clean.set_fault("no-mailbox-permission")
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode()), reply


def test_mailbox_without_full_access(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    token = get_token(info)
    code, reply = auth_reply(info, token, user=info.sendas_address)  # Send As only, no FullAccess
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode())


@pytest.mark.parametrize("kind", ["expired", "wrong-audience", "foreign-signature", "garbage"])
def test_bad_tokens_refused(sandbox_clean, kind):
    sb = sandbox_clean
    info = sb.info
    if kind == "expired":
        token = sb.make_token(lifetime=-60)
    elif kind == "wrong-audience":
        token = sb.make_token(audience="https://graph.microsoft.com")
    elif kind == "foreign-signature":
        from cryptography.hazmat.primitives.asymmetric import rsa
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        claims = jwt.decode(sb.make_token(), options={"verify_signature": False})
        token = jwt.encode(claims, key, algorithm="RS256")
    else:
        token = "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode())


def test_valid_made_token_accepted(sandbox_clean):
    code, _ = auth_reply(sandbox_clean.info, sandbox_clean.make_token())
    assert code == 235


@pytest.mark.parametrize("fault, scope", [("smtp-auth-disabled-tenant", "Tenant"),
                                          ("smtp-auth-disabled-mailbox", "Mailbox")])
def test_smtp_auth_disabled_faults(sandbox_clean, sandbox_env, fault, scope):
    info = sandbox_clean.info
    token = get_token(info)
    sandbox_clean.set_fault(fault)
    expected = (f"5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the {scope}. "
                "Visit https://aka.ms/smtp_auth_disabled for more information.")
    assert auth_reply(info, token) == (535, expected.encode())
    with connect_tls(info) as s:  # basic auth too
        with pytest.raises(smtplib.SMTPAuthenticationError) as excinfo:
            s.login(info.mailbox, info.password)
        assert (excinfo.value.smtp_code, excinfo.value.smtp_error) == (535, expected.encode())


def test_no_starttls_fault(sandbox_clean):
    info = sandbox_clean.info
    sandbox_clean.set_fault("no-starttls")
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
        assert not s.has_extn("starttls") and not s.has_extn("auth")
        code, reply = s.docmd("STARTTLS")
        assert code == 500 and reply.decode() == "5.3.3 Unrecognized command 'STARTTLS' [SBX0P281CA0001.outlook.sandbox.test]"
        with pytest.raises(smtplib.SMTPNotSupportedError):
            s.starttls(context=tls_context(info))
        assert s.docmd("AUTH", "XOAUTH2") == (504, b"5.7.4 Unrecognized authentication type")


def test_silent_server_fault(sandbox_clean):
    info = sandbox_clean.info
    sandbox_clean.set_fault("silent-server")
    with pytest.raises((socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected)):
        smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=0.5)
    deadline = time.monotonic() + 10  # the sandbox records the connection in its own thread: wait for it
    while not any(e["command"] == "(connect)" and e["reply"] is None for e in sandbox_clean.smtp_events()):
        assert time.monotonic() < deadline, sandbox_clean.smtp_events()
        time.sleep(0.01)


def test_drop_during_starttls_fault(sandbox_clean):
    info = sandbox_clean.info
    sandbox_clean.set_fault("drop-during-starttls")
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
        with pytest.raises((ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected, OSError)):
            s.starttls(context=tls_context(info))
        s.close()


def test_drop_shows_220_first(sandbox_clean):
    info = sandbox_clean.info
    sandbox_clean.set_fault("drop-during-starttls")
    with socket.create_connection((info.smtp_host, info.smtp_port), timeout=5) as raw:
        f = raw.makefile("rb")
        assert f.readline().startswith(b"220 ")
        raw.sendall(b"EHLO client.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        raw.sendall(b"STARTTLS\r\n")
        assert f.readline() == b"220 2.0.0 SMTP server ready\r\n"
        assert f.readline() == b""  # then the server closes


def test_untrusted_cert_fault(sandbox_clean):
    info = sandbox_clean.info
    sandbox_clean.set_fault("untrusted-cert")
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
            s.starttls(context=tls_context(info))
        s.close()


def test_slow_smtp_fault(sandbox_clean):
    info = sandbox_clean.info
    sandbox_clean.set_fault("slow-smtp")
    start = time.monotonic()
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
    assert time.monotonic() - start >= 0.9  # banner, EHLO and QUIT, 0.3 s each
    sandbox_clean.set_fault("slow-smtp")
    with pytest.raises((socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected)):
        smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=0.1)


def test_sendas_denied_fault(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    token = get_token(info)
    sb.set_fault("sendas-denied")
    before = len(sb.messages())
    with connect_tls(info) as s:
        assert s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token))[0] == 235
        assert s.mail(info.mailbox) == (250, b"2.1.0 Sender OK")
        assert s.rcpt("a@example.com")[0] == 250
        code, reply = s.data(f"From: {info.mailbox}\r\nSubject: x\r\n\r\nx\r\n")
    assert code == 554
    assert reply.decode().startswith(
        f"5.2.252 SendAsDenied; {info.mailbox} not allowed to send as {info.mailbox}; "
        "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due "
        "to a permanent exception with message [BeginDiagnosticData]Cannot submit message.")
    assert len(sb.messages()) == before


# --- Exchange's rules without faults -----------------------------------------------------------------------------

def test_send_as_ungranted_from_refused_after_data(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    token = get_token(info)
    other = "ceo@contoso.test"
    with connect_tls(info) as s:
        s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token))
        assert s.mail(other) == (250, b"2.1.0 Sender OK")  # accepted at MAIL FROM
        assert s.rcpt("a@example.com") == (250, b"2.1.5 Recipient OK")
        code, reply = s.data(f"From: {other}\r\nSubject: x\r\n\r\nx\r\n")
    assert code == 554
    assert reply.decode().startswith(f"5.2.252 SendAsDenied; {info.mailbox} not allowed to send as {other}; "
                                     "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied;")


def test_header_from_checked_too(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    with connect_tls(info) as s:
        s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, get_token(info)))
        with pytest.raises(smtplib.SMTPDataError) as excinfo:
            s.sendmail(info.mailbox, ["a@example.com"], "From: ceo@contoso.test\r\nSubject: x\r\n\r\nx\r\n")
    assert excinfo.value.smtp_code == 554 and b"not allowed to send as ceo@contoso.test" in excinfo.value.smtp_error


def test_auth_before_starttls_refused(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    token = get_token(info)
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
        assert not s.has_extn("auth")
        assert s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token)) == \
            (504, b"5.7.4 Unrecognized authentication type")
        assert s.docmd("AUTH", "LOGIN") == (504, b"5.7.4 Unrecognized authentication type")
    events = sb.smtp_events()
    plain_auths = [e for e in events if e["command"].startswith("AUTH") and not e["tls"]]
    assert plain_auths and all(e["reply"].startswith("504 5.7.4") for e in plain_auths)
    assert token not in repr(events)


def test_mail_before_auth(sandbox_clean):
    info = sandbox_clean.info
    with connect_tls(info) as s:
        assert s.mail(info.mailbox) == (530, b"5.7.57 Client not authenticated to send mail.")
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
        assert s.mail(info.mailbox) == (530, b"5.7.57 Client not authenticated to send mail.")


def test_malformed_xoauth2(sandbox_clean):
    info = sandbox_clean.info
    with connect_tls(info) as s:
        assert s.docmd("AUTH", "XOAUTH2 bm90IHhvYXV0aDI=") == (501, b"5.5.124 Invalid XOAUTH2 auth data")
        assert s.docmd("AUTH", "XOAUTH2 ***") == (501, b"5.5.124 Invalid XOAUTH2 auth data")


def test_unknown_command(sandbox_clean):
    info = sandbox_clean.info
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        code, reply = s.docmd("FOO")
    assert code == 500 and reply.decode().startswith("5.3.3 Unrecognized command 'FOO'")


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_password_auth(sandbox_clean, mechanism):
    sb = sandbox_clean
    info = sb.info
    with connect_tls(info) as s:
        s.user, s.password = info.mailbox, info.password
        method = s.auth_login if mechanism == "LOGIN" else s.auth_plain
        assert s.auth(mechanism, method) == (235, b"2.7.0 Authentication successful")
        assert s.sendmail(info.mailbox, ["a@example.com"], f"From: {info.mailbox}\r\nSubject: pw\r\n\r\nx\r\n") == {}
    with connect_tls(info) as s:
        s.user, s.password = info.mailbox, "wrong"
        method = s.auth_login if mechanism == "LOGIN" else s.auth_plain
        with pytest.raises(smtplib.SMTPAuthenticationError) as excinfo:
            s.auth(mechanism, method)
        assert AUTH_5_7_3.fullmatch(excinfo.value.smtp_error.decode())


def test_login_challenges(sandbox_clean):
    info = sandbox_clean.info
    with connect_tls(info) as s:
        assert s.docmd("AUTH", "LOGIN") == (334, b"VXNlcm5hbWU6")
        import base64
        assert s.docmd(base64.b64encode(info.mailbox.encode()).decode()) == (334, b"UGFzc3dvcmQ6")
        assert s.docmd(base64.b64encode(info.password.encode()).decode())[0] == 235


def test_fault_switch_applies_to_next_connection(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    token = get_token(info)
    with connect_tls(info) as s:
        sandbox_clean.set_fault("no-mailbox-permission")  # this connection started without it
        assert s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token))[0] == 235
    assert auth_reply(info, token)[0] == 535
    sandbox_clean.set_fault(None)
    assert auth_reply(info, token)[0] == 235


@pytest.mark.filterwarnings("ignore:Using /common or /organizations authority:DeprecationWarning")
def test_common_tenant_needs_a_real_tenant(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    result = token_error(info, tenant="common")
    assert_entra_error(result, "invalid_request", 50059,
                       "No tenant-identifying information found in either the request or implied by any provided "
                       "credentials.")


def test_token_events_have_no_secrets(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    get_token(info)
    events = sandbox_clean.token_events()
    assert events[-1]["method"] == "POST" and events[-1]["status"] == 200
    assert info.client_secret not in repr(events)


def test_bdat_chunking(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    first = f"From: {info.mailbox}\r\nSubject: chunked\r\n".encode()
    second = b"\r\nbinary \x00\xff body\r\n"
    with connect_tls(info) as s:
        assert s.has_extn("chunking") and s.has_extn("binarymime")
        s.putcmd("BDAT", f"{len(first)}")
        s.send(first)
        assert s.getreply() == (530, b"5.7.57 Client not authenticated to send mail.")
        s.login(info.mailbox, info.password)
        assert s.mail(info.mailbox, ["BODY=BINARYMIME"]) == (250, b"2.1.0 Sender OK")
        assert s.rcpt("a@example.com")[0] == 250
        s.putcmd("BDAT", f"{len(first)}")
        s.send(first)
        assert s.getreply() == (250, f"2.0.0 {len(first)} bytes received".encode())
        s.putcmd("BDAT", f"{len(second)} LAST")
        s.send(second)
        code, reply = s.getreply()
        assert code == 250 and reply.startswith(b"2.0.0 OK <")
    path = sb.message_files()[-1]
    assert path.read_bytes().endswith(first + second)

"""The sandbox driven from outside with msal, requests and smtplib: the happy path."""

from __future__ import annotations

import re
import smtplib
import ssl

import jwt
import pytest
import requests

from tui.sandbox import build_xoauth2

from sandbox_clients import (EHLO_AFTER_TLS, EHLO_BEFORE_TLS, SCOPE, connect_tls, ehlo_lines, get_token, msal_app,
                             tls_context)


def test_info_and_settings_file(sandbox_clean):
    info = sandbox_clean.info
    assert info.authority_host.startswith("https://127.0.0.1:")
    assert info.smtp_host == "127.0.0.1"
    assert info.ca_file.is_file()
    text = info.settings_path.read_text()
    assert 'protocol = "smtpmicrosoft365"' in text
    assert f"port = {info.smtp_port}" in text
    assert f'clientSecret = "{info.client_secret}"' in text
    assert f'authority_host = "{info.authority_host}"' in text
    data = info.as_json()
    assert data["smtp_port"] == info.smtp_port and isinstance(data["ca_file"], str)


def test_msal_token_and_claims(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    result = msal_app(info).acquire_token_for_client(scopes=SCOPE)
    assert result["token_type"] == "Bearer"
    assert result["token_source"] == "identity_provider"
    assert 3000 < result["expires_in"] <= 3599
    token = result["access_token"]

    # Verify the signature with the JWKS the sandbox publishes at the discovered jwks_uri.
    config = requests.get(f"{info.authority_host}/{info.tenant_id}/v2.0/.well-known/openid-configuration",
                          verify=str(info.ca_file), timeout=5).json()
    assert config["token_endpoint"] == f"{info.authority_host}/{info.tenant_id}/oauth2/v2.0/token"
    jwks = requests.get(config["jwks_uri"], verify=str(info.ca_file), timeout=5).json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="https://outlook.office365.com")
    assert claims["iss"] == f"https://sts.windows.net/{info.tenant_id}/"
    assert claims["tid"] == info.tenant_id
    assert claims["appid"] == info.client_id
    assert claims["appidacr"] == "1"
    assert claims["oid"] == info.object_id != info.app_object_id
    assert claims["roles"] == ["SMTP.SendAsApp"]
    assert claims["idtyp"] == "app" and claims["ver"] == "1.0"
    assert "scp" not in claims
    assert claims["iat"] <= claims["nbf"] + 1 and claims["exp"] > claims["iat"]


def test_tenant_domain_accepted(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    token = get_token(info, tenant=info.tenant_domain)
    assert jwt.decode(token, options={"verify_signature": False})["tid"] == info.tenant_id


def test_ehlo_lists_before_and_after_tls(sandbox_clean):
    info = sandbox_clean.info
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        code, reply = s.ehlo("client.example")
        assert code == 250
        assert reply.decode().split("\n")[0] == "SBX0P281CA0001.outlook.sandbox.test Hello [127.0.0.1]"
        assert ehlo_lines(reply) == EHLO_BEFORE_TLS
        assert s.starttls(context=tls_context(info)) == (220, b"2.0.0 SMTP server ready")
        code, reply = s.ehlo("client.example")
        assert ehlo_lines(reply) == EHLO_AFTER_TLS
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")


def test_banner(sandbox_clean):
    info = sandbox_clean.info
    s = smtplib.SMTP(timeout=5)
    code, msg = s.connect(info.smtp_host, info.smtp_port)
    s.close()
    assert code == 220
    assert re.fullmatch(r"\S+ Microsoft ESMTP MAIL Service ready at \w{3}, \d{2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000 "
                        r"\[[0-9A-F]{16}\]", msg.decode())


@pytest.mark.parametrize("form", ["initial-response", "after-334"])
def test_xoauth2_and_send(sandbox_clean, sandbox_env, form):
    sb = sandbox_clean
    info = sb.info
    token = get_token(info)
    before = len(sb.messages())
    with connect_tls(info) as s:
        if form == "initial-response":
            code, reply = s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token))
        else:
            assert s.docmd("AUTH", "XOAUTH2") == (334, b"")
            code, reply = s.docmd(build_xoauth2(info.mailbox, token))
        assert (code, reply) == (235, b"2.7.0 Authentication successful")
        msg = (f"From: {info.mailbox}\r\nTo: someone@example.com\r\nSubject: sandbox {form}\r\n"
               f"Message-ID: <{form}@client.example>\r\n\r\nHello.\r\n")
        assert s.mail(info.mailbox) == (250, b"2.1.0 Sender OK")
        assert s.rcpt("someone@example.com") == (250, b"2.1.5 Recipient OK")
        code, reply = s.data(msg)
        assert code == 250
        assert reply.decode().startswith(f"2.0.0 OK <{form}@client.example>")
    messages = sb.messages()
    assert len(messages) == before + 1
    assert messages[-1]["Subject"] == f"sandbox {form}"
    assert sorted(info.mail_dir.glob("*.eml"))


def test_xoauth2_with_smtplib_auth_object(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    token = get_token(info)
    raw = f"user={info.mailbox}\x01auth=Bearer {token}\x01\x01"
    with connect_tls(info) as s:
        assert s.auth("XOAUTH2", lambda challenge=None: raw, initial_response_ok=False)[0] == 235
    with connect_tls(info) as s:
        assert s.auth("XOAUTH2", lambda challenge=None: raw)[0] == 235


def test_send_as_granted_address(sandbox_clean, sandbox_env):
    info = sandbox_clean.info
    token = get_token(info)
    with connect_tls(info) as s:
        s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token))
        msg = f"From: {info.sendas_address}\r\nTo: a@example.com\r\nSubject: shared\r\n\r\nx\r\n"
        assert s.sendmail(info.sendas_address, ["a@example.com"], msg) == {}


def test_events_record_tls_and_redact_auth(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    token = get_token(info)
    with connect_tls(info) as s:
        s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(info.mailbox, token))
    events = sb.smtp_events()
    auths = [e for e in events if e["command"].startswith("AUTH")]
    assert auths and all(e["tls"] for e in auths if e["reply"].startswith("235"))
    text = repr(events)
    assert token not in text and build_xoauth2(info.mailbox, token) not in text
    assert any(e["command"] == "AUTH XOAUTH2 <redacted>" for e in events)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_below_1_2_gets_exchanges_421_4_7_66(sandbox_clean):
    """Exchange completes a TLS 1.0/1.1 handshake, then answers 421 4.7.66 and closes (reference failure table)."""
    from tui.sandbox.certs import allow_tls_below_1_2

    info = sandbox_clean.info
    ctx = tls_context(info)
    allow_tls_below_1_2(ctx, only=True)  # a client that offers TLS 1.0/1.1 only (CI's OpenSSL can)
    before = len(sandbox_clean.smtp_events())
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.ehlo("client.example")
        code, _ = s.starttls(context=ctx)
        assert code == 220 and s.sock.version() in ("TLSv1", "TLSv1.1")
        code, message = s.ehlo("client.example")
        assert (code, message.decode()) == (421, "4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update "
                                                 "your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            s.noop()
    tls = [e for e in sandbox_clean.smtp_events()[before:] if e["command"] == "(tls)"]
    assert any(str(e["reply"]).startswith("421 4.7.66") for e in tls)
    assert not any(str(e["command"]).upper().startswith("AUTH") for e in sandbox_clean.smtp_events()[before:])

"""Redaction, the XOAUTH2 string (Microsoft's test vector), claims checks, TLS trust choice, light import."""

from __future__ import annotations

import subprocess
import sys
import time

import jwt
import pytest

from tui.diagnostics.claims import authorization_model, check_claims, decode
from tui.diagnostics.redact import Redactor, token_preview
from tui.diagnostics.tls import requests_verify, smtp_context
from tui.diagnostics.transcript import Recorder

VECTOR_B64 = ("dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpM"
              "QldaV0NjbFJDM0VvQUEBAQ==")


def test_xoauth2_microsoft_test_vector():
    from tui.xoauth2 import build_xoauth2

    assert build_xoauth2("test@contoso.onmicrosoft.com", "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA") == VECTOR_B64


def test_auth_lines_redacted():
    r = Redactor()
    assert r.client_line("AUTH XOAUTH2 " + VECTOR_B64) == f"AUTH XOAUTH2 <redacted, {len(VECTOR_B64)} bytes>"
    assert r.client_line("AUTH LOGIN dXNlcg==") == "AUTH LOGIN <redacted>"
    assert r.client_line("AUTH PLAIN AHVzZXIAcGFzcw==") == "AUTH PLAIN <redacted>"
    assert r.client_line("auth xoauth2") == "AUTH XOAUTH2"
    assert r.client_line("cGFzc3dvcmQ=", after_334=True) == "<redacted, 12 bytes>"
    assert r.client_line("", after_334=True) == "<empty line>"
    assert r.client_line("MAIL FROM:<a@b.c>") == "MAIL FROM:<a@b.c>"


def test_known_secrets_scrubbed_everywhere():
    r = Redactor(["s3cr3t-value~42", "hunter2pass"])
    text = "secret s3cr3t-value~42 and password hunter2pass in a line"
    out = r.text(text)
    assert "s3cr3t-value~42" not in out and "hunter2pass" not in out
    import base64

    assert "hunter2pass" not in r.text(base64.b64encode(b"hunter2pass").decode())
    assert r.text(base64.b64encode(b"hunter2pass").decode()) == "<redacted>"


def test_token_shown_only_as_prefix():
    token = jwt.encode({"aud": "x", "roles": ["SMTP.SendAsApp"]}, "k" * 32, algorithm="HS256")
    r = Redactor()
    r.add_token(token)
    out = r.text(f"got {token} here")
    assert token not in out and token_preview(token) in out
    # unknown JWTs and bearer values are caught too
    out = Redactor().text(f"auth=Bearer {token}")
    assert token not in out and token[:8] in out
    assert "client_secret=<redacted>" in Redactor().text("grant_type=x&client_secret=abc123456&scope=y")


def test_recorder_redacts_and_orders():
    r = Redactor(["topsecret"])
    seen = []
    rec = Recorder(r, on_line=seen.append)
    rec.add("C", "AUTH XOAUTH2 " + VECTOR_B64)
    rec.server_reply(250, "host Hello\nSIZE 1\nAUTH LOGIN XOAUTH2")
    rec.add("I", "topsecret leaked?")
    texts = [l.text for l in rec.lines]
    assert texts == [f"AUTH XOAUTH2 <redacted, {len(VECTOR_B64)} bytes>", "250-host Hello", "250-SIZE 1",
                     "250 AUTH LOGIN XOAUTH2", "<redacted> leaked?"]
    assert seen == rec.lines
    assert all(a.t_ms <= b.t_ms for a, b in zip(rec.lines, rec.lines[1:]))
    assert "C: AUTH XOAUTH2 <redacted" in rec.text()


def make_claims(**over):
    now = int(time.time())
    claims = {"aud": "https://outlook.office365.com", "roles": ["SMTP.SendAsApp"],
              "tid": "11111111-1111-1111-1111-111111111111", "appid": "22222222-2222-2222-2222-222222222222",
              "oid": "33333333-3333-3333-3333-333333333333", "exp": now + 3600, "iat": now - 60, "nbf": now - 60,
              "appidacr": "1"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def findings(claims, tenant="11111111-1111-1111-1111-111111111111"):
    return {f.claim: f for f in check_claims(claims, client_id="22222222-2222-2222-2222-222222222222",
                                             tenant=tenant, scope="https://outlook.office365.com/.default")}


def test_claims_happy():
    f = findings(make_claims())
    assert all(x.status in ("ok", "info") for x in f.values())
    assert "New-ServicePrincipal -ObjectId" in f["oid"].text and "33333333" in f["oid"].text


@pytest.mark.parametrize("over,claim,hint_id", [
    ({"aud": "https://graph.microsoft.com"}, "aud", "claim-aud"),
    ({"aud": "api://something"}, "aud", "claim-aud"),
    ({"scp": "SMTP.Send"}, "scp", "claim-scp"),
    ({"tid": "99999999-9999-9999-9999-999999999999"}, "tid", "claim-tid"),
    ({"appid": "99999999-9999-9999-9999-999999999999"}, "appid", "claim-appid"),
    ({"exp": int(time.time()) - 120}, "exp", "claim-expired"),
])
def test_claims_failures(over, claim, hint_id):
    f = findings(make_claims(**over))
    assert f[claim].status == "fail" and f[claim].hint_id == hint_id


def all_findings(claims):
    return check_claims(claims, client_id="22222222-2222-2222-2222-222222222222",
                        tenant="11111111-1111-1111-1111-111111111111", scope="https://outlook.office365.com/.default")


@pytest.mark.parametrize("roles,model", [
    (None, "rbac"),  # RBAC for Applications: Entra omits the claim; normal, never a failure
    ([], "rbac"),
    (["Mail.Send"], "rbac"),  # no SMTP.SendAsApp: only an Exchange role assignment can authorize the app
    (["SMTP.SendAsApp"], "classic"),
])
def test_roles_never_fail_and_name_the_model(roles, model):
    claims = make_claims(roles=roles)
    found = all_findings(claims)
    assert not [f for f in found if f.status == "fail"], found
    assert authorization_model(claims) == model
    role_lines = [f.text for f in found if f.claim == "roles"]
    assert ("RBAC for Applications" in role_lines[0]) == (model == "rbac")
    assert ("AUTH decides" in role_lines[0]) == (model == "rbac")


def test_extra_roles_are_least_privilege_warnings():
    claims = make_claims(roles=["SMTP.SendAsApp", "full_access_as_app", "IMAP.AccessAsApp", "Some.Future.Role"])
    warns = [f for f in all_findings(claims) if f.status == "warn"]
    assert [f.hint_id for f in warns] == ["least-privilege"] * 3
    texts = " | ".join(f.text for f in warns)
    assert "full_access_as_app lets the app have full access to every mailbox" in texts
    assert "IMAP.AccessAsApp lets the app read every mailbox over IMAP" in texts
    assert "Some.Future.Role" in texts
    assert authorization_model(claims) == "classic"
    assert authorization_model(None) is None


def test_claims_azp_and_domain_tenant():
    c = make_claims(appid=None, azp="22222222-2222-2222-2222-222222222222")
    f = findings(c, tenant="contoso.com")
    assert f["appid"].status == "ok" and "azp" in f["appid"].text
    assert f["tid"].status == "info" and "11111111-1111-1111-1111-111111111111" in f["tid"].text


def test_decode_without_signature_and_not_jwt():
    token = jwt.encode(make_claims(), "k" * 32, algorithm="HS256")
    assert decode(token)["oid"] == "33333333-3333-3333-3333-333333333333"
    assert decode(token) == jwt.decode(token, options={"verify_signature": False})
    with pytest.raises(ValueError):
        decode("opaque-token")
    with pytest.raises(ValueError):
        decode("a.!!!.c")


def test_ca_file_wins_over_requests_ca_bundle(tmp_path):
    env = {"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"}
    verify, desc = requests_verify(str(tmp_path / "ca.pem"), env)
    assert verify == str(tmp_path / "ca.pem") and "wins over REQUESTS_CA_BUNDLE" in desc
    verify, desc = requests_verify("", env)
    assert verify == env["REQUESTS_CA_BUNDLE"] and "REQUESTS_CA_BUNDLE" in desc
    verify, desc = requests_verify("", {"SSL_CERT_FILE": "/x.pem"})
    assert verify == "/x.pem"


def test_smtp_context_is_strict():
    import ssl

    ctx, desc = smtp_context("")
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert desc.startswith("CA: ")


def test_engine_import_is_light():
    code = ("import sys, tui.diagnostics.engine, tui.diagnostics.hints, tui.diagnostics.setup_steps;"
            "bad=[m for m in ('msal','aiosmtplib','requests','jwt','textual') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


from hypothesis import given, settings as hsettings, strategies as st

SECRET_CHARS = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="~._-"),
                       min_size=8, max_size=48)


@hsettings(max_examples=200, deadline=None)
@given(secret=SECRET_CHARS, before=st.text(max_size=30), after=st.text(max_size=30))
def test_redactor_never_lets_a_known_secret_through(secret, before, after):
    out = Redactor([secret]).text(before + secret + after)
    assert secret not in out or secret in "<redacted>"


@hsettings(max_examples=100, deadline=None)
@given(user=st.emails(), token=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.",
                                        min_size=20, max_size=200))
def test_xoauth2_auth_line_always_redacted(user, token):
    from tui.xoauth2 import build_xoauth2

    b64 = build_xoauth2(user, token)
    line = Redactor().client_line("AUTH XOAUTH2 " + b64)
    assert line == f"AUTH XOAUTH2 <redacted, {len(b64)} bytes>"
    import base64

    assert base64.b64decode(b64) == f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def test_prose_about_passwords_is_not_mangled():
    r = Redactor()
    text = "warning: Password: Password is ignored by LogicalDOC with SMTP Microsoft 365"
    assert r.text(text) == text
    assert r.text('{"client_secret": "abc123xyz"}') == '{"client_secret": "<redacted>"}'
    assert r.text("password=hunter22&x=1") == "password=<redacted>&x=1"


def test_bearer_prose_kept_bearer_values_cut():
    r = Redactor()
    assert r.text("uses Bearer authentication") == "uses Bearer authentication"
    out = r.text("auth=Bearer abcdefghijklmnopqrstuvwxyz0123456789")
    assert "abcdefghijklmnopqrstuvwxyz" not in out and "abcdefgh…<redacted>" in out

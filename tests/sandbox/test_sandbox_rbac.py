"""Exchange's two authorization models in the sandbox: classic (SMTP.SendAsApp role + FullAccess) and RBAC for
Applications (no roles claim + an 'Application SMTP.SendAsApp' role assignment scoped to the mailbox), and the
over-privileged app; driven from outside with msal, requests and smtplib."""

from __future__ import annotations

import jwt
import pytest
import requests

from tui.sandbox import FAULTS_BY_NAME, build_xoauth2

from sandbox_clients import AUTH_5_7_3, auth_reply, connect_tls, get_token

OVER_BROAD_EXCHANGE = ["full_access_as_app", "IMAP.AccessAsApp", "Mail.Read", "Mail.Send", "SMTP.SendAsApp"]
OVER_BROAD_GRAPH = ["Mail.Read", "Mail.ReadBasic", "Mail.ReadBasic.All", "Mail.ReadWrite", "Mail.Send"]


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def last_auth_detail(sb) -> str:
    """The SMTP event log's reason for the last AUTH: why Exchange accepted or refused it."""
    auths = [e for e in sb.smtp_events() if e["command"].startswith("AUTH")]
    assert auths, sb.smtp_events()
    return auths[-1].get("detail", "")


def send(info, token, sender, *, user=None) -> tuple[int, bytes]:
    """AUTH XOAUTH2, MAIL FROM and header From `sender`, one recipient, DATA: the DATA reply."""
    with connect_tls(info) as s:
        assert s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(user or info.mailbox, token))[0] == 235
        assert s.mail(sender) == (250, b"2.1.0 Sender OK")  # Exchange decides Send As after DATA
        assert s.rcpt("a@example.com") == (250, b"2.1.5 Recipient OK")
        return s.data(f"From: {sender}\r\nSubject: rbac\r\n\r\nx\r\n")


def test_fault_services():
    assert FAULTS_BY_NAME["rbac"].service == "token+smtp"
    assert FAULTS_BY_NAME["rbac-out-of-scope"].service == "token+smtp"
    assert FAULTS_BY_NAME["over-privileged"].service == "token"
    assert FAULTS_BY_NAME["rbac"].touches("token") and FAULTS_BY_NAME["rbac"].touches("smtp")
    assert FAULTS_BY_NAME["no-smtp-role"].services == ("token",)
    assert not FAULTS_BY_NAME["no-mailbox-permission"].touches("token")


def test_identity_models_as_data(sandbox):
    ident = sandbox.identity
    assert ident.rbac_assignments == () and ident.full_access_mailboxes() == {"noreply@contoso.test"}
    rbac = ident.configured_for("rbac")
    assert (rbac.tenant_id, rbac.client_id, rbac.sp_object_id) == (ident.tenant_id, ident.client_id, ident.sp_object_id)
    [assignment] = rbac.rbac_assignments
    assert assignment.app_id == ident.client_id and assignment.role == "Application SMTP.SendAsApp"
    assert assignment.scope.name == "outmail-smtp"
    assert assignment.scope.recipient_filter.startswith("MemberOfGroup -eq 'CN=outmail-senders,")
    assert rbac.full_access_mailboxes() == set() and rbac.exchange_roles == ()
    assert rbac.smtp_rbac_scope(ident.client_id, "NoReply@contoso.test") is assignment.scope
    assert rbac.smtp_rbac_scope(ident.client_id, "shared@contoso.test") is None
    assert rbac.smtp_rbac_scope("11111111-2222-3333-4444-555555555555", ident.mailbox) is None  # another app
    out = ident.configured_for("rbac-out-of-scope")
    assert out.rbac_assignments[0].scope.recipient_filter == "PrimarySmtpAddress -eq 'alerts@contoso.test'"
    assert out.smtp_rbac_scope(ident.client_id, ident.mailbox) is None
    assert ident.configured_for("no-smtp-role").rbac_assignments == ()
    assert ident.configured_for("slow-smtp") is ident


# --- rbac --------------------------------------------------------------------------------------------------------

def test_rbac_token_has_no_roles_claim_and_auth_succeeds(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac")
    claims = claims_of(get_token(info))
    assert claims["aud"] == "https://outlook.office365.com" and claims["oid"] == info.object_id
    assert "roles" not in claims  # absent, not an empty list: Entra omits it
    token = get_token(info)
    assert auth_reply(info, token) == (235, b"2.7.0 Authentication successful")
    assert last_auth_detail(sb) == (f"authenticated as {info.mailbox} with XOAUTH2 (RBAC: {info.mailbox} in scope "
                                    "outmail-smtp (Application SMTP.SendAsApp))")


def test_rbac_needs_no_full_access_and_the_scope_decides_the_mailbox(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac")
    token = get_token(info)
    assert auth_reply(info, token, user="alerts@contoso.test")[0] == 235  # in the scope, never granted FullAccess
    code, reply = auth_reply(info, token, user=info.sendas_address)  # Send As grant only, outside the scope
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode()), reply
    assert last_auth_detail(sb) == (f"no SMTP.SendAsApp role; RBAC: {info.sendas_address} is outside the management "
                                    "scope outmail-smtp")


def test_rbac_send_as_from_in_scope_accepted(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac")
    token = get_token(info)
    before = len(sb.messages())
    for sender in (info.mailbox, "alerts@contoso.test", info.sendas_address):  # itself, in scope, Send As grant
        code, reply = send(info, token, sender)
        assert code == 250 and reply.startswith(b"2.0.0 OK <"), (sender, reply)
    froms = [m["From"] for m in sb.messages()[before:]]
    assert froms == [info.mailbox, "alerts@contoso.test", info.sendas_address]


@pytest.mark.parametrize("sender", ["ceo@contoso.test", "alice@contoso.test"])
def test_rbac_send_as_from_out_of_scope_refused(sandbox_clean, sandbox_env, sender):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac")
    token = get_token(info)
    before = len(sb.messages())
    code, reply = send(info, token, sender)
    assert code == 554
    assert reply.decode().startswith(f"5.2.252 SendAsDenied; {info.mailbox} not allowed to send as {sender}; "
                                     "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied;")
    assert len(sb.messages()) == before


def test_rbac_scope_gives_no_send_as_without_it(sandbox_clean, sandbox_env):
    """Without the fault there is no role assignment: alerts@ is no From for the app."""
    info = sandbox_clean.info
    code, reply = send(info, get_token(info), "alerts@contoso.test")
    assert code == 554 and b"not allowed to send as alerts@contoso.test" in reply


def test_rbac_and_classic_add_up(sandbox_clean, sandbox_env):
    """A token with SMTP.SendAsApp is still accepted in the RBAC tenant (no FullAccess there: RBAC authorizes it)."""
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac")
    assert auth_reply(info, sb.make_token())[0] == 235
    assert "RBAC: noreply@contoso.test in scope outmail-smtp" in last_auth_detail(sb)


def test_token_keeps_its_claims_after_a_switch(sandbox_clean, sandbox_env):
    """An RBAC token (no roles) meets the classic tenant once the fault is gone: no role, no assignment, 535."""
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac")
    token = get_token(info)
    sb.set_fault(None)
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode()), reply
    assert last_auth_detail(sb) == "no SMTP.SendAsApp role and no RBAC role assignment"


# --- rbac-out-of-scope ---------------------------------------------------------------------------------------------

def test_rbac_out_of_scope(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("rbac-out-of-scope")
    token = get_token(info)
    assert "roles" not in claims_of(token)
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode()), reply  # the same text as any 5.7.3
    assert last_auth_detail(sb) == (f"no SMTP.SendAsApp role; RBAC: {info.mailbox} is outside the management scope "
                                    "outmail-smtp")
    assert auth_reply(info, token, user="alerts@contoso.test")[0] == 235  # the one address the scope holds


# --- no-smtp-role: classic, permission or consent missing, no RBAC assignment ------------------------------------

def test_no_smtp_role_has_no_rbac_assignment(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("no-smtp-role")
    token = get_token(info)
    assert "roles" not in claims_of(token)
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode()), reply
    assert last_auth_detail(sb) == "no SMTP.SendAsApp role and no RBAC role assignment"


# --- over-privileged -----------------------------------------------------------------------------------------------

def test_over_privileged_token_roles_and_auth(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("over-privileged")
    token = get_token(info)
    assert claims_of(token)["roles"] == OVER_BROAD_EXCHANGE
    assert auth_reply(info, token) == (235, b"2.7.0 Authentication successful")
    assert last_auth_detail(sb) == (f"authenticated as {info.mailbox} with XOAUTH2 (classic: SMTP.SendAsApp role and "
                                    f"FullAccess on {info.mailbox}; the token also carries full_access_as_app, "
                                    "IMAP.AccessAsApp, Mail.Read, Mail.Send)")
    code, reply = send(info, token, info.mailbox)
    assert code == 250
    code, reply = send(info, token, "alerts@contoso.test")  # the roles give no Send As over SMTP
    assert code == 554


def test_over_privileged_graph_token(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    sb.set_fault("over-privileged")
    r = requests.post(f"{info.authority_host}/{info.tenant_id}/oauth2/v2.0/token",
                      data={"client_id": info.client_id, "client_secret": info.client_secret,
                            "grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
                      verify=str(info.ca_file), timeout=5)
    assert r.status_code == 200
    token = r.json()["access_token"]
    claims = claims_of(token)
    assert claims["aud"] == "https://graph.microsoft.com" and claims["roles"] == OVER_BROAD_GRAPH
    code, reply = auth_reply(info, token)
    assert code == 535 and AUTH_5_7_3.fullmatch(reply.decode())


def test_default_tenant_is_classic(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    info = sb.info
    token = get_token(info)
    assert claims_of(token)["roles"] == ["SMTP.SendAsApp"]
    assert auth_reply(info, token)[0] == 235
    assert last_auth_detail(sb) == (f"authenticated as {info.mailbox} with XOAUTH2 (classic: SMTP.SendAsApp role and "
                                    f"FullAccess on {info.mailbox})")

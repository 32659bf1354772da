"""The hint table against every row of the reference failure tables (7.1, 7.2, 7.3) with the reference's exact texts."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tui.diagnostics import hints as H
from tui.diagnostics.hints import HintContext
from tui.diagnostics.setup_steps import SETUP_STEPS, SETUP_STEPS_BY_ID

CTX = HintContext(client_id="11111111-2222-3333-4444-555555555555", object_id="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                  mailbox="john.smith@contoso.com", sender="shared@contoso.com", tenant="contoso.onmicrosoft.com",
                  mechanism="XOAUTH2", model="classic", server="exchange")

# 7.2: (code, exact text prefix from the reference, HTTP error, expected hint id, expected setup step)
TOKEN_ROWS = [
    (7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
              "not the client secret ID, for a secret added to app '<appid>'.", "invalid_client", "invalid-secret", "S2"),
    (7000222, "The provided client secret keys for app '<appid>' are expired. Visit the Azure portal to create new keys "
              "for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added "
              "security: https://aka.ms/certCreds.", "invalid_client", "expired-secret", "S2"),
    (700016, "Application with identifier '<id>' was not found in the directory '<tenant>'. This can happen if the "
             "application has not been installed by the administrator of the tenant or consented to by any user in the "
             "tenant. You may have sent your authentication request to the wrong tenant.", "unauthorized_client",
     "unknown-client", "S1"),
    (90002, "Tenant '<x>' not found. This may happen if there are no active subscriptions for the tenant. Check to make "
            "sure you have the correct tenant ID. Check with your subscription administrator.", "invalid_request",
     "unknown-tenant", "S1"),
    (900023, "Specified tenant identifier '<x>' is neither a valid DNS name, nor a valid external domain.",
     "invalid_request", "malformed-tenant", "S1"),
    (1002012, "The provided value for scope <x> is not valid. Client credential flows must have a scope value with "
              "/.default suffixed to the resource identifier (application ID URI).", "invalid_scope",
     "scope-not-default", None),
    (500011, "The resource principal named <x> was not found in the tenant named <t>. This can happen if the application "
             "has not been installed by the administrator of the tenant or consented to by any user in the tenant. You "
             "might have sent your authentication request to the wrong tenant.", "invalid_resource",
     "unknown-resource", "S3"),
    (70011, "The provided value for the input parameter 'scope' is not valid ...", "invalid_scope", "invalid-scope",
     None),
    (650057, "Invalid resource. The client has requested access to a resource which is not listed in the requested "
             "permissions in the client's application registration.", "invalid_request", "permission-not-listed", "S3"),
]


def entra_error(code: int, text: str, error: str) -> dict:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: 0f1e\r\nCorrelation ID: 9a8b\r\nTimestamp: 2025-01-01",
        "error_codes": [code], "timestamp": "2025-01-01 10:00:00Z", "trace_id": "0f1e-trace",
        "correlation_id": "9a8b-corr", "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


@pytest.mark.parametrize("code,text,error,hint_id,step", TOKEN_ROWS)
def test_token_error_rows(code, text, error, hint_id, step):
    hint = H.for_token_error(entra_error(code, text, error), CTX)
    assert hint.id == hint_id
    assert hint.setup_step == step
    # Microsoft support asks for these: error, first line of error_description, correlation id, trace id, time
    assert f"error: {error}" in hint.details
    assert f"error_description: AADSTS{code}: {text}" in hint.details
    assert "correlation_id: 9a8b-corr" in hint.details
    assert "trace_id: 0f1e-trace" in hint.details
    assert "timestamp: 2025-01-01 10:00:00Z" in hint.details
    assert hint.reply == f"AADSTS{code}: {text}"


def test_unknown_aadsts_gets_generic_hint_with_raw_text():
    hint = H.for_token_error(entra_error(123456, "Something new.", "invalid_request"), CTX)
    assert hint.id == "token-error"
    assert hint.reply == "AADSTS123456: Something new."


def test_aadsts_from_description_when_codes_missing():
    err = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
    assert H.for_token_error(err).id == "invalid-secret"


# 7.1: raised by msal or requests (exception kinds as the engine classifies them)
EXCEPTION_ROWS = [
    ("msal-bad-authority", "ValueError: Your given address (https://login.microsoftonline.com) should consist of an "
                           "https url with a minimum of one segment in a path: e.g. https://login.microsoftonline.com/"
                           "{tenant}", "malformed-authority", "S1"),
    ("msal-unknown-tenant", "ValueError: Unable to get authority configuration for https://login.microsoftonline.com/x. "
                            "Also please double check your tenant name or GUID is correct.", "unknown-tenant", "S1"),
    ("requests-connection", "ConnectionError: no route", "token-network", "S9"),
    ("requests-timeout", "ReadTimeout", "token-timeout", "S9"),
    ("requests-ssl", "SSLError: certificate verify failed", "token-tls", "S9"),
    ("http-5xx", "HTTPError: 503 Server Error", "entra-outage", None),
    ("token-not-json", "ValueError: Token response is not in json format", "token-not-json", None),
    ("msal-instance-discovery", "ValueError: invalid_instance", "instance-discovery", None),
]


@pytest.mark.parametrize("kind,text,hint_id,step", EXCEPTION_ROWS)
def test_exception_rows(kind, text, hint_id, step):
    hint = H.for_exception(kind, text, CTX)
    assert hint.id == hint_id and hint.setup_step == step and hint.reply == text


def test_every_exception_kind_has_a_hint():
    for kind in H.EXCEPTION_KINDS:
        assert H.for_exception(kind).id


# 7.3: (code, message as aiosmtplib gives it (text after the code), expected hint id, expected step)
SMTP_ROWS = [
    (421, "4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit "
          "https://aka.ms/smtp_auth_tls", "tls-old-version", "S9"),
    (504, "5.7.4 Unrecognized authentication type", "auth-not-offered", "S9"),
    (501, "5.5.124 Invalid XOAUTH2 auth data", "xoauth2-malformed", None),
    (535, "5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]", "exchange-refused-token",
     "S5, S6"),
    (535, "5.7.3 Authentication unsuccessful [HOST.namprd.. 2024-03-20T10:27:56.998Z 08DC48BEE95C08E5]",
     "exchange-refused-token", "S5, S6"),
    (535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
          "https://aka.ms/smtp_auth_disabled for more information.", "smtp-auth-disabled-tenant", "S8"),
    (535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit "
          "https://aka.ms/smtp_auth_disabled for more information.", "smtp-auth-disabled-mailbox", "S8"),
    (535, "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
          "successfully. Contact your administrator.", "policy-blocked", None),
    (535, "5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy",
     "security-defaults", None),
    (535, "5.7.139 Authentication unsuccessful, basic authentication is disabled.", "basic-auth-disabled", None),
    (550, "5.7.30 Basic authentication is not supported for Client Submission.", "basic-auth-retired", None),
    (530, "5.7.57 Client not authenticated to send mail.", "not-authenticated", None),
    (530, "5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM [host]",
     "not-authenticated", None),
    (550, "5.7.60 SMTP; Client does not have permissions to send as this sender [host]", "sendas-no-permission", "S7"),
    (554, "5.2.252 SendAsDenied; app@contoso.com not allowed to send as other@contoso.com; "
          "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message "
          "due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. ...",
     "sendas-denied", "S7"),
    (554, "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied", "sendas-denied", "S7"),
    (432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", "thread-limit", None),
    (421, "4.4.2 Message submission rate for this client has exceeded the configured limit", "rate-limit", None),
    (451, "4.7.500 Server busy. Please try again later from [x.x.x.x]. (S77)", "server-busy", None),
    (421, "4.7.500 Server busy, please try again later.", "server-busy", None),
    (550, "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go "
          "to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7230)", "ip-blocked", None),
    (500, "5.3.3 Unrecognized command 'STARTTLS' [SBX0P281CA0001.outlook.sandbox.test]", "starttls-not-offered", "S9"),
    (500, "5.3.3 Unrecognized command 'FOO' [host]", "unrecognized-command", None),
]


@pytest.mark.parametrize("code,message,hint_id,step", SMTP_ROWS)
def test_smtp_rows(code, message, hint_id, step):
    hint = H.for_smtp_reply(code, message, CTX)
    assert hint.id == hint_id
    assert hint.setup_step == step
    assert hint.reply == f"{code} {message}"  # the raw text, bracketed suffix kept for support


def test_connect_rows():
    assert H.for_exception("connection-refused").setup_step == "S9"
    assert H.for_exception("connect-timeout").id == "connect-timeout"
    assert H.for_exception("tls-version").id == "tls-old-version"
    assert H.for_exception("auth-not-offered").id == "auth-not-offered"


def test_bracket_suffix_stripped_for_matching_and_kept_for_display():
    enhanced, text, suffix = H.split_reply("5.7.3 Authentication unsuccessful [HOST 2024-03-20T10:27:56.998Z 08DC]")
    assert enhanced == "5.7.3"
    assert text == "Authentication unsuccessful"
    assert suffix == "[HOST 2024-03-20T10:27:56.998Z 08DC]"


@pytest.mark.parametrize("code,message,hint_id", [
    (452, "4.3.1 Insufficient system resources", "smtp-temporary"),
    (554, "5.6.0 Something odd [host]", "smtp-permanent"),
    (550, "no enhanced code here", "smtp-permanent"),
    (450, "mailbox busy", "smtp-temporary"),
])
def test_unknown_replies_by_class_quote_raw_text(code, message, hint_id):
    hint = H.for_smtp_reply(code, message, CTX)
    assert hint.id == hint_id
    assert hint.reply == f"{code} {message}"


def test_multiline_reply_joined():
    hint = H.for_smtp_reply(535, "5.7.3 Authentication\nunsuccessful [X]", CTX)
    assert hint.id == "exchange-refused-token"


def test_535_5_7_3_fix_follows_the_authorization_model():
    from dataclasses import replace

    reply = "5.7.3 Authentication unsuccessful [X]"
    classic = H.for_smtp_reply(535, reply, CTX)
    assert classic.setup_step == "S5, S6" and "Add-MailboxPermission" in classic.command
    assert "New-ManagementRoleAssignment" not in classic.command
    rbac = H.for_smtp_reply(535, reply, replace(CTX, model="rbac"))
    assert rbac.id == "exchange-refused-token-rbac" and rbac.setup_step == "S5, R1, R2, R3"
    assert "Add-MailboxPermission" not in rbac.command
    for line in ("New-ServicePrincipal -AppId 11111111-2222-3333-4444-555555555555 "
                 "-ObjectId aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                 'New-ManagementScope -Name "outmail-smtp" -RecipientRestrictionFilter '
                 "\"PrimarySmtpAddress -eq 'john.smith@contoso.com'\"",
                 'New-ManagementRoleAssignment -App 11111111-2222-3333-4444-555555555555 -Role '
                 '"Application SMTP.SendAsApp" -CustomResourceScope "outmail-smtp"',
                 "Test-ServicePrincipalAuthorization -Identity 11111111-2222-3333-4444-555555555555 "
                 "-Resource john.smith@contoso.com"):
        assert line in rbac.command
    assert "2 hours" in rbac.fix and "S3 and S4" in rbac.cause
    both = H.for_smtp_reply(535, reply, replace(CTX, model=""))
    assert both.id == "exchange-refused-token-any-model"
    assert "Add-MailboxPermission" in both.command and "New-ManagementRoleAssignment" in both.command


def test_535_after_a_password_login_is_not_explained_with_oauth():
    from dataclasses import replace

    for mech in ("PLAIN", "LOGIN"):
        ctx = replace(CTX, mechanism=mech, model="", host="mail.example.net", server="other")
        for reply in ("5.7.3 Authentication unsuccessful [X]", "5.7.8 Error: authentication failed: bad"):
            hint = H.for_smtp_reply(535, reply, ctx)
            assert hint.id == "password-rejected", (mech, reply)
            assert "mail.example.net refused the Username and Password" in hint.cause
            assert "Entra" not in hint.cause and hint.command is None
        # Exchange Online with a password: its own words (S8, the end of basic authentication), never OAuth's fix
        hint = H.for_smtp_reply(535, "5.7.3 Authentication unsuccessful [X]", replace(ctx, server="exchange"))
        assert hint.id == "basic-auth-exchange" and hint.setup_step == "S8"
        assert "switch Protocol to SMTP Microsoft 365" in hint.fix and "New-ServicePrincipal" not in (hint.command or "")


@pytest.mark.parametrize("claim,hint_id,step", [
    ("aud", "claim-aud", None), ("roles", "least-privilege", "S3, S4"), ("scp", "claim-scp", None),
    ("tid", "claim-tid", "S1"), ("appid", "claim-appid", "S1"), ("exp", "claim-expired", None),
])
def test_claim_rows(claim, hint_id, step):
    hint = H.for_claim(claim, "x", CTX)
    assert hint.id == hint_id and hint.setup_step == step


def test_commands_filled_from_settings_and_token():
    hint = H.for_smtp_reply(535, "5.7.3 Authentication unsuccessful [X]", CTX)
    assert "New-ServicePrincipal -AppId 11111111-2222-3333-4444-555555555555 " \
           "-ObjectId aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" in hint.command
    assert 'Add-MailboxPermission -Identity "john.smith@contoso.com" -User aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee ' \
           "-AccessRights FullAccess" in hint.command
    assert "Connect-ExchangeOnline -Organization contoso.onmicrosoft.com" in hint.command
    hint = H.for_smtp_reply(554, "5.2.252 SendAsDenied; a not allowed to send as b", CTX)
    assert hint.command == 'Add-RecipientPermission "shared@contoso.com" -Trustee ' \
                           "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee -AccessRights SendAs"
    hint = H.for_smtp_reply(535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
                                 "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.", CTX)
    assert 'Set-CASMailbox -Identity "john.smith@contoso.com" -SmtpClientAuthenticationDisabled $false' in hint.command


def test_unknown_values_become_placeholders():
    hint = H.for_smtp_reply(535, "5.7.3 Authentication unsuccessful", HintContext())
    assert "<APPLICATION_ID>" in hint.command and "<OBJECT_ID of the Enterprise application>" in hint.command
    assert "{" not in hint.command


def test_context_from_settings_uses_token_oid():
    from tui.secret import Secret
    from tui.settings.model import Settings

    s = Settings(username="box@contoso.com", sender="", client_id="cid", client_tenant="contoso.com",
                 client_secret=Secret("x"))
    ctx = HintContext.from_settings(s, {"oid": "OID", "tid": "TID"})
    assert (ctx.object_id, ctx.mailbox, ctx.sender, ctx.tenant, ctx.client_id) == \
           ("OID", "box@contoso.com", "box@contoso.com", "TID", "cid")


def test_table_is_consistent():
    ids = [r.id for r in H.RULES]
    assert len(ids) == len(set(ids))
    for r in H.RULES:
        assert r.cause and r.fix
        assert re.fullmatch(r"[a-z0-9-]+", r.id)
        for part in (r.setup_step.split(",") if r.setup_step else []):
            assert part.strip() in SETUP_STEPS_BY_ID, (r.id, r.setup_step)  # setup steps only: never "config" or "client"
        if r.command:
            H.fill(r.command, CTX)  # no KeyError


def test_every_fault_of_the_reference_is_covered_by_a_setup_step_row():
    assert [s.id for s in SETUP_STEPS] == ["S1", "S2", "S3", "S4", "S5", "S6", "R1", "R2", "R3", "S7", "S8", "S9"]
    assert {s.id for s in SETUP_STEPS if s.model == "classic"} == {"S3", "S4", "S6"}
    assert {s.id for s in SETUP_STEPS if s.model == "rbac"} == {"R1", "R2", "R3"}
    for s in SETUP_STEPS:
        assert s.title and s.where and s.what
    assert "New-ServicePrincipal -AppId {client_id} -ObjectId {object_id}" in SETUP_STEPS_BY_ID["S5"].command
    filled = SETUP_STEPS_BY_ID["S6"].filled_command(CTX)
    assert filled == 'Add-MailboxPermission -Identity "john.smith@contoso.com" -User ' \
                     "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee -AccessRights FullAccess"
    assert "<mailbox>" in SETUP_STEPS_BY_ID["S6"].filled_command()
    assert SETUP_STEPS_BY_ID["S1"].filled_command(CTX) is None


def test_hint_json_shape():
    doc = H.by_id("invalid-secret", CTX).to_json()
    assert set(doc) == {"id", "cause", "setup_step", "fix", "command", "reply", "source", "details"}


# ---- issue 10: replies of other servers (Postfix, Dovecot, greylisting) in their own terms -------------------------
OTHER = HintContext(host="mail.example.net", port="587", mailbox="svc-ldoc", sender="ceo@example.net",
                    mechanism="LOGIN", server="other")

OTHER_ROWS = [  # (code, message, phase, hint id, words in the cause)
    (535, "5.7.8 Error: authentication failed: authentication failure", "auth", "password-rejected",
     "mail.example.net refused the Username and Password"),
    (504, "5.5.4 Unsupported authentication mechanism", "auth", "mechanism-unrecognized",
     "does not accept this AUTH mechanism"),
    (535, "5.7.8 Error: authentication failed: Invalid authentication mechanism", "auth", "mechanism-unrecognized",
     "does not accept this AUTH mechanism"),
    (553, "5.7.1 <ceo@example.net>: Sender address rejected: not owned by user svc-ldoc", "mail", "sender-not-owned",
     "refuses the From ceo@example.net for the login svc-ldoc"),
    (554, "5.7.1 <someone@external.test>: Relay access denied", "rcpt", "relay-denied", "refuses to relay"),
    (530, "5.7.0 Must issue a STARTTLS command first", "mail", "starttls-first", "takes mail only after STARTTLS"),
    (530, "5.7.0 Authentication required", "mail", "auth-required", "requires a login"),
    (450, "4.2.0 <a@b.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/b.test",
     "rcpt", "greylisted", "greylists"),
    (421, "4.7.0 mail.example.net Error: too many connections from 192.0.2.1", "connect", "rate-limited",
     "limits how fast or how much"),
    (452, "4.5.3 Error: too many recipients", "rcpt", "rate-limited", "limits how fast"),
    (500, "5.5.2 Error: line too long", "mail", "line-too-long", "refused a line as too long"),
    (552, "5.3.4 Message size exceeds fixed limit", "data", "message-too-large", "refuses the message's size"),
    (550, "5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in local recipient table", "rcpt",
     "recipient-unknown", "does not know the recipient"),
    (554, "5.7.1 Message rejected as spam by Content Filtering.", "data", "content-rejected", "after DATA"),
    (452, "4.3.1 Insufficient system storage", "data", "smtp-temporary", "temporary error (452 4.3.1)"),
    (554, "5.6.0 Something odd", "rcpt", "smtp-permanent", "permanent error (554 5.6.0)"),
]


@pytest.mark.parametrize("code,message,phase,hint_id,words", OTHER_ROWS)
def test_other_servers_in_their_own_terms(code, message, phase, hint_id, words):
    from dataclasses import replace

    hint = H.for_smtp_reply(code, message, replace(OTHER, phase=phase))
    assert hint.id == hint_id, hint
    assert words in hint.cause
    assert hint.setup_step is None and hint.command is None  # no Microsoft setup step or PowerShell for Postfix
    for word in ("Entra", "Exchange Online PowerShell", "smtp.office365.com", "S9"):
        assert word not in hint.cause + hint.fix


def test_xoauth2_line_too_long_at_auth():
    from dataclasses import replace

    hint = H.for_smtp_reply(500, "5.5.2 Error: line too long", replace(OTHER, mechanism="XOAUTH2", phase="auth"))
    assert hint.id == "xoauth2-too-long" and "goes on the AUTH line itself" in hint.cause


def test_exchange_139_family_in_its_own_words():
    hint = H.for_smtp_reply(535, "5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
                                 "[SN4PR0501CA0054.namprd05.prod.outlook.com]", CTX)
    assert hint.id == "smtp-auth-139"
    assert '"Authentication unsuccessful, the user credentials were incorrect"' in hint.cause


def test_exchange_reply_is_exchange_whatever_the_banner():
    """A relay in front of Exchange, or a banner outmail does not know: Exchange's own codes still get S7."""
    from dataclasses import replace

    ctx = replace(CTX, server="other", phase="mail")
    hint = H.for_smtp_reply(550, "5.7.60 SMTP; Client does not have permissions to send as this sender [x]", ctx)
    assert hint.id == "sendas-no-permission" and hint.setup_step == "S7" and "Add-RecipientPermission" in hint.command
    hint = H.for_smtp_reply(550, "5.7.501 Service unavailable. Spam abuse detected from IP range.", ctx)
    assert hint.id == "exchange-sender-blocked" and "Restricted entities" in hint.fix


@pytest.mark.parametrize("kind,words", [
    ("connection-refused", "mail.example.net:2599"), ("connect-timeout", "TCP 2599"), ("dns-failure", None),
    ("banner-timeout", "port 2599"), ("disconnected", "port 2599"), ("tls-hostname", "names mail.example.net"),
    ("starttls-not-offered", "mail.example.net:2599"), ("tls-verify", "mail.example.net:2599"),
])
def test_connection_hints_use_the_configured_host_and_port(kind, words):
    from dataclasses import replace

    ctx = replace(OTHER, port="2599", phase="connect")
    hint = H.for_exception("dns" if kind == "dns-failure" else kind, "x", ctx)
    text = hint.cause + " " + hint.fix
    assert "587" not in text and "smtp.office365.com" not in text and "Exchange Online PowerShell" not in text
    assert hint.setup_step is None and hint.command is None
    if words:
        assert words in text, text
    exchange = H.for_exception("dns" if kind == "dns-failure" else kind, "x",
                               replace(ctx, server="exchange", host="smtp.office365.com", port="587"))
    assert exchange.setup_step == "S9"


def test_server_kind_from_banner_host_and_protocol():
    assert H.server_kind(said="220 SY5P282CA0097.outlook.office365.com Microsoft ESMTP MAIL Service ready") == \
        "exchange"
    assert H.server_kind(said="220 mail.example.net ESMTP Postfix (Debian/GNU)") == "other"
    assert H.server_kind(host="smtp.office365.com") == "exchange"
    assert H.server_kind(host="mail.example.net") == "other"
    assert H.server_kind(host="127.0.0.1", m365=True) == "exchange"
    assert H.server_kind(host="") == ""


def test_scope_fix_never_repeats_the_scope_already_set():
    from dataclasses import replace

    err = {"error": "invalid_scope", "error_codes": [1002012], "error_description": "AADSTS1002012: The provided..."}
    hint = H.for_token_error(err, replace(CTX, scope="https://outlook.office365.com/.default"))
    assert hint.id == "scope-refused-exchange-scope" and "already https://outlook.office365.com/.default" in hint.cause
    hint = H.for_token_error(err, replace(CTX, scope="https://outlook.office365.com/SMTP.Send"))
    assert hint.id == "scope-not-default" and "https://outlook.office365.com/SMTP.Send" in hint.cause
    assert hint.fix == "Set Scope to https://outlook.office365.com/.default."


def _m365(**changes):
    from tui.secret import Secret
    from tui.settings.model import Settings

    base = dict(username="noreply@contoso.com", sender="noreply@contoso.com",
                client_id="11111111-2222-3333-4444-555555555555", client_tenant="contoso.com",
                client_secret=Secret("abc8Q~" + "x" * 34))
    base.update(changes)
    return Settings(**base)


@pytest.mark.parametrize("changes,hint_id,step,words", [
    # a pasted Secret ID: the cause of AADSTS7000215, setup step S2
    ({"client_secret": "pasted"}, "invalid-secret", "S2", "AADSTS7000215"),
    ({"scope": "https://graph.microsoft.com/.default"}, "field-scope", None, "https://outlook.office365.com/.default"),
    ({"client_id": ""}, "field-client-id", "S1", "Application (client) ID"),
    ({"client_tenant": "not a tenant"}, "field-tenant", "S1", "Directory (tenant) ID"),
    ({"port": 0}, "field-port", None, "587"),
    ({"userasfrom": True}, "field-sendas", "S7", "Add-RecipientPermission"),  # a warning: the first warning's own
])
def test_settings_step_hint_is_the_first_problems_own(changes, hint_id, step, words):
    from tui.secret import Secret
    from tui.settings.validate import validate

    if changes.get("client_secret") == "pasted":
        changes = {"client_secret": Secret("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")}
    settings = _m365(**changes)
    problems = validate(settings)
    hint = H.for_settings(problems, HintContext.from_settings(settings))
    assert hint.id == hint_id and hint.setup_step == step
    assert words in hint.cause + hint.fix + (hint.command or "")
    first = next((p for p in problems if p.severity == "error"), problems[0])
    shown = first.message.rstrip(". ")
    assert hint.reply == (shown if shown.startswith(first.label) else f"{first.label}: {shown}")  # label once
    assert "The settings have errors" not in hint.cause


def test_no_rule_leaves_a_placeholder_unfilled():
    """Every {name} a rule writes is filled from the run's values (or a <placeholder> where a value is unknown): a
    fix never shows `{ca_file}` to the admin."""
    import re

    from dataclasses import fields

    full = replace(CTX, ca_file="/etc/outmail/ca.pem", host="smtp.example.test", port=587, scope="https://x/.default")
    context_names = {f.name for f in fields(H.HintContext)}
    used = {name for rule in H.RULES for text in (rule.cause, rule.fix, rule.command or "")
            for name in re.findall(r"\{([a-z_]+)\}", text)}
    # the names a caller passes for one failure (the reply's text and code, a role...), never the run's own values
    extra = {name: f"<{name} given>" for name in used - context_names}
    for ctx in (full, H.HintContext()):
        for rule in H.RULES:
            hint = H.render(rule, ctx, extra=extra)
            for text in (hint.cause, hint.fix, hint.command or ""):
                assert not re.search(r"\{[a-z_]+\}", text), (rule.id, text)
    assert "ca_file" in used  # the kind of the defect this test is for

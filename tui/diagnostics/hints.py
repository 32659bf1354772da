"""The failure table as data: what went wrong, why, which setup step it points at, and the exact fix.

ONE table (`RULES`) keyed by AADSTS code, SMTP reply (code, enhanced status and a text pattern), exception kind and
claim check, covering every row of the reference failure tables 7.1, 7.2 and 7.3 and the claim table of section 4.
The diagnostics engine, `outmail check`, `outmail send`, the console and the tests all read it.

A `HintRule` is the table row; `Hint` is a rule rendered for one run: its `command` (PowerShell) filled in with the
admin's own client id, object id (the token's `oid`), mailbox, sender and tenant, plus the raw reply or error it
was matched from. Matching entry points:

- `for_token_error(error_dict)`   the Entra error JSON msal returns (maps on `error_codes[0]`)
- `for_smtp_reply(code, message)` an SMTP reply; Exchange's bracketed `[host ts id]` suffix is stripped to match
                                  and kept for display; unknown replies get a hint by class (4.x.x / 5.x.x)
- `for_exception(kind, text)`     an exception kind (see EXCEPTION_KINDS)
- `for_claim(claim, text)`        a failed claim check (see tui.diagnostics.claims)
- `by_id(hint_id)`                any rule by id

`PROPAGATION_HINTS` names the rows whose failure may only mean that Exchange has not applied a change yet (30
minutes to 2 hours): `outmail check --until-pass` and the console's wait toggle (tui.guide.until_pass) keep rerunning
while a run fails with one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from tui.diagnostics.claims import authorization_model
from tui.diagnostics.setup_steps import RBAC_SETTLING_NOTE, SETTLING_NOTE, SETUP_STEPS_BY_ID

# Exception kinds the engine classifies failures into (hints.for_exception).
EXCEPTION_KINDS = (
    "dns", "host-name", "connection-refused", "connect-timeout", "banner-timeout", "timeout", "disconnected",
    "tls-timeout",
    "tls-verify", "tls-hostname", "tls-version", "tls-handshake",
    "starttls-not-offered", "auth-not-offered", "xoauth2-not-offered",
    "implicit-tls-plain-port", "plain-on-implicit-tls-port", "starttls-required-missing", "refuse-cleartext-auth",
    "starttls-opportunistic-clear", "refuse-unverified-tls", "tls-unverified-no-credential", "tls-verify-logicaldoc",
    "tls13-only", "auth-no-common-mechanism", "auth-mechanism-unproven", "no-auth-offered",
    "connect-failed", "tls-version-mismatch", "auth-no-password", "auth-failed", "nosend", "tls-java-trust",
    "auth-after-starttls-only", "read-timeout",
    "msal-bad-authority", "msal-unknown-tenant", "msal-instance-discovery",
    "requests-connection", "requests-timeout", "requests-ssl", "http-5xx", "token-not-json", "ca-file", "unexpected",
)


@dataclass(frozen=True)
class HintRule:
    """One row of the failure table. Matching keys are optional; a rule matches on any one of its key kinds."""

    id: str
    cause: str
    setup_step: str | None  # setup steps only: "S1".."S9", "R1".."R3", "S3, S4"; None when no setup step is at fault
    fix: str
    command: str | None = None  # PowerShell template: {client_id} {object_id} {mailbox} {sender} {tenant}
    source: str = ""  # where it surfaces: "token error", "msal ValueError", "requests", "SMTP reply", "claim", ...
    aadsts: tuple[int, ...] = ()
    smtp_code: tuple[int, ...] = ()
    enhanced: tuple[str, ...] = ()
    pattern: str | None = None  # regex searched (case-insensitive) in the reply text without the [..] suffix
    exceptions: tuple[str, ...] = ()
    claim: str | None = None
    generic: bool = False  # a fallback (unknown code or reply)
    mechanisms: tuple[str, ...] = ()  # only for these SASL mechanisms (HintContext.mechanism; "" = unknown: any)
    models: tuple[str, ...] = ()  # only for these authorization models (HintContext.model: "classic", "rbac", "")
    servers: tuple[str, ...] = ()  # only for these server kinds (HintContext.server: "exchange", "other"; "" = any)
    phases: tuple[str, ...] = ()  # only in these phases (HintContext.phase: connect tls auth mail rcpt data; "" = any)
    when: str = ""  # a named condition on the current values (PREDICATES), e.g. "from-is-mailbox"
    entra: bool = False  # about Entra ID (token, claims): its setup steps hold whatever the SMTP server is

    def fits(self, ctx: "HintContext | None") -> bool:
        """Whether this rule applies to the run: its mechanism, authorization model, server kind, phase and current
        values. An unknown mechanism ("") does not exclude a rule; a row bound to server kinds or phases needs them
        known (a pasted Postfix reply must not get Exchange's advice)."""
        ctx = ctx or HintContext()
        if self.mechanisms == ("?",):  # a row only for when the mechanism is not known (a pasted reply)
            if ctx.mechanism:
                return False
        elif self.mechanisms and ctx.mechanism and ctx.mechanism not in self.mechanisms:
            return False
        if self.models and ctx.model not in self.models:
            return False
        if self.servers and ctx.server not in self.servers:  # strict: an unknown server gets the general rows
            return False
        if self.phases and ctx.phase not in self.phases:  # strict: a phase-bound row needs the phase known
            return False
        if self.when and not PREDICATES[self.when](ctx):
            return False
        return True

    def matches_reply(self, code: int, enhanced: str, text: str) -> bool:
        if not (self.smtp_code or self.enhanced or self.pattern) or self.generic:
            return False
        if self.smtp_code and code not in self.smtp_code:
            return False
        if self.enhanced and enhanced not in self.enhanced:
            return False
        if self.pattern and not re.search(self.pattern, text, re.IGNORECASE):
            return False
        return True


@dataclass(frozen=True)
class HintContext:
    """The values a template is filled with (settings, the token's oid) and what selects a rule: the SASL mechanism
    of the login ("XOAUTH2", "PLAIN", "LOGIN"; "" when unknown) and the authorization model the token implies
    ("classic", "rbac"; "" when there is no token or its claims are unknown)."""

    client_id: str = ""
    object_id: str = ""
    mailbox: str = ""
    sender: str = ""
    tenant: str = ""
    host: str = ""
    port: str = ""
    mechanism: str = ""
    model: str = ""
    server: str = ""  # "exchange" (Exchange Online: its banner, EHLO greeting or host), "other", "" unknown
    phase: str = ""  # where the reply came: "connect", "tls", "auth", "mail", "rcpt", "data"; "" unknown
    scope: str = ""  # the configured token scope (Microsoft 365)
    ca_file: str = ""  # [console] ca_file, when set

    PLACEHOLDERS = {
        "client_id": "<APPLICATION_ID>",
        "object_id": "<OBJECT_ID of the Enterprise application>",
        "mailbox": "<mailbox>",
        "sender": "<from-address>",
        "tenant": "<tenantId>",
        "host": "<server>",
        "port": "<port>",
        "scope": "<scope>",
        "ca_file": "<ca_file>",
    }

    @classmethod
    def from_settings(cls, settings: Any, claims: Mapping[str, Any] | None = None, *,
                      mechanism: str = "", server: str = "", phase: str = "") -> "HintContext":
        model = authorization_model(claims) if claims and getattr(settings, "is_m365", False) else None
        return cls(
            client_id=str(getattr(settings, "client_id", "") or "").strip(),
            object_id=str((claims or {}).get("oid") or ""),
            mailbox=str(getattr(settings, "username", "") or "").strip(),
            sender=str(getattr(settings, "sender", "") or getattr(settings, "username", "") or "").strip(),
            tenant=str((claims or {}).get("tid") or getattr(settings, "client_tenant", "") or "").strip(),
            host=str(getattr(settings, "host", "") or "").strip(),
            port=str(getattr(settings, "port", "") or ""),
            mechanism=mechanism,
            model=model or "",
            server=server or server_kind(host=str(getattr(settings, "host", "") or ""),
                                         m365=bool(getattr(settings, "is_m365", False))),
            phase=phase,
            scope=str(getattr(settings, "scope", "") or "").strip(),
            ca_file=str(getattr(settings, "ca_file", "") or "").strip(),
        )

    def values(self) -> dict[str, str]:
        return {k: (getattr(self, k) or v) for k, v in self.PLACEHOLDERS.items()}


# Exchange Online recognised by what it says (reference section 6: banner "... Microsoft ESMTP MAIL Service ready",
# EHLO "<host>.outlook.office365.com Hello", replies with "[HOST.namprd.. ...]" suffixes) or by the configured host.
EXCHANGE_TEXT_RE = re.compile(r"Microsoft ESMTP MAIL Service|\.outlook\.(office365\.)?com\b|\.prod\.outlook\.com|"
                              r"\.protection\.outlook\.com|STOREDRV\.|SendAsDenied|"
                              r"outlook\.office365\.com|aka\.ms/smtp_auth", re.IGNORECASE)
EXCHANGE_HOST_RE = re.compile(r"(^|\.)(office365\.(com|us)|outlook\.(com|office\.com|office365\.com)|"
                              r"partner\.outlook\.cn)$", re.IGNORECASE)


def server_kind(*, host: str = "", said: str = "", m365: bool = False) -> str:
    """"exchange" or "other" for hints: Microsoft setup steps and PowerShell belong only where the server is Exchange
    Online. `said` is what the server said (banner, EHLO greeting, a reply), which wins; without it the configured
    host decides, and protocol SMTP Microsoft 365 (which only talks to Exchange Online) counts as Exchange."""
    if said:
        return "exchange" if EXCHANGE_TEXT_RE.search(said) else "other"
    if EXCHANGE_HOST_RE.search(host.strip().rstrip(".")) or m365:
        return "exchange"
    return "other" if host.strip() else ""


def _same_address(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().lower() == b.strip().lower()


_EXCHANGE_SCOPES = ("https://outlook.office365.com/.default", "https://outlook.office.com/.default")
# Conditions on the current values that choose between rows (HintRule.when), so that a fix never tells the admin to
# set what is already set.
PREDICATES: dict[str, Any] = {
    "from-is-mailbox": lambda ctx: _same_address(ctx.sender, ctx.mailbox),
    "from-differs": lambda ctx: not _same_address(ctx.sender, ctx.mailbox),
    "scope-is-exchange": lambda ctx: ctx.scope in _EXCHANGE_SCOPES,
    "scope-not-exchange": lambda ctx: ctx.scope not in _EXCHANGE_SCOPES,
    "user-without-login": lambda ctx: bool(ctx.mailbox) and not ctx.mechanism,
    "ca-file-set": lambda ctx: bool(ctx.ca_file),
}


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str | None, ctx: HintContext | None, extra: Mapping[str, str] | None = None) -> str | None:
    """A template with the placeholders filled in (unknown values become <PLACEHOLDER>s); `extra` holds a rule's
    own placeholders (e.g. {why}, {mechanisms})."""
    if template is None:
        return None
    return template.format_map(_Fill({**(ctx or HintContext()).values(), **(extra or {})}))


@dataclass(frozen=True)
class Hint:
    """A rule rendered for one failure: cause, setup step, fix, the filled PowerShell and the raw text matched."""

    id: str
    cause: str
    setup_step: str | None  # "S1".."S9", "R1".."R3", "S5, S6": the setup step(s) at fault, None for none
    fix: str
    command: str | None = None
    reply: str | None = None  # the raw reply or error text, kept whole (Exchange's [..] suffix included)
    source: str = ""
    details: tuple[str, ...] = ()  # e.g. correlation_id, trace_id, timestamp for token errors

    @property
    def setup_step_title(self) -> str:
        parts = []
        for part in (self.setup_step or "").split(","):
            part = part.strip()
            s = SETUP_STEPS_BY_ID.get(part)
            parts.append(f"{part} {s.title}" if s else part)
        return ", ".join(p for p in parts if p)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "cause": self.cause, "setup_step": self.setup_step, "fix": self.fix, "command": self.command,
            "reply": self.reply, "source": self.source, "details": list(self.details),
        }

    def lines(self) -> list[str]:
        """Plain-text rendering (CLI, transcript file)."""
        out = []
        if self.reply:
            out.append(f"{'Problem' if self.source == 'settings' else 'Reply'}: {self.reply}")
        out.append(f"Cause: {self.cause}")
        if self.setup_step:
            out.append(f"Setup step: {self.setup_step_title}")
        out.append(f"Fix: {self.fix}")
        out.extend(self.details)
        if self.command:
            out.append("PowerShell:")
            out.extend("    " + c for c in self.command.splitlines())
        out.append(f"(hint {self.id})")
        return out

    def redacted(self, redact) -> "Hint":
        """A copy with every string passed through `redact` (a str -> str function)."""
        r = lambda s: redact(s) if s else s  # noqa: E731
        return Hint(self.id, r(self.cause), self.setup_step, r(self.fix), r(self.command), r(self.reply), self.source,
                    tuple(r(d) for d in self.details))


_S5 = SETUP_STEPS_BY_ID["S5"].command
_S6 = SETUP_STEPS_BY_ID["S6"].command
_S7 = SETUP_STEPS_BY_ID["S7"].command
_R1 = SETUP_STEPS_BY_ID["R1"].command
_R2 = SETUP_STEPS_BY_ID["R2"].command
_R3 = SETUP_STEPS_BY_ID["R3"].command
_S8_TENANT = "Get-TransportConfig | fl SmtpClientAuthenticationDisabled\nSet-TransportConfig -SmtpClientAuthenticationDisabled $false"
_S8_MAILBOX = ('Get-CASMailbox -Identity "{mailbox}" | fl SmtpClientAuthenticationDisabled\n'
               'Set-CASMailbox -Identity "{mailbox}" -SmtpClientAuthenticationDisabled $false')

RULES: tuple[HintRule, ...] = (
    # ---- 7.2 token endpoint (Entra ID error JSON, mapped on error_codes[0]) ----
    HintRule("invalid-secret", "Entra ID rejects the client secret (AADSTS7000215): a wrong value, or the Secret ID "
             "was pasted instead of the secret's Value.", "S2",
             "Copy the client secret's Value (shown only once, when it is created) into Client secret; if it is lost, "
             "create a new client secret.", source="token error", aadsts=(7000215,)),
    HintRule("expired-secret", "The client secret has expired (AADSTS7000222).", "S2",
             "Create a new client secret (Certificates & secrets > New client secret) and paste its Value into "
             "Client secret; note its expiry date.", source="token error", aadsts=(7000222,)),
    HintRule("unknown-client", "No application with this client ID in the tenant (AADSTS700016): a wrong Client ID, "
             "or the app is registered in another tenant.", "S1",
             "Copy the Application (client) ID from the app registration's Overview into Client ID, and check that "
             "Tenant ID is the directory the app is registered in.", source="token error", aadsts=(700016,)),
    HintRule("unknown-tenant", "The tenant does not exist (AADSTS90002): a wrong Tenant ID, or a tenant in another "
             "cloud.", "S1",
             "Copy the Directory (tenant) ID from the app registration's Overview into Tenant ID; for a sovereign "
             "cloud set the authority host of that cloud.", source="token error / msal ValueError",
             aadsts=(90002,), exceptions=("msal-unknown-tenant",)),
    HintRule("malformed-tenant", "The tenant identifier is neither a GUID nor a valid domain (AADSTS900023): a typo "
             "or stray spaces.", "S1",
             "Enter the Directory (tenant) ID (a GUID) or a verified domain of the tenant in Tenant ID.",
             source="token error", aadsts=(900023,)),
    HintRule("scope-not-default", "The scope {scope} is refused (AADSTS1002012): client credential flows need a scope "
             "ending in /.default.", None,
             "Set Scope to https://outlook.office365.com/.default.", source="token error", aadsts=(1002012,),
             when="scope-not-exchange"),
    HintRule("scope-refused-exchange-scope", "Entra ID refused the scope (AADSTS1002012) although Scope is already "
             "{scope}, the Exchange Online scope client credentials need: the request that reached Entra ID carried "
             "another scope (a proxy rewriting it), or the authority host belongs to another cloud, whose Exchange "
             "resource differs (US Government: https://outlook.office365.us/.default).", None,
             "Check the authority host and the scope together (one cloud), and any proxy between this host and the "
             "authority; quote the correlation id to Microsoft support if both are right.", source="token error",
             aadsts=(1002012,), when="scope-is-exchange"),
    HintRule("unknown-resource", "The scope's resource was not found in the tenant (AADSTS500011): a typo in the "
             "scope host, or another cloud's resource.", "S3",
             "Set Scope to https://outlook.office365.com/.default (or the sovereign cloud's Exchange resource), and "
             "add the Office 365 Exchange Online permission SMTP.SendAsApp.", source="token error",
             aadsts=(500011,)),
    HintRule("invalid-scope", "The scope is malformed (AADSTS70011).", None,
             "Set Scope to https://outlook.office365.com/.default.", source="token error", aadsts=(70011,)),
    HintRule("permission-not-listed", "The app requests a resource that is not in its API permissions "
             "(AADSTS650057).", "S3",
             "Add the API permission Office 365 Exchange Online > Application permissions > SMTP.SendAsApp, then "
             "grant admin consent.", source="token error", aadsts=(650057,)),
    HintRule("token-error", "Entra ID refused the token request.", None,
             "Look the AADSTS code up in Microsoft's error reference (https://login.microsoftonline.com/error); "
             "quote the correlation id and trace id to Microsoft support.", source="token error", generic=True),
    # ---- 7.1 raised by msal or requests instead of an error dict ----
    HintRule("malformed-authority", "The authority URL built from the authority host and the Tenant ID is malformed "
             "(msal ValueError).", "S1",
             "Correct Tenant ID (a GUID or a verified domain, no slashes or spaces) and the authority host "
             "(https://login.microsoftonline.com).", source="msal ValueError", exceptions=("msal-bad-authority",)),
    HintRule("instance-discovery", "msal could not validate the authority host (instance discovery).", None,
             "Use the authority host of a Microsoft cloud (https://login.microsoftonline.com for the global cloud).",
             source="msal ValueError", exceptions=("msal-instance-discovery",)),
    HintRule("token-network", "The login host could not be reached (no route, DNS, proxy or firewall).", "S9",
             "Allow outbound HTTPS (443) to the authority host; set HTTPS_PROXY if a proxy is required.",
             source="requests", exceptions=("requests-connection",)),
    HintRule("token-timeout", "The token service did not answer within the timeout.", "S9",
             "Check outbound HTTPS to the authority host and any proxy; retry, or raise [console] timeout_seconds.",
             source="requests", exceptions=("requests-timeout",)),
    HintRule("token-tls", "The login host's TLS certificate is not trusted (TLS interception by a proxy, or a "
             "missing CA).", "S9",
             "Trust the CA that signs the certificate: set [console] ca_file to its PEM bundle (outmail makes it win "
             "over REQUESTS_CA_BUNDLE), or fix REQUESTS_CA_BUNDLE.", source="requests",
             exceptions=("requests-ssl",)),
    HintRule("entra-outage", "The token service answered with a server error (HTTP 5xx): a Microsoft Entra ID "
             "outage.", None, "Retry later; check the Microsoft 365 service health page.", source="requests",
             exceptions=("http-5xx",)),
    HintRule("token-not-json", "The token service did not answer with JSON: the authority host is not a Microsoft "
             "login endpoint, or a proxy answered instead.", None,
             "Check the authority host and any proxy between outmail and it.", source="msal ValueError",
             exceptions=("token-not-json",)),
    # ---- section 4: token claims ----
    HintRule("claim-aud", "The token is for another resource (aud is not Exchange Online): a wrong scope, e.g. a "
             "Microsoft Graph scope.", None,
             "Set Scope to https://outlook.office365.com/.default; a Graph token cannot be used for SMTP.",
             source="claim", claim="aud"),
    HintRule("least-privilege", "The token carries Exchange permissions that SMTP does not need: whoever holds the "
             "client secret can do all of it, not only send mail as the mailbox.", "S3, S4",
             "Entra admin center > App registrations > <your app> > API permissions: remove every permission except "
             "Office 365 Exchange Online > SMTP.SendAsApp, then Grant admin consent again. Or remove them all and "
             "authorize the app with RBAC for Applications, scoped to the mailbox (R1, R2).",
             source="claim", claim="roles"),
    # one role at a time (the setup guide's least-privilege list): {role} and {allows} (claims.EXTRA_ROLE_EFFECTS)
    HintRule("least-privilege-role", "The token carries {role}, which lets the app {allows}; SMTP needs only "
             "SMTP.SendAsApp (classic) or no Entra permission at all (RBAC for Applications).", "S3, S4",
             "Entra admin center > App registrations > <your app> > API permissions > Office 365 Exchange Online > "
             "{role} > Remove permission, then Grant admin consent for <tenant> again; a token issued before keeps "
             "the role until it expires (an hour at most).", source="claim"),
    HintRule("least-privilege-rbac-entra-role", "The token carries SMTP.SendAsApp although the app is meant to be "
             "authorized with RBAC for Applications: the Entra grant adds the classic model on top (any mailbox that "
             "gives the app FullAccess), so the management scope no longer bounds what the app may send as.",
             "S3, S4",
             "Entra admin center > App registrations > <your app> > API permissions > Office 365 Exchange Online > "
             "SMTP.SendAsApp > Remove permission, then Grant admin consent again; the role assignment on the scope "
             "(R1, R2) keeps SMTP working.", source="claim"),
    HintRule("claim-scp", "The token carries delegated scopes (scp): it is a user token, not an app-only token.",
             None, "Use the client credentials flow with the scope https://outlook.office365.com/.default.",
             source="claim", claim="scp"),
    HintRule("claim-tid", "The token was issued by another tenant than the configured Tenant ID.", "S1",
             "Set Tenant ID to the Directory (tenant) ID of the tenant that holds the mailbox.",
             source="claim", claim="tid"),
    HintRule("claim-appid", "The token was issued to another application than the configured Client ID.", "S1",
             "Set Client ID to the Application (client) ID of the app registration.", source="claim",
             claim="appid"),
    HintRule("claim-expired", "The token has expired (or the clock is wrong).", None,
             "Check this machine's clock (time zone and NTP); rerun to get a fresh token.", source="claim",
             claim="exp"),
    HintRule("claim-not-jwt", "The access token is not a readable JWT, so its claims cannot be checked.", None,
             "Nothing to fix if AUTH succeeds; otherwise check that the authority is Microsoft Entra ID.",
             source="claim", claim="jwt"),
    # ---- 7.3 SMTP: connection and TLS (texts in the server's terms; Microsoft's steps only for Exchange Online) ----
    HintRule("connect-refused", "Nothing accepts connections on {host}:{port}: a wrong Server or Port, the mail "
             "service is down, or a firewall rejects the connection.", "S9",
             "Check Server and Port; open outbound TCP {port} from this host to {host}.", source="exception",
             exceptions=("connection-refused",)),
    HintRule("connect-timeout", "The TCP connection to {host}:{port} timed out: the port is blocked on the way "
             "(egress firewall, ISP), or the host drops the connection.", "S9",
             "Open outbound TCP {port} to {host}; check Server and Port.", source="exception",
             exceptions=("connect-timeout",)),
    HintRule("dns-failure", "The server name {host} does not resolve.", "S9",
             "Check Server ({host}) and this machine's DNS resolver; LogicalDOC's sender looks up the same name, so it "
             "cannot connect either.", source="exception", exceptions=("dns",)),
    HintRule("host-name-invalid", "The Server name cannot be looked up: {reason}. LogicalDOC's sender cannot connect "
             "to it either, so no mail goes out.", None,
             "Correct Server: a host name (mail.example.com) or an IP address; each label between the dots has at most "
             "63 characters, the whole name at most 253.", source="exception", exceptions=("host-name",)),
    HintRule("server-silent", "{host}:{port} accepted the connection but sent no greeting (220) within the timeout: "
             "not an SMTP server, a port that expects implicit TLS (usually 465), a proxy that holds the connection, "
             "or an overloaded server.", "S9",
             "Check Server and Port; for an implicit-TLS port set Connection Security SSL; check that no firewall or "
             "proxy intercepts port {port}.", source="exception", exceptions=("banner-timeout",)),
    HintRule("step-timeout", "{host}:{port} stopped answering within the timeout.", "S9",
             "Retry; check the network path to {host}, or raise [console] timeout_seconds.", source="exception",
             exceptions=("timeout",)),
    HintRule("connection-dropped", "{host}:{port}, or a middlebox on the way, closed the connection.", "S9",
             "Check that no firewall, proxy or antivirus intercepts port {port} (many break STARTTLS); a drop during "
             "STARTTLS can also mean that the server accepts no TLS version outmail offers (1.2 or newer); retry.",
             source="exception", exceptions=("disconnected",)),
    HintRule("tls-verify-ca-file", "The TLS certificate of {host}:{port} is not signed by a CA in [console] ca_file "
             "({ca_file}): a private CA the file does not hold, a self-signed certificate, or TLS interception.", "S9",
             "Add the PEM of the CA that signed it (its issuer is in this step's detail) to {ca_file}; never turn "
             "verification off.", source="exception", exceptions=("tls-verify",), when="ca-file-set"),
    HintRule("tls-verify", "The TLS certificate of {host}:{port} is not trusted: it is signed by a CA that is not in "
             "the trust store (a private CA, a self-signed certificate, or TLS interception).", "S9",
             "Trust the CA that signs it: set [console] ca_file to its PEM bundle, or SSL_CERT_FILE; never turn "
             "verification off.", source="exception", exceptions=("tls-verify",)),
    HintRule("tls-hostname", "The certificate of {host}:{port} does not name {host}: a wrong Server name, or TLS "
             "interception.", "S9",
             "Use the host name the certificate is issued for (smtp.office365.com).", source="exception",
             exceptions=("tls-hostname",), servers=("exchange",)),
    HintRule("tls-hostname-other", "The certificate of {host}:{port} does not name {host}: a wrong Server name, or TLS "
             "interception.", None,
             "Set Server to a name the certificate is issued for (its names are in this step's detail), or give the "
             "server a certificate that names {host}.", source="exception", exceptions=("tls-hostname",),
             servers=("other",)),
    HintRule("tls-timeout", "{host}:{port} took the TCP connection but did not complete a TLS handshake within the "
             "timeout: the port may speak plain SMTP that waits for the client, or something on the way holds the "
             "connection.", "S9",
             "Check the port's security: implicit TLS ('Use secure authentication' or Connection Security SSL) only on "
             "an SMTPS port (usually 465); STARTTLS on 587 and 25.", source="exception", exceptions=("tls-timeout",)),
    HintRule("tls-old-version", "{host}:{port} speaks only TLS below 1.2 (1.0 or 1.1), or answered so (421 4.7.66): "
             "outmail requires TLS 1.2 or newer, as do Exchange Online and the Java 17 LogicalDOC runs on.", "S9",
             "Enable TLS 1.2 or newer on the server and on any proxy in between.",
             source="SMTP reply / exception", smtp_code=(421,), enhanced=("4.7.66",),
             pattern=r"TLS 1\.0 and 1\.1 are not supported", exceptions=("tls-version",)),
    HintRule("tls-handshake", "The TLS handshake with {host}:{port} failed.", "S9",
             "Check that the port speaks the chosen security (STARTTLS usually on 587 and 25, implicit TLS on 465) and "
             "that nothing intercepts TLS.", source="exception", exceptions=("tls-handshake",)),
    HintRule("starttls-not-offered", "{host}:{port} does not offer STARTTLS, or refused it, and outmail never sends a "
             "credential or token without TLS (Exchange Online offers STARTTLS on 587).", "S9",
             "Check Server and Port (smtp.office365.com, 587); a proxy or antivirus may strip STARTTLS.",
             source="SMTP reply / exception", smtp_code=(454, 500, 502), pattern=r"STARTTLS|TLS not available",
             exceptions=("starttls-not-offered",), servers=("exchange",)),
    HintRule("starttls-not-offered-other", "{host}:{port} does not offer STARTTLS, or refused it, and outmail "
             "never sends a credential without TLS.", None,
             "Enable STARTTLS on the server (Postfix: smtpd_tls_security_level = may, with a certificate); check "
             "Server and Port; a proxy or antivirus may strip STARTTLS.",
             source="SMTP reply / exception", smtp_code=(454, 500, 502), pattern=r"STARTTLS|TLS not available",
             exceptions=("starttls-not-offered",), servers=("other",)),
    # ---- protocol smtp: what LogicalDOC's own sender (Jakarta Mail, EMailSender) does (verdict.md section 1) ----
    HintRule("implicit-tls-plain-port", "LogicalDOC speaks TLS from the first byte here ({why}), but {host}:{port} "
             "speaks plain SMTP: it sent its greeting in clear. LogicalDOC's connection fails the same way.", None,
             "For a STARTTLS port such as 587 {plain_fix}; for implicit TLS use the server's SMTPS port (usually "
             "465).", source="TLS handshake", exceptions=("implicit-tls-plain-port",)),
    HintRule("plain-on-implicit-tls-port", "{host}:{port} sent no greeting but answers a TLS handshake: the port "
             "expects implicit TLS (SMTPS). LogicalDOC, with Connection Security {security} and 'Use secure "
             "authentication' off, waits for the greeting in clear and fails the same way.", None,
             "Set Connection Security to SSL (implicit TLS) for this port, or use the server's STARTTLS port "
             "(usually 587) with Connection Security STARTTLS or TLS.", source="exception",
             exceptions=("plain-on-implicit-tls-port",)),
    HintRule("starttls-required-missing", "Connection Security TLS makes LogicalDOC require STARTTLS "
             "(mail.smtp.starttls.required), and {host}:{port} does not offer it: LogicalDOC fails with \"STARTTLS is "
             "required but host does not support STARTTLS\".", None,
             "Enable STARTTLS on the server, or use its submission port (usually 587) or its implicit-TLS port "
             "(usually 465, with Connection Security SSL).", source="EHLO", exceptions=("starttls-required-missing",)),
    HintRule("refuse-cleartext-auth", "{host}:{port} does not offer STARTTLS. With Connection Security STARTTLS "
             "LogicalDOC goes on without TLS (STARTTLS is only used when offered) and sends the Username and Password "
             "in clear, which anyone on the network path can read. outmail does not send them.", None,
             "Enable STARTTLS on the server; or use its implicit-TLS port with Connection Security SSL. Connection "
             "Security TLS makes LogicalDOC refuse to go on without STARTTLS instead of exposing the password.",
             source="EHLO", exceptions=("refuse-cleartext-auth",)),
    HintRule("starttls-opportunistic-clear", "{host}:{port} does not offer STARTTLS, so LogicalDOC (Connection "
             "Security STARTTLS: used only when offered) goes on in clear. No password is sent (Username is empty), "
             "but the mail crosses the network unencrypted.", None,
             "Enable STARTTLS on the server if the path to it is not trusted; Connection Security TLS would make "
             "LogicalDOC refuse to send without it.", source="EHLO", exceptions=("starttls-opportunistic-clear",)),
    HintRule("refuse-unverified-tls", "LogicalDOC accepts {accepts} and would send the Username and Password over "
             "this session, but outmail could "
             "not verify the certificate of {host}:{port}: whoever presents it (a man in the middle included) would "
             "read the password. outmail does not send it.", "S9",
             "Trust the CA that signed the certificate ([console] ca_file = its PEM bundle, or the system store), or "
             "give the server a certificate from a trusted CA that names {host}; then outmail proves the login.",
             source="TLS handshake", exceptions=("refuse-unverified-tls",)),
    HintRule("tls-unverified-no-credential", "outmail could not verify the certificate of {host}:{port}. LogicalDOC "
             "accepts any certificate here (mail.smtp.ssl.trust=*) and sends; no credential is at stake (Username "
             "is empty), so outmail went on over the unverified session to prove the rest.", "S9",
             "Trust the CA that signed it ([console] ca_file) to have outmail verify the session; LogicalDOC itself "
             "does not check it.", source="TLS handshake", exceptions=("tls-unverified-no-credential",)),
    HintRule("tls-verify-logicaldoc", "LogicalDOC checks the certificate of {host}:{port} against its Java trust "
             "store here (with 'Use secure authentication', whose smtps connection does not get the ssl.trust=* of "
             "plain smtp, and with SMTP Microsoft 365), and that store does not trust it: LogicalDOC's connection "
             "fails (PKIX path building failed).", "S9",
             "Import the CA that signed the certificate into the trust store of LogicalDOC's Java (keytool "
             "-importcert -cacerts) and set [console] ca_file to the same PEM for outmail; or turn 'Use secure "
             "authentication' off and use Connection Security SSL, which trusts any certificate.",
             source="TLS handshake", exceptions=("tls-verify-logicaldoc",)),
    HintRule("tls-java-trust", "outmail trusted the certificate of {host}:{port} through [console] ca_file; with 'Use "
             "secure authentication' LogicalDOC checks it against its Java trust store, which outmail cannot see: if "
             "that store lacks the same CA, LogicalDOC's connection fails (PKIX path building failed).", "S9",
             "Import the CA into LogicalDOC's Java trust store (keytool -importcert -cacerts -file <the ca_file PEM>), "
             "or turn 'Use secure authentication' off and use Connection Security SSL, which trusts any certificate.",
             source="TLS handshake", exceptions=("tls-java-trust",)),
    HintRule("tls13-only", "{host}:{port} speaks only TLS 1.3, and LogicalDOC offers TLS 1.1 and 1.2 only "
             "(mail.smtp.ssl.protocols = \"TLSv1.1 TLSv1.2\"): its TLS handshake fails.", None,
             "Allow TLS 1.2 on the server (Postfix: smtpd_tls_protocols = >=TLSv1.2); LogicalDOC's setting cannot be "
             "changed from its Outgoing Email screen.", source="TLS handshake", exceptions=("tls13-only",)),
    HintRule("auth-no-common-mechanism", "{host}:{port} offers AUTH {mechanisms}, none of which LogicalDOC's mail "
             "library uses (LOGIN, PLAIN, DIGEST-MD5, NTLM): LogicalDOC fails with \"No authentication mechanisms "
             "supported by both server and client\".", None,
             "Enable AUTH PLAIN or LOGIN on the server (after TLS).", source="EHLO",
             exceptions=("auth-no-common-mechanism",)),
    HintRule("auth-mechanism-unproven", "{host}:{port} offers AUTH {mechanisms}; LogicalDOC would log in with one of "
             "them, which outmail does not speak, so the login is not proven.", None,
             "Enable AUTH PLAIN or LOGIN on the server (after TLS) to have the login proven.", source="EHLO",
             exceptions=("auth-mechanism-unproven",)),
    HintRule("auth-after-starttls-only", "{host}:{port} offers STARTTLS and AUTH only after it, and with Connection "
             "Security None LogicalDOC never starts TLS: it sends without logging in although Username is set.", None,
             "Set Connection Security to STARTTLS (or TLS to require it): LogicalDOC then logs in after TLS.",
             source="EHLO", exceptions=("auth-after-starttls-only",)),
    HintRule("no-auth-offered", "{host}:{port} offers no AUTH{where}, so LogicalDOC (Jakarta Mail) sends without "
             "logging in although Username is set. Whether the server takes mail without a login shows in the "
             "envelope step.", None,
             "If the server should require a login, enable SMTP AUTH there (after TLS); if it is a relay that "
             "trusts this host, clear Username and Password.", source="EHLO", exceptions=("no-auth-offered",)),
    # ---- 7.3 SMTP: AUTH ----
    HintRule("auth-not-offered", "Exchange Online does not offer AUTH, or not this mechanism, at this point (504 "
             "5.7.4): STARTTLS was skipped, or an unoffered mechanism was used.", "S9",
             "Set Connection Security to STARTTLS so that AUTH is offered after TLS; with SMTP Microsoft 365 "
             "outmail always uses STARTTLS, then AUTH XOAUTH2.", source="SMTP reply / exception",
             smtp_code=(504,), enhanced=("5.7.4",), exceptions=("auth-not-offered",), servers=("exchange",)),
    HintRule("mechanism-unrecognized", "{host} does not accept this AUTH mechanism, or not at this point ({status}): some servers offer AUTH only after STARTTLS, each only the mechanisms in its EHLO list.",
             None, "Use a mechanism from the server's AUTH list (the EHLO detail shows it); with Connection Security "
             "None, enable STARTTLS where the server offers AUTH only after it.", source="SMTP reply",
             smtp_code=(504, 535, 501), enhanced=("5.5.1", "5.5.4", "5.7.4", "5.7.0", "5.7.8"),
             pattern=r"mechanism|authentication type|unrecognized auth"),
    HintRule("xoauth2-not-offered", "{host}:{port} does not offer AUTH XOAUTH2 after STARTTLS: it is not Exchange "
             "Online, or a proxy rewrote the capability list.", "S9",
             "For SMTP Microsoft 365 use smtp.office365.com:587, and check for TLS-intercepting proxies.",
             source="exception", exceptions=("xoauth2-not-offered",)),
    HintRule("xoauth2-too-long", "{host} refused the AUTH XOAUTH2 line as too long ({status}): the token (over "
             "a thousand characters) goes on the AUTH line itself, as LogicalDOC sends it, and this server or a proxy "
             "in between limits the line length. Exchange Online accepts it.", None,
             "Use smtp.office365.com:587 directly, without a proxy that limits SMTP line length.",
             source="SMTP reply", smtp_code=(500, 501), pattern=r"too long|line length",
             mechanisms=("XOAUTH2",), phases=("auth",)),
    HintRule("xoauth2-malformed", "Exchange Online could not parse the XOAUTH2 string (501 5.5.124).", None,
             "A client bug: the string must be base64(\"user=<mailbox>\\x01auth=Bearer <token>\\x01\\x01\").",
             source="SMTP reply", smtp_code=(501,), enhanced=("5.5.124",)),
    HintRule("smtp-auth-disabled-tenant", "SMTP AUTH is disabled for the tenant (535 5.7.139); the switch applies "
             "to XOAUTH2 too.", "S8",
             "Enable SMTP AUTH for the tenant, or only for the mailbox (the mailbox setting wins).",
             _S8_TENANT + "\n" + _S8_MAILBOX, source="SMTP reply", smtp_code=(535,), enhanced=("5.7.139",),
             pattern=r"disabled for the Tenant"),
    HintRule("smtp-auth-disabled-mailbox", "SMTP AUTH is disabled for the mailbox {mailbox} (535 5.7.139).", "S8",
             "Enable SMTP AUTH for the mailbox.", _S8_MAILBOX, source="SMTP reply", smtp_code=(535,),
             enhanced=("5.7.139",), pattern=r"disabled for the Mailbox"),
    HintRule("policy-blocked", "A tenant policy (Conditional Access or another) blocks the sign-in (535 5.7.139, "
             "'did not meet the criteria').", None,
             "Ask the tenant administrator to exclude this app or mailbox from the blocking Conditional Access "
             "policy; check the Entra sign-in logs.", source="SMTP reply", smtp_code=(535,), enhanced=("5.7.139",),
             pattern=r"did not meet the criteria"),
    HintRule("security-defaults", "Security Defaults lock the mailbox (535 5.7.139).", None,
             "Ask the tenant administrator to review Security Defaults (Entra admin center > Overview > Properties > "
             "Manage security defaults).", source="SMTP reply", smtp_code=(535,), enhanced=("5.7.139",),
             pattern=r"security defaults"),
    HintRule("basic-auth-disabled", "AUTH LOGIN or PLAIN (basic authentication) was used, and Exchange Online has it "
             "switched off (535 5.7.139).", None, "Use protocol SMTP Microsoft 365 (AUTH XOAUTH2).",
             source="SMTP reply", smtp_code=(535,), enhanced=("5.7.139",), pattern=r"basic authentication is disabled"),
    HintRule("smtp-auth-139", "Exchange Online refused the login for a tenant or mailbox policy (535 5.7.139), in "
             "its own words: \"{text}\".", None,
             "Act on Microsoft's words: SMTP AUTH switches are S8 (Set-TransportConfig, Set-CASMailbox); sign-in "
             "policies show in the Entra sign-in logs (Conditional Access, Security Defaults).", source="SMTP reply",
             smtp_code=(535,), enhanced=("5.7.139",)),
    HintRule("exchange-refused-login", "Exchange Online refused the login (535 5.7.3), and the text does not say how "
             "LogicalDOC logged in. With SMTP Microsoft 365 (a token): the service principal is missing or made with "
             "the App registration's Object ID, the app has no FullAccess (classic) or RBAC role assignment covering "
             "the mailbox, or a change is not yet applied. With SMTP (a password): a wrong password, or SMTP AUTH or "
             "basic authentication switched off (S8).", "S5, S6, R1, R2, S8",
             "Run `outmail check` with the same settings to tell them apart. For a token: register the service "
             "principal with the Enterprise application's object id (S5), then FullAccess (S6) or an RBAC scope and "
             "role assignment (R1, R2). " + RBAC_SETTLING_NOTE,
             _S5 + "\n# classic\n" + _S6 + "\n# or RBAC for Applications\n" + _R1 + "\n" + _R2 + "\n" + _R3,
             source="SMTP reply", smtp_code=(535,), enhanced=("5.7.3",), mechanisms=("?",), servers=("exchange",)),
    HintRule("exchange-refused-token", "Entra ID issued the token with SMTP.SendAsApp (the classic model) but "
             "Exchange refuses it (535 5.7.3): the service principal is missing or was made with the App "
             "registration's Object ID; no FullAccess on the user= mailbox; Username is not a mailbox (UPN mismatch); "
             "or a change is not yet applied.", "S5, S6",
             "Check the token's claims first (aud). Then register the service principal with the token's "
             "oid (S5) and give it FullAccess to the mailbox (S6). " + SETTLING_NOTE,
             _S5 + "\n" + _S6, source="SMTP reply", smtp_code=(535,), enhanced=("5.7.3",),
             mechanisms=("XOAUTH2",), models=("classic",)),
    HintRule("exchange-refused-token-rbac", "The token has no SMTP.SendAsApp role, so only RBAC for Applications "
             "can authorize the app, and Exchange refuses it (535 5.7.3): no service principal for the token's oid, "
             "no role assignment \"Application SMTP.SendAsApp\" for the app, the mailbox {mailbox} is outside the "
             "assignment's management scope, or a change is not yet applied. (With the classic model instead, the "
             "token lacks SMTP.SendAsApp: add the permission and grant admin consent, S3 and S4.)", "S5, R1, R2, R3",
             "Register the service principal with the token's oid (S5), put the mailbox in a management scope (R1), "
             "assign the role on that scope (R2), and check with Test-ServicePrincipalAuthorization: InScope must "
             "be True (R3). " + RBAC_SETTLING_NOTE,
             _S5 + "\n" + _R1 + "\n" + _R2 + "\n" + _R3, source="SMTP reply", smtp_code=(535,),
             enhanced=("5.7.3",), mechanisms=("XOAUTH2",), models=("rbac",)),
    HintRule("exchange-refused-token-any-model", "Exchange refuses the token (535 5.7.3) and its claims could not be "
             "read, so the authorization model is not known: the service principal is missing or was made with the "
             "App registration's Object ID; the app has neither FullAccess on the mailbox (classic, with the "
             "SMTP.SendAsApp permission) nor an RBAC role assignment covering it; or a change is not yet applied.",
             "S5, S6, R1, R2",
             "Register the service principal with the Enterprise application's object id (S5); then either give it "
             "FullAccess (S6, classic) or assign \"Application SMTP.SendAsApp\" on a scope holding the mailbox "
             "(R1, R2, RBAC for Applications). " + RBAC_SETTLING_NOTE,
             _S5 + "\n# classic\n" + _S6 + "\n# or RBAC for Applications\n" + _R1 + "\n" + _R2 + "\n" + _R3,
             source="SMTP reply", smtp_code=(535,), enhanced=("5.7.3",), mechanisms=("XOAUTH2",)),
    HintRule("basic-auth-exchange", "Exchange Online refused the Username and Password ({status}): a wrong "
             "password, SMTP AUTH switched off for the mailbox or the tenant (S8), or basic authentication for SMTP "
             "switched off (the default from the end of December 2026).", "S8",
             "Check the password and S8; better, switch Protocol to SMTP Microsoft 365 (OAuth 2.0, AUTH XOAUTH2), "
             "which the end of basic authentication does not affect.", _S8_MAILBOX, source="SMTP reply",
             smtp_code=(535,), mechanisms=("PLAIN", "LOGIN"), servers=("exchange",)),
    HintRule("password-rejected", "{host} refused the Username and Password: a wrong password, a user name the "
             "server does not know (some servers want the whole address, others the bare login name), or an account "
             "that may not log in over SMTP.", None,
             "Check Username and Password against an account of {host} (for example with the server's own mail "
             "client or its log).", source="SMTP reply", smtp_code=(535,),
             mechanisms=("PLAIN", "LOGIN")),
    HintRule("basic-auth-retired", "Basic authentication is not supported for client submission (550 5.7.30).",
             None, "Use protocol SMTP Microsoft 365 (AUTH XOAUTH2).", source="SMTP reply", smtp_code=(550,),
             enhanced=("5.7.30",)),
    # ---- 7.3 SMTP: MAIL FROM, RCPT TO, DATA ----
    HintRule("not-authenticated", "Exchange Online refuses mail from a client that did not log in (530 5.7.57): "
             "AUTH was never sent (empty Username) or it failed unnoticed.", None,
             "Set Username to the mailbox (for SMTP Microsoft 365 also Client ID, Tenant ID and Client secret); "
             "LogicalDOC logs in only when Username is set; never send mail without a 235 reply to AUTH.",
             source="SMTP reply", smtp_code=(530,), enhanced=("5.7.57",)),
    HintRule("starttls-first", "{host} takes mail only after STARTTLS ({status}): with Connection Security "
             "None LogicalDOC never starts TLS.", None,
             "Set Connection Security to STARTTLS (or TLS to require it).", source="SMTP reply",
             smtp_code=(530,), pattern=r"STARTTLS"),
    HintRule("auth-required", "{host} requires a login before it takes mail ({status}).", None,
             "Set Username and Password of an account of {host}; LogicalDOC logs in only when Username is set.",
             source="SMTP reply", smtp_code=(530, 550, 554), pattern=r"authentication required|must authenticate|"
             r"not authenticated"),
    HintRule("relay-denied-no-login", "{host} refuses to relay this mail for a client that did not log in ({status} "
             "Relay access denied), and LogicalDOC did not log in although Username is set (the AUTH step says why).",
             None, "Make LogicalDOC log in: follow the AUTH step's fix (usually Connection Security STARTTLS, where "
             "the server offers AUTH only after TLS).", source="SMTP reply", smtp_code=(454, 550, 551, 553, 554),
             pattern=r"relay(ing)? (access )?(denied|not permitted|not allowed)|relay access denied|unable to relay",
             when="user-without-login"),
    HintRule("relay-denied", "{host} refuses to relay this mail for the client as it is ({status} Relay "
             "access denied): it takes mail for outside domains only from clients that logged in (or from trusted "
             "networks).", None,
             "Set Username and Password of an account of {host} (LogicalDOC then logs in), or have the server trust "
             "this host as a relay.", source="SMTP reply", smtp_code=(454, 550, 551, 553, 554),
             pattern=r"relay(ing)? (access )?(denied|not permitted|not allowed)|relay access denied|unable to relay"),
    HintRule("sendas-no-permission", "From {sender} differs from the authenticated mailbox {mailbox} and the app has "
             "no Send As on it (550 5.7.60).", "S7",
             "Grant Send As on the From address, or make Sender Email the Username's mailbox and turn off "
             "'Use user's email as sender'.", _S7, source="SMTP reply", smtp_code=(550,), enhanced=("5.7.60",),
             when="from-differs"),
    HintRule("sendas-denied", "Exchange denied sending as {sender} (554 SendAsDenied): no Send As for the app's "
             "service principal on that address.", "S7",
             "Grant Send As on the From address, or make Sender Email the Username's mailbox and turn off "
             "'Use user's email as sender'.", _S7, source="SMTP reply", smtp_code=(554,),
             enhanced=("5.2.252", "5.2.0"), pattern=r"SendAsDenied", when="from-differs"),
    HintRule("sendas-refused-own-mailbox", "Exchange refused sending as {sender}, which is the Username itself, so "
             "Send As is not what is missing: Username is probably not the mailbox's primary SMTP address (an alias "
             "or a UPN that differs), or the access the app has does not cover this mailbox.", None,
             "Set Username and Sender Email to the mailbox's primary SMTP address (PowerShell below); then check "
             "FullAccess (S6) or the RBAC scope (R1) for that mailbox.",
             'Get-Mailbox -Identity "{mailbox}" | fl PrimarySmtpAddress,UserPrincipalName,EmailAddresses',
             source="SMTP reply", smtp_code=(550, 554), enhanced=("5.7.60", "5.2.252", "5.2.0"),
             pattern=r"SendAsDenied|send as|not have permissions", when="from-is-mailbox"),
    HintRule("sender-not-owned", "{host} refuses the From {sender} for the login {mailbox} ({status}): the "
             "account may not send as that address.", None,
             "Set Sender Email to an address of the login's account, or allow the login to send as {sender} on the "
             "server (Postfix: smtpd_sender_login_maps); with 'Use user's email as sender' every user's address "
             "must be allowed.", source="SMTP reply", smtp_code=(550, 553, 554),
             pattern=r"not owned|sender address rejected|not allowed to send as|sender .*not authori[sz]ed"),
    HintRule("recipient-not-found", "Exchange has no recipient with this To address (550 5.1.10 "
             "RecipientNotFound): the address is in one of the tenant's accepted domains, but no mailbox, group or "
             "contact has it. Nothing was sent, to any recipient.", None,
             "Correct the To address (a typo, or a user that was removed); `Get-Recipient -Identity <address>` in "
             "Exchange Online PowerShell shows whether it exists. Addresses outside the tenant's domains are "
             "accepted here and checked by the receiving server.", source="SMTP reply", smtp_code=(550,),
             enhanced=("5.1.10",)),
    HintRule("recipient-unknown", "{host} does not know the recipient ({status}): {text}.", None,
             "Correct the To address; a recipient in the server's own domains must exist there.", source="SMTP reply",
             smtp_code=(550, 551, 553, 554), enhanced=("5.1.1", "5.1.0", "5.1.6"),
             pattern=r"unknown|not found|no such|does not exist|rejected|unavailable|invalid"),
    HintRule("message-too-large", "{host} refuses the message's size ({status}).", None,
             "Send a smaller message; LogicalDOC attaches documents: ask the server's admin to raise the size limit "
             "(Postfix: message_size_limit; Exchange Online: the mailbox's MaxSendSize).", source="SMTP reply",
             smtp_code=(552, 554, 523), enhanced=("5.3.4", "5.2.3", "5.3.0"), pattern=r"size|too (large|big)"),
    HintRule("exchange-sender-blocked", "Exchange Online blocks this sender or tenant from sending ({enhanced}): "
             "{text}.", None,
             "Microsoft 365 Defender portal > Restricted entities: release the user after checking the account is "
             "not compromised; for a blocked tenant (5.7.705, 5.7.750) open a case with Microsoft support.",
             source="SMTP reply", smtp_code=(550, 554), enhanced=("5.7.501", "5.7.511", "5.7.705", "5.7.750")),
    HintRule("content-rejected", "{host} refused the message after DATA ({status}): a content, spam or "
             "policy filter.", None,
             "The reply names the filter; ask the server's admin to look the message up in its log.",
             source="SMTP reply", smtp_code=(550, 554), enhanced=("5.7.1", "5.6.0", "5.7.0"), phases=("data",)),
    HintRule("greylisted", "{host} greylists ({status}): it refuses the first attempt of an unknown client "
             "or sender for a few minutes; a real sending server retries and gets through.", None,
             "Retry in a few minutes; LogicalDOC does not retry a failed mail itself, so have the server's admin "
             "whitelist this host (Postfix with postgrey: the client whitelist).", source="SMTP reply",
             smtp_code=(450, 451, 452), pattern=r"grey|gray"),
    HintRule("thread-limit", "Too many concurrent connections for this mailbox (432 4.3.2; Exchange allows 3).",
             None, "Retry later; send over one connection at a time.", source="SMTP reply", smtp_code=(432,),
             enhanced=("4.3.2",)),
    HintRule("rate-limit", "The message submission rate limit was exceeded (421 4.4.2).", None,
             "Retry later; Exchange allows about 30 messages a minute per mailbox.", source="SMTP reply",
             smtp_code=(421,), enhanced=("4.4.2",)),
    HintRule("server-busy", "Exchange is throttling (4.7.500 server busy).", None, "Retry later.",
             source="SMTP reply", smtp_code=(421, 451), enhanced=("4.7.500",)),
    HintRule("rate-limited", "{host} limits how fast or how much this client may send ({status}): {text}.",
             None, "Retry later; send less often, or ask the server's admin to raise the limit for this host.",
             source="SMTP reply", smtp_code=(421, 450, 451, 452, 454),
             pattern=r"rate|too many|limit|exceeded|throttl|try again later"),
    HintRule("ip-blocked", "Outbound restriction on a new or trial tenant (550 5.7.708): the message is bounced "
             "after a successful SMTP exchange.", None, "Open a case with Microsoft support.",
             source="bounce after 250", smtp_code=(550,), enhanced=("5.7.708",)),
    HintRule("unrecognized-command", "The server does not know a command (500 5.3.3).", None,
             "A client or server mismatch; check Server and Port.", source="SMTP reply", smtp_code=(500,),
             enhanced=("5.3.3",)),
    HintRule("command-unrecognized", "{host} does not know a command outmail sent ({status}): {text}.",
             None, "Check Server and Port: the port may belong to another service, or a proxy filters commands.",
             source="SMTP reply", smtp_code=(500, 502),
             pattern=r"unrecognized|not recognized|not implemented|unknown command|syntax error"),
    HintRule("line-too-long", "{host} refused a line as too long ({status}).", None,
             "A proxy or the server limits SMTP line length; check Server and Port.", source="SMTP reply",
             smtp_code=(500,), pattern=r"too long|line length"),
    HintRule("address-not-ascii", "{host} refused an address with non-ASCII characters ({status}): the server does "
             "not offer SMTPUTF8, or LogicalDOC's mail library sent the address without it.", None,
             "Use an ASCII address in Sender Email (and the recipients), or enable SMTPUTF8 on the server.",
             source="SMTP reply", smtp_code=(500, 501, 550, 553, 555), pattern=r"UTF-?8|8-?bit|non-ascii"),
    # ---- what LogicalDOC's log says without an SMTP reply (outmail explain; Jakarta Mail's own messages) ----
    HintRule("connect-failed", "LogicalDOC could not connect to {host}:{port}; the exception it wraps (the next lines "
             "of the log) says why.", None,
             "Run `outmail check` with the same settings: it tells a refused port, a timeout, a TLS mode mismatch and "
             "a certificate apart.", source="LogicalDOC log", exceptions=("connect-failed",)),
    HintRule("tls-version-mismatch", "LogicalDOC (TLS 1.2 on Java 17: it offers \"TLSv1.1 TLSv1.2\" and Java has 1.1 "
             "off) and {host} share no TLS version: the server speaks only TLS 1.3, or only TLS 1.0/1.1.", None,
             "Run `outmail check`: it tells which; then allow TLS 1.2 on the server.", source="LogicalDOC log",
             exceptions=("tls-version-mismatch",)),
    HintRule("auth-no-password", "LogicalDOC's mail library had a user name but no password (\"no password "
             "specified?\"): Password is empty, or the server asked for AUTH although Username is empty.", None,
             "Set Password for the Username's account; for a relay that needs no login, clear Username too.",
             source="LogicalDOC log", exceptions=("auth-no-password",)),
    HintRule("auth-failed", "The server refused the login; the log holds no SMTP reply to say why.", None,
             "Run `outmail check` with the same settings to see the server's reply and its cause.",
             source="LogicalDOC log", exceptions=("auth-failed",)),
    HintRule("logicaldoc-read-timeout", "LogicalDOC's connection to {host}:{port} stopped getting answers (Read timed "
             "out): the server or something on the way stopped responding in the middle of the dialogue.", None,
             "Run `outmail check` with the same settings: it shows at which step the server stops answering.",
             source="LogicalDOC log", exceptions=("read-timeout",)),
    HintRule("nosend", "LogicalDOC's kill switch smtp.nosend is on: it logs each mail as not sent and sends nothing.",
             None, "Set smtp.nosend=false in LogicalDOC's context.properties (or remove it) and restart LogicalDOC.",
             source="LogicalDOC log", exceptions=("nosend",)),
    HintRule("ca-file-invalid", "The CA file cannot be loaded as PEM certificates.", None,
             "Point [console] ca_file at a PEM bundle (-----BEGIN CERTIFICATE----- blocks), or leave it empty for the "
             "system trust store.", source="exception", exceptions=("ca-file",)),
    HintRule("unexpected", "outmail hit an unexpected error in this step.", None,
             "Retry; if it persists, report it with the saved transcript (secrets are redacted).", source="exception",
             exceptions=("unexpected",)),
    # ---- generic fallbacks by reply class ----
    HintRule("smtp-temporary", "{host} answered with a temporary error ({status}) that outmail's table does "
             "not know: the same request may succeed later.", None,
             "Retry later; if it persists, the reply's own words name the cause (or ask the server's admin).",
             source="SMTP reply", generic=True),
    HintRule("smtp-permanent", "{host} answered with a permanent error ({status}) that outmail's table does "
             "not know: retrying unchanged will fail again.", None,
             "The reply's own words name what the server refuses; ask the server's admin if they do not.",
             source="SMTP reply", generic=True),
    # ---- the settings step: the first error's (or warning's) own cause, setup step and fix (FIELD_RULES) ----
    HintRule("field-client-id", "{problem}.", "S1",
             "Copy the Application (client) ID from Entra admin center > App registrations > <your app> > Overview "
             "into Client ID.", source="settings"),
    HintRule("field-tenant", "{problem}.", "S1",
             "Copy the Directory (tenant) ID from the app registration's Overview into Tenant ID (or use a verified "
             "domain of the tenant).", source="settings"),
    HintRule("field-client-secret", "{problem}.", "S2",
             "Paste the client secret's Value (Certificates & secrets; shown once, when it is created) into Client "
             "secret, or set it in OUTMAIL_CLIENT_SECRET.", source="settings"),
    HintRule("field-scope", "{problem}.", None,
             "Set Scope to https://outlook.office365.com/.default (the Exchange Online resource of the global cloud; "
             "a Microsoft Graph or a delegated scope gives a token SMTP refuses).", source="settings"),
    HintRule("field-authority", "{problem}.", None,
             "Set the authority host to https://login.microsoftonline.com (the global cloud, the only one "
             "LogicalDOC uses).", source="settings"),
    HintRule("field-username", "{problem}.", None,
             "With SMTP Microsoft 365 set Username to the mailbox address the app sends as (the XOAUTH2 user=); with "
             "SMTP, the server's login name, or empty for a relay that needs no login.", source="settings"),
    HintRule("field-password", "{problem}.", None,
             "Set Password for the Username's account (or OUTMAIL_SMTP_PASSWORD); with SMTP Microsoft 365 it is "
             "not used.", source="settings"),
    HintRule("field-sender", "{problem}.", None,
             "Set Sender Email to the address LogicalDOC's mail comes from (with SMTP Microsoft 365, usually the "
             "Username's mailbox).", source="settings"),
    HintRule("field-sendas", "{problem}.", "S7",
             "Grant Send As on every From address (PowerShell below), or make Sender Email the Username's mailbox "
             "and turn off 'Use user's email as sender'.", _S7, source="settings"),
    HintRule("field-host", "{problem}.", None,
             "Set Server to the SMTP host name (smtp.office365.com for Microsoft 365), without scheme or port.",
             source="settings"),
    HintRule("field-port", "{problem}.", None,
             "Set Port to the submission port: 587 (STARTTLS), 465 (implicit TLS, Connection Security SSL) or 25 "
             "(a relay).", source="settings"),
    HintRule("field-security", "{problem}.", None,
             "Set Connection Security and 'Use secure authentication' to what the port speaks: STARTTLS (or TLS to "
             "require it) on 587 and 25; SSL on 465; 'Use secure authentication' only for implicit TLS.",
             source="settings"),
    HintRule("field-protocol", "{problem}.", None,
             "Set Protocol to SMTP Microsoft 365 for Exchange Online with OAuth 2.0, or SMTP for any other server.",
             source="settings"),
    HintRule("field-console", "{problem}.", None,
             "Correct the [console] value in the settings file (timeout_seconds: a number of seconds; ca_file: an "
             "existing PEM file, or empty).", source="settings"),
    # ---- settings ----
    HintRule("settings-invalid", "The settings have errors, so nothing was sent.", None,
             "Correct the fields named in this step's detail (F2 in the console, or the settings file).",
             source="settings"),
    HintRule("settings-warnings", "The settings work but differ from the setup guide's advice.", None,
             "Read the warnings in this step's detail.", source="settings"),
)

# Rows about Entra ID (the token and its claims): their setup steps hold whatever the SMTP server is.
_ENTRA_SOURCES = ("token error", "token error / msal ValueError", "msal ValueError", "requests", "claim")
# Enhanced status codes only Exchange Online uses (reference 7.3): a server answering with one of them is Exchange, or
# a relay in front of it, whatever its banner says.
MICROSOFT_CODES = frozenset({"4.7.66", "5.5.124", "5.7.139", "5.7.30", "5.7.57", "5.7.60", "5.2.252", "5.1.10",
                             "4.3.2", "4.4.2", "4.7.500", "5.7.708", "5.7.501", "5.7.511", "5.7.705", "5.7.750"})
RULES = tuple(replace(r, entra=True) if r.source in _ENTRA_SOURCES else r for r in RULES)
RULES_BY_ID: dict[str, HintRule] = {r.id: r for r in RULES}

# Failures that may only mean "not yet": Exchange applies a change to a service principal, a mailbox permission, an
# RBAC scope or role assignment, Send As or SMTP AUTH 30 minutes to 2 hours late (SETTLING_NOTE, RBAC_SETTLING_NOTE).
# `outmail check --until-pass` keeps rerunning while the run fails with one of these, and stops at any other failure.
PROPAGATION_HINTS: frozenset[str] = frozenset({
    "exchange-refused-token", "exchange-refused-token-rbac", "exchange-refused-token-any-model",
    "exchange-refused-login", "smtp-auth-disabled-tenant", "smtp-auth-disabled-mailbox", "sendas-no-permission",
    "sendas-denied",
})
assert PROPAGATION_HINTS <= set(RULES_BY_ID), "PROPAGATION_HINTS names an unknown hint"

# The settings step's hint: the rule for the first error's (or, without errors, the first warning's) field. A few
# problems have a rule of their own, found by the words of their message (validate.py writes them).
FIELD_RULES: dict[str, str] = {
    "client_id": "field-client-id", "client_tenant": "field-tenant", "client_secret": "field-client-secret",
    "scope": "field-scope", "authority_host": "field-authority", "username": "field-username",
    "password": "field-password", "sender": "field-sender", "userasfrom": "field-sendas", "host": "field-host",
    "port": "field-port", "connection_security": "field-security", "auth_encrypted": "field-security",
    "protocol": "field-protocol", "timeout_seconds": "field-console", "ca_file": "field-console",
}
FIELD_MESSAGE_RULES: tuple[tuple[str, str, str], ...] = (
    ("client_secret", "secret's ID", "invalid-secret"),  # a pasted Secret ID: AADSTS7000215, S2
    ("sender", "Send As", "field-sendas"),
)
assert len(RULES_BY_ID) == len(RULES), "duplicate hint ids"

_ENHANCED_RE = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b\s*")
_SUFFIX_RE = re.compile(r"\s*\[[^\[\]]*\]\s*$")


def split_reply(message: str) -> tuple[str, str, str]:
    """(enhanced status, text without the status and without Exchange's trailing [..] suffix, the suffix)."""
    text = " ".join(line.strip() for line in message.splitlines()).strip()
    enhanced = ""
    m = _ENHANCED_RE.match(text)
    if m:
        enhanced = m.group(1)
        text = text[m.end():]
    suffix = ""
    m = _SUFFIX_RE.search(text)
    if m:
        suffix = m.group(0).strip()
        text = text[: m.start()]
    return enhanced, text.strip(), suffix


def render(rule: HintRule, ctx: HintContext | None = None, *, reply: str | None = None,
           details: tuple[str, ...] = (), cause: str | None = None, extra: Mapping[str, str] | None = None) -> Hint:
    """A rule filled in for one run. Where the SMTP server is not Exchange Online, a rule about the SMTP side keeps
    its cause and fix (written in the server's terms with the configured host and port) but loses Microsoft's setup
    step and PowerShell: they would be advice for another product."""
    step, command = rule.setup_step, rule.command
    if ctx is not None and ctx.server == "other" and not rule.entra:
        step, command = None, None
    return Hint(rule.id, cause or fill(rule.cause, ctx, extra), step, fill(rule.fix, ctx, extra),
                fill(command, ctx, extra), reply, rule.source, details)


def by_id(hint_id: str, ctx: HintContext | None = None, **kw: Any) -> Hint:
    return render(RULES_BY_ID[hint_id], ctx, **kw)


def for_smtp_reply(code: int, message: str, ctx: HintContext | None = None) -> Hint:
    """The hint for an SMTP reply (aiosmtplib's message: the text after the code, lines joined by newlines)."""
    enhanced, text, _suffix = split_reply(message)
    raw = f"{code} " + " ".join(line.strip() for line in message.splitlines()).strip()
    extra = {"text": text.rstrip(". "), "code": str(code), "enhanced": enhanced or str(code),
             "status": f"{code} {enhanced}".strip()}
    if ctx is not None and ctx.server != "exchange" and (enhanced in MICROSOFT_CODES or EXCHANGE_TEXT_RE.search(raw)):
        ctx = replace(ctx, server="exchange")  # the reply itself is Exchange Online's, whatever the banner said
    if ctx is not None and (m := re.search(r"not allowed to send as ([^\s;<>]+@[^\s;<>]+)", text)):
        ctx = replace(ctx, sender=m.group(1))  # the From Exchange refused is the one the fix is about
    for rule in RULES:
        if rule.matches_reply(code, enhanced, text) and rule.fits(ctx):
            return render(rule, ctx, reply=raw, extra=extra)
    rule = RULES_BY_ID["smtp-temporary" if 400 <= code < 500 or enhanced.startswith("4.") else "smtp-permanent"]
    return render(rule, ctx, reply=raw, extra=extra)


def first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def token_error_details(err: Mapping[str, Any]) -> tuple[str, ...]:
    """The lines Microsoft support asks for: error, first line of error_description, correlation/trace id, time."""
    out = []
    if err.get("error"):
        out.append(f"error: {err['error']}")
    if err.get("error_description"):
        out.append(f"error_description: {first_line(str(err['error_description']))}")
    for key in ("correlation_id", "trace_id", "timestamp"):
        if err.get(key):
            out.append(f"{key}: {err[key]}")
    return tuple(out)


def aadsts_code(err: Mapping[str, Any]) -> int | None:
    codes = err.get("error_codes") or []
    if codes:
        try:
            return int(codes[0])
        except (TypeError, ValueError):
            pass
    m = re.search(r"AADSTS(\d+)", str(err.get("error_description", "")))
    return int(m.group(1)) if m else None


def for_aadsts(code: int | None, ctx: HintContext | None = None, **kw: Any) -> Hint:
    for rule in RULES:
        if code is not None and code in rule.aadsts and rule.fits(ctx):
            return render(rule, ctx, **kw)
    return render(RULES_BY_ID["token-error"], ctx, **kw)


def for_token_error(err: Mapping[str, Any], ctx: HintContext | None = None) -> Hint:
    """The hint for the Entra error JSON (as msal returns it)."""
    code = aadsts_code(err)
    reply = first_line(str(err.get("error_description") or err.get("error") or ""))
    return for_aadsts(code, ctx, reply=reply or None, details=token_error_details(err))


def for_exception(kind: str, text: str | None = None, ctx: HintContext | None = None,
                  details: tuple[str, ...] = (), extra: Mapping[str, str] | None = None) -> Hint:
    """The hint for an exception kind (EXCEPTION_KINDS); `text` is the exception's own message, kept as the reply."""
    candidates = [rule for rule in RULES if kind in rule.exceptions]
    for rule in candidates:
        if rule.fits(ctx):
            return render(rule, ctx, reply=text, details=details, extra=extra)
    if candidates:  # no row for this server kind or phase: the kind's first row says it best
        return render(candidates[0], ctx, reply=text, details=details, extra=extra)
    raise KeyError(f"no hint for exception kind {kind!r}")


def for_claim(claim: str, text: str | None = None, ctx: HintContext | None = None) -> Hint:
    """The hint for a failed claim check (claim: aud, roles, scp, tid, appid, exp, jwt)."""
    for rule in RULES:
        if rule.claim == claim:
            return render(rule, ctx, reply=text)
    raise KeyError(f"no hint for claim {claim!r}")


def for_settings(problems: Any, ctx: HintContext | None = None) -> Hint | None:
    """The settings step's hint: the first error's own cause, setup step and fix (the first warning's when there is
    no error); None without problems. `problems` are validate.Problem objects (attr, severity, message, label)."""
    problems = list(problems)
    first = next((p for p in problems if p.severity == "error"), None) or next(iter(problems), None)
    if first is None:
        return None
    message = first.message.rstrip(". ")
    text = message if message.startswith(first.label) else f"{first.label}: {message}"
    rule_id = next((rid for attr, words, rid in FIELD_MESSAGE_RULES
                    if attr == first.attr and words.lower() in first.message.lower()), None)
    if rule_id is not None:
        return render(RULES_BY_ID[rule_id], ctx, reply=text, extra={"code": "", "enhanced": ""})
    rule = RULES_BY_ID[FIELD_RULES.get(first.attr, "field-console")]
    return render(rule, ctx, reply=text, extra={"problem": message})

"""The sandbox's faults: one table, read by the sandbox services, `outmail sandbox --list-faults` and the docs.

Each fault makes one or both of the two local services (the Entra ID token service, the Exchange Online SMTP server)
behave the way Microsoft's do in one situation, with Microsoft's exact texts: most break one service; a few set the
tenant up another way (`SandboxIdentity.configured_for`: Exchange's RBAC for Applications, over-broad grants), which
the token service and the SMTP server both follow (`Fault.service` "token+smtp"). Not every fault is a failure:
`rbac` and `over-privileged` authenticate. A fault is chosen at start (`Sandbox(fault=...)`,
`outmail sandbox --fault NAME`) and can be switched while the sandbox runs (`Sandbox.set_fault`); it applies to the
next token request and to the next SMTP connection (the token service reads it for each request, the SMTP server once
per connection). A token issued before a switch keeps the claims it was issued with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The service(s) a fault changes: "token+smtp" when the token service issues other claims and the SMTP server
# authorizes differently (a client holding a cached token must ask for a new one to see the fault).
Service = Literal["token", "smtp", "token+smtp"]


@dataclass(frozen=True)
class Fault:
    """One fault: its name, the one-line description shown to users, the service(s) it changes and what it makes
    them do."""

    name: str
    description: str
    service: Service
    effect: str  # what the sandbox does, with the exact reply or error it produces
    setup_step: str = ""  # the setup step (S1-S9) the failure points at, or "" when it is the network or a policy

    @property
    def services(self) -> tuple[str, ...]:
        """("token",), ("smtp",) or ("token", "smtp")."""
        return tuple(self.service.split("+"))

    def touches(self, service: str) -> bool:
        """Whether the fault changes `service` ("token" or "smtp"); a token fault needs a fresh token to be seen."""
        return service in self.services


FAULT_TABLE: tuple[Fault, ...] = (
    Fault("wrong-secret", "the client secret is rejected (AADSTS7000215, a wrong value or the Secret ID pasted)",
          "token", "token POST answers 401 invalid_client AADSTS7000215, even for the right secret", "S2"),
    Fault("expired-secret", "the client secret has expired (AADSTS7000222)",
          "token", "token POST answers 401 invalid_client AADSTS7000222", "S2"),
    Fault("unknown-client", "no application with this client ID in the tenant (AADSTS700016)",
          "token", "token POST answers 400 unauthorized_client AADSTS700016, even for the right client ID", "S1"),
    Fault("unknown-tenant", "the tenant does not exist (AADSTS90002; msal raises ValueError at discovery)",
          "token", "OpenID discovery and token POST answer 400 AADSTS90002 for every tenant", "S1"),
    Fault("bad-scope", "the scope is refused (AADSTS1002012), even https://outlook.office365.com/.default",
          "token", "token POST answers 400 invalid_scope AADSTS1002012", "config"),
    Fault("no-smtp-role", "the token lacks the SMTP.SendAsApp role (permission or admin consent missing)",
          "token", "token issued without a roles claim (absent, not empty); with no RBAC role assignment either, "
                   "SMTP AUTH then answers 535 5.7.3", "S3, S4"),
    Fault("no-mailbox-permission", "Exchange refuses the token: no service principal or no FullAccess (535 5.7.3)",
          "smtp", "AUTH XOAUTH2 answers 535 5.7.3 Authentication unsuccessful [...] for a valid token", "S5, S6"),
    Fault("smtp-auth-disabled-tenant", "SMTP AUTH is disabled for the tenant (535 5.7.139)",
          "smtp", "AUTH answers 535 5.7.139 ... SmtpClientAuthentication is disabled for the Tenant ...", "S8"),
    Fault("smtp-auth-disabled-mailbox", "SMTP AUTH is disabled for the mailbox (535 5.7.139)",
          "smtp", "AUTH answers 535 5.7.139 ... SmtpClientAuthentication is disabled for the Mailbox ...", "S8"),
    Fault("no-starttls", "the server does not offer STARTTLS (and so no AUTH)",
          "smtp", "EHLO lacks STARTTLS; STARTTLS answers 500 5.3.3 Unrecognized command 'STARTTLS'", "S9"),
    Fault("silent-server", "the server accepts the TCP connection but never sends its banner",
          "smtp", "no 220 banner; the connection is closed after the idle timeout", "S9"),
    Fault("drop-during-starttls", "the connection is dropped when TLS starts",
          "smtp", "STARTTLS answers 220 2.0.0 SMTP server ready, then the server closes the socket", "S9"),
    Fault("untrusted-cert", "the STARTTLS certificate comes from a CA that is not in the CA file",
          "smtp", "the TLS handshake presents a certificate from a second, unpublished CA", "S9"),
    Fault("slow-smtp", "every SMTP reply is delayed (1 s by default)",
          "smtp", "each reply (banner included) is sent after delay_seconds", "S9"),
    Fault("slow-token", "every token service answer is delayed (1 s by default)",
          "token", "each HTTP answer (discovery and token) is sent after delay_seconds", "S9"),
    Fault("token-hang", "the token service never answers the token request",
          "token", "discovery answers; the token POST is held open unanswered until the client gives up", "S9"),
    Fault("sendas-denied", "Send As is denied for every From, the mailbox's own address included (554 5.2.252)",
          "smtp", "MAIL FROM is accepted; after DATA: 554 5.2.252 SendAsDenied; <mailbox> not allowed to send "
                  "as <from>; ...", "S7"),
    Fault("rbac", "RBAC for Applications: the app has no Entra permission (token without roles) and an Exchange role "
                  "assignment 'Application SMTP.SendAsApp' scoped to the mailbox: AUTH succeeds",
          "token+smtp", "token issued without a roles claim; no FullAccess; AUTH XOAUTH2 answers 235 2.7.0 because "
                        "the mailbox is in the management scope outmail-smtp (group outmail-senders: the mailbox and "
                        "alerts@contoso.test); a From in the scope or shared@contoso.test is sent, another gets 554 "
                        "5.2.252 SendAsDenied", "R1, R2"),
    Fault("rbac-out-of-scope", "RBAC for Applications, but the mailbox is outside the role assignment's management "
                               "scope: 535 5.7.3",
          "token+smtp", "token issued without a roles claim; the 'Application SMTP.SendAsApp' assignment's scope "
                        "outmail-smtp holds only alerts@contoso.test; AUTH XOAUTH2 as the mailbox answers 535 5.7.3 "
                        "Authentication unsuccessful [...]", "R1, R3"),
    Fault("over-privileged", "the token carries the over-broad roles LogicalDOC's setup guide asks for "
                             "(full_access_as_app, Mail.Send, IMAP.AccessAsApp, ...): AUTH succeeds",
          "token", "token roles: full_access_as_app, IMAP.AccessAsApp, Mail.Read, Mail.Send, SMTP.SendAsApp (a Graph "
                   "token: Mail.Read, Mail.ReadBasic, Mail.ReadBasic.All, Mail.ReadWrite, Mail.Send); AUTH XOAUTH2 "
                   "answers 235 2.7.0 as in the classic model", "S3"),
)

FAULTS_BY_NAME: dict[str, Fault] = {f.name: f for f in FAULT_TABLE}

# The public table of the contract: name -> one-line description.
FAULTS: dict[str, str] = {f.name: f.description for f in FAULT_TABLE}


class UnknownFaultError(ValueError):
    """A fault name that is not in the table."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")


def check_fault(name: str | None) -> str | None:
    """The name itself when it is a known fault or None; raises UnknownFaultError otherwise."""
    if name is None or name == "":
        return None
    if name not in FAULTS_BY_NAME:
        raise UnknownFaultError(name)
    return name


def list_faults_text() -> str:
    """One line per fault, as `outmail sandbox --list-faults` prints it."""
    width = max(len(f.name) for f in FAULT_TABLE)
    return "\n".join(f"{f.name:<{width}}  {f.description}" for f in FAULT_TABLE)


def faults_markdown() -> str:
    """The fault table as Markdown, for the docs."""
    rows = ["| fault | what it shows | what the sandbox does | setup step |", "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {f.description} | {f.effect} | {f.setup_step or '-'} |" for f in FAULT_TABLE]
    return "\n".join(rows)

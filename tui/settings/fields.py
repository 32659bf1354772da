"""The field table: every setting's TOML key, LogicalDOC label, type, choices and help, in LogicalDOC's screen order.

One table feeds the form, validation, the example file and the help screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["choice", "text", "int", "float", "bool", "secret", "email"]
Section = Literal["smtp", "microsoft365", "console"]

PROTOCOL_SMTP = "smtp"
PROTOCOL_M365 = "smtpmicrosoft365"
PROTOCOLS: dict[str, str] = {PROTOCOL_SMTP: "SMTP", PROTOCOL_M365: "SMTP Microsoft 365"}
CONNECTION_SECURITY: dict[int, str] = {
    0: "None",
    1: "STARTTLS",
    2: "TLS (STARTTLS required)",
    3: "SSL (implicit TLS)",
}
M365_PRESET = {"host": "smtp.office365.com", "port": 587, "connection_security": 1, "auth_encrypted": True}
GLOBAL_AUTHORITY_HOST = "https://login.microsoftonline.com"
GLOBAL_SCOPE = "https://outlook.office365.com/.default"

# Environment variables that supply a credential when the file leaves it empty (so the file can go into config
# management without it). A per-tenant variable (OUTMAIL_<TENANT>_CLIENT_SECRET) wins over the plain one.
ENV_CLIENT_SECRET = "OUTMAIL_CLIENT_SECRET"
ENV_PASSWORD = "OUTMAIL_SMTP_PASSWORD"
ENV_CONFIG = "OUTMAIL_CONFIG"


@dataclass(frozen=True)
class Field:
    """One setting: where it lives in the TOML, how LogicalDOC labels it, and what it accepts."""

    attr: str  # attribute on Settings
    section: Section  # TOML table under [tenants.<name>] ("smtp", "microsoft365") or the top-level [console]
    key: str  # TOML key; for section "smtp" also LogicalDOC's property name after "<tenant>.smtp."
    label: str  # LogicalDOC's label, or ours for the outmail-only sections
    kind: Kind
    default: object
    help: str
    choices: tuple[tuple[object, str], ...] = ()
    only_for: str | None = None  # shown and used only for this protocol
    ignored_by_m365: bool = False  # LogicalDOC ignores it with smtpmicrosoft365
    env: str | None = None  # a secret's environment variable, used when the file leaves it empty

    @property
    def property_key(self) -> str | None:
        """LogicalDOC's context.properties key after the tenant prefix (None for outmail-only settings)."""
        return f"smtp.{self.key}" if self.section == "smtp" else None


FIELDS: tuple[Field, ...] = (
    Field("protocol", "smtp", "protocol", "Protocol", "choice", PROTOCOL_M365,
          "How LogicalDOC talks to the server: plain SMTP (user name and password) or SMTP Microsoft 365 "
          "(OAuth 2.0 client credentials).",
          choices=tuple(PROTOCOLS.items())),
    Field("host", "smtp", "host", "Server", "text", "smtp.office365.com",
          "The SMTP server's host name. Exchange Online: smtp.office365.com."),
    Field("port", "smtp", "port", "Port", "int", 587,
          "TCP port, 1-65535. Exchange Online accepts client submission on 587 with STARTTLS."),
    Field("connection_security", "smtp", "connectionSecurity", "Connection Security", "choice", 1,
          "0 None, 1 STARTTLS, 2 TLS (STARTTLS required), 3 SSL (implicit TLS).",
          choices=tuple(CONNECTION_SECURITY.items()), ignored_by_m365=True),
    Field("auth_encrypted", "smtp", "authEncrypted", "Use secure authentication", "bool", True,
          "With protocol smtp, connect with implicit TLS (smtps).", ignored_by_m365=True),
    Field("username", "smtp", "username", "Username", "email", "",
          "The mailbox that authenticates. With Microsoft 365 it is the XOAUTH2 user= and must be a mailbox "
          "the app has FullAccess to."),
    Field("password", "smtp", "password", "Password", "secret", "",
          f"Password for protocol smtp only. May come from ${ENV_PASSWORD} instead of the file.",
          only_for=PROTOCOL_SMTP, ignored_by_m365=True, env=ENV_PASSWORD),
    Field("client_id", "smtp", "clientId", "Client ID", "text", "",
          "Application (client) ID of the app registration (a GUID), setup step S1.", only_for=PROTOCOL_M365),
    Field("client_tenant", "smtp", "clientTenant", "Tenant ID", "text", "",
          "Directory (tenant) ID (a GUID) or a verified domain, setup step S1.", only_for=PROTOCOL_M365),
    Field("client_secret", "smtp", "clientSecret", "Client secret", "secret", "",
          f"The client secret's Value (not its Secret ID), setup step S2. May come from ${ENV_CLIENT_SECRET} "
          "instead of the file.", only_for=PROTOCOL_M365, env=ENV_CLIENT_SECRET),
    Field("sender", "smtp", "sender", "Sender Email", "email", "",
          "The From address. With Microsoft 365 use the Username's mailbox, or grant Send As (setup step S7)."),
    Field("userasfrom", "smtp", "userasfrom", "Use user's email as sender", "bool", False,
          "Send as the LogicalDOC user's own address. With Microsoft 365 every such address needs Send As (S7)."),
    Field("authority_host", "microsoft365", "authority_host", "Authority host", "text", GLOBAL_AUTHORITY_HOST,
          "Where tokens come from. Global cloud: https://login.microsoftonline.com (LogicalDOC always uses it).",
          only_for=PROTOCOL_M365),
    Field("scope", "microsoft365", "scope", "Scope", "text", GLOBAL_SCOPE,
          "Token scope; must end in /.default. Global cloud: https://outlook.office365.com/.default.",
          only_for=PROTOCOL_M365),
    Field("timeout_seconds", "console", "timeout_seconds", "Timeout (seconds)", "float", 20,
          "Bound on every network step."),
    Field("ca_file", "console", "ca_file", "CA file", "text", "",
          "Extra CA bundle (PEM) trusted for TLS by the token service and SMTP; empty = system trust."),
)

FIELDS_BY_ATTR: dict[str, Field] = {f.attr: f for f in FIELDS}

# Secrets, from the table (kind "secret"): the values that are never shown (redaction), that make a settings file
# 0600 (store.holds_secret) and that may come from the environment (`env`). A key outside the table (LogicalDOC's
# `<tenant>.smtp.<name>`, `jdbc.password`) is treated as one when its name looks like a credential.
SECRET_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.kind == "secret")
SECRET_ATTRS: tuple[str, ...] = tuple(f.attr for f in SECRET_FIELDS)  # client_secret, password
SECRET_KEYS: frozenset[str] = frozenset(f.key for f in SECRET_FIELDS)  # clientSecret, password
CREDENTIAL_WORDS = ("password", "secret", "token", "apikey", "api.key")


def is_secret_key(name: str) -> bool:
    """True for a key whose value must never be shown nor left readable by others: a secret field's key
    (`clientSecret`, `password`) and any credential-looking name (case-insensitive: *password*, *secret*, *token*,
    *apikey*, *api.key*), whether a TOML key path (`save.apiKey`) or a property key (`acme.smtp.password`)."""
    lowered = name.lower()
    return name in SECRET_KEYS or any(word in lowered for word in CREDENTIAL_WORDS)

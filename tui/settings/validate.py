"""Validation (errors) and lints (warnings) of one tenant's settings, in words an admin understands.

Errors make the settings unusable; warnings are the setup guide's advice. Both name the field (attribute) they
belong to, so the form shows them beside it and the `settings` diagnostic step lists them.

What LogicalDOC does with a value (a protocol, port or security Exchange Online does not offer, 'Use secure
authentication' meaning implicit TLS, a key the file leaves out, a field it ignores with Microsoft 365, the global
cloud it always uses, Send As) is checked once, in `logicaldoc_lints`: `validate` (the form, `check`'s settings step)
and the LogicalDOC bridge's export and import warnings (tui.logicaldoc.lints) all say these same words. The sources are
reference section 1 and verdict.md (LogicalDOC's sender), Microsoft's SMTP AUTH documentation (ports, Send As).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from tui.addresses import AddressError, check_address, check_mailbox
from tui.settings.fields import (
    CONNECTION_SECURITY,
    FIELDS_BY_ATTR,
    GLOBAL_AUTHORITY_HOST,
    GLOBAL_SCOPE,
    PROTOCOL_M365,
    PROTOCOL_SMTP,
    PROTOCOLS,
)
from tui.settings.model import Settings

Severity = Literal["error", "warning"]

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A DNS name: labels of letters, digits and hyphens, at least one dot (a verified tenant domain).
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")
# What the form takes for an IPv6 address: hex digits, colons and dots (an embedded IPv4), in brackets or not;
# `check_host` then asks ipaddress whether it is one.
IPV6_RE = re.compile(r"^\[?[0-9A-Fa-f:.]+\]?$")
OFFICE365_HOST_RE = re.compile(r"(^|\.)(office365\.(com|us)|outlook\.(com|office\.com|office365\.com)|partner\.outlook\.cn)$", re.I)
# Sovereign-cloud authority hosts (reference section 8): LogicalDOC cannot use them (it hard-codes the global cloud).
SOVEREIGN_AUTHORITY_HOSTS = ("login.microsoftonline.us", "login.partner.microsoftonline.cn", "login.chinacloudapi.cn")
# SMTP servers of the sovereign clouds (US Government, 21Vianet in China): LogicalDOC's token is the global cloud's
SOVEREIGN_SMTP_RE = re.compile(r"(office365\.us|outlook\.cn|microsoftonline\.(us|cn)|chinacloudapi\.cn)$", re.I)


@dataclass(frozen=True)
class Problem:
    """One finding about one field."""

    attr: str
    severity: Severity
    message: str

    @property
    def label(self) -> str:
        return FIELDS_BY_ATTR[self.attr].label if self.attr in FIELDS_BY_ATTR else self.attr


def is_guid(text: str) -> bool:
    return bool(GUID_RE.match(text.strip()))


def _shown(text: str, limit: int | None = None) -> str:
    """A value as a message quotes it: whole (the console cuts a long one where it draws it, `console.shorten`), or
    with `limit` its first `limit` characters, '…' and its length; characters that do not print are escaped."""
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"'{safe}'" if limit is None or len(text) <= limit else f"'{safe[:limit]}…' ({len(text)} characters)"


def _label_problem(label: str) -> str | None:
    """Why one ASCII label (as the resolver sees it, after IDNA) cannot be part of a host name; None when it can.
    RFC 1035 section 2.3.1 / RFC 1123 section 2.1: letters, digits and hyphens, not first or last, 1-63 octets
    (underscores are kept: internal names use them and resolvers look them up)."""
    if not label:
        return "it has an empty label (two dots in a row, or a dot at the start)"
    if len(label) > 63:
        return f"a label is {len(label)} characters long (at most 63, RFC 1035)"
    if bad := sorted({c for c in label if not (c.isascii() and (c.isalnum() or c in "-_"))}):
        shown = ", ".join("a space" if c == " " else repr(c) for c in bad)
        return f"it has characters a host name cannot have ({shown}); a host name has letters, digits, '-' and '.'"
    if label[0] == "-" or label[-1] == "-":
        return "a label starts or ends with '-'"
    return None


def host_name_problem(name: str) -> str | None:
    """Why `name` (no spaces around it, not an address literal) is not a host name the resolver can look up, in
    the admin's words; None when it is one. What it refuses is what Python's socket layer (the `idna` codec of the
    standard library, IDNA 2003, which getaddrinfo applies to every str host) and a DNS resolver refuse, so a name
    it passes never makes the connect step fail before the lookup: an empty label, a label over 63 octets and a
    name over 253 (RFC 1035, RFC 1123), characters outside letters, digits, '-' and '_', and a non-ASCII label that
    IDNA cannot encode. One trailing dot (an absolute name) is allowed; single-label names (localhost) are names."""
    import encodings.idna

    labels = encodings.idna.dots.split(name)  # the codec's dots: '.', and the ideographic and full-width ones
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    encoded: list[str] = []
    for label in labels:
        if label and not label.isascii():
            try:
                label = encodings.idna.ToASCII(label).decode("ascii")
            except UnicodeError as exc:
                if "too long" in str(exc):
                    return f"the label {_shown(label, 20)} is longer than 63 characters once encoded for DNS (IDNA)"
                return f"the label {_shown(label, 20)} cannot be encoded as an internationalized name (IDNA: {exc})"
        if (reason := _label_problem(label)) is not None:
            return reason
        encoded.append(label)
    if (length := len(".".join(encoded))) > 253:
        return f"the name is {length} characters long (at most 253, RFC 1035)"
    try:  # what getaddrinfo does with a str host first
        name.encode("idna")
    except UnicodeError as exc:
        return f"IDNA cannot encode it ({exc})"
    if not name.isascii():
        # Python's socket layer converts an internationalized name (IDNA), Java's does not: LogicalDOC's sender
        # (Jakarta Mail, InetAddress.getByName) looks the name up as written and gets UnknownHostException, where
        # outmail would connect (checked with the JDK: "bücher.test" unknown, "xn--bcher-kva.test" found; Java's
        # tutorial: an application calls java.net.IDN.toASCII before the lookup, and LogicalDOC does not).
        return (f"LogicalDOC's sender (Java) looks the name up as written and does not convert an internationalized "
                f"name; write it in its ASCII form: {'.'.join(encoded)}")
    return None


def check_host(host: str) -> str | None:
    """None when the host name or address is usable, else the reason (a sentence starting with "Server").

    Usable: an IPv4 address, an IPv6 address (bare or in brackets, no zone), or a host name `host_name_problem`
    passes. Errors: empty, spaces around it, a URL, a port after the name, a malformed IPv6 address, a name the
    resolver cannot look up (a label over 63 characters, a name over 253, an empty label, characters a host name
    cannot have, a name IDNA cannot encode)."""
    if not isinstance(host, str):
        return "Server must be text"
    text = host.strip()
    if not text:
        return "Server is required"
    if text != host:
        return "Server has leading or trailing spaces"
    if "://" in text or "/" in text:
        return "Server is a host name (smtp.office365.com), not a URL"
    literal = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if ":" in text:
        if not IPV6_RE.match(text):
            return "Server is a host name without a port; put the port in Port"
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return f"Server {_shown(text)} is not a valid IPv6 address"
        return None
    if literal != text or "[" in text or "]" in text:
        return f"Server {_shown(text)} is not a valid host name: brackets only go around an IPv6 address"
    if (reason := host_name_problem(text)) is not None:
        return f"Server {_shown(text)} is not a valid host name: {reason}"
    return None


def check_port(port: object) -> str | None:
    if isinstance(port, bool) or not isinstance(port, int):
        return "Port must be a whole number"
    if not 1 <= port <= 65535:
        return "Port must be between 1 and 65535"
    return None


def _email_problem(attr: str, value: str, required: bool, *, display_name: bool = False) -> Problem | None:
    label = FIELDS_BY_ATTR[attr].label
    if not value.strip():
        return Problem(attr, "error", f"{label} is required") if required else None
    try:
        # Sender Email may carry a display name ("LogicalDOC <noreply@acme.com>"): LogicalDOC's sender parses it with
        # Jakarta Mail's InternetAddress and sends MAIL FROM the address
        check_mailbox(value) if display_name else check_address(value)
    except AddressError as exc:
        return Problem(attr, "error", f"{label} is not a valid email address: {exc}")
    return None


def validate(settings: Settings) -> list[Problem]:
    """Every error and warning for these settings: the LogicalDOC fields' checks (errors, and a client secret's
    spaces), `logicaldoc_lints`, then outmail's own options (timeout, CA file). Never raises for any Settings (an
    unreadable number is None: an error)."""
    problems: list[Problem] = []
    add = problems.append
    m365 = settings.protocol == PROTOCOL_M365

    if settings.protocol not in PROTOCOLS:
        add(Problem("protocol", "error", f"Protocol '{settings.protocol}' is unknown; use one of: {', '.join(PROTOCOLS)}"))
    if (reason := check_host(settings.host)) is not None:
        add(Problem("host", "error", reason))
    if (reason := check_port(settings.port)) is not None:
        add(Problem("port", "error", reason))
    if settings.connection_security not in CONNECTION_SECURITY:
        add(Problem("connection_security", "error", "Connection Security must be 0, 1, 2 or 3"))

    # Protocol smtp: Username is a SASL login name, not necessarily an address (svc-ldoc, DOMAIN\\user: LogicalDOC's
    # sender passes it to AUTH as it is). With Microsoft 365 it is the XOAUTH2 user=, a mailbox address.
    if m365 and (p := _email_problem("username", settings.username, required=True)) is not None:
        add(p)
    if (p := _email_problem("sender", settings.sender, required=True, display_name=True)) is not None:
        add(p)

    if m365:
        client_id = settings.client_id.strip()
        if not client_id:
            add(Problem("client_id", "error", "Client ID is required for SMTP Microsoft 365 (setup step S1)"))
        elif not is_guid(client_id):
            add(Problem("client_id", "error", "Client ID must be a GUID: the Application (client) ID, setup step S1"))
        tenant = settings.client_tenant.strip()
        if not tenant:
            add(Problem("client_tenant", "error", "Tenant ID is required for SMTP Microsoft 365 (setup step S1)"))
        elif not (is_guid(tenant) or DOMAIN_RE.match(tenant)):
            add(Problem("client_tenant", "error",
                        "Tenant ID must be the Directory (tenant) ID (a GUID) or a verified domain such as contoso.com"))
        secret = settings.client_secret.reveal()
        if not secret:
            add(Problem("client_secret", "error", "Client secret is required for SMTP Microsoft 365 (setup step S2)"))
        elif is_guid(secret):
            add(Problem("client_secret", "error",
                        "This looks like the secret's ID; paste the secret's Value (the cause of AADSTS7000215, step S2)"))
        elif secret != secret.strip():
            add(Problem("client_secret", "warning", "Client secret has leading or trailing spaces"))

        authority = urlsplit(settings.authority_host.strip())
        if authority.scheme != "https" or not authority.hostname:
            add(Problem("authority_host", "error", "Authority host must be an https URL such as https://login.microsoftonline.com"))
        elif authority.path not in ("", "/"):
            add(Problem("authority_host", "error", "Authority host is the host only; the tenant is added from Tenant ID"))
        scope = settings.scope.strip()
        if not scope.endswith("/.default"):
            add(Problem("scope", "error", "Scope must end in /.default for client credentials (AADSTS1002012)"))
        elif scope.startswith("https://graph.microsoft"):
            add(Problem("scope", "error", "A Graph scope cannot be used for SMTP; use https://outlook.office365.com/.default"))

    problems += logicaldoc_lints(settings)
    # outmail's own options
    if isinstance(settings.timeout_seconds, bool) or not isinstance(settings.timeout_seconds, (int, float)) \
            or not 0 < settings.timeout_seconds <= 600:
        add(Problem("timeout_seconds", "error", "Timeout must be a number of seconds more than 0 and at most 600"))
    if settings.ca_file.strip() and not os.path.isfile(os.path.expanduser(settings.ca_file.strip())):
        # outmail's own option: an error wherever TLS is verified; with a plain relay (protocol smtp, no TLS) it is
        # never used, so only a warning there (LogicalDOC sends all the same)
        uses_tls = m365 or settings.auth_encrypted or settings.connection_security in (1, 2, 3)
        add(Problem("ca_file", "error" if uses_tls else "warning",
                    f"CA file {settings.ca_file.strip()} does not exist or is not a file"
                    + ("" if uses_tls else " (not used here: no TLS)")))
    return problems


# ------------------------------------------------------------------------------------------------ LogicalDOC lints

def _sovereign_authority(settings: Settings) -> str | None:
    """The authority's host name when it is a usable https URL of a sovereign cloud, else None."""
    authority = urlsplit(settings.authority_host.strip())
    if authority.scheme != "https" or not authority.hostname or authority.path not in ("", "/"):
        return None
    if settings.authority_host.rstrip("/") == GLOBAL_AUTHORITY_HOST or authority.hostname not in SOVEREIGN_AUTHORITY_HOSTS:
        return None
    return authority.hostname


def logicaldoc_lints(settings: Settings) -> list[Problem]:
    """What LogicalDOC does with these values that outmail's check alone would not show: warnings only, each about
    one field, in a fixed order. A value that is an error (a bad host, port, Connection Security, authority or scope)
    gets no lint. The form, `check` (through `validate`) and the bridge's export and import say exactly these."""
    problems: list[Problem] = []
    add = problems.append
    m365 = settings.protocol == PROTOCOL_M365
    host = settings.host.strip() if isinstance(settings.host, str) else ""
    exchange = check_host(settings.host) is None and bool(OFFICE365_HOST_RE.search(host))

    if exchange and settings.protocol == PROTOCOL_SMTP:
        add(Problem("protocol", "warning",
                    "Protocol SMTP (basic authentication) against Microsoft 365: Microsoft switches basic "
                    "authentication for SMTP off by default at the end of December 2026. Use SMTP Microsoft 365."))
    if check_port(settings.port) is None and m365 and settings.port != 587 and exchange:
        add(Problem("port", "warning", "Exchange Online accepts client submission on port 587 (recommended) and on "
                    "25, both with STARTTLS; " + (
                        "465 (implicit TLS) is not offered" if settings.port == 465 else
                        "outgoing port 25 is often blocked by providers" if settings.port == 25 else
                        f"port {settings.port} is not offered")))
    if settings.connection_security in CONNECTION_SECURITY and not m365:
        if exchange and settings.connection_security not in (1, 2):
            add(Problem("connection_security", "warning", "Exchange Online needs STARTTLS on port 587"))
        elif settings.connection_security == 0 and not settings.auth_encrypted and settings.password:
            add(Problem("connection_security", "warning",
                        "No encryption: the password would cross the network in clear"))

    if m365:
        # LogicalDOC always uses the global cloud (reference section 8): its token service and Exchange's scope
        sovereign = _sovereign_authority(settings)
        if sovereign is not None:
            add(Problem("authority_host", "warning",
                        f"{sovereign} is a sovereign cloud: outmail can diagnose it, but LogicalDOC always uses the "
                        f"global cloud ({GLOBAL_AUTHORITY_HOST}, {GLOBAL_SCOPE}), so a tenant that passes here still "
                        "fails in LogicalDOC"))
        elif check_host(settings.host) is None and SOVEREIGN_SMTP_RE.search(host.rstrip(".")):
            add(Problem("host", "warning",
                        f"Server {host} is a sovereign cloud's: LogicalDOC always uses the global cloud's token "
                        f"service ({GLOBAL_AUTHORITY_HOST}) and scope ({GLOBAL_SCOPE}), so it fails there"))
        scope = settings.scope.strip()
        if scope.endswith("/.default") and not scope.startswith("https://graph.microsoft") and scope != GLOBAL_SCOPE \
                and urlsplit(settings.authority_host.strip()).hostname == "login.microsoftonline.com":
            add(Problem("scope", "warning", f"The global cloud's Exchange scope is {GLOBAL_SCOPE}, the one LogicalDOC "
                        "always asks for"))
        if settings.userasfrom:
            add(Problem("userasfrom", "warning",
                        "Use user's email as sender is on: LogicalDOC then sends From each user's own address, and "
                        "app-only XOAUTH2 needs Send As for every such user (setup step S7), else Exchange answers "
                        "SendAsDenied"))
        sender, username = settings.sender.strip(), settings.username.strip()
        if sender and username and sender.lower() != username.lower():
            add(Problem("sender", "warning",
                        f"Sender Email {sender} differs from Username {username}: the app needs Send As on the sender "
                        "(setup step S7), or Exchange answers SendAsDenied"))
        # fields LogicalDOC ignores with smtpmicrosoft365 (it always uses opportunistic STARTTLS and XOAUTH2)
        if settings.connection_security in CONNECTION_SECURITY and settings.connection_security != 1:
            add(Problem("connection_security", "warning",
                        f"Connection Security is {CONNECTION_SECURITY[settings.connection_security]}: LogicalDOC "
                        "ignores it with SMTP Microsoft 365 and always uses opportunistic STARTTLS"))
        if settings.password:
            add(Problem("password", "warning", "Password is ignored by LogicalDOC with SMTP Microsoft 365 (it "
                        "authenticates with XOAUTH2)"))
    else:
        # A key the file leaves out: outmail fills the Microsoft 365 preset, LogicalDOC's sender its own default
        # (connectionSecurity 0, authEncrypted false); say which one the check proves.
        for attr, theirs in (("auth_encrypted", False), ("connection_security", 0)):
            if attr in settings.unset_keys and getattr(settings, attr) != theirs:
                label = FIELDS_BY_ATTR[attr].label
                ours = getattr(settings, attr)
                shown = {True: "on", False: "off"}.get(ours, ours) if isinstance(ours, bool) else \
                    CONNECTION_SECURITY.get(ours, ours)
                logicaldoc = "off" if attr == "auth_encrypted" else CONNECTION_SECURITY.get(theirs, theirs)
                add(Problem(attr, "warning", f"{label} is not in the settings file: outmail uses {shown}, while "
                            f"LogicalDOC without the key uses {logicaldoc}; set it in the file to prove what "
                            f"LogicalDOC will do"))
        # LogicalDOC's sender: 'Use secure authentication' selects the smtps transport (implicit TLS from the first
        # byte) whatever Connection Security says (verdict.md section 1).
        if settings.auth_encrypted and "auth_encrypted" not in settings.unset_keys and \
                isinstance(settings.port, int) and not isinstance(settings.port, bool) and \
                (settings.connection_security in (1, 2) or settings.port in (25, 587)):
            what = {1: "Connection Security STARTTLS is then ignored",
                    2: "Connection Security TLS is then ignored"}.get(settings.connection_security,
                                                                      f"port {settings.port} usually speaks STARTTLS")
            add(Problem("auth_encrypted", "warning",
                        f"'Use secure authentication' makes LogicalDOC use implicit TLS (SMTPS) from the first byte: "
                        f"{what}; for STARTTLS untick it"))
        if settings.username.strip() and not settings.password:
            add(Problem("password", "warning", "Username is set but Password is empty: AUTH would fail"))
    return problems


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]

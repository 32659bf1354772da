"""LogicalDOC's Outgoing Email values <-> their context.properties strings (reference section 1.3).

Every field of the field table with `section == "smtp"` is the property `<tenant>.smtp.<key>` (`property_key`).
Field values: booleans `true|false` (read as LogicalDOC's `getBoolean`: true, yes, 1, anything else false), whole
numbers as digit strings, protocol `smtp|smtpmicrosoft365`; a value starting with `_b64_` is base64 UTF-8, as
`ContextProperties.getString` decodes it. Secrets are written as they are (LogicalDOC needs them): showing them is
`redaction`'s business.

Nothing is invented (reference section 1, "Missing keys"): a missing key that has a LogicalDOC default gets that
default (`absent_value`: protocol smtp, connectionSecurity 0, authEncrypted false, empty texts); where LogicalDOC has
no single value (a missing port or userasfrom) there is none. A protocol outmail does not handle (`smtpgoogle`) is
`foreign_protocol`: never imported, never overwritten.

Keys outside the field table (`smtp.save.folderId`, ...) hold text: a TOML string as is, an integer as digits, a
boolean as true/false (`extra_to_property`); import writes a string, unless the settings file holds an integer or a
boolean there and the new value reads back as exactly the same text (`extra_typed`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from tui.secret import Secret
from tui.settings.fields import CONNECTION_SECURITY, FIELDS, PROTOCOL_SMTP, PROTOCOLS, Field

SMTP_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.section == "smtp")
SMTP_FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in SMTP_FIELDS}
B64_PREFIX = "_b64_"
TENANT_KEY = re.compile(r"^(?P<tenant>[^.\s]+)\.smtp\.(?P<key>.+)$")  # <tenant>.smtp.<name>
_CANONICAL_INT = re.compile(r"^(0|-?[1-9][0-9]*)$")
_TOML_INT = range(-(2 ** 63), 2 ** 63)


def to_property(f: Field, value: object) -> str:
    """A settings value as LogicalDOC stores it."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def absent_value(f: Field) -> tuple[bool, Any]:
    """(True, value) LogicalDOC works with when neither <tenant>.smtp.<key> nor smtp.<key> exists (reference section
    1, "Missing keys": protocol smtp, connectionSecurity 0, authEncrypted false, empty texts and secrets), or
    (False, None) when it has no single one: the port, and userasfrom (its settings screen shows a missing one ticked
    while its sender treats it as false)."""
    if f.attr == "protocol":
        return True, PROTOCOL_SMTP
    if f.attr == "auth_encrypted":
        return True, False
    if f.attr == "connection_security":
        return True, 0
    if f.kind == "secret":
        return True, Secret("")
    if f.kind in ("text", "email"):
        return True, ""
    return False, None  # port, userasfrom


def foreign_protocol(raw: str | None) -> str | None:
    """A LogicalDOC protocol outmail does not handle (`smtpgoogle`, ...), as stored; None for smtp, smtpmicrosoft365
    or no value. Such a protocol is never imported and never overwritten."""
    if raw is None:
        return None
    value, problem = from_property(SMTP_FIELDS_BY_KEY["protocol"], raw)
    return None if problem is None else raw


def from_property(f: Field, raw: str) -> tuple[Any, str | None]:
    """(settings value, None) for a stored property value, or (None, why it cannot be imported)."""
    if raw.startswith(B64_PREFIX):  # ContextProperties.getString decodes these
        try:
            raw = base64.b64decode(raw[len(B64_PREFIX):], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, f"starts with {B64_PREFIX} but is not valid base64 UTF-8"
    if f.kind == "bool":
        v = raw.strip().lower()
        if v in ("true", "yes", "1"):
            return True, None
        return False, None  # getBoolean: anything else is false (read_tenant warns about what is not false/no/0)
    if f.kind == "int" or (f.kind == "choice" and isinstance(f.default, int)):
        v = raw.strip()
        if not v:
            return None, "is empty"
        if not re.fullmatch(r"[+-]?\d+", v):
            return None, f"{raw!r} is not a whole number"
        n = int(v)
        if f.attr == "port" and not 1 <= n <= 65535:
            return None, f"{n} is not a port (1-65535)"
        if f.attr == "connection_security" and n not in CONNECTION_SECURITY:
            return None, f"{n} is not one of {', '.join(map(str, CONNECTION_SECURITY))}"
        return n, None
    if f.attr == "protocol":
        if raw not in PROTOCOLS:
            return None, f"protocol {raw!r} is not one outmail handles ({', '.join(PROTOCOLS)})"
        return raw, None
    if f.kind == "secret":
        return Secret(raw), None
    return raw, None


def property_key(tenant: str, f: Field) -> str:
    return f"{tenant}.{f.property_key}"


def extra_to_property(value: object) -> str | None:
    """A TOML value as a properties string (str as is, int as digits, bool as true/false); None for any other type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def extra_typed(current: object, raw: str) -> object:
    """The TOML value to write for a property value: a string, unless the file holds an int or a bool there and
    `raw` reads back as exactly the same text (so export gives `raw` again)."""
    if isinstance(current, bool):
        return raw == "true" if raw in ("true", "false") else raw
    if isinstance(current, int) and _CANONICAL_INT.match(raw) and int(raw) in _TOML_INT:
        return int(raw)
    return raw

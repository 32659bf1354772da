"""The LogicalDOC bridge: outmail's settings file <-> LogicalDOC's conf/context.properties.

No Textual here: the CLI and the console both plan first (new text, unified diff, warnings), show the plan, and apply
it only when the admin agrees.

Mapping (reference section 1.3): every field of the field table with `section == "smtp"` is the property
`<tenant>.smtp.<key>`. LogicalDOC's `getTenantProperty` uses the prefixed key when it exists (even empty) and the
un-prefixed `smtp.<key>` only when the prefixed key is missing; `conf/context-override.properties`, when present, is
loaded after the main file and wins.

Keys outside the field table (LogicalDOC's "Target folder" `smtp.save.folderId` and "Foldering" `smtp.save.foldering`,
or any other `<tenant>.smtp.<name>`) travel too, resolved the same way. In `[tenants.<tenant>.smtp]` the name is a
TOML key path: `save.folderId` is read from the dotted key `save.folderId = "4"` (a nested table, also written as
`[tenants.<tenant>.smtp.save]` or an inline table) and from the quoted key `"save.folderId" = "4"` alike. Import
updates a key where the file already has it, in whichever form; a new one is written dotted, or quoted when the dotted
form cannot hold it (a part of it is already a value: `save = "x"` next to `save.folderId`, a field such as `host`, an
empty part).

Values are written as TOML strings, except where the file holds the key as an integer or a boolean and the new value
reads back as exactly the same text (`3`, `true`): then the type is kept. Export writes strings as they are, integers
as digits and booleans as true/false; any other TOML type (float, date, array) is not exported, with a warning, and so
is a name written twice (dotted and quoted) with different values. Export compares these values as text: only one that
differs changes, a missing one is added after the tenant's last smtp key.

`smtp.nosend` is global, not a tenant key: it is never imported or exported (a warning says so when the settings file
or a `<tenant>.smtp.nosend` has one, and another when LogicalDOC's kill switch is on). A tenant is found by its
field-table keys; the keys outside the table come along with it. The console's export (`plan_export_for`) reads them
from the settings file on disk, since the form does not edit them. A key outside the table whose name looks like a
credential (password, secret, token, apikey) is redacted like the field secrets.

Field values: booleans `true|false` (read as LogicalDOC's `getBoolean`: true, yes, 1, anything else false), whole
numbers as digit strings, protocol `smtp|smtpmicrosoft365`. Secrets are written (LogicalDOC needs them) but never
shown: diffs, change lists and warnings show `***`.

Nothing is invented (reference section 1, "Missing keys"). Import records what LogicalDOC works with: a missing key
that has a LogicalDOC default gets that default (protocol smtp, connectionSecurity 0, authEncrypted false, empty
texts); where LogicalDOC has no single value (a missing port or userasfrom, a value outmail cannot read, a protocol
it does not handle such as `smtpgoogle`) the key leaves the settings file, outmail proves its own default and says
so. Export writes only what the admin set or changed: a field the tenant's table does not set keeps LogicalDOC's value
(or lack of one), a key LogicalDOC lacks is added only when its value differs from what LogicalDOC uses without it,
a value equal to what the -override file gives is no change, and a protocol outmail does not handle is never
overwritten. Import then export, with no edit, gives back the same bytes (tests/logicaldoc/test_bridge_generated.py).

Writes: the settings file and context.properties are replaced atomically from a private temporary file; export's
backup `<name>.bak-YYYYmmdd-HHMMSS` is written the same way with the original's mode and owner (`write_backup`).

Usage (console or CLI):
    plan = plan_export(config_path, properties_path, tenants=None)      # or plan_export_settings(...) from memory
    show(plan.diff, plan.warnings); if plan.changed and confirmed: apply_export(plan)
    plan = plan_import(properties_path, config_path, tenants=None)
    show(plan.diff, plan.warnings); if plan.changed and confirmed: apply_import(plan)
"""

from __future__ import annotations

import base64
import binascii
import difflib
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from tui.logicaldoc.properties import Entry, PropertiesError, PropertiesFile
from tui.secret import Secret
from tui.settings.fields import (
    CONNECTION_SECURITY,
    FIELDS,
    FIELDS_BY_ATTR,
    GLOBAL_AUTHORITY_HOST,
    GLOBAL_SCOPE,
    PROTOCOL_M365,
    PROTOCOL_SMTP,
    PROTOCOLS,
    Field,
)
from tui.settings.model import Settings

SMTP_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.section == "smtp")
SMTP_FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in SMTP_FIELDS}
SECRET_KEYS = frozenset(f.key for f in SMTP_FIELDS if f.kind == "secret")  # password, clientSecret
NOSEND_KEY = "smtp.nosend"
OVERRIDE_SUFFIX = "-override"
B64_PREFIX = "_b64_"
REDACTED = "***"
_TENANT_KEY = re.compile(r"^(?P<tenant>[^.\s]+)\.smtp\.(?P<key>.+)$")
_SOVEREIGN_SMTP = re.compile(r"(office365\.us|outlook\.cn|microsoftonline\.(us|cn)|chinacloudapi\.cn)$", re.I)

Severity = Literal["warning", "note"]


class BridgeError(Exception):
    """The bridge cannot go on (unknown tenant, file changed on disk, ...); `str()` is admin-readable."""


@dataclass(frozen=True)
class BridgeWarning:
    """Something that matters on a real LogicalDOC. Never holds a secret value."""

    message: str
    tenant: str | None = None
    severity: Severity = "warning"
    key: str | None = None  # the property key it is about, when one

    def __str__(self) -> str:
        prefix = f"tenant {self.tenant}: " if self.tenant else ""
        return f"{self.severity}: {prefix}{self.message}"


@dataclass(frozen=True)
class Change:
    """One value the plan changes. `old`/`new` are display strings (secrets redacted); None = absent."""

    tenant: str
    attr: str  # the Settings attribute, or `smtp.<name>` for a key outside the field table
    key: str  # property key (export) or TOML key path (import)
    old: str | None
    new: str
    action: Literal["set", "add", "remove"] = "set"

    def __str__(self) -> str:
        if self.action == "remove":
            return f"{self.key}: remove {self.old!r} ({self.new})"
        if self.old is None:
            return f"{self.key}: add {self.new!r}"
        return f"{self.key}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class ExportPlan:
    """What export would write into context.properties."""

    path: Path | None
    old_bytes: bytes
    new_bytes: bytes
    diff: str  # unified diff, secrets redacted ("" when nothing changes)
    warnings: tuple[BridgeWarning, ...]
    changes: tuple[Change, ...]
    tenants: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.new_bytes != self.old_bytes

    @property
    def changed_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.changes)

    @property
    def new_text(self) -> str:
        """The new file as text (UTF-8 reading where valid). Holds the secrets: show `preview_text` instead."""
        return _display_text(self.new_bytes)

    @property
    def preview_text(self) -> str:
        """The whole new file for display, secrets shown as ***."""
        return _display_lines(redact_properties(PropertiesFile(self.new_bytes)))


@dataclass(frozen=True)
class ImportPlan:
    """What import would write into outmail's settings file."""

    config_path: Path | None
    config_exists: bool
    old_text: str
    new_text: str  # secrets included: write it, never show it
    diff: str  # unified diff, secrets redacted
    warnings: tuple[BridgeWarning, ...]
    changes: tuple[Change, ...]
    tenants: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text or not self.config_exists

    @property
    def preview_text(self) -> str:
        """The whole new settings file for display, secrets shown as "***"."""
        return redact_toml(self.new_text)


# ------------------------------------------------------------------------------------------------- value mapping

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


def _display_value(f: Field, value: object) -> str:
    if f.kind == "secret":
        return REDACTED if to_property(f, value) else ""
    return to_property(f, value)


def _display_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def property_key(tenant: str, f: Field) -> str:
    return f"{tenant}.{f.property_key}"


# ----------------------------------------------------------------------------------------------- reading the file

class LogicalDocView:
    """What LogicalDOC reads: the main file, then conf/<name>-override.<ext> on top when it exists."""

    def __init__(self, main: PropertiesFile, override: PropertiesFile | None = None) -> None:
        self.main = main
        self.override = override

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> "LogicalDocView":
        path = Path(path)
        main = PropertiesFile.read(path)
        opath = override_path(path)
        override = PropertiesFile.read(opath) if opath.is_file() else None
        return cls(main, override)

    def contains(self, key: str) -> bool:
        return key in self.main or (self.override is not None and key in self.override)

    def get(self, key: str) -> str | None:
        if self.override is not None and key in self.override:
            return self.override.get(key)
        return self.main.get(key)

    def source_of(self, key: str) -> PropertiesFile | None:
        if self.override is not None and key in self.override:
            return self.override
        return self.main if key in self.main else None

    def keys(self) -> list[str]:
        keys = self.main.keys()
        if self.override is not None:
            keys += [k for k in self.override.keys() if k not in self.main]
        return keys

    def tenant_property(self, tenant: str, f: Field) -> tuple[str | None, str | None]:
        """(value, key it came from) as `getTenantProperty` resolves it; (None, None) when both are missing."""
        return self.resolve(tenant, f.key)

    def resolve(self, tenant: str, name: str) -> tuple[str | None, str | None]:
        """`<tenant>.smtp.<name>` as `getTenantProperty` resolves it: (value, key it came from), the un-prefixed
        `smtp.<name>` when the prefixed key is missing, (None, None) when both are."""
        key = f"{tenant}.smtp.{name}"
        if self.contains(key):
            return self.get(key), key
        if self.contains(f"smtp.{name}"):
            return self.get(f"smtp.{name}"), f"smtp.{name}"
        return None, None

    def smtp_names(self, tenant: str) -> list[str]:
        """Every <name> of a `<tenant>.smtp.<name>` key, then of an un-prefixed `smtp.<name>` fallback, in file order
        (field keys included)."""
        names: dict[str, None] = {}
        prefix = f"{tenant}.smtp."
        keys = self.keys()
        for key in keys:
            if key.startswith(prefix):
                names[key[len(prefix):]] = None
        for key in keys:
            if key.startswith("smtp."):
                names.setdefault(key[len("smtp."):], None)
        return list(names)


def override_path(path: Path) -> Path:
    """conf/context.properties -> conf/context-override.properties (ContextProperties.detectOverrideFile)."""
    path = Path(path)
    stem, dot, ext = path.name.rpartition(".")
    name = f"{stem}{OVERRIDE_SUFFIX}.{ext}" if dot else f"{path.name}{OVERRIDE_SUFFIX}."
    return path.with_name(name)


def discover_tenants(keys: Iterable[str]) -> list[str]:
    """Tenants that have at least one Outgoing Email key (`<tenant>.smtp.<field key>`), in file order."""
    found: dict[str, None] = {}
    for key in keys:
        m = _TENANT_KEY.match(key)
        if m and m.group("key") in SMTP_FIELDS_BY_KEY and m.group("tenant") != "smtp":
            found[m.group("tenant")] = None
    return list(found)


def _has_fallbacks(view: LogicalDocView) -> bool:
    return any(view.contains(f.property_key) for f in SMTP_FIELDS)


@dataclass
class TenantRead:
    """One tenant's Outgoing Email fields as LogicalDOC works with them.

    `values`: by attribute, what import records (LogicalDOC's own default for a missing key that has one).
    `unset`: the attributes for which LogicalDOC has no value outmail can hold (a missing port or userasfrom, a value
    outmail cannot read, a protocol it does not handle): import leaves them out of the settings file, outmail uses its
    own default there, and export does not write them unless the admin sets them.
    `sources`: attribute -> the key the value came from. `foreign_protocol`: LogicalDOC's protocol when outmail does
    not handle it (`smtpgoogle`).
    """

    values: dict[str, Any]
    unset: list[str]
    warnings: list[BridgeWarning]
    sources: dict[str, str]
    foreign_protocol: str | None = None


def read_tenant(view: LogicalDocView, tenant: str) -> TenantRead:
    """One tenant's Outgoing Email fields as LogicalDOC resolves and reads them (see TenantRead)."""
    read = TenantRead({}, [], [], {})
    fallbacks: list[str] = []
    missing: list[str] = []
    for f in SMTP_FIELDS:
        raw, key = view.tenant_property(tenant, f)
        if key is None:
            known, value = absent_value(f)
            if known:
                read.values[f.attr] = value
                missing.append(f"{property_key(tenant, f)} (LogicalDOC uses {_display_value(f, value) or 'empty'})")
            elif f.attr != "userasfrom":  # its own warning (logicaldoc_warnings)
                read.unset.append(f.attr)
                missing.append(f"{property_key(tenant, f)} (LogicalDOC has no value; outmail uses its default "
                               f"{_display_value(f, f.default)}, and export leaves the key missing unless you set it)")
            else:
                read.unset.append(f.attr)
            continue
        if key == f.property_key:
            fallbacks.append(key)
        if f.attr == "protocol" and (foreign := foreign_protocol(raw)) is not None:
            read.foreign_protocol = foreign
            read.unset.append(f.attr)
            read.warnings.append(BridgeWarning(
                f"{key}={foreign!r}: a protocol outmail does not diagnose ({', '.join(PROTOCOLS)}); import leaves "
                "protocol out of the settings file, and export never changes it in LogicalDOC", tenant, key=key))
            continue
        value, problem = from_property(f, raw)
        if problem is not None:
            read.unset.append(f.attr)
            read.warnings.append(BridgeWarning(
                f"{key} ({f.label}) {problem}: not imported (outmail uses its default {_display_value(f, f.default)}, "
                "and export leaves LogicalDOC's value as it is unless you set it)", tenant, key=key))
            continue
        if f.kind == "bool" and raw.strip().lower() not in ("true", "yes", "1", "false", "no", "0"):
            read.warnings.append(BridgeWarning(
                f"{key} ({f.label}) is {raw!r}, which LogicalDOC reads as false" if raw.strip() else
                f"{key} ({f.label}) is empty, which LogicalDOC reads as false", tenant, key=key))
        read.values[f.attr] = value
        read.sources[f.attr] = key
        read.warnings.extend(_raw_value_warnings(view, tenant, f, key, raw))
    if fallbacks:
        read.warnings.append(BridgeWarning(
            f"{', '.join(fallbacks)} used for lack of {tenant}.smtp.* keys (LogicalDOC falls back to the un-prefixed "
            "key; older versions read only prefixed keys)", tenant, "note"))
    if missing:
        read.warnings.append(BridgeWarning(
            f"missing in the file: {'; '.join(missing)}", tenant, "note"))
    return read


def _raw_value_warnings(view: LogicalDocView, tenant: str, f: Field | None, key: str, raw: str
                        ) -> list[BridgeWarning]:
    """Warnings about one stored value; `f` is None for a key outside the field table."""
    out: list[BridgeWarning] = []
    secret = f.kind == "secret" if f is not None else is_credential_key(key)
    src = view.source_of(key)
    if src is not None and view.override is not None and src is view.override:
        out.append(BridgeWarning(f"{key} comes from {Path(view.override.path or '').name} (it overrides "
                                 f"{Path(view.main.path or 'context.properties').name})", tenant, key=key))
    if src is not None:
        dups = src.occurrences(key)
        if len(dups) > 1:
            out.append(BridgeWarning(
                f"{key} appears {len(dups)} times (lines {', '.join(str(e.line) for e in dups)}); LogicalDOC uses the "
                "last one, and so does outmail", tenant, key=key))
        utf8 = src.looks_utf8(key)
        if utf8 is not None:
            shown = "" if secret else f": LogicalDOC reads {raw!r}, not {utf8!r}"
            out.append(BridgeWarning(
                f"{key} holds raw UTF-8 bytes but LogicalDOC reads the file as ISO-8859-1{shown}; write it as "
                "\\uXXXX escapes (outmail's export does)", tenant, key=key))
    if f is not None and f.kind in ("text", "email", "secret", "choice") and raw != raw.strip():
        out.append(BridgeWarning(f"{key} has leading or trailing blanks, which LogicalDOC keeps", tenant, key=key))
    if "${" in raw and not secret:
        out.append(BridgeWarning(f"{key} contains ${{...}}: LogicalDOC replaces Java system properties in it",
                                 tenant, "note", key))
    return out


def global_warnings(view: LogicalDocView, tenants: Sequence[str] = ()) -> list[BridgeWarning]:
    """smtp.nosend (the kill switch), also per tenant."""
    out: list[BridgeWarning] = []
    for key in [NOSEND_KEY] + [f"{t}.{NOSEND_KEY}" for t in tenants]:
        raw = view.get(key)
        if raw is not None and raw.strip().lower() in ("true", "yes", "1"):
            out.append(BridgeWarning(
                f"{key}={raw.strip()}: LogicalDOC sends no email at all (it logs \"not sent because of the config "
                "parameter smtp.nosend\"); set it to false to send", None, key=key))
    return out


# ------------------------------------------------------------------------------------- keys outside the field table

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_CANONICAL_INT = re.compile(r"^(0|-?[1-9][0-9]*)$")
_TOML_INT = range(-(2 ** 63), 2 ** 63)


def is_credential_key(name: str) -> bool:
    """True for a key whose value must never be shown (password, clientSecret, any *token*, *secret*, ...)."""
    lowered = name.lower()
    return any(w in lowered for w in _CREDENTIAL_WORDS)


def _toml_key(path: Sequence[str]) -> str:
    """A TOML key path as written in the file: `save.folderId`, `"save.folderId"`, `a."b c"`."""
    return ".".join(part if _BARE_KEY.match(part) else _toml_string(part) for part in path)


def _toml_string(text: str) -> str:
    """`text` as a TOML basic string (for display)."""
    escaped = []
    for ch in text:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04X}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def flatten_smtp(table: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...], Any]]:
    """Every value of a tenant's smtp table as (LogicalDOC name after `smtp.`, TOML key path, value), in file order.

    Nested tables (dotted keys `save.folderId = ...`, `[tenants.t.smtp.save]`, inline tables) join their parts with
    dots; a quoted key `"save.folderId" = ...` is one part that already holds the dot. Both give `save.folderId`.
    """
    out: list[tuple[str, tuple[str, ...], Any]] = []

    def walk(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        for k, v in node.items():
            here = path + (str(k),)
            if isinstance(v, Mapping):
                walk(v, here)
            else:
                out.append((".".join(here), here, v))

    walk(table, ())
    return out


def extra_to_property(value: object) -> str | None:
    """A TOML value as a properties string (str as is, int as digits, bool as true/false); None for any other type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def _extra_typed(current: object, raw: str) -> object:
    """The TOML value to write for a property value: a string, unless the file holds an int or a bool there and
    `raw` reads back as exactly the same text (so export gives `raw` again)."""
    if isinstance(current, bool):
        return raw == "true" if raw in ("true", "false") else raw
    if isinstance(current, int) and _CANONICAL_INT.match(raw) and int(raw) in _TOML_INT:
        return int(raw)
    return raw


def _type_word(value: object) -> str:
    if isinstance(value, float):
        return "a float"
    if isinstance(value, list):
        return "an array"
    if hasattr(value, "isoformat"):
        return "a date or time"
    return f"a {type(value).__name__}"


def _shown(name: str, value: str) -> str:
    return (REDACTED if value else "") if is_credential_key(name) else value


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_extras(view: LogicalDocView, tenant: str) -> tuple[list[tuple[str, str, str]], list[BridgeWarning]]:
    """Every `<tenant>.smtp.<name>` outside the field table as (name, value, key it came from), with LogicalDOC's
    fallback to `smtp.<name>`, in file order; `nosend` (global) is left out with a note when the tenant has one."""
    out: list[tuple[str, str, str]] = []
    warnings: list[BridgeWarning] = []
    fallbacks: list[str] = []
    for name in view.smtp_names(tenant):
        if name in SMTP_FIELDS_BY_KEY:
            continue
        if name == "nosend":
            key = f"{tenant}.{NOSEND_KEY}"
            if view.contains(key):
                warnings.append(BridgeWarning(
                    f"{key} is not imported: {NOSEND_KEY} is LogicalDOC's kill switch, not a tenant setting; it stays "
                    "in context.properties (outmail warns when it is on)", tenant, "note", key))
            continue
        raw, key = view.resolve(tenant, name)
        if raw is None or key is None:
            continue
        if not _utf8_ok(name) or not _utf8_ok(raw):
            warnings.append(BridgeWarning(
                f"{key} is not imported: its {'name' if not _utf8_ok(name) else 'value'} holds a lone UTF-16 "
                "surrogate (a \\uD800-\\uDFFF escape without its pair), which a TOML file cannot hold", tenant,
                key=key))
            continue
        out.append((name, raw, key))
        if key == f"smtp.{name}":
            fallbacks.append(key)
        warnings.extend(_raw_value_warnings(view, tenant, None, key, raw))
    if fallbacks:
        warnings.append(BridgeWarning(
            f"{', '.join(fallbacks)} used for lack of {tenant}.smtp.* keys (LogicalDOC falls back to the un-prefixed "
            "key; older versions read only prefixed keys)", tenant, "note"))
    return out, warnings


def _new_extra_path(name: str, table: Mapping[str, Any], reserved: set[str]) -> tuple[str, ...] | None:
    """Where a name the settings file does not hold yet goes: dotted (`save.folderId`), or quoted
    (`"save.folderId"`) when a part of the dotted path is a value, or will be one (`reserved`: the field keys and the
    other names being imported); None when neither form can hold it."""
    parts = name.split(".")

    def dotted_ok() -> bool:
        if len(parts) < 2 or any(not part for part in parts):
            return False
        node: Any = table
        for i, part in enumerate(parts[:-1], start=1):
            if ".".join(parts[:i]) in reserved:
                return False
            if node is None or part not in node:
                node = None
                continue
            node = node[part]
            if not isinstance(node, Mapping):
                return False
        return node is None or parts[-1] not in node

    if dotted_ok():
        return tuple(parts)
    if name in table:  # a table of that very name (its values were not `name` itself): no form can hold both
        return None
    return (name,)


def _set_path(table: Any, path: tuple[str, ...], value: object) -> None:
    """Set a value at a TOML key path inside a tomlkit table, adding the missing part as one dotted key (after the
    table's last key, above the comments that end it: they introduce what follows)."""
    import tomlkit

    from tui.settings.store import pop_tail

    def add(node: Any, key: Any) -> None:
        tail = pop_tail(node)
        node.add(key, value)
        for item in tail:
            node.value.append(None, item)

    node = table
    for i, part in enumerate(path[:-1]):
        if part in node:
            node = node[part]
            continue
        add(node, tomlkit.key(list(path[i:])))
        return
    if path[-1] in node:
        node[path[-1]] = value
    else:
        add(node, tomlkit.key([path[-1]]))


def _import_extras(doc: Any, data: Mapping[str, Any], tenant: str, extras: list[tuple[str, str, str]]
                   ) -> tuple[list[Change], list[BridgeWarning]]:
    """Write the tenant's keys outside the field table into the tomlkit document (its smtp table exists)."""
    table_data = _smtp_table_data(data, tenant)
    found: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for name, path, value in flatten_smtp(table_data):
        found.setdefault(name, []).append((path, value))
    reserved = set(SMTP_FIELDS_BY_KEY) | {name for name, _, _ in extras}
    smtp = doc["tenants"][tenant]["smtp"]
    changes: list[Change] = []
    warnings: list[BridgeWarning] = []
    for name, raw, key in extras:
        places = found.get(name, [])
        if len(places) > 1:
            warnings.append(BridgeWarning(
                f"[tenants.{tenant}.smtp] writes {name} {len(places)} times "
                f"({', '.join(_toml_key(p) for p, _ in places)}): import sets them all to {key}'s value", tenant,
                key=key))
        for path, value in places:
            if extra_to_property(value) == raw:
                continue
            _set_path(smtp, path, _extra_typed(value, raw))
            old = extra_to_property(value)
            changes.append(Change(tenant, f"smtp.{name}", f"tenants.{tenant}.smtp.{_toml_key(path)}",
                                  _shown(name, old) if old is not None else f"({_type_word(value)})",
                                  _shown(name, raw)))
        if places:
            continue
        path = _new_extra_path(name, table_data, reserved - {name})
        if path is None:
            warnings.append(BridgeWarning(
                f"{key} is not imported: [tenants.{tenant}.smtp] already has a table {_toml_key([name])}, and a TOML "
                "key cannot be a value and a table at once", tenant, key=key))
            continue
        _set_path(smtp, path, raw)
        changes.append(Change(tenant, f"smtp.{name}", f"tenants.{tenant}.smtp.{_toml_key(path)}", None,
                              _shown(name, raw), "add"))
    return changes, warnings


def _detach_tail(doc: Any, tenant: str) -> tuple[Any, list[Any]]:
    """Take the comments and blank lines after the last key of [tenants.<tenant>.smtp] off it, to put back after the
    keys import adds (`_reattach_tail`): in a file such comments introduce the next table, and a new key must not
    land below them."""
    from tomlkit.items import Table

    try:
        table = doc["tenants"][tenant]["smtp"]
    except (KeyError, TypeError):
        return None, []
    if not isinstance(table, Table):
        return None, []
    from tui.settings.store import pop_tail

    return table, pop_tail(table)


def _last_tenant_table(doc: Any) -> Any:
    """The last table under [tenants] in the document ([tenants.<t>.<section>], or one nested in it such as
    [tenants.<t>.smtp.save]), or None."""
    from tomlkit.items import Table

    def last_in(node: Any) -> Any:
        found = None
        for key, item in getattr(getattr(node, "value", None), "body", []):
            if isinstance(item, Table) and not (key is not None and key.is_dotted()):  # a dotted key is no table
                found = last_in(item) or (found if item.is_super_table() else item)
        return found

    tenants = doc.get("tenants")
    return last_in(tenants) if isinstance(tenants, Table) else None


def _detach_last_tenant_tail(doc: Any) -> tuple[Any, list[Any]]:
    """The comments and blank lines after the last tenant table's last key, taken off it (see _detach_tail)."""
    from tui.settings.store import pop_tail

    table = _last_tenant_table(doc)
    if table is None:
        return None, []
    return table, pop_tail(table)


def _reattach_tail(table: Any, tail: list[Any]) -> None:
    for item in tail:
        table.value.append(None, item)


def _smtp_table_data(data: Mapping[str, Any], tenant: str) -> Mapping[str, Any]:
    tenants = data.get("tenants")
    table = tenants.get(tenant) if isinstance(tenants, Mapping) else None
    smtp = table.get("smtp") if isinstance(table, Mapping) else None
    return smtp if isinstance(smtp, Mapping) else {}


def _ensure_smtp_table(doc: Any, tenant: str) -> None:
    """Create [tenants.<tenant>.smtp] as store.set_values does, when the document lacks it."""
    from tui.settings import store

    store.tenant_section(doc, tenant, "smtp")


def export_extras(tenant: str, table: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[BridgeWarning]]:
    """(name, properties value) for every value of the tenant's smtp table outside the field table, in file order,
    and warnings for what cannot be exported (never a value)."""
    found: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for name, path, value in flatten_smtp(table):
        if len(path) == 1 and name in SMTP_FIELDS_BY_KEY:
            continue
        found.setdefault(name, []).append((path, value))
    out: list[tuple[str, str]] = []
    warnings: list[BridgeWarning] = []
    where = f"[tenants.{tenant}.smtp]"
    for name, places in found.items():
        key = f"{tenant}.smtp.{name}"
        if name == "nosend":
            warnings.append(BridgeWarning(
                f"{where} {_toml_key(places[0][0])} is not exported: {NOSEND_KEY} is LogicalDOC's kill switch, not a "
                "tenant setting; set it in context.properties itself", tenant, key=key))
            continue
        bad = [(path, value) for path, value in places if extra_to_property(value) is None]
        if bad:
            path, value = bad[0]
            warnings.append(BridgeWarning(
                f"{where} {_toml_key(path)} is {_type_word(value)}: not exported (a property holds text; write a "
                "string, a whole number or true/false)", tenant, key=key))
            continue
        rendered = {extra_to_property(value) for _, value in places}
        if len(rendered) > 1:
            warnings.append(BridgeWarning(
                f"{where} writes {name} {len(places)} times ({', '.join(_toml_key(p) for p, _ in places)}) with "
                "different values: not exported; keep one", tenant, key=key))
            continue
        out.append((name, rendered.pop()))
    return out, warnings


def logicaldoc_warnings(tenant: str, s: Settings, *, userasfrom_missing: bool = False,
                        userasfrom_written: bool = False, foreign_protocol: str | None = None) -> list[BridgeWarning]:
    """What differs between proving these values in outmail and LogicalDOC using them (reference 1.3, 1.4, 8)."""

    def get(attr: str) -> Any:
        return getattr(s, attr)

    out: list[BridgeWarning] = []
    if userasfrom_missing:
        then = ("export writes it" if userasfrom_written else
                "outmail uses false too, and export leaves it missing unless you set Use user's email as sender")
        out.append(BridgeWarning(
            f"{tenant}.smtp.userasfrom is missing: LogicalDOC's sender treats it as false, while its settings screen "
            f"shows it ticked (a save there writes true); {then}", tenant, key=f"{tenant}.smtp.userasfrom"))
    if foreign_protocol is not None or get("protocol") != PROTOCOL_M365:
        return out
    ignored: list[str] = []
    if get("connection_security") != 1:
        ignored.append(f"Connection Security is {get('connection_security')} "
                       f"({CONNECTION_SECURITY.get(get('connection_security'), '?')})")
    if not get("auth_encrypted"):
        ignored.append("Use secure authentication is off")
    if get("password"):
        ignored.append("a Password is set")
    base = ("with smtpmicrosoft365 LogicalDOC ignores Connection Security, Use secure authentication and Password "
            "(it always uses opportunistic STARTTLS and XOAUTH2)")
    out.append(BridgeWarning(base + (": " + "; ".join(ignored) + ", all without effect" if ignored else ""),
                             tenant, "warning" if ignored else "note"))
    clouds = []
    if str(get("authority_host")).rstrip("/") != GLOBAL_AUTHORITY_HOST:
        clouds.append(f"authority {get('authority_host')}")
    if get("scope") != GLOBAL_SCOPE:
        clouds.append(f"scope {get('scope')}")
    if _SOVEREIGN_SMTP.search(str(get("host")).strip().rstrip(".")):
        clouds.append(f"server {get('host')}")
    if clouds:
        out.append(BridgeWarning(
            f"outmail proves this tenant with {', '.join(clouds)}, but LogicalDOC always uses the global cloud "
            f"({GLOBAL_AUTHORITY_HOST}, {GLOBAL_SCOPE}): a sovereign-cloud tenant diagnoses fine here and still "
            "fails in LogicalDOC", tenant))
    if get("userasfrom"):
        out.append(BridgeWarning(
            "Use user's email as sender (userasfrom) is true: LogicalDOC then sends From each user's own address, "
            "and app-only XOAUTH2 needs Send As for every such user (setup step S7), else SendAsDenied",
            tenant, key=f"{tenant}.smtp.userasfrom"))
    sender, username = str(get("sender")).strip(), str(get("username")).strip()
    if sender and username and sender.lower() != username.lower():
        out.append(BridgeWarning(
            f"Sender Email {sender} differs from Username {username}: needs Send As on {sender} (setup step S7)",
            tenant, "note"))
    return out


def _override_warnings(view: LogicalDocView, keys: Iterable[str]) -> list[BridgeWarning]:
    if view.override is None:
        return []
    hit = [k for k in keys if k in view.override]
    if not hit:
        return []
    name = Path(view.override.path or "context-override.properties").name
    return [BridgeWarning(f"{name} sets {', '.join(hit)}: LogicalDOC uses those values, not the ones exported here")]


# ----------------------------------------------------------------------------------------------------- redaction

def redact_properties(p: PropertiesFile) -> str:
    """The file's text with every non-empty secret value (password, clientSecret of any tenant, other credentials)
    replaced by ***."""
    text = p.text
    for e in sorted(_secret_entries(p), key=lambda e: e.value_start, reverse=True):
        sep = "" if e.has_separator_room else "="
        text = text[:e.value_start] + sep + REDACTED + text[e.value_end:]
    return text


_CREDENTIAL_WORDS = ("password", "secret", "token", "apikey", "api.key")


def _secret_entries(p: PropertiesFile) -> list[Entry]:
    """Entries whose values must never be shown: the Outgoing Email secrets of any tenant, and any other
    credential-looking key (jdbc.password, ...) that may appear as diff context."""
    return [e for e in p.entries if e.value and any(w in e.key.lower() for w in _CREDENTIAL_WORDS)]


def _split_lines(text: str) -> list[str]:
    """Natural lines with their terminators, split only at CR, LF and CRLF (as Java does; not at \f or \x85)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def _mark_changed_secrets(old: PropertiesFile, new: PropertiesFile, new_text: str) -> str:
    """Where a secret changed from one non-empty value to another, show `*** (changed)` so the diff shows it."""
    changed = {e.key for e in _secret_entries(new) if old.get(e.key) not in (None, "", e.value)}
    if not changed:
        return new_text
    lines = _split_lines(new_text)
    redacted = PropertiesFile(new_text)
    for e in sorted((e for e in redacted.entries if e.key in changed), key=lambda e: e.line, reverse=True):
        idx = e.last_line - 1
        body = lines[idx].rstrip("\r\n")
        lines[idx] = body + " (changed)" + lines[idx][len(body):]
    return "".join(lines)


_TOML_SECRET_LINE = re.compile(r"""^(\s*[^=#\[]*?(?:password|secret|token|apikey|api\.key)[^=#\[]*=).*$""", re.I)


def redact_toml(text: str, before: str | None = None) -> str:
    """TOML text with every non-empty secret of a tenant's smtp table (password, clientSecret, and any other
    credential-looking key, nested ones included) shown as "***" ("*** (changed)" where it differs from `before`)."""
    import tomlkit

    try:
        from tui.settings.store import split_bom

        text = split_bom(text)[1]  # display only: the mark is invisible
        doc = tomlkit.parse(text)
        old = tomlkit.parse(split_bom(before)[1]) if before is not None else None
    except Exception:  # not TOML: blank out whole secret lines rather than risk showing one
        return "".join(_TOML_SECRET_LINE.sub(r'\1 "***"', line.rstrip("\r\n")) + line[len(line.rstrip("\r\n")):]
                       for line in text.splitlines(keepends=True))
    tenants = doc.get("tenants")
    if not isinstance(tenants, Mapping):
        return text
    old_tenants = old.get("tenants") if old is not None else None
    for name, table in tenants.items():
        smtp = table.get("smtp") if isinstance(table, Mapping) else None
        if not isinstance(smtp, Mapping):
            continue
        old_smtp = _smtp_table_data({"tenants": old_tenants}, name) if isinstance(old_tenants, Mapping) else {}
        old_values = {flat: value for flat, _, value in flatten_smtp(old_smtp)}
        for flat, path, value in flatten_smtp(smtp):
            if not is_credential_key(flat) or value is None or value == "":
                continue
            shown = REDACTED
            prev = old_values.get(flat) if old is not None else None
            if prev not in (None, "", value):
                shown = REDACTED + " (changed)"
            node = smtp
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = shown
    return tomlkit.dumps(doc)


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff for display (line endings dropped: CRLF is kept in the file, not in the preview)."""
    if old == new:
        return ""
    lines = difflib.unified_diff([line.rstrip("\r\n") for line in _split_lines(old)],
                                 [line.rstrip("\r\n") for line in _split_lines(new)], fromfile=f"{name} (now)",
                                 tofile=f"{name} (after)", lineterm="", n=2)
    return "\n".join(lines) + "\n"


def _display_lines(text: str) -> str:
    """Latin-1 text whose bytes are UTF-8 shown as UTF-8 (what an admin's editor shows)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return text


# --------------------------------------------------------------------------------------------------------- export

def _logicaldoc_reads(f: Field, raw: str | None, source_key: str | None) -> str:
    """What LogicalDOC works with for a field, for display: "no value", "empty", "relay.example, from smtp.host";
    a secret as ***."""
    if source_key is None:
        known, absent = absent_value(f)
        return (_display_value(f, absent) or "empty") if known else "no value"
    value, problem = from_property(f, raw or "")
    if f.kind == "secret":
        shown = REDACTED if raw else "empty"
    else:
        shown = (_display_value(f, value) if problem is None else repr(raw)) or "empty"
    return f"{shown}, from {source_key}" if source_key.startswith("smtp.") else shown


def _equal(f: Field, raw: str | None, new: object) -> bool:
    if raw is None:
        return False
    value, problem = from_property(f, raw)
    return problem is None and value == new


def plan_export_settings(
    settings: Mapping[str, Settings],
    view: LogicalDocView,
    *,
    path: Path | None = None,
    smtp_tables: Mapping[str, Mapping[str, Any]] | None = None,
) -> ExportPlan:
    """Plan writing each tenant's settings (tenant -> Settings, e.g. what the console has) into the file.

    `smtp_tables` (tenant -> its `[tenants.<tenant>.smtp]` table as parsed) supplies the keys outside the field
    table; without it only the field table's keys are written.

    Only what the admin set or changed is written: a field whose key the tenant's table does not hold and whose value
    is outmail's default (what import leaves out where LogicalDOC has no value) is left as LogicalDOC has it; a key
    LogicalDOC lacks is added only when its value differs from what LogicalDOC uses without it; a protocol outmail
    does not handle (`smtpgoogle`) is never changed. So import then export, with no edit, gives the same bytes.
    """
    props = view.main
    old_bytes = props.render()
    work = PropertiesFile(props.text, props.path)
    warnings: list[BridgeWarning] = []
    changes: list[Change] = []
    written: list[str] = []
    fallback_kept: dict[str, list[str]] = {}
    for tenant, s in settings.items():
        to_add: list[tuple[str, str]] = []
        extras: list[tuple[str, str]] = []
        if smtp_tables is not None and tenant in smtp_tables:
            extras, xw = export_extras(tenant, smtp_tables[tenant])
            warnings.extend(xw)
        userasfrom_missing = not view.contains(f"{tenant}.smtp.userasfrom") and not view.contains("smtp.userasfrom")
        userasfrom_written = False
        table = smtp_tables.get(tenant) if smtp_tables is not None else None
        protocol_raw, protocol_key = view.tenant_property(tenant, SMTP_FIELDS_BY_KEY["protocol"])
        foreign = foreign_protocol(protocol_raw)
        not_set: list[str] = []
        for f in SMTP_FIELDS:
            key = property_key(tenant, f)
            new_value = getattr(s, f.attr)
            new_raw = to_property(f, new_value)
            current, source_key = view.tenant_property(tenant, f)
            if f.attr == "protocol" and foreign is not None:
                warnings.append(BridgeWarning(
                    f"{protocol_key}={foreign!r} kept: a protocol outmail does not handle is never changed", tenant,
                    "note", protocol_key))
                continue
            if table is not None and f.key not in table and new_raw == to_property(f, f.default):
                # not set in outmail (import leaves it out where LogicalDOC has no value): left as it is
                if f.attr != "userasfrom" and not (s.protocol == PROTOCOL_M365 and f.ignored_by_m365):
                    same = _equal(f, current, new_value) if source_key is not None else \
                        absent_value(f) == (True, new_value)
                    if not same:
                        not_set.append(f"{key} (LogicalDOC: {_logicaldoc_reads(f, current, source_key)}; outmail "
                                       f"proves {_display_value(f, new_value) or 'empty'})")
                continue
            if f.kind == "secret" and not new_raw and current:
                warnings.append(BridgeWarning(
                    f"outmail has no {f.label} for this tenant: kept LogicalDOC's existing {source_key} (not shown)",
                    tenant, "note", key))
                continue
            if source_key == key:
                existing = work.get(key) if key in work else None
                if key not in work:  # only in the override file: a changed value goes into the main file too
                    if not _equal(f, current, new_value):
                        to_add.append((key, new_raw))
                        changes.append(Change(tenant, f.attr, key, None, _display_value(f, new_value), "add"))
                elif not _equal(f, existing, new_value) and not _equal(f, current, new_value):
                    # (equal to what LogicalDOC uses, from the -override file: unchanged, nothing to write)
                    work.set(key, new_raw)
                    old_shown = (REDACTED if existing else "") if f.kind == "secret" else existing
                    changes.append(Change(tenant, f.attr, key, old_shown, _display_value(f, new_value)))
                written.append(key)
                continue
            if source_key is not None and _equal(f, current, new_value):
                fallback_kept.setdefault(tenant, []).append(f"{key} (= {source_key})")
                continue
            if source_key is None:
                known, absent = absent_value(f)
                if known and absent == new_value:
                    continue  # LogicalDOC already works with this value; adding the key would change nothing
                if f.attr == "userasfrom":
                    # LogicalDOC's sender reads a missing userasfrom as false, its screen as true: written when
                    # outmail's file sets it (then LogicalDOC's screen cannot flip it) or when it is true
                    if not new_value and table is None:
                        continue
                    userasfrom_written = True
            to_add.append((key, new_raw))
            changes.append(Change(tenant, f.attr, key, None, _display_value(f, new_value), "add"))
            written.append(key)
        for name, new_raw in extras:
            key = f"{tenant}.smtp.{name}"
            current, source_key = view.resolve(tenant, name)
            if is_credential_key(name) and not new_raw and current:
                warnings.append(BridgeWarning(
                    f"outmail has an empty {name} for this tenant: kept LogicalDOC's existing {source_key} (not shown)",
                    tenant, "note", key))
                continue
            if source_key == key:
                if key not in work:  # only in the override file: a changed value goes into the main file too
                    if current != new_raw:
                        to_add.append((key, new_raw))
                        changes.append(Change(tenant, f"smtp.{name}", key, None, _shown(name, new_raw), "add"))
                elif work.get(key) != new_raw and current != new_raw:
                    old_raw = work.get(key) or ""
                    work.set(key, new_raw)
                    changes.append(Change(tenant, f"smtp.{name}", key, _shown(name, old_raw), _shown(name, new_raw)))
                written.append(key)
                continue
            if source_key is not None and current == new_raw:
                fallback_kept.setdefault(tenant, []).append(f"{key} (= {source_key})")
                continue
            to_add.append((key, new_raw))
            changes.append(Change(tenant, f"smtp.{name}", key, None, _shown(name, new_raw), "add"))
            written.append(key)
        if to_add:
            anchors = [e for e in work.entries
                       if (m := _TENANT_KEY.match(e.key)) and m.group("tenant") == tenant]
            if anchors:
                work.insert(max(anchors, key=lambda e: e.end).end, to_add)
            else:
                work.append(to_add, comment=f"Outgoing Email of tenant {tenant} (written by outmail)")
        if not_set:
            warnings.append(BridgeWarning(
                f"not written, since [tenants.{tenant}.smtp] does not set them: {'; '.join(not_set)}. Set them in "
                "the settings file to write them", tenant))
        warnings.extend(logicaldoc_warnings(tenant, s, userasfrom_missing=userasfrom_missing,
                                            userasfrom_written=userasfrom_written, foreign_protocol=foreign))
    for tenant, kept in fallback_kept.items():
        warnings.append(BridgeWarning(
            f"not added, since the un-prefixed fallback already gives the same value: {', '.join(kept)} (older "
            "LogicalDOC versions read only prefixed keys)", tenant, "note"))
    for tenant, s in settings.items():
        for attr in ("client_secret", "password"):
            source = s.secret_source(attr)
            if source.startswith("env:") and any(c.attr == attr and c.tenant == tenant for c in changes):
                warnings.append(BridgeWarning(
                    f"${source[4:]} supplies the {attr.replace('_', ' ')} written to LogicalDOC", tenant, "note"))
    warnings.extend(_override_warnings(view, written))
    warnings.extend(global_warnings(view, list(settings)))
    new_bytes = work.render()
    name = str(path) if path else (props.path or "context.properties")
    diff = ""
    if new_bytes != old_bytes:
        old_shown = _display_lines(redact_properties(props))
        new_shown = _display_lines(_mark_changed_secrets(props, work, redact_properties(work)))
        diff = unified_diff(old_shown, new_shown, name)
    return ExportPlan(path=Path(path) if path else (Path(props.path) if props.path else None),
                      old_bytes=old_bytes, new_bytes=new_bytes, diff=diff, warnings=tuple(warnings),
                      changes=tuple(changes), tenants=tuple(settings))


def _load_config(config_path: Path, *, must_exist: bool) -> tuple[str, bool, dict[str, Any]]:
    from tui.settings import store

    text = store.read_text(Path(config_path))
    exists = text is not None
    if text is None:
        if must_exist:
            raise store.SettingsFileError("does not exist", Path(config_path))
        from tui.settings.example import render_example

        text = render_example()
    return text, exists, store.parse(text, Path(config_path))


def plan_export(
    config_path: str | os.PathLike[str],
    properties_path: str | os.PathLike[str],
    tenants: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> ExportPlan:
    """Plan writing the settings file's tenants (all, or `tenants`) into context.properties.

    Raises SettingsFileError (settings file), PropertiesError (properties file) or BridgeError (unknown tenant).
    Secrets left empty in the settings file come from the environment as for `check` (`env`, default os.environ).
    """
    from tui.settings import store

    config_path = Path(config_path)
    text, _, data = _load_config(config_path, must_exist=True)
    names = store.tenant_names(data)
    if tenants:
        unknown = [t for t in tenants if t not in names]
        if unknown:
            raise BridgeError(f"{config_path}: no tenant {', '.join(unknown)} (tenants: {', '.join(names) or 'none'})")
        chosen = list(dict.fromkeys(tenants))
    else:
        chosen = list(names)
    if not chosen:
        raise BridgeError(f"{config_path}: no [tenants.<name>.smtp] table to export")
    settings = {t: store.settings_from_data(data, t, text=text, path=config_path, env=env) for t in chosen}
    return plan_export_for(settings, properties_path, smtp_tables={t: _smtp_table_data(data, t) for t in chosen})


def plan_export_for(settings: Mapping[str, Settings] | Settings, properties_path: str | os.PathLike[str], *,
                    smtp_tables: Mapping[str, Mapping[str, Any]] | None = None) -> ExportPlan:
    """Plan writing in-memory settings (one Settings, or tenant -> Settings) into the file at `properties_path`:
    what the console uses to export what is on screen. Raises PropertiesError; writes nothing.

    The keys outside the field table come from `smtp_tables` (tenant -> its parsed smtp table) or, without it, from
    each Settings' own settings file (`source_path`) as it is on disk: the form does not edit them. A settings file
    that cannot be read then only costs those keys, with a warning.
    """
    if isinstance(settings, Settings):
        settings = {settings.tenant: settings}
    view = LogicalDocView.read(properties_path)
    extra_warnings: list[BridgeWarning] = []
    if smtp_tables is None:
        smtp_tables, extra_warnings = _smtp_tables_on_disk(settings)
    plan = plan_export_settings(settings, view, path=Path(properties_path), smtp_tables=smtp_tables)
    if not extra_warnings:
        return plan
    return replace(plan, warnings=tuple(extra_warnings) + plan.warnings)


def _smtp_tables_on_disk(settings: Mapping[str, Settings]
                         ) -> tuple[dict[str, Mapping[str, Any]], list[BridgeWarning]]:
    """Each tenant's smtp table from its Settings' settings file (tenants without a file on disk get none)."""
    from tui.settings import store

    tables: dict[str, Mapping[str, Any]] = {}
    warnings: list[BridgeWarning] = []
    parsed: dict[Path, Mapping[str, Any] | None] = {}
    for tenant, s in settings.items():
        if s.source_path is None:
            continue
        source = Path(s.source_path)
        if source not in parsed:
            try:
                text = store.read_text(source)
                parsed[source] = store.parse(text, source) if text is not None else None
            except store.SettingsFileError as exc:
                parsed[source] = None
                warnings.append(BridgeWarning(
                    f"{exc}: the keys of [tenants.<tenant>.smtp] outside the form (save.folderId, ...) are not "
                    "exported"))
        data = parsed[source]
        if data is not None:
            tables[tenant] = _smtp_table_data(data, tenant)
    return tables, warnings


def _backup_names(path: Path, now: float | None = None) -> Iterable[Path]:
    """`<name>.bak-YYYYmmdd-HHMMSS`, then `-1`, `-2`, ... for the same second."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    yield path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while True:
        yield path.with_name(f"{path.name}.bak-{stamp}-{n}")
        n += 1


def write_backup(path: Path, data: bytes, like: os.stat_result) -> Path:
    """Write `data` as `<name>.bak-YYYYmmdd-HHMMSS` next to `path`, the way the file itself is written: a private
    temporary file, the original's mode and owner, fsync, then linked into place (never over another file). A backup
    is therefore never readable by anyone the original is not readable by, and never partial."""
    from tui.settings.store import atomic_write

    for candidate in _backup_names(path):
        try:
            atomic_write(candidate, data, like=like, exclusive=True, family=path)
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def apply_export(plan: ExportPlan, *, backup: bool = True) -> Path | None:
    """Write the plan's file: backup `<name>.bak-YYYYmmdd-HHMMSS` next to it (what the file held, written privately
    and atomically with the file's mode and owner), then an atomic replace that keeps the owner and mode. Returns the
    backup's path (None when nothing changed or no backup was asked). Stale temporary files of an earlier killed
    export are removed.

    Raises BridgeError when the file changed on disk since the plan was made (nothing is written).
    """
    if plan.path is None:
        raise BridgeError("the plan has no file path")
    path = plan.path
    if not plan.changed:
        return None
    target = path.resolve()  # write through a symlink, keep the link
    try:
        current = target.read_bytes()
        st = target.stat()
    except OSError as exc:
        raise BridgeError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    if current != plan.old_bytes:
        raise BridgeError(f"{path} changed on disk since the diff was made: nothing written; run export again")
    from tui.settings.store import atomic_write

    saved = write_backup(path, current, st) if backup else None
    atomic_write(target, plan.new_bytes, like=st)  # keeps the mode, and the owner when run as root
    return saved


# --------------------------------------------------------------------------------------------------------- import

def plan_import_text(
    view: LogicalDocView,
    config_text: str,
    tenants: Sequence[str] | None = None,
    *,
    config_path: Path | None = None,
    config_exists: bool = True,
) -> ImportPlan:
    """Plan reading the tenants' smtp keys (all tenants found, or `tenants`) into the settings text."""
    import tomlkit

    from tui.settings import store

    data = store.parse(config_text, config_path)
    found = discover_tenants(view.keys())
    if tenants:
        chosen = list(dict.fromkeys(tenants))
        unknown = [t for t in chosen if t not in found]
        if unknown and not _has_fallbacks(view):
            raise BridgeError(f"{view.main.path or 'properties'}: no {', '.join(f'{t}.smtp.*' for t in unknown)} keys "
                              f"(tenants found: {', '.join(found) or 'none'})")
    else:
        chosen = found or (["default"] if _has_fallbacks(view) else [])
    if not chosen:
        raise BridgeError(f"{view.main.path or 'properties'}: no Outgoing Email keys (<tenant>.smtp.* or smtp.*)")
    bom, body = store.split_bom(config_text)  # a Windows editor's byte order mark: kept
    doc = tomlkit.parse(body)
    if not config_exists:
        # A new file starts from the example (its comments document every key); its sample tenant must not
        # survive to be exported into LogicalDOC.
        for sample in [t for t in store.tenant_names(data) if t not in chosen]:
            del doc["tenants"][sample]
        data = store.parse(tomlkit.dumps(doc), config_path)
    existing = store.tenant_names(data)
    warnings: list[BridgeWarning] = []
    changes: list[Change] = []
    # New tenants go after the file's last tenant table; the comments below it introduce what follows ([console]),
    # so they move down to below the new tenants.
    last_table, last_tail = _detach_last_tenant_tail(doc) if set(chosen) - set(existing) else (None, [])
    for tenant in chosen:
        read = read_tenant(view, tenant)
        values = read.values
        extras, xw = read_extras(view, tenant)
        warnings.extend(read.warnings)
        warnings.extend(xw)
        current = store.settings_from_data(data, tenant, text=config_text, path=config_path, env={})
        table_data = _smtp_table_data(data, tenant)
        if tenant in existing:
            updates = {a: v for a, v in values.items() if getattr(current, a) != v}
        else:
            updates = dict(values)
        # what LogicalDOC has no value for leaves the settings file: outmail's default is not LogicalDOC's value
        removals = [a for a in read.unset if FIELDS_BY_ATTR[a].key in table_data]
        table, tail = _detach_tail(doc, tenant)
        if updates:
            ordered = {f.attr: updates[f.attr] for f in SMTP_FIELDS if f.attr in updates}
            store.set_values(doc, tenant, ordered)
            for attr, v in ordered.items():
                f = FIELDS_BY_ATTR[attr]
                old = _display_value(f, getattr(current, attr)) if f.key in table_data else None
                changes.append(Change(tenant, attr, f"tenants.{tenant}.smtp.{f.key}", old, _display_value(f, v),
                                      "set" if old is not None else "add"))
        for attr in removals:
            f = FIELDS_BY_ATTR[attr]
            del doc["tenants"][tenant]["smtp"][f.key]
            changes.append(Change(tenant, attr, f"tenants.{tenant}.smtp.{f.key}",
                                  _display_value(f, getattr(current, attr)),
                                  f"LogicalDOC has no usable value; outmail uses its default "
                                  f"{_display_value(f, f.default) or 'empty'}", "remove"))
        if extras:
            _ensure_smtp_table(doc, tenant)
            xc, xw = _import_extras(doc, data, tenant, extras)
            changes.extend(xc)
            warnings.extend(xw)
        _reattach_tail(table, tail)
        merged = current.with_changes(**values, **{a: FIELDS_BY_ATTR[a].default for a in read.unset
                                                   if FIELDS_BY_ATTR[a].kind != "secret"})
        warnings.extend(logicaldoc_warnings(
            tenant, merged, foreign_protocol=read.foreign_protocol,
            userasfrom_missing=not view.contains(f"{tenant}.smtp.userasfrom") and not view.contains("smtp.userasfrom")))
    if last_table is not None:
        new_last = _last_tenant_table(doc)
        _reattach_tail(new_last if new_last is not None else last_table, last_tail)
    warnings.extend(global_warnings(view, chosen))
    new_text = bom + tomlkit.dumps(doc)
    store.parse(new_text, config_path)  # never plan a file that would not load
    name = str(config_path) if config_path else "settings.toml"
    diff = unified_diff("" if not config_exists else redact_toml(config_text), redact_toml(new_text, config_text),
                        name) \
        if (new_text != config_text or not config_exists) else ""
    return ImportPlan(config_path=config_path, config_exists=config_exists, old_text=config_text, new_text=new_text,
                      diff=diff, warnings=tuple(warnings), changes=tuple(changes), tenants=tuple(chosen))


def plan_import(
    properties_path: str | os.PathLike[str],
    config_path: str | os.PathLike[str],
    tenants: Sequence[str] | None = None,
) -> ImportPlan:
    """Plan reading context.properties (and its -override file) into the settings file (created from the example
    when missing). Raises PropertiesError, SettingsFileError or BridgeError; writes nothing."""
    config_path = Path(config_path)
    view = LogicalDocView.read(properties_path)
    text, exists, _ = _load_config(config_path, must_exist=False)
    return plan_import_text(view, text, tenants, config_path=config_path, config_exists=exists)


def _holds_secret(text: str) -> bool:
    """store.holds_secret, plus any non-empty credential-looking key of a tenant's smtp table (0600 then)."""
    from tui.settings import store

    if store.holds_secret(text):
        return True
    data = store.parse(text)
    return any(is_credential_key(flat) and value not in (None, "")
               for tenant in store.tenant_names(data)
               for flat, _, value in flatten_smtp(_smtp_table_data(data, tenant)))


def apply_import(plan: ImportPlan) -> None:
    """Write the settings file atomically (0600 when it holds a secret); BridgeError if it changed on disk."""
    from tui.settings import store

    if plan.config_path is None:
        raise BridgeError("the plan has no settings file path")
    if not plan.changed:
        return
    on_disk = store.read_text(plan.config_path)
    if on_disk != (plan.old_text if plan.config_exists else None):
        raise BridgeError(f"{plan.config_path} changed on disk since the diff was made: nothing written; run import "
                          "again")
    mode = 0o600 if _holds_secret(plan.new_text) else (None if plan.config_exists else 0o644)
    store.atomic_write(plan.config_path, plan.new_text, mode=mode)


__all__ = [
    "BridgeError", "BridgeWarning", "Change", "ExportPlan", "ImportPlan", "LogicalDocView", "PropertiesError",
    "apply_export", "apply_import", "discover_tenants", "export_extras", "extra_to_property", "flatten_smtp",
    "from_property", "is_credential_key", "logicaldoc_warnings", "plan_export", "plan_export_for",
    "plan_export_settings", "plan_import", "plan_import_text", "read_extras", "read_tenant", "redact_properties",
    "redact_toml", "to_property",
]

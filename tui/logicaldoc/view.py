"""What LogicalDOC reads: context.properties with its -override file, tenants, and one tenant's values as read.

LogicalDOC's `getTenantProperty` uses the prefixed key `<tenant>.smtp.<name>` when it exists (even empty) and the
un-prefixed `smtp.<name>` only when the prefixed key is missing; `conf/context-override.properties`, when present, is
loaded after the main file and wins (`LogicalDocView`). A tenant is found by its field-table keys
(`discover_tenants`); its keys outside the table come along with it (`read_extras`). `smtp.nosend` is global, not a
tenant key: never imported (a note says so), and a warning when LogicalDOC's kill switch is on (`global_warnings`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.logicaldoc.mapping import (
    SMTP_FIELDS,
    SMTP_FIELDS_BY_KEY,
    TENANT_KEY,
    absent_value,
    foreign_protocol,
    from_property,
    property_key,
)
from tui.logicaldoc.plans import BridgeWarning
from tui.logicaldoc.properties import PropertiesFile
from tui.logicaldoc.redaction import display_value
from tui.settings.fields import PROTOCOLS, Field, is_secret_key

NOSEND_KEY = "smtp.nosend"
OVERRIDE_SUFFIX = "-override"


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
        m = TENANT_KEY.match(key)
        if m and m.group("key") in SMTP_FIELDS_BY_KEY and m.group("tenant") != "smtp":
            found[m.group("tenant")] = None
    return list(found)


def has_fallbacks(view: LogicalDocView) -> bool:
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
                missing.append(f"{property_key(tenant, f)} (LogicalDOC uses {display_value(f, value) or 'empty'})")
            elif f.attr != "userasfrom":  # its own warning (lints.missing_userasfrom)
                read.unset.append(f.attr)
                missing.append(f"{property_key(tenant, f)} (LogicalDOC has no value; outmail uses its default "
                               f"{display_value(f, f.default)}, and export leaves the key missing unless you set it)")
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
                f"{key} ({f.label}) {problem}: not imported (outmail uses its default {display_value(f, f.default)}, "
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
    secret = f.kind == "secret" if f is not None else is_secret_key(key)
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

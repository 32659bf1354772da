"""Export: outmail's settings into LogicalDOC's context.properties (`plan_export*`, then `apply_export`).

Only what the admin set or changed is written: a field the tenant's table does not set keeps LogicalDOC's value (or
lack of one), a key LogicalDOC lacks is added only when its value differs from what LogicalDOC uses without it, a
value equal to what the -override file gives is no change, and a protocol outmail does not handle is never
overwritten. Values are compared as text: only one that differs changes, a missing one is added after the tenant's
last smtp key. Keys outside the field table go as strings, integers as digits, booleans as true/false; any other
TOML type (float, date, array) is not exported, with a warning, and neither is a name written twice (dotted and
quoted) with different values. The console's export (`plan_export_for`) reads those keys from the settings file on
disk, since the form does not edit them. Import then export, with no edit, gives back the same bytes
(tests/logicaldoc/test_bridge_generated.py).

Writes (`apply_export`): the backup `<name>.bak-YYYYmmdd-HHMMSS` and the file itself through `tui.files` (atomic,
private temporary file, the original's mode and owner kept).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.files import atomic_write, write_backup
from tui.logicaldoc.lints import logicaldoc_warnings
from tui.logicaldoc.mapping import (
    SMTP_FIELDS,
    SMTP_FIELDS_BY_KEY,
    TENANT_KEY,
    absent_value,
    extra_to_property,
    foreign_protocol,
    from_property,
    property_key,
    to_property,
)
from tui.logicaldoc.plans import BridgeError, BridgeWarning, Change, ExportPlan, read_config
from tui.logicaldoc.properties import PropertiesFile
from tui.logicaldoc.redaction import (
    REDACTED,
    display_lines,
    display_value,
    mark_changed_secrets,
    redact_properties,
    shown_value,
    unified_diff,
)
from tui.logicaldoc.toml_paths import flatten_smtp, smtp_table_data, toml_key, type_word
from tui.logicaldoc.view import NOSEND_KEY, LogicalDocView, global_warnings
from tui.settings.fields import PROTOCOL_M365, SECRET_ATTRS, Field, is_secret_key
from tui.settings.model import Settings


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
                f"{where} {toml_key(places[0][0])} is not exported: {NOSEND_KEY} is LogicalDOC's kill switch, not a "
                "tenant setting; set it in context.properties itself", tenant, key=key))
            continue
        bad = [(path, value) for path, value in places if extra_to_property(value) is None]
        if bad:
            path, value = bad[0]
            warnings.append(BridgeWarning(
                f"{where} {toml_key(path)} is {type_word(value)}: not exported (a property holds text; write a "
                "string, a whole number or true/false)", tenant, key=key))
            continue
        rendered = {extra_to_property(value) for _, value in places}
        if len(rendered) > 1:
            warnings.append(BridgeWarning(
                f"{where} writes {name} {len(places)} times ({', '.join(toml_key(p) for p, _ in places)}) with "
                "different values: not exported; keep one", tenant, key=key))
            continue
        out.append((name, rendered.pop()))
    return out, warnings


def _override_warnings(view: LogicalDocView, keys: Iterable[str]) -> list[BridgeWarning]:
    if view.override is None:
        return []
    hit = [k for k in keys if k in view.override]
    if not hit:
        return []
    name = Path(view.override.path or "context-override.properties").name
    return [BridgeWarning(f"{name} sets {', '.join(hit)}: LogicalDOC uses those values, not the ones exported here")]


def _logicaldoc_reads(f: Field, raw: str | None, source_key: str | None) -> str:
    """What LogicalDOC works with for a field, for display: "no value", "empty", "relay.example, from smtp.host";
    a secret as ***."""
    if source_key is None:
        known, absent = absent_value(f)
        return (display_value(f, absent) or "empty") if known else "no value"
    value, problem = from_property(f, raw or "")
    if f.kind == "secret":
        shown = REDACTED if raw else "empty"
    else:
        shown = (display_value(f, value) if problem is None else repr(raw)) or "empty"
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
                                       f"proves {display_value(f, new_value) or 'empty'})")
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
                        changes.append(Change(tenant, f.attr, key, None, display_value(f, new_value), "add"))
                elif not _equal(f, existing, new_value) and not _equal(f, current, new_value):
                    # (equal to what LogicalDOC uses, from the -override file: unchanged, nothing to write)
                    work.set(key, new_raw)
                    old_shown = (REDACTED if existing else "") if f.kind == "secret" else existing
                    changes.append(Change(tenant, f.attr, key, old_shown, display_value(f, new_value)))
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
            changes.append(Change(tenant, f.attr, key, None, display_value(f, new_value), "add"))
            written.append(key)
        for name, new_raw in extras:
            key = f"{tenant}.smtp.{name}"
            current, source_key = view.resolve(tenant, name)
            if is_secret_key(name) and not new_raw and current:
                warnings.append(BridgeWarning(
                    f"outmail has an empty {name} for this tenant: kept LogicalDOC's existing {source_key} (not shown)",
                    tenant, "note", key))
                continue
            if source_key == key:
                if key not in work:  # only in the override file: a changed value goes into the main file too
                    if current != new_raw:
                        to_add.append((key, new_raw))
                        changes.append(Change(tenant, f"smtp.{name}", key, None, shown_value(name, new_raw), "add"))
                elif work.get(key) != new_raw and current != new_raw:
                    old_raw = work.get(key) or ""
                    work.set(key, new_raw)
                    changes.append(Change(tenant, f"smtp.{name}", key, shown_value(name, old_raw), shown_value(name, new_raw)))
                written.append(key)
                continue
            if source_key is not None and current == new_raw:
                fallback_kept.setdefault(tenant, []).append(f"{key} (= {source_key})")
                continue
            to_add.append((key, new_raw))
            changes.append(Change(tenant, f"smtp.{name}", key, None, shown_value(name, new_raw), "add"))
            written.append(key)
        if to_add:
            anchors = [e for e in work.entries
                       if (m := TENANT_KEY.match(e.key)) and m.group("tenant") == tenant]
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
        for attr in SECRET_ATTRS:
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
        old_shown = display_lines(redact_properties(props))
        new_shown = display_lines(mark_changed_secrets(props, work, redact_properties(work)))
        diff = unified_diff(old_shown, new_shown, name)
    return ExportPlan(path=Path(path) if path else (Path(props.path) if props.path else None),
                      old_bytes=old_bytes, new_bytes=new_bytes, diff=diff, warnings=tuple(warnings),
                      changes=tuple(changes), tenants=tuple(settings))


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
    text, _, data = read_config(config_path, must_exist=True)
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
    return plan_export_for(settings, properties_path, smtp_tables={t: smtp_table_data(data, t) for t in chosen})


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
            tables[tenant] = smtp_table_data(data, tenant)
    return tables, warnings


def apply_export(plan: ExportPlan, *, backup: bool = True) -> Path | None:
    """Write the plan's file: backup `<name>.bak-YYYYmmdd-HHMMSS` next to it (`-2`, `-3`, ... within one second;
    what the file held, written privately and atomically with the file's mode and owner: tui.files.write_backup),
    then an atomic replace that keeps the owner and mode (through a symlink: the link stays). Returns the backup's
    path (None when nothing changed or no backup was asked). Stale temporary files of an earlier killed export are
    removed.

    Raises BridgeError when the file cannot be read or changed on disk since the plan was made (nothing is written),
    OSError when a write fails (the file is then as it was).
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
    saved = write_backup(path, current, st) if backup else None
    atomic_write(target, plan.new_bytes, like=st)  # keeps the mode, and the owner when run as root
    return saved

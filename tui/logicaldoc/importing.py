"""Import: LogicalDOC's context.properties (and its -override file) into outmail's settings file.

Import records what LogicalDOC works with: a missing key that has a LogicalDOC default gets that default; where
LogicalDOC has no single value (a missing port or userasfrom, a value outmail cannot read, a protocol it does not
handle such as `smtpgoogle`) the key leaves the settings file, outmail proves its own default and says so. Only
changed values are written (tomlkit: comments and layout stay); a new file starts from the example without its
sample tenant. The plan never holds a file that would not load. `apply_import` writes through `tui.files`: 0600 when
the file holds a secret (`tui.settings.store.holds_secret`), else the mode kept (0644 for a new file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tui.files import atomic_write
from tui.logicaldoc.lints import logicaldoc_warnings
from tui.logicaldoc.mapping import SMTP_FIELDS, SMTP_FIELDS_BY_KEY, extra_to_property, extra_typed
from tui.logicaldoc.plans import BridgeError, BridgeWarning, Change, ImportPlan, read_config
from tui.logicaldoc.redaction import display_value, redact_toml, shown_value, unified_diff
from tui.logicaldoc.toml_paths import (
    detach_last_tenant_tail,
    detach_tail,
    ensure_smtp_table,
    flatten_smtp,
    last_tenant_table,
    new_extra_path,
    reattach_tail,
    set_path,
    smtp_table_data,
    toml_key,
    type_word,
)
from tui.logicaldoc.view import LogicalDocView, discover_tenants, global_warnings, has_fallbacks, read_extras, read_tenant
from tui.settings.fields import FIELDS_BY_ATTR


def _import_extras(doc: Any, data: Mapping[str, Any], tenant: str, extras: list[tuple[str, str, str]]
                   ) -> tuple[list[Change], list[BridgeWarning]]:
    """Write the tenant's keys outside the field table into the tomlkit document (its smtp table exists)."""
    table_data = smtp_table_data(data, tenant)
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
                f"({', '.join(toml_key(p) for p, _ in places)}): import sets them all to {key}'s value", tenant,
                key=key))
        for path, value in places:
            if extra_to_property(value) == raw:
                continue
            set_path(smtp, path, extra_typed(value, raw))
            old = extra_to_property(value)
            changes.append(Change(tenant, f"smtp.{name}", f"tenants.{tenant}.smtp.{toml_key(path)}",
                                  shown_value(name, old) if old is not None else f"({type_word(value)})",
                                  shown_value(name, raw)))
        if places:
            continue
        path = new_extra_path(name, table_data, reserved - {name})
        if path is None:
            warnings.append(BridgeWarning(
                f"{key} is not imported: [tenants.{tenant}.smtp] already has a table {toml_key([name])}, and a TOML "
                "key cannot be a value and a table at once", tenant, key=key))
            continue
        set_path(smtp, path, raw)
        changes.append(Change(tenant, f"smtp.{name}", f"tenants.{tenant}.smtp.{toml_key(path)}", None,
                              shown_value(name, raw), "add"))
    return changes, warnings


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
        if unknown and not has_fallbacks(view):
            raise BridgeError(f"{view.main.path or 'properties'}: no {', '.join(f'{t}.smtp.*' for t in unknown)} keys "
                              f"(tenants found: {', '.join(found) or 'none'})")
    else:
        chosen = found or (["default"] if has_fallbacks(view) else [])
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
    lint_at: list[tuple[int, str, str | None, bool]] = []
    # New tenants go after the file's last tenant table; the comments below it introduce what follows ([console]),
    # so they move down to below the new tenants.
    last_table, last_tail = detach_last_tenant_tail(doc) if set(chosen) - set(existing) else (None, [])
    for tenant in chosen:
        read = read_tenant(view, tenant)
        values = read.values
        extras, xw = read_extras(view, tenant)
        warnings.extend(read.warnings)
        warnings.extend(xw)
        current = store.settings_from_data(data, tenant, text=config_text, path=config_path, env={})
        table_data = smtp_table_data(data, tenant)
        if tenant in existing:
            updates = {a: v for a, v in values.items() if getattr(current, a) != v}
        else:
            updates = dict(values)
        # what LogicalDOC has no value for leaves the settings file: outmail's default is not LogicalDOC's value
        removals = [a for a in read.unset if FIELDS_BY_ATTR[a].key in table_data]
        table, tail = detach_tail(doc, tenant)
        if updates:
            ordered = {f.attr: updates[f.attr] for f in SMTP_FIELDS if f.attr in updates}
            store.set_values(doc, tenant, ordered)
            for attr, v in ordered.items():
                f = FIELDS_BY_ATTR[attr]
                old = display_value(f, getattr(current, attr)) if f.key in table_data else None
                changes.append(Change(tenant, attr, f"tenants.{tenant}.smtp.{f.key}", old, display_value(f, v),
                                      "set" if old is not None else "add"))
        for attr in removals:
            f = FIELDS_BY_ATTR[attr]
            del doc["tenants"][tenant]["smtp"][f.key]
            changes.append(Change(tenant, attr, f"tenants.{tenant}.smtp.{f.key}",
                                  display_value(f, getattr(current, attr)),
                                  f"LogicalDOC has no usable value; outmail uses its default "
                                  f"{display_value(f, f.default) or 'empty'}", "remove"))
        if extras:
            ensure_smtp_table(doc, tenant)
            xc, xw = _import_extras(doc, data, tenant, extras)
            changes.extend(xc)
            warnings.extend(xw)
        reattach_tail(table, tail)
        # the tenant's lints go here, once the new file's values are known
        lint_at.append((len(warnings), tenant, read.foreign_protocol,
                        not view.contains(f"{tenant}.smtp.userasfrom") and not view.contains("smtp.userasfrom")))
    if last_table is not None:
        new_last = last_tenant_table(doc)
        reattach_tail(new_last if new_last is not None else last_table, last_tail)
    new_text = bom + tomlkit.dumps(doc)
    new_data = store.parse(new_text, config_path)  # never plan a file that would not load
    # what `check` will say about each imported tenant: its settings as they load from the new file (its secrets
    # only, not the environment's)
    for at, tenant, foreign, userasfrom_missing in reversed(lint_at):
        imported = store.settings_from_data(new_data, tenant, text=new_text, path=config_path, env={})
        warnings[at:at] = logicaldoc_warnings(tenant, imported, foreign_protocol=foreign,
                                              userasfrom_missing=userasfrom_missing)
    warnings.extend(global_warnings(view, chosen))
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
    text, exists, _ = read_config(config_path, must_exist=False)
    return plan_import_text(view, text, tenants, config_path=config_path, config_exists=exists)


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
    # 0600 when it holds a secret (a field secret or a credential-looking key), else the mode kept, a new file 0644
    atomic_write(plan.config_path, plan.new_text, private=store.holds_secret(plan.new_text))

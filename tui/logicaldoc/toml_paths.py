"""TOML key paths of the keys outside the field table, and where import writes them in a tomlkit document.

In `[tenants.<tenant>.smtp]` a LogicalDOC name after `smtp.` is a TOML key path: `save.folderId` is read from the
dotted key `save.folderId = "4"` (a nested table, also written as `[tenants.<tenant>.smtp.save]` or an inline table)
and from the quoted key `"save.folderId" = "4"` alike (`flatten_smtp`). Import updates a key where the file already
has it, in whichever form; a new one is written dotted, or quoted when the dotted form cannot hold it (a part of it is
already a value: `save = "x"` next to `save.folderId`, a field such as `host`, an empty part: `new_extra_path`).
Keys are added after the table's last key, above the comments that end it (they introduce what follows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tui.settings.toml_text import toml_string

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(path: Sequence[str]) -> str:
    """A TOML key path as written in the file: `save.folderId`, `"save.folderId"`, `a."b c"`."""
    return ".".join(part if BARE_KEY.match(part) else toml_string(part) for part in path)


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


def type_word(value: object) -> str:
    if isinstance(value, float):
        return "a float"
    if isinstance(value, list):
        return "an array"
    if hasattr(value, "isoformat"):
        return "a date or time"
    return f"a {type(value).__name__}"


def new_extra_path(name: str, table: Mapping[str, Any], reserved: set[str]) -> tuple[str, ...] | None:
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


def set_path(table: Any, path: tuple[str, ...], value: object) -> None:
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


def detach_tail(doc: Any, tenant: str) -> tuple[Any, list[Any]]:
    """Take the comments and blank lines after the last key of [tenants.<tenant>.smtp] off it, to put back after the
    keys import adds (`reattach_tail`): in a file such comments introduce the next table, and a new key must not
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


def last_tenant_table(doc: Any) -> Any:
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


def detach_last_tenant_tail(doc: Any) -> tuple[Any, list[Any]]:
    """The comments and blank lines after the last tenant table's last key, taken off it (see detach_tail)."""
    from tui.settings.store import pop_tail

    table = last_tenant_table(doc)
    if table is None:
        return None, []
    return table, pop_tail(table)


def reattach_tail(table: Any, tail: list[Any]) -> None:
    for item in tail:
        table.value.append(None, item)


def smtp_table_data(data: Mapping[str, Any], tenant: str) -> Mapping[str, Any]:
    tenants = data.get("tenants")
    table = tenants.get(tenant) if isinstance(tenants, Mapping) else None
    smtp = table.get("smtp") if isinstance(table, Mapping) else None
    return smtp if isinstance(smtp, Mapping) else {}


def ensure_smtp_table(doc: Any, tenant: str) -> None:
    """Create [tenants.<tenant>.smtp] as store.set_values does, when the document lacks it."""
    from tui.settings import store

    store.tenant_section(doc, tenant, "smtp")

"""Load and save the settings file: tomllib to read, tomlkit to write back only the values that changed.

Nothing is ever lost: a malformed file is reported with its line and column and never overwritten, saves are
atomic (`tui.files.atomic_write`: a private temporary file in the same folder, fsync, os.replace), a file holding a
secret (`holds_secret`: the field table's secrets, or a credential-looking key) is written with mode 0600, and a file
that changed on disk since it was loaded is not overwritten without being asked (SettingsConflictError).
A UTF-8 byte order mark (Windows editors write one) is accepted and kept. A changed value keeps its trailing comment
in its column; a new key goes after its table's last key, above the comments that introduce the next table.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.files import atomic_write
from tui.secret import Secret
from tui.settings.example import render_example
from tui.settings.fields import (
    FIELDS,
    FIELDS_BY_ATTR,
    PROTOCOLS,
    SECRET_FIELDS,
    Field,
    is_secret_key,
)
from tui.settings.model import Settings

DEFAULT_TENANT = "default"
BOM = "\ufeff"  # a UTF-8 byte order mark (Windows editors write one): accepted, and kept by a save
_SECRET_ENV = {f.attr: f.env for f in SECRET_FIELDS if f.env}  # client_secret, password: from the field table


class SettingsFileError(Exception):
    """The settings file cannot be used; `str()` is the admin-readable message with file, line and column."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None, column: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path) if self.path else "settings"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class SettingsConflictError(Exception):
    """The file changed on disk since it was loaded: reload, overwrite or cancel."""


@dataclass(frozen=True)
class SettingsFile:
    """A settings file as loaded: its path, the exact text it had (the save baseline) and its tenants."""

    path: Path
    text: str  # the baseline: the file's text when loaded, or the example for a file that does not exist yet
    exists: bool
    tenants: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------- reading

def secret_env_names(attr: str, tenant: str) -> tuple[str, str]:
    """The per-tenant and the plain environment variable for a secret, in the order they are tried."""
    plain = _SECRET_ENV[attr]
    tenant_part = re.sub(r"[^A-Za-z0-9]", "_", tenant).upper()
    return plain.replace("OUTMAIL_", f"OUTMAIL_{tenant_part}_", 1), plain


def read_text(path: Path) -> str | None:
    """The file's text exactly as stored (line endings kept), or None when it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SettingsFileError("is a directory, not a settings file", path) from None
    except PermissionError:
        raise SettingsFileError("cannot be read (permission denied)", path) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SettingsFileError("is UTF-16 text (a Windows editor's \"Unicode\"): save it as UTF-8", path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SettingsFileError("is not UTF-8 text", path, line) from None


def split_bom(text: str) -> tuple[str, str]:
    """(the byte order mark or "", the TOML text after it): TOML parsers refuse a BOM, a save puts it back."""
    return (BOM, text[1:]) if text.startswith(BOM) else ("", text)


def parse(text: str, path: Path | None = None) -> dict[str, Any]:
    """The file's data (tomllib), or SettingsFileError with line and column."""
    try:
        return tomllib.loads(split_bom(text)[1])
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        if m is None:
            m2 = re.search(r"\(at end of document\)", msg)
            if m2:
                line = text.count("\n") + 1
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", msg)
        raise SettingsFileError(f"not valid TOML: {reason}", path, line, col) from None


def tenant_names(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The tenants in the file, in file order."""
    tenants = data.get("tenants", {})
    if not isinstance(tenants, Mapping):
        return ()
    return tuple(name for name, table in tenants.items() if isinstance(table, Mapping))


def pick_tenant(names: tuple[str, ...], tenant: str | None, path: Path | None = None) -> str:
    """The tenant to use: the one asked for, else 'default', else the only one."""
    if tenant is not None:
        if names and tenant not in names:
            raise SettingsFileError(f"has no tenant '{tenant}' (tenants: {', '.join(names)})", path)
        return tenant
    if not names or DEFAULT_TENANT in names:
        return DEFAULT_TENANT
    if len(names) == 1:
        return names[0]
    raise SettingsFileError(f"holds several tenants ({', '.join(names)}): choose one with --tenant", path)


def _locate(text: str, tenant: str, section: str, key: str) -> int | None:
    """Best-effort line number of `key` inside its table, for error messages."""
    header = "[console]" if section == "console" else f"[tenants.{tenant}.{section}]"
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.split("#", 1)[0].strip().replace(" ", "") == header.replace(" ", "")
            continue
        if in_table and re.match(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return None


def _type_ok(field: Field, value: object) -> bool:
    if field.kind == "bool":
        return isinstance(value, bool)
    if field.kind == "int" or (field.kind == "choice" and isinstance(field.default, int)):
        return isinstance(value, int) and not isinstance(value, bool)
    if field.kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


_TYPE_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number"}


def settings_from_data(
    data: Mapping[str, Any],
    tenant: str,
    *,
    text: str = "",
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build one tenant's Settings from parsed data, checking every known key's type."""
    env = os.environ if env is None else env
    tenant_table = data.get("tenants", {}).get(tenant, {}) if isinstance(data.get("tenants", {}), Mapping) else {}
    tables: dict[str, Mapping[str, Any]] = {
        "smtp": tenant_table.get("smtp", {}) if isinstance(tenant_table, Mapping) else {},
        "microsoft365": tenant_table.get("microsoft365", {}) if isinstance(tenant_table, Mapping) else {},
        "console": data.get("console", {}),
    }
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            raise SettingsFileError(f"'{name}' must be a table", path)
    values: dict[str, Any] = {}
    sources: list[tuple[str, str]] = []
    unset: list[str] = []
    for field in FIELDS:
        table = tables[field.section]
        if field.key not in table:
            value: Any = field.default
            if field.section == "smtp":
                unset.append(field.attr)
        else:
            value = table[field.key]
            if not _type_ok(field, value):
                expected = _TYPE_WORDS.get(field.kind, "a number" if isinstance(field.default, int) else "a string")
                line = _locate(text, tenant, field.section, field.key)
                raise SettingsFileError(
                    f"{field.key} ({field.label}) must be {expected}, not {value!r}"
                    if field.kind != "secret" else f"{field.key} ({field.label}) must be a string",
                    path, line)
        if field.attr == "protocol" and value not in PROTOCOLS:
            line = _locate(text, tenant, field.section, field.key)
            raise SettingsFileError(
                f"unknown protocol '{value}'; use one of: {', '.join(PROTOCOLS)}", path, line)
        if field.kind == "secret":
            source = "file" if value else ""
            if not value:
                for name in secret_env_names(field.attr, tenant):
                    if env.get(name):
                        value, source = env[name], f"env:{name}"
                        break
            sources.append((field.attr, source))
            value = Secret(value)
        if field.kind == "float":
            value = float(value)
        values[field.attr] = value
    return Settings(**values, tenant=tenant, secret_sources=tuple(sources), source_path=path,
                    unset_keys=tuple(unset))


def load_settings(path: Path, tenant: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """One tenant's settings from an existing file (the headless commands); SettingsFileError when unusable."""
    path = Path(path)
    text = read_text(path)
    if text is None:
        raise SettingsFileError(
            "does not exist; create it with `outmail` (the console starts from the example) or copy "
            "settings.example.toml", path)
    data = parse(text, path)
    return settings_from_data(data, pick_tenant(tenant_names(data), tenant, path), text=text, path=path, env=env)


def open_settings_file(
    path: Path, tenant: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[SettingsFile, Settings]:
    """The console's view: a file that does not exist yet starts from the example and is created on the first save."""
    path = Path(path)
    text = read_text(path)
    exists = text is not None
    if text is None:
        text = render_example()
    data = parse(text, path)
    names = tenant_names(data)
    chosen = pick_tenant(names, tenant, path)
    settings = settings_from_data(data, chosen, text=text, path=path, env=env)
    return SettingsFile(path=path, text=text, exists=exists, tenants=names or (DEFAULT_TENANT,)), settings


# ---------------------------------------------------------------------------------------------------------- writing

def _plain(value: object) -> object:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def changed_attrs(old: Settings, new: Settings) -> list[str]:
    """The field attributes whose values differ."""
    return [f.attr for f in FIELDS if getattr(old, f.attr) != getattr(new, f.attr)]


def set_values(doc: Any, tenant: str, values: Mapping[str, object]) -> None:
    """Assign values (by attribute name) into a tomlkit document, creating missing tables; comments stay."""
    import tomlkit

    for attr, value in values.items():
        field = FIELDS_BY_ATTR[attr]
        if field.section == "console":
            table = doc.get("console")
            if table is None:
                table = tomlkit.table()
                doc.add(tomlkit.nl())
                doc.add("console", table)
        else:
            table = tenant_section(doc, tenant, field.section)
        set_key(table, field.key, _plain(value))


def set_key(table: Any, key: str, value: object) -> None:
    """Set one key of a tomlkit table the way an admin would edit it by hand.

    An existing key keeps its trailing comment in its column (the example file aligns them at one column): the spaces
    before the comment change with the value's length, never to fewer than one. A new key goes after the table's last
    key, above the comments and blank lines that end the table: in a file those introduce the next table, and a key
    below them would sit under the next table's comment.
    """
    body = getattr(getattr(table, "value", None), "body", None)
    if key not in table or body is None:
        tail = pop_tail(table) if key not in table else []
        table[key] = value
        for item in tail:
            table.value.append(None, item)
        return
    column = _comment_column(body, key)
    table[key] = value
    if column is None:
        return
    for k, item in body:
        if k is not None and k.key == key and item.trivia.comment and "\n" not in item.as_string():
            item.trivia.comment_ws = " " * max(column - _assignment_width(k, item), 1)


def _assignment_width(k: Any, item: Any) -> int:
    """Characters before the spaces that precede a key's trailing comment: indent, key, separator, value."""
    return len(item.trivia.indent) + len(k.as_string()) + len(getattr(k, "sep", "")) + len(item.as_string())


def _comment_column(body: list[tuple[Any, Any]], key: str) -> int | None:
    """The column where `key`'s trailing comment should stay: its own, unless only one space separates it (a value
    that overflowed the column, or no alignment at all); then the column that several of the table's aligned comments
    share, if any. None: leave the spaces as they are (no comment, tabs)."""
    columns: list[int] = []
    own: int | None = None
    own_ws = ""
    for k, item in body:
        if k is None:
            continue
        trivia = getattr(item, "trivia", None)
        if trivia is None or not trivia.comment or not trivia.comment_ws \
                or set(trivia.comment_ws) != {" "} or "\n" in item.as_string():
            if k.key == key:
                return None
            continue
        column = _assignment_width(k, item) + len(trivia.comment_ws)
        if k.key == key:
            own, own_ws = column, trivia.comment_ws
        elif len(trivia.comment_ws) > 1:
            columns.append(column)
    if own is None:
        return None
    if len(own_ws) > 1:
        return own
    common = max(set(columns), key=columns.count) if columns else None
    return common if common is not None and columns.count(common) > 1 else None


def pop_tail(table: Any) -> list[Any]:
    """Take the comments and blank lines after a table's last key (or sub-table) off its body, in order (put them
    back with `table.value.append(None, item)` after adding keys)."""
    body = getattr(getattr(table, "value", None), "body", None)
    if body is None:
        return []
    tail: list[Any] = []
    while body and body[-1][0] is None:
        tail.insert(0, body.pop()[1])
    return tail


def tenant_section(doc: Any, tenant: str, section: str) -> Any:
    """[tenants.<tenant>.<section>] of a tomlkit document, created when missing (a new smtp table gets a comment
    naming its LogicalDOC keys)."""
    import tomlkit

    tenants = doc.get("tenants")
    if tenants is None:
        tenants = tomlkit.table(is_super_table=True)
        doc.add(tomlkit.nl())
        doc.add("tenants", tenants)
    tenant_table = tenants.get(tenant)
    if tenant_table is None:
        tenant_table = tomlkit.table(is_super_table=True)
        tenants.add(tenant, tenant_table)
    table = tenant_table.get(section)
    if table is None:
        table = tomlkit.table()
        if section == "smtp":
            table.comment(f"tenant {tenant}: LogicalDOC keys {tenant}.smtp.*")
        tenant_table.add(section, table)
    return table


def read_document(path: Path) -> Any:
    """A tomlkit document of the file (for editors that write back), or SettingsFileError."""
    import tomlkit

    text = read_text(Path(path))
    if text is None:
        raise SettingsFileError("does not exist", Path(path))
    parse(text, Path(path))  # the same error messages as loading
    return tomlkit.parse(split_bom(text)[1])


def render_changes(baseline: str, tenant: str, old: Settings, new: Settings) -> str:
    """The baseline text with only the changed values replaced; unchanged settings give the same text."""
    changes = {attr: getattr(new, attr) for attr in changed_attrs(old, new)}
    if not changes:
        return baseline
    import tomlkit

    bom, body = split_bom(baseline)
    doc = tomlkit.parse(body)
    set_values(doc, tenant, changes)
    return bom + tomlkit.dumps(doc)


def holds_secret(text: str) -> bool:
    """True when a tenant's smtp table in the text holds a non-empty secret: a secret field of the field table
    (clientSecret, password) or any other credential-looking key, nested ones included (`fields.is_secret_key`).
    Text that is not TOML counts as holding one (it is written 0600 rather than risk showing one)."""
    try:
        data = tomllib.loads(split_bom(text)[1])
    except tomllib.TOMLDecodeError:
        return True

    def secret_in(table: Mapping[str, Any], path: str) -> bool:
        for key, value in table.items():
            name = f"{path}{key}"
            if isinstance(value, Mapping):
                if secret_in(value, f"{name}."):
                    return True
            elif is_secret_key(name) and value not in (None, ""):
                return True
        return False

    for name in tenant_names(data):
        smtp = data["tenants"][name].get("smtp", {})
        if isinstance(smtp, Mapping) and secret_in(smtp, ""):
            return True
    return False


def save_settings(
    file: SettingsFile, old: Settings, new: Settings, *, overwrite: bool = False
) -> tuple[SettingsFile, Settings]:
    """Write only the values that changed from `old` to `new` into the file; return the new baseline and settings.

    Raises SettingsConflictError when the file on disk is no longer the text it was loaded from (unless
    `overwrite`), and never writes a file whose current text is not valid TOML unless `overwrite` is given.
    """
    on_disk = read_text(file.path)
    if not overwrite and on_disk != (file.text if file.exists else None):
        raise SettingsConflictError(f"{file.path} changed on disk since it was loaded")
    text = render_changes(file.text, new.tenant, old, new)
    if file.exists and text == on_disk:
        return file, new
    atomic_write(file.path, text, private=holds_secret(text))  # else a new file is 0644, an existing one keeps its mode
    data = parse(text, file.path)
    saved = SettingsFile(path=file.path, text=text, exists=True, tenants=tenant_names(data) or (new.tenant,))
    return saved, settings_from_data(data, new.tenant, text=text, path=file.path)

"""What may be shown of LogicalDOC's and outmail's files: secrets as `***`, diffs for display.

A value is secret when the field table marks its field a secret (clientSecret, password) or when its key looks like a
credential (`tui.settings.fields.is_secret_key`: *password*, *secret*, *token*, *apikey*; `jdbc.password` in diff
context too). Diffs, change lists, previews and warnings show `***` (or `*** (changed)`), never a value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from tui.logicaldoc.mapping import to_property
from tui.logicaldoc.properties import Entry, PropertiesFile
from tui.logicaldoc.toml_paths import flatten_smtp, smtp_table_data
from tui.settings.fields import CREDENTIAL_WORDS, Field, is_secret_key

REDACTED = "***"
# a secret line of a file that is not TOML (blanked out whole rather than risk showing one)
_TOML_SECRET_LINE = re.compile(r"^(\s*[^=#\[]*?(?:" + "|".join(re.escape(w) for w in CREDENTIAL_WORDS)
                               + r")[^=#\[]*=).*$", re.I)


def display_value(f: Field, value: object) -> str:
    if f.kind == "secret":
        return REDACTED if to_property(f, value) else ""
    return to_property(f, value)


def shown_value(name: str, value: str) -> str:
    return (REDACTED if value else "") if is_secret_key(name) else value


def display_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def display_lines(text: str) -> str:
    """Latin-1 text whose bytes are UTF-8 shown as UTF-8 (what an admin's editor shows)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return text


def redact_properties(p: PropertiesFile) -> str:
    """The file's text with every non-empty secret value (password, clientSecret of any tenant, other credentials)
    replaced by ***."""
    text = p.text
    for e in sorted(secret_entries(p), key=lambda e: e.value_start, reverse=True):
        sep = "" if e.has_separator_room else "="
        text = text[:e.value_start] + sep + REDACTED + text[e.value_end:]
    return text


def secret_entries(p: PropertiesFile) -> list[Entry]:
    """Entries whose values must never be shown: the Outgoing Email secrets of any tenant, and any other
    credential-looking key (jdbc.password, ...) that may appear as diff context."""
    return [e for e in p.entries if e.value and is_secret_key(e.key)]


def split_lines(text: str) -> list[str]:
    """Natural lines with their terminators, split only at CR, LF and CRLF (as Java does; not at \f or \x85)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def mark_changed_secrets(old: PropertiesFile, new: PropertiesFile, new_text: str) -> str:
    """Where a secret changed from one non-empty value to another, show `*** (changed)` so the diff shows it."""
    changed = {e.key for e in secret_entries(new) if old.get(e.key) not in (None, "", e.value)}
    if not changed:
        return new_text
    lines = split_lines(new_text)
    redacted = PropertiesFile(new_text)
    for e in sorted((e for e in redacted.entries if e.key in changed), key=lambda e: e.line, reverse=True):
        idx = e.last_line - 1
        body = lines[idx].rstrip("\r\n")
        lines[idx] = body + " (changed)" + lines[idx][len(body):]
    return "".join(lines)


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
        old_smtp = smtp_table_data({"tenants": old_tenants}, name) if isinstance(old_tenants, Mapping) else {}
        old_values = {flat: value for flat, _, value in flatten_smtp(old_smtp)}
        for flat, path, value in flatten_smtp(smtp):
            if not is_secret_key(flat) or value is None or value == "":
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
    lines = difflib.unified_diff([line.rstrip("\r\n") for line in split_lines(old)],
                                 [line.rstrip("\r\n") for line in split_lines(new)], fromfile=f"{name} (now)",
                                 tofile=f"{name} (after)", lineterm="", n=2)
    return "\n".join(lines) + "\n"

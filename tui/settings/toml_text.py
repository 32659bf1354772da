"""TOML text written by hand: a basic string and a literal for a plain value (TOML 1.0, https://toml.io/en/v1.0.0).

The one writer for the settings example (`settings/example.py`), the sandbox's settings file (`sandbox/__init__.py`)
and the key paths the LogicalDOC bridge shows (`logicaldoc/toml_paths.py`); edits of an existing file go through
tomlkit instead, which keeps the file's own formatting.
"""

from __future__ import annotations


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: `"` and `\\` escaped, control characters (U+0000-U+001F, U+007F) as `\\uXXXX`,
    everything else (non-ASCII included) as is."""
    escaped = []
    for ch in text:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04X}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def toml_literal(value: object) -> str:
    """A TOML value for a bool (`true`/`false`), an int, a float (a whole one written as an int, as the example
    file's ports and timeouts are) or anything else as a string (`toml_string(str(value))`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return toml_string(str(value))

"""PowerShell literals for the guide's scripts: values from the settings become string literals, never code.

    single_quoted("o'brien@contoso.com")   -> 'o''brien@contoso.com'     (nothing inside is expanded)
    double_quoted_body('a$b"c')            -> a`$b`"c                    (for text inside "...")
    comment('line\nbreak')                 -> line break                 (a value shown in a # comment)
    opath_string("o'brien@contoso.com")    -> 'o''brien@contoso.com'     (a string inside an OPATH filter)

PowerShell also takes the typographic quotes as quotes (‘ ’ ‚ ‛ as ', “ ” „ as "), so they are escaped as well;
a line break in a comment would end the comment, so comments get none.
"""

from __future__ import annotations

import re

_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_DOUBLE_QUOTES = '"\u201c\u201d\u201e'
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def single_quoted(value: str) -> str:
    """A single-quoted PowerShell string holding `value` verbatim (every quote character doubled)."""
    return "'" + "".join(c + c if c in _SINGLE_QUOTES else c for c in value) + "'"


def double_quoted_body(value: str) -> str:
    """`value` escaped for the inside of a double-quoted PowerShell string: backtick, $ and quotes escaped."""
    out = []
    for c in value:
        if c == "`" or c == "$" or c in _DOUBLE_QUOTES:
            out.append("`" + c)
        else:
            out.append(c)
    return "".join(out)


def comment(value: str) -> str:
    """`value` made safe for a `#` comment line: control characters and line separators become spaces."""
    return _LINE_BREAKING.sub(" ", value)


def opath_string(value: str) -> str:
    """A single-quoted string inside an OPATH filter (-RecipientRestrictionFilter), PowerShell's quoting rules."""
    return single_quoted(value)


def string_array(values: tuple[str, ...] | list[str]) -> str:
    """`@('a', 'b')`, or `@()` for none."""
    return "@(" + ", ".join(single_quoted(v) for v in values) + ")"

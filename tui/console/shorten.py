"""Provides text that fits 80 columns: a path that keeps its file name, a long value cut with its length named."""

from __future__ import annotations

import re
from pathlib import PurePath

ELLIPSIS = "…"
VALUE_SHOWN = 40  # characters of a long value kept in a message
WORD_LIMIT = 120  # a longer run of non-space characters (a pasted token, certificate, log line) is cut


def fit_path(path: str, width: int) -> str:
    """`path` in `width` cells: the file name is kept and the folders are shortened from the left, whole folders
    where the nearest one fits (`…/outmail-sandbox-zx1vkg2o/settings.toml`), else the end of the path
    (`…sandbox-zx1vkg2o/settings.toml`); a name longer than `width` keeps its end (its extension)."""
    if width <= 0 or len(path) <= width:
        return path
    if width == 1:
        return ELLIPSIS
    name = PurePath(path).name or path
    if len(name) + 1 >= width:
        return ELLIPSIS + name[-(width - 1):]
    folders = [part for part in PurePath(path).parent.parts if part not in ("/", "")]
    tail = name
    for folder in reversed(folders):
        if len(ELLIPSIS) + 1 + len(folder) + 1 + len(tail) > width:
            break
        tail = f"{folder}/{tail}"
    if tail != name:
        return f"{ELLIPSIS}/{tail}"
    return ELLIPSIS + path[-(width - 1):]


def _cut(value: str, shown: int) -> str:
    return f"{value[:shown]}{ELLIPSIS} ({len(value):,} characters, cut)"


def cut_value(text: str, value: str, shown: int = VALUE_SHOWN) -> str:
    """`text` (an error message) with `value` (what the admin typed or pasted), when it is longer than `shown`, cut
    to its first `shown` characters and its length: `Server 'xxxx… (5,000 characters, cut)' is not a valid host
    name`. The reason stays in view instead of after a hundred wrapped lines of the value."""
    for candidate in (value, value.strip()):
        if len(candidate) > shown and candidate in text:
            return text.replace(candidate, _cut(candidate, shown))
    return text


def cut_words(text: str, limit: int = WORD_LIMIT) -> str:
    """`text` with every run of more than `limit` non-space characters cut the same way."""
    return re.sub(r"\S{%d,}" % (limit + 1), lambda match: _cut(match.group(0), limit), text)

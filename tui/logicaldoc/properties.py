"""A lossless model of a Java properties file (LogicalDOC's conf/context.properties).

Reading follows `java.util.Properties.load` of current JDKs (9 and later, which LogicalDOC runs on) character for
character: natural lines end at LF, CR or CRLF; leading space, tab and form feed are skipped; a line whose first
non-blank character is `#` or `!` is a comment (a backslash does not continue it); an odd number of backslashes at the
end of a line joins the next line (whose leading blanks are skipped); the key ends at the first unescaped `=`, `:` or
blank, then blanks and at most one `=`/`:` are skipped; `\\t \\n \\r \\f \\uXXXX` are decoded and any other escaped
character stands for itself.

Encoding: LogicalDOC reads the file with `Properties.load(InputStream)`, i.e. as ISO-8859-1, and its own save writes
one byte per character. So the file is decoded as ISO-8859-1 here too: every byte maps to one character, decoding
cannot fail, and `render()` gives back the original bytes exactly. Raw UTF-8 bytes in a value are therefore read the way
LogicalDOC reads them (as mojibake); `looks_utf8()` tells the bridge to warn about that. Values written by `set` are
escaped like `Properties.store` does: `\\`, a leading space, `= : # !`, control characters, and every character outside
printable ASCII as `\\uXXXX` (UTF-16 surrogate pairs above U+FFFF). The result is plain ASCII, which reads the same as
ISO-8859-1 and as UTF-8.

Edits replace only the raw span of one value (a value continued over several lines becomes one line, and only for the
key that changed) or insert whole new lines; every other byte, comment, separator, escape and line ending is kept.

"Malformed" (Java would refuse to load the file, or it is not a properties file at all): a `\\u` escape without four hex
digits, or a NUL byte. `PropertiesError` names the line; nothing is written.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass
from pathlib import Path

_BLANK = " \t\f"
_EOL = "\r\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class PropertiesError(ValueError):
    """The file cannot be used: `.message`, `.line` (1-based, or None), `.path`; `str()` is admin-readable."""

    def __init__(self, message: str, line: int | None = None, path: str | os.PathLike[str] | None = None) -> None:
        self.message = message
        self.line = line
        self.path = str(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "properties"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Entry:
    """One key/value pair as Java reads it, with the raw spans (offsets into `PropertiesFile.text`)."""

    key: str
    value: str
    line: int  # 1-based natural line where the key starts
    last_line: int  # natural line where the logical line ends
    key_start: int
    key_end: int
    value_start: int  # raw span replaced by `set`: from just after the separator (continuations included)
    value_end: int  # = end of the logical line's content (before its terminator)
    end: int  # just after the terminator (or len(text) when the file ends without one)

    @property
    def has_separator_room(self) -> bool:
        """False when the key runs up to the value span (`key` alone): a new value then needs a `=` first."""
        return self.key_end < self.value_start

    @property
    def has_terminator(self) -> bool:
        return self.end > self.value_end


def _decode_escapes(raw: str, offsets: list[int], line_of, path) -> str:
    """Java's loadConvert over one key or value (logical characters, with their raw offsets for error lines)."""
    out: list[str] = []
    i = 0
    end = len(raw)
    while i < end:
        c = raw[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        # A lone trailing backslash cannot reach here (the line reader strips or pairs it); be safe anyway.
        if i >= end:
            break
        c = raw[i]
        i += 1
        if c == "u":
            digits = raw[i:i + 4]
            if len(digits) < 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                line = line_of(offsets[i - 2])
                # The characters after \u are not shown: they may be part of a secret value.
                raise PropertiesError(
                    "malformed \\uXXXX escape: a \\u not followed by four hex digits. Java (and so LogicalDOC) "
                    "refuses to load this file; write \\\\u for a literal backslash-u", line, path)
            out.append(chr(int(digits, 16)))
            i += 4
        elif c == "t":
            out.append("\t")
        elif c == "r":
            out.append("\r")
        elif c == "n":
            out.append("\n")
        elif c == "f":
            out.append("\f")
        else:
            out.append(c)
    return _join_surrogates("".join(out))


def _join_surrogates(s: str) -> str:
    """`\\uD83D\\uDE00` decodes to two UTF-16 code units: make them one code point (lone surrogates stay)."""
    if not any("\ud800" <= ch <= "\udfff" for ch in s):
        return s
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if "\ud800" <= ch <= "\udbff" and i + 1 < len(s) and "\udc00" <= s[i + 1] <= "\udfff":
            out.append(chr(0x10000 + ((ord(ch) - 0xD800) << 10) + (ord(s[i + 1]) - 0xDC00)))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape(value: str, *, is_key: bool = False) -> str:
    """Java's `Properties.store` escaping (saveConvert with escUnicode): keys also escape every space."""
    out: list[str] = []
    for idx, ch in enumerate(value):
        code = ord(ch)
        if 61 < code < 127:
            out.append("\\\\" if ch == "\\" else ch)
        elif ch == " ":
            out.append("\\ " if (idx == 0 or is_key) else " ")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\f":
            out.append("\\f")
        elif ch in "=:#!":
            out.append("\\" + ch)
        elif code < 0x20 or code > 0x7E:
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
            else:
                out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


class PropertiesFile:
    """The text of a properties file plus its entries; edits keep every untouched byte."""

    def __init__(self, data: bytes | str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path is not None else None
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        self._parse(text)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> "PropertiesFile":
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PropertiesError(f"cannot read the file: {exc.strerror or exc}", None, path) from exc
        return cls(data, path)

    # -- reading -------------------------------------------------------------------------------------------------

    def _parse(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        nul = text.find("\x00")
        if nul >= 0:
            raise PropertiesError("contains a NUL byte: this is not a text properties file", self.line_of(nul),
                                  self.path)
        self.entries: list[Entry] = [self._entry(*parts) for parts in self._logical_lines()]
        self._last: dict[str, Entry] = {}
        for e in self.entries:
            self._last[e.key] = e

    def line_of(self, offset: int) -> int:
        """1-based natural line number of a character offset."""
        return bisect.bisect_right(self._line_starts, offset)

    def _logical_lines(self):
        """Port of JDK 9+ `Properties.LineReader.readLine`: yields (chars, raw offsets, content end, end)."""
        text = self.text
        n = len(text)
        i = 0
        while True:
            chars: list[str] = []
            offs: list[int] = []
            skip_ws = True
            appended = False
            prec_bs = False
            while True:
                if i >= n:  # EOF
                    if not chars:
                        return
                    if prec_bs:
                        chars.pop()
                        offs.pop()
                    yield chars, offs, n, n
                    return
                c = text[i]
                pos = i
                i += 1
                if skip_ws:
                    if c in _BLANK:
                        continue
                    if not appended and c in _EOL:
                        continue
                    skip_ws = False
                    appended = False
                if not chars and c in "#!":  # comment: up to the end of the natural line
                    while i < n and text[i] not in _EOL:
                        i += 1
                    if i >= n:
                        return
                    i += 1
                    skip_ws = True
                    continue
                if c not in _EOL:
                    chars.append(c)
                    offs.append(pos)
                    prec_bs = (not prec_bs) if c == "\\" else False
                    continue
                # end of a natural line
                if not chars:
                    skip_ws = True
                    continue
                if i >= n:  # the terminator is the file's last character
                    if prec_bs:
                        chars.pop()
                        offs.pop()
                    yield chars, offs, pos, n
                    return
                if prec_bs:  # continuation: the backslash is not part of the line
                    chars.pop()
                    offs.pop()
                    skip_ws = True
                    appended = True
                    prec_bs = False
                    if c == "\r" and text[i] == "\n":
                        i += 1
                    continue
                end = i + 1 if (c == "\r" and i < n and text[i] == "\n") else i
                yield chars, offs, pos, end
                i = end
                break

    def _entry(self, chars: list[str], offs: list[int], content_end: int, end: int) -> Entry:
        """Port of the key/value split in `Properties.load0`, mapped back to raw spans."""
        limit = len(chars)
        key_len = 0
        value_start = limit
        has_sep = False
        prec_bs = False
        while key_len < limit:
            c = chars[key_len]
            if c in "=:" and not prec_bs:
                value_start = key_len + 1
                has_sep = True
                break
            if c in _BLANK and not prec_bs:
                value_start = key_len + 1
                break
            prec_bs = (not prec_bs) if c == "\\" else False
            key_len += 1
        while value_start < limit:
            c = chars[value_start]
            if c not in _BLANK:
                if not has_sep and c in "=:":
                    has_sep = True
                else:
                    break
            value_start += 1
        key = _decode_escapes("".join(chars[:key_len]), offs[:key_len], self.line_of, self.path)
        value = _decode_escapes("".join(chars[value_start:]), offs[value_start:], self.line_of, self.path)
        first = offs[0] if offs else content_end
        key_start = first
        key_end = offs[key_len - 1] + 1 if key_len else first
        # The value's raw span starts right after the last logical character before it (separator or blank), so
        # it takes in any continuation between the separator and the value: a new value can never be joined to
        # the next line by a leftover backslash.
        raw_value_start = offs[value_start - 1] + 1 if value_start > 0 else (offs[0] if offs else content_end)
        return Entry(key=key, value=value, line=self.line_of(first), last_line=self.line_of(max(first, content_end - 1)
                                                                                             if content_end > first
                                                                                             else first),
                     key_start=key_start, key_end=key_end, value_start=raw_value_start, value_end=content_end,
                     end=end)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value Java's `getProperty` returns (the last occurrence wins)."""
        e = self._last.get(key)
        return e.value if e is not None else default

    def __contains__(self, key: object) -> bool:
        return key in self._last

    def entry(self, key: str) -> Entry | None:
        """The effective (last) entry for a key."""
        return self._last.get(key)

    def occurrences(self, key: str) -> list[Entry]:
        return [e for e in self.entries if e.key == key]

    def keys(self) -> list[str]:
        """Distinct keys in file order of their first occurrence."""
        return list(dict.fromkeys(e.key for e in self.entries))

    def as_dict(self) -> dict[str, str]:
        return {k: e.value for k, e in self._last.items()}

    @property
    def newline(self) -> str:
        """The file's most common line terminator (LF for a one-line file)."""
        counts = {"\r\n": 0, "\n": 0, "\r": 0}
        for m in _LINE_BREAK.finditer(self.text):
            counts[m.group()] += 1
        best = max(counts.values())
        if best == 0:
            return "\n"
        return next(k for k in ("\n", "\r\n", "\r") if counts[k] == best)

    def looks_utf8(self, key: str) -> str | None:
        """If the value holds non-ASCII bytes that are valid UTF-8, that UTF-8 reading (LogicalDOC sees Latin-1)."""
        value = self.get(key)
        if value is None or all(ord(ch) < 0x80 for ch in value) or any(ord(ch) > 0xFF for ch in value):
            return None
        try:
            return value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return None

    # -- editing ---------------------------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The file's bytes: the original ones, byte for byte, where nothing was edited."""
        return self.text.encode("latin-1")

    def set(self, key: str, value: str) -> bool:
        """Give an existing key a new value (its last occurrence, the one Java uses); False when already equal.

        Only the value's raw span changes. Raises KeyError when the key is absent (use `insert`).
        """
        e = self._last.get(key)
        if e is None:
            raise KeyError(key)
        if e.value == value:
            return False
        raw = escape(value)
        if not e.has_separator_room:
            raw = "=" + raw
        self._parse(self.text[:e.value_start] + raw + self.text[e.value_end:])
        return True

    def insert(self, offset: int, items: list[tuple[str, str]], comment: str | None = None) -> None:
        """Insert `key=value` lines (and an optional `# comment` line first) at a line boundary `offset`."""
        nl = self.newline
        lines: list[str] = []
        if comment is not None:
            lines.extend("# " + c if c else "#" for c in comment.split("\n"))
        lines.extend(f"{escape(k, is_key=True)}={escape(v)}" for k, v in items)
        block = "".join(line + nl for line in lines)
        before = self.text[:offset]
        if before and not before.endswith(("\n", "\r")):
            block = nl + block
        self._parse(before + block + self.text[offset:])

    def insert_after(self, key: str, items: list[tuple[str, str]]) -> None:
        """Insert lines right after the (last) logical line of `key`."""
        e = self._last.get(key)
        if e is None:
            raise KeyError(key)
        self.insert(e.end, items)

    def append(self, items: list[tuple[str, str]], comment: str | None = None, blank_line: bool = True) -> None:
        """Add lines at the end of the file (after a blank line when the file does not end with one)."""
        text = self.text
        if blank_line and text and not re.search(r"(\r\n|\r|\n)[ \t\f]*(\r\n|\r|\n)\Z", text):
            nl = self.newline
            if not text.endswith(("\n", "\r")):
                text += nl
            text += nl
            self._parse(text)
        self.insert(len(self.text), items, comment)

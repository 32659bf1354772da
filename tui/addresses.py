"""Email address syntax checks shared by settings validation and the test message (email-validator, no DNS)."""

from __future__ import annotations

import re
from typing import Any

# email-validator compiles four character classes spanning all of Unicode (U+0080-U+10FFFF) when it is imported
# (`email_validator.rfc_constants`: ATEXT_INTL_DOT_RE, DOT_ATOM_TEXT_INTL, ATEXT_HOSTNAME_INTL, QTEXT_INTL): `re`
# takes ~5 ms to compile each such class (it builds a bitmap of the whole range), and ATEXT_HOSTNAME_INTL is used on
# every domain, ASCII ones too. Each is compiled instead as the same language written so that `re` compiles it at
# once: the class's wide range becomes an alternative "any non-ASCII character" (`[X\u0080-\U0010FFFF]` ->
# `(?:[X]|[^\x00-\x7f])`; a Python string holds no character above U+10FFFF, so both match exactly the same
# characters; tests/test_addresses.py compares them on every ASCII character, the range's ends and the library's
# own verdicts). The library and its results are unchanged.
_WIDE_RANGES = ("\u0080-\U0010FFFF", "\\u0080-\\U0010FFFF")  # as the characters, or as their escapes
_NOT_ASCII = "[^\\x00-\\x7f]"


def narrowed(pattern: str) -> str:
    """`pattern` with each character class that ends in the U+0080-U+10FFFF range written as an alternative of the
    class's other characters and `[^\x00-\x7f]`; the pattern unchanged when a class is not of that plain shape
    (negated, or an escaped bracket before it)."""
    out: list[str] = []
    i = 0
    while True:
        found = [(j, wide) for wide in _WIDE_RANGES if (j := pattern.find(wide, i)) != -1]
        if not found:
            out.append(pattern[i:])
            return "".join(out)
        j, wide = min(found)
        end = j + len(wide)
        opener = pattern.rfind("[", i, j)
        if opener == -1 or pattern[end:end + 1] != "]" or pattern[opener + 1:opener + 2] == "^" or \
                (opener > 0 and pattern[opener - 1] == "\\") or "]" in pattern[opener + 1:j].replace("\\]", ""):
            return pattern
        rest = pattern[opener + 1:j]
        out.append(pattern[i:opener])
        out.append(f"(?:[{rest}]|{_NOT_ASCII})" if rest else _NOT_ASCII)
        i = end + 1


def _import_email_validator() -> Any:
    """`import email_validator` with its Unicode-wide patterns compiled as `narrowed` writes them (see above). Only
    the library's own constants module is compiled this way; a pattern compiled anywhere else meanwhile is compiled
    as ever."""
    import sys

    if "email_validator" in sys.modules:
        return sys.modules["email_validator"]
    real_compile = re.compile

    def compile_narrowed(pattern: Any, flags: int = 0) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "email_validator.rfc_constants" and isinstance(pattern, str) and not flags:
            return real_compile(narrowed(pattern))
        return real_compile(pattern, flags)

    re.compile = compile_narrowed  # type: ignore[assignment]
    try:
        import email_validator
    finally:
        re.compile = real_compile  # type: ignore[assignment]
    return email_validator


email_validator = _import_email_validator()

# Internal relays and test setups use special-use names such as .local, .test and localhost; they are valid
# addresses for an SMTP submission tool. email-validator documents SPECIAL_USE_DOMAIN_NAMES as the list to edit.
email_validator.SPECIAL_USE_DOMAIN_NAMES = []  # type: ignore[attr-defined]


class AddressError(ValueError):
    """An address that is not a syntactically valid email address; the message says why."""


def check_address(address: str) -> str:
    """The normalized address, or AddressError with an admin-readable reason. Syntax only: no DNS lookups."""
    text = address.strip()
    if not text:
        raise AddressError("an email address is required")
    if any(c in text for c in "\r\n"):
        raise AddressError("an address cannot contain a line break")
    try:
        result = email_validator.validate_email(
            text,
            check_deliverability=False,
            globally_deliverable=False,
            allow_smtputf8=True,
        )
    except email_validator.EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    return result.normalized


def split_mailbox(text: str) -> tuple[str, str]:
    """(display name, address) of "Name <addr@host>" or a bare "addr@host", as LogicalDOC's sender reads Sender
    Email (Jakarta Mail's `new InternetAddress(sender)` takes both); AddressError when it is neither. Only the address
    goes into MAIL FROM; the display name into the From header."""
    import re

    raw = text.strip()
    if any(c in raw for c in "\r\n"):
        raise AddressError("an address cannot contain a line break")
    if "<" not in raw and ">" not in raw:
        return "", raw
    m = re.fullmatch(r'(?:"((?:[^"\\]|\\.)*)"|([^"<>,;]*?))\s*<([^<>\s]+)>', raw)
    if m is None:
        raise AddressError("write one address, either bare or as Name <address>")
    name = m.group(1) if m.group(1) is not None else (m.group(2) or "")
    return re.sub(r"\\(.)", r"\1", name).strip(), m.group(3)


def check_mailbox(text: str) -> str:
    """The normalized address of "Name <addr@host>" or "addr@host" (see split_mailbox), or AddressError."""
    return check_address(split_mailbox(text)[1])

"""Email address syntax checks shared by settings validation and the test message (email-validator, no DNS)."""

from __future__ import annotations

import re
import threading
from typing import Any

# email-validator compiles four character classes spanning all of Unicode (U+0080-U+10FFFF) when it is imported
# (`email_validator.rfc_constants`: ATEXT_INTL_DOT_RE, DOT_ATOM_TEXT_INTL, ATEXT_HOSTNAME_INTL, QTEXT_INTL), about
# 18 ms of the console's start on a small VM, for patterns only internationalized (non-ASCII) addresses reach. They
# are compiled on their first use instead: the library and its results are unchanged.
_WIDE_MARKS = (chr(0x10FFFF), "\\U0010FFFF")  # the end of the ranges those classes span: the character or its escape


class _PatternOnFirstUse:
    """A `re.Pattern` compiled the first time one of its attributes (`match`, `search`, ...) is used."""

    __slots__ = ("_pattern", "_flags", "_compiled", "_lock")

    def __init__(self, pattern: str, flags: int) -> None:
        self._pattern, self._flags, self._compiled, self._lock = pattern, flags, None, threading.Lock()

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = re.compile(self._pattern, self._flags)
                compiled = self._compiled
        return getattr(compiled, name)


def _import_email_validator() -> Any:
    """`import email_validator` with its Unicode-wide patterns compiled on first use (see above). Only the library's
    own constants module is loaded this way; a pattern compiled anywhere else meanwhile is compiled as ever."""
    import sys

    if "email_validator" in sys.modules:
        return sys.modules["email_validator"]
    real_compile = re.compile

    def compile_wide_later(pattern: Any, flags: int = 0) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "email_validator.rfc_constants" and isinstance(pattern, str) and \
                any(mark in pattern for mark in _WIDE_MARKS):
            return _PatternOnFirstUse(pattern, flags)
        return real_compile(pattern, flags)

    re.compile = compile_wide_later  # type: ignore[assignment]
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

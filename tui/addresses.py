"""Email address syntax checks shared by settings validation and the test message (email-validator, no DNS)."""

from __future__ import annotations

import email_validator

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

"""Builds and checks the test message (standard email package): MIME, Date, Message-ID, UTF-8 subject and body.

Nothing reaches a server unless every address is valid and no header field holds a CR or LF.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from tui.addresses import AddressError, check_address, split_mailbox
from tui.settings.model import Settings

DEFAULT_SUBJECT = "Test message from outmail"


class MessageError(ValueError):
    """The message cannot be sent as asked; the text says which field and why."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A checked message and its envelope."""

    message: EmailMessage
    envelope_from: str
    recipients: tuple[str, ...]


def from_address(settings: Settings, send_as: str | None = None) -> str:
    """The From LogicalDOC would use: the user's own address with 'Use user's email as sender' on, else Sender Email."""
    if send_as and send_as.strip():
        return send_as.strip()
    return settings.sender.strip()


def default_body(settings: Settings, when: datetime | None = None) -> str:
    """A body naming the host, the time and the settings file, so a received test can be traced back."""
    when = when or datetime.now(timezone.utc)
    source = str(settings.source_path) if settings.source_path else "(unsaved settings)"
    return (
        "This is a test message sent by outmail.\n\n"
        f"Sent from host: {socket.gethostname()}\n"
        f"Time: {format_datetime(when)}\n"
        f"Settings file: {source} (tenant {settings.tenant})\n"
        f"SMTP server: {settings.host}:{settings.port} ({settings.protocol})\n"
    )


def _no_line_breaks(name: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise MessageError(f"{name} cannot contain a line break (header injection)")


def _address(name: str, value: str) -> str:
    _no_line_breaks(name, value)
    try:
        return check_address(value)
    except AddressError as exc:
        raise MessageError(f"{name} '{value.strip()}' is not a valid email address: {exc}") from None


def _mailbox(name: str, value: str) -> tuple[str, str]:
    """(display name, normalized address) of a From / Sender value, which may be "Name <address>" as LogicalDOC's
    Sender Email may."""
    _no_line_breaks(name, value)
    try:
        display, address = split_mailbox(value)
        return display, check_address(address)
    except AddressError as exc:
        raise MessageError(f"{name} '{value.strip()}' is not a valid email address: {exc}") from None


def split_recipients(text: str) -> list[str]:
    """Recipients typed as one line, separated by commas, semicolons or spaces."""
    return [part for part in text.replace(";", ",").replace(" ", ",").split(",") if part.strip()]


def build_message(
    settings: Settings,
    to: list[str],
    subject: str = DEFAULT_SUBJECT,
    body: str | None = None,
    send_as: str | None = None,
    when: datetime | None = None,
) -> OutgoingMessage:
    """The checked test message; MessageError names the first field that is wrong."""
    if not to:
        raise MessageError("To: at least one recipient is required")
    recipients = tuple(_address("To", address) for address in to)
    sender_name, sender = _mailbox("Sender Email", settings.sender) if settings.sender.strip() else ("", "")
    author_name, author = _mailbox("From", from_address(settings, send_as)) if from_address(settings, send_as) \
        else ("", "")
    if not author:
        raise MessageError("From: Sender Email is empty")
    _no_line_breaks("Subject", subject)
    when = when or datetime.now(timezone.utc)
    message = EmailMessage()
    message["From"] = formataddr((author_name, author)) if author_name else author
    if sender and sender.lower() != author.lower():
        message["Sender"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    domain = author.rpartition("@")[2] or "outmail.invalid"
    message["Message-ID"] = make_msgid(idstring="outmail", domain=domain)
    message["X-Mailer"] = "outmail"
    message.set_content(default_body(settings, when) if body is None else body, charset="utf-8")
    return OutgoingMessage(message=message, envelope_from=author, recipients=recipients)

"""The SASL XOAUTH2 string: base64("user=" + user + "\\x01auth=Bearer " + token + "\\x01\\x01").

One encoder for the engine's AUTH step (the client) and one parser for the sandbox's SMTP server; the format is
Microsoft's ("Authenticate an IMAP, POP or SMTP connection using OAuth", SASL XOAUTH2 format) and Google's original
XOAUTH2 description. No Textual, no network.
"""

from __future__ import annotations

import base64
import binascii


class XOAuth2Error(ValueError):
    """The XOAUTH2 data is not base64 or not `user=...^Aauth=Bearer ...^A^A`."""


def build_xoauth2(user: str, token: str) -> str:
    """The base64 XOAUTH2 initial response for `user` and the bearer `token`."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode("ascii")


def parse_xoauth2(data: str | bytes, *, encoded: bool = True) -> tuple[str, str]:
    """(user, token) from an XOAUTH2 string, base64 (default) or already decoded; raises XOAuth2Error."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    if encoded:
        try:
            raw = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise XOAuth2Error("not base64") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XOAuth2Error("not UTF-8") from exc
    if not text.endswith("\x01\x01"):
        raise XOAuth2Error("missing the closing ^A^A")
    parts = text[:-2].split("\x01")
    fields: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            raise XOAuth2Error(f"field without '=': {key[:20]!r}")
        fields[key] = value
    user = fields.get("user")
    auth = fields.get("auth")
    if not user:
        raise XOAuth2Error("missing user=")
    if auth is None:
        raise XOAuth2Error("missing auth=")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise XOAuth2Error("auth= is not 'Bearer <token>'")
    return user, token

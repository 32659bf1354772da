"""Redaction: every transcript line and every detail or hint string passes through a `Redactor` before anyone sees it.

Rules:
- client AUTH lines: `AUTH XOAUTH2 <redacted, N bytes>`, `AUTH LOGIN <redacted>`, `AUTH PLAIN <redacted>`;
- any client line answering a 334 challenge: `<redacted, N bytes>`;
- the access token appears only as its first characters (`eyJ0eXAi…<redacted>`);
- belt and braces: the redactor knows this run's secret values (client secret, password, token, XOAUTH2 string) and
  replaces them wherever they appear, plus anything that looks like a JWT or an `auth=Bearer`/`client_secret=` value.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Iterable

TOKEN_PREFIX_CHARS = 8
REDACTED = "<redacted>"

_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER_RE = re.compile(r"(auth=Bearer\s+|Bearer\s+)([A-Za-z0-9._~+/=-]{20,}+)(?!…)", re.IGNORECASE)
# form fields (client_secret=...) and JSON members ("client_secret": "..."), not prose such as "Password: ..."
# A password may hold any character but the form separator; an Entra client secret Value only A-Za-z0-9_~.- (so the
# ")" or "," after it in a log line is kept).
_FORM_SECRET_RE = re.compile(r"(\b(?:password|access_token|client_assertion)=|"
                             r"\"(?:client_secret|password|access_token|client_assertion)\"\s*:\s*\")"
                             r"([^&\s\"]+)|(\bclient_secret=)([A-Za-z0-9_~.%+-]+)", re.IGNORECASE)
# an AUTH argument (base64), not the next mechanism of an EHLO capability list ("250 AUTH LOGIN PLAIN XOAUTH2")
_AUTH_ANYWHERE_RE = re.compile(r"\b(AUTH\s+(?:XOAUTH2|PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|NTLM))\s+"
                               r"(?!(?:XOAUTH2|PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|NTLM|GSSAPI|OAUTHBEARER|SCRAM-[\w-]+)"
                               r"(?:\s|$))([A-Za-z0-9+/=]{6,})", re.IGNORECASE)
_AUTH_LINE_RE = re.compile(r"^(AUTH)\s+(\S+)(?:\s+(\S+))?\s*$", re.IGNORECASE)


def token_preview(token: str) -> str:
    """The first characters of a token followed by a redaction mark."""
    return f"{token[:TOKEN_PREFIX_CHARS]}…{REDACTED}" if token else ""


class Redactor:
    """Knows the secret values of one run and scrubs them from any text. Thread-safe."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}  # value -> replacement
        for s in secrets:
            self.add_secret(s)

    def add_secret(self, value: str | None, replacement: str = REDACTED) -> None:
        """Scrub `value` (and its base64 form) from every later text. Short values (< 4 chars) are ignored."""
        if not value or len(value) < 4:
            return
        with self._lock:
            self._secrets[value] = replacement
            try:
                b64 = base64.b64encode(value.encode()).decode()
                if len(b64) >= 8:
                    self._secrets.setdefault(b64, REDACTED)
            except Exception:  # pragma: no cover
                pass

    def add_token(self, token: str | None) -> None:
        """A bearer token: shown only as its first characters."""
        if token:
            self.add_secret(token, token_preview(token))

    def text(self, text: str | None) -> str:
        """`text` with every known secret and every token-looking value scrubbed."""
        if not text:
            return text or ""
        with self._lock:
            items = sorted(self._secrets.items(), key=lambda kv: -len(kv[0]))
        for value, replacement in items:
            if value in text:
                text = text.replace(value, replacement)
        text = _BEARER_RE.sub(lambda m: m.group(1) + _preview_or_keep(m.group(2)), text)
        text = _JWT_RE.sub(lambda m: token_preview(m.group(0)), text)
        text = _FORM_SECRET_RE.sub(lambda m: (m.group(1) or m.group(3)) + REDACTED, text)
        # an AUTH argument wherever it appears, e.g. a server that echoes the client's line in its reply
        text = _AUTH_ANYWHERE_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        return text

    __call__ = text

    def client_line(self, line: str, *, after_334: bool = False) -> str:
        """A line the client sends, as the transcript shows it."""
        if after_334:
            return f"<redacted, {len(line)} bytes>" if line else "<empty line>"
        m = _AUTH_LINE_RE.match(line)
        if m:
            mech = m.group(2).upper()
            if m.group(3) is None:
                return f"AUTH {mech}"
            if mech == "XOAUTH2":
                return f"AUTH XOAUTH2 <redacted, {len(m.group(3))} bytes>"
            return f"AUTH {mech} {REDACTED}"
        return self.text(line)


def _preview_or_keep(value: str) -> str:
    if value.startswith(("<", "…")) or REDACTED in value:
        return value
    return token_preview(value)


# ---- pasted text (outmail explain): secrets an admin may paste along with an error --------------------------------
# An Entra client secret Value: 40 characters with "8Q~" (or another digit and Q~) at position 3.
_CLIENT_SECRET_RE = re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,37}(?![A-Za-z0-9_~.-])")
# key = value, key: value, "key": "value", key='value' for every name a secret goes by in what admins paste
# (context.properties, settings.toml, JSON, YAML, logs): a quoted value up to its quote, else the rest of the line
# (a Java properties value may hold spaces).
_SECRET_NAMES = (r"(?:password|passwd|pwd|clientSecret|client_secret|client-secret|access_token|accessToken|"
                 r"refresh_token|secret)")
# at the start of a line (a properties or TOML line, a YAML key; a tenant prefix such as "default.smtp."): the value
# is the rest of the line, spaces included; inside a line: a quoted value, else up to a space or a separator
_PROPERTY_SECRET_RE = re.compile(
    r"""^(\s*["']?(?:[\w-]+\.)*""" + _SECRET_NAMES + r"""["']?\s*[=:]\s*)("[^"]*"|'[^']*'|.+)""", re.IGNORECASE)
_INLINE_SECRET_RE = re.compile(
    r"""(["']?\b(?:[\w-]+\.)*""" + _SECRET_NAMES + r"""["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s)&,;"']+)""",
    re.IGNORECASE)
_BASE64_LINE_RE = re.compile(r"^(\s*(?:C:\s*|>>>\s*|DEBUG SMTP:\s*)?)([A-Za-z0-9+/]{8,}={0,2})\s*$")


def redact_pasted(text: str, secrets: Iterable[str] = ()) -> str:
    """Text an admin pasted (a LogicalDOC log, a transcript, a bounce) with every secret-looking value scrubbed:
    the known `secrets` (the settings' client secret and password), bearer tokens and JWTs, client secret Values
    (Entra's 40-character shape), AUTH arguments and the base64 answers to a 334 challenge, and smtp.password /
    smtp.clientSecret properties. Line structure is kept, so line numbers still point at the paste."""
    redactor = Redactor(secrets)
    out: list[str] = []
    after_334 = False
    for line in text.splitlines():
        clean = redactor.text(line)
        clean = _AUTH_ANYWHERE_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", clean)
        clean = _CLIENT_SECRET_RE.sub(REDACTED, clean)
        for pattern in (_PROPERTY_SECRET_RE, _INLINE_SECRET_RE):
            clean = pattern.sub(lambda m: m.group(1) + (m.group(2)[0] + REDACTED + m.group(2)[0]
                                                        if m.group(2)[:1] in "\"'" else REDACTED), clean)
        if after_334 and (m := _BASE64_LINE_RE.match(clean)):
            clean = m.group(1) + REDACTED
        after_334 = bool(re.search(r"(^|\s)334(\s|$)", line))
        out.append(clean)
    return "\n".join(out)

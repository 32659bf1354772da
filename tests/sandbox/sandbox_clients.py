"""Clients for the sandbox tests: msal and smtplib used directly (never outmail's own client code)."""

from __future__ import annotations

import re
import smtplib
import ssl

import msal

from tui.sandbox import build_xoauth2

SCOPE = ["https://outlook.office365.com/.default"]
# Exchange's 535 5.7.3 text: its suffix is [<server> <UTC time> <16 hex digits>].
SUFFIX = r" \[\S+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9A-F]{16}\]"
AUTH_5_7_3 = re.compile(r"5\.7\.3 Authentication unsuccessful" + SUFFIX)

EHLO_BEFORE_TLS = ["SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "8BITMIME", "BINARYMIME",
                   "CHUNKING", "SMTPUTF8"]
EHLO_AFTER_TLS = ["SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "AUTH LOGIN XOAUTH2", "8BITMIME",
                  "BINARYMIME", "CHUNKING", "SMTPUTF8"]


def msal_app(info, *, tenant=None, client_id=None, secret=None, timeout=5):
    return msal.ConfidentialClientApplication(
        client_id or info.client_id, client_credential=secret or info.client_secret,
        authority=f"{info.authority_host}/{tenant or info.tenant_id}", instance_discovery=False,
        verify=str(info.ca_file), timeout=timeout)


def get_token(info, **kw):
    result = msal_app(info, **kw).acquire_token_for_client(scopes=SCOPE)
    assert "access_token" in result, result
    return result["access_token"]


def tls_context(info):
    return ssl.create_default_context(cafile=str(info.ca_file))


def connect_tls(info, timeout=5):
    s = smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=timeout)
    s.ehlo("client.example")
    s.starttls(context=tls_context(info))
    s.ehlo("client.example")
    return s


def ehlo_lines(reply: bytes) -> list[str]:
    return reply.decode().split("\n")[1:]


def auth_reply(info, token=None, user=None) -> tuple[int, bytes]:
    """AUTH XOAUTH2 as `user` (default the mailbox) on a fresh TLS connection: (code, reply text)."""
    with connect_tls(info) as s:
        return s.docmd("AUTH", "XOAUTH2 " + build_xoauth2(user or info.mailbox, token))

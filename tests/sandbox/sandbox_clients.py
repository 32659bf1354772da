"""Clients for the sandbox tests: msal and smtplib used directly (never outmail's own client code)."""

from __future__ import annotations

import smtplib
import ssl

import msal

SCOPE = ["https://outlook.office365.com/.default"]

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

"""Certificates for the sandbox: a local CA whose PEM file is published, and a second CA for the untrusted-cert fault.

Both issue a leaf certificate for 127.0.0.1 and localhost. Only the first CA's file is given to clients.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

HOSTS = ("127.0.0.1", "localhost")


@dataclass
class SandboxCerts:
    """The trusted CA (published as `ca_file`) and the untrusted one, with server contexts for each."""

    ca_file: Path
    trusted: ssl.SSLContext  # server context, certificate from the published CA
    untrusted: ssl.SSLContext  # server context, certificate from a CA nobody was given


def allow_tls_below_1_2(ctx: ssl.SSLContext, *, only: bool = False) -> None:
    """Let `ctx` speak TLS 1.0 and 1.1 (and, with `only`, nothing newer). OpenSSL 3 offers them only at security
    level 0; ValueError or ssl.SSLError where this OpenSSL cannot at all."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is the point
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        if only:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context presenting a leaf certificate for 127.0.0.1 and localhost issued by `ca`.

    Like Exchange Online it completes a TLS 1.0 or 1.1 handshake, so that the SMTP server can then answer as Exchange
    does (421 4.7.66, see smtp_server.R_TLS_LEGACY) instead of a bare handshake failure. Where this OpenSSL cannot
    offer TLS < 1.2 at all, the context stays at TLS 1.2+ and such a handshake fails.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        allow_tls_below_1_2(ctx)
    except (ValueError, ssl.SSLError):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ca.issue_cert(*HOSTS, organization_name="outmail sandbox").configure_cert(ctx)
    return ctx


def make_certs(directory: Path) -> SandboxCerts:
    """Create both CAs, write the trusted CA's certificate to `<directory>/ca.pem`, return the server contexts."""
    trusted_ca = trustme.CA(organization_name="outmail sandbox CA")
    untrusted_ca = trustme.CA(organization_name="outmail sandbox untrusted CA")
    ca_file = directory / "ca.pem"
    trusted_ca.cert_pem.write_to_path(str(ca_file))
    return SandboxCerts(ca_file=ca_file, trusted=server_context(trusted_ca), untrusted=server_context(untrusted_ca))

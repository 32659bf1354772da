"""TLS trust for both paths (reference section 10) and the certificate facts the `starttls` step shows.

- SMTP: `ssl.create_default_context(cafile=ca_file or None)`: with `[console] ca_file` only that bundle is trusted,
  otherwise OpenSSL's default paths (which honour SSL_CERT_FILE / SSL_CERT_DIR). TLS 1.2 minimum, hostname checked,
  CERT_REQUIRED always.
- Token (requests): REQUESTS_CA_BUNDLE silently overrides `verify=True`, so `requests_verify` decides explicitly:
  ca_file, else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else SSL_CERT_FILE, else certifi; the token step's HTTP client
  passes the answer as `verify=` on every request, so ca_file wins over the environment.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from typing import Any, Mapping


_CONTEXTS: dict[tuple[Any, ...], tuple[ssl.SSLContext, str]] = {}


def smtp_context(ca_file: str = "", *, logicaldoc_smtp: bool = False) -> tuple[ssl.SSLContext, str]:
    """The SMTP TLS context and a description of the CA source it trusts.

    `logicaldoc_smtp`: protocol smtp, where LogicalDOC's sender offers only "TLSv1.1 TLSv1.2" (EMailSender sets
    mail.smtp.ssl.protocols; Java 17 disables TLS 1.1): the context then speaks TLS 1.2 only, so a server that only
    speaks TLS 1.3 fails here as it fails for LogicalDOC. Otherwise TLS 1.2 or newer (Microsoft 365: LogicalDOC clears
    those properties and Java's defaults allow TLS 1.3).

    Cached per CA source (file name and modification time, SSL_CERT_FILE / SSL_CERT_DIR): loading the system store
    takes milliseconds of event-loop time, and a context is safe to share between connections."""
    ca_file = (ca_file or "").strip()
    try:
        mtime = os.stat(ca_file).st_mtime_ns if ca_file else None
    except OSError:
        mtime = None
    key = (ca_file, mtime, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"), logicaldoc_smtp)
    hit = _CONTEXTS.get(key)
    if hit is None:
        hit = _CONTEXTS[key] = _build_smtp_context(ca_file, logicaldoc_smtp)
    return hit


def unverified_context() -> ssl.SSLContext:
    """A TLS 1.2 context that does not verify the server, as LogicalDOC's `mail.smtp.ssl.trust=*` does.

    The engine uses it only after verification failed AND no credential is at stake (protocol smtp, Username empty):
    then LogicalDOC sends over such a session, and outmail proves the rest of the dialogue over it and reports the
    session as unverified. A password or token never crosses such a session."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _build_smtp_context(ca_file: str, logicaldoc_smtp: bool = False) -> tuple[ssl.SSLContext, str]:
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if logicaldoc_smtp:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if ca_file:
        return ctx, f"CA: ca_file {ca_file}"
    paths = ssl.get_default_verify_paths()
    if os.environ.get("SSL_CERT_FILE"):
        return ctx, f"CA: SSL_CERT_FILE {os.environ['SSL_CERT_FILE']}"
    return ctx, f"CA: system trust ({paths.cafile or paths.capath or 'OpenSSL default paths'})"


def requests_verify(ca_file: str = "", env: Mapping[str, str] | None = None) -> tuple[str | bool, str]:
    """What the token step passes as `verify=` and a description of the CA source."""
    env = os.environ if env is None else env
    ca_file = (ca_file or "").strip()
    if ca_file:
        extra = ""
        if env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE"):
            extra = " (wins over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE)"
        return ca_file, f"CA: ca_file {ca_file}{extra}"
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        if env.get(name):
            return env[name], f"CA: {name} {env[name]}"
    try:
        import certifi

        return certifi.where(), f"CA: certifi bundle {certifi.where()}"
    except Exception:  # pragma: no cover
        return True, "CA: requests default"


def _name(rdns: Any) -> str:
    parts = []
    for rdn in rdns or ():
        for key, value in rdn:
            if key in ("commonName", "organizationName"):
                parts.append(f"{'CN' if key == 'commonName' else 'O'}={value}")
    return ", ".join(parts) or "(none)"


def cert_lines(ssl_object: Any) -> tuple[list[str], int | None]:
    """Detail lines for a verified TLS session: version, cipher, subject, SANs, issuer, days to expiry."""
    lines = []
    version = ssl_object.version()
    cipher = ssl_object.cipher()
    lines.append(f"{version}, cipher {cipher[0] if cipher else '?'}")
    cert = ssl_object.getpeercert() or {}
    lines.append(f"subject {_name(cert.get('subject'))}")
    sans = [v for k, v in cert.get("subjectAltName", ()) if k in ("DNS", "IP Address")]
    if sans:
        lines.append(f"SANs {', '.join(sans[:8])}{' …' if len(sans) > 8 else ''}")
    lines.append(f"issuer {_name(cert.get('issuer'))}")
    days = None
    if cert.get("notAfter"):
        days = int((ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) // 86400)
        lines.append(f"expires {cert['notAfter']} ({days} days)")
    lines.append("hostname verified")
    return lines, days


def classify_ssl_error(exc: BaseException) -> str:
    """The hint exception kind for an ssl error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        msg = str(getattr(exc, "verify_message", "") or exc).lower()
        if code in (62, 64) or "mismatch" in msg:  # X509_V_ERR_HOSTNAME_MISMATCH / _IP_ADDRESS_MISMATCH
            return "tls-hostname"
        return "tls-verify"
    text = str(exc).lower()
    if "certificate verify failed" in text:
        return "tls-verify"
    if any(s in text for s in ("protocol version", "unsupported protocol", "no protocols available",
                               "tlsv1 alert protocol", "version too low")):
        return "tls-version"
    return "tls-handshake"


def describe_der(der: bytes) -> list[str]:
    """Subject, issuer and expiry of a DER certificate (cryptography, imported here)."""
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        lines = [f"certificate subject {cert.subject.rfc4514_string() or '(empty)'}",
                 f"certificate issuer {cert.issuer.rfc4514_string() or '(empty)'}"]
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = [str(n.value) for n in san]
            lines.append(f"certificate SANs {', '.join(names[:8])}")
        except Exception:
            pass
        return lines
    except Exception as exc:  # pragma: no cover
        return [f"certificate could not be read ({type(exc).__name__})"]


def _handshake(host: str, port: int, *, starttls: bool, timeout: float, ctx: ssl.SSLContext) -> bytes | None:
    """Open a separate connection, (for STARTTLS) say EHLO and STARTTLS, complete a TLS handshake with `ctx` and
    close at once: nothing else is sent on it, never a credential. The server's DER certificate, or None when the
    handshake could not be made. Blocking."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            if starttls:
                f = raw.makefile("rb")

                def reply() -> int:
                    while True:
                        raw.settimeout(max(0.05, deadline - time.monotonic()))
                        line = f.readline()
                        if not line:
                            raise OSError("closed")
                        if line[3:4] != b"-":
                            return int(line[:3])

                reply()
                raw.sendall(b"EHLO outmail-certificate-check\r\n")
                reply()
                raw.sendall(b"STARTTLS\r\n")
                if reply() != 220:
                    return None
            raw.settimeout(max(0.05, deadline - time.monotonic()))
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                return tls.getpeercert(binary_form=True) or b""
    except Exception:
        return None


def _read_only_context(minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # read-only probes: no data is sent over these sessions
    ctx.minimum_version = minimum
    return ctx


def peek_certificate(host: str, port: int, *, starttls: bool, timeout: float) -> list[str]:
    """Name the certificate a server presents, after verification failed, so the admin knows what to trust.

    It completes a handshake WITHOUT trusting the certificate only to read it (see `_handshake`). Blocking: run it in
    a thread. Returns detail lines, or [] when the certificate cannot be read.
    """
    der = _handshake(host, port, starttls=starttls, timeout=timeout, ctx=_read_only_context())
    return describe_der(der) if der else []


def speaks_only_tls13(host: str, port: int, *, starttls: bool, timeout: float) -> bool:
    """After a TLS 1.2 handshake failed: True when the server completes a TLS 1.3 handshake (so it speaks TLS 1.3
    only, which LogicalDOC's sender cannot). A read-only probe on its own connection. Blocking."""
    ctx = _read_only_context(ssl.TLSVersion.TLSv1_3)
    return _handshake(host, port, starttls=starttls, timeout=timeout, ctx=ctx) is not None


def speaks_only_old_tls(host: str, port: int, *, starttls: bool, timeout: float) -> bool:
    """After a TLS 1.2 handshake failed: True when the server completes a TLS 1.0/1.1 handshake (OpenSSL 3 offers them
    only at security level 0). A read-only probe on its own connection. Blocking."""
    import warnings

    ctx = _read_only_context()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        return False
    return _handshake(host, port, starttls=starttls, timeout=timeout, ctx=ctx) is not None


def speaks_implicit_tls(host: str, port: int, *, timeout: float) -> bool:
    """True when a TLS handshake from the first byte succeeds on host:port (the port is SMTPS). Read-only probe."""
    return _handshake(host, port, starttls=False, timeout=timeout, ctx=_read_only_context()) is not None


def plain_banner(host: str, port: int, *, timeout: float) -> str | None:
    """The server's first line when it greets in clear ("220 ..."), else None (it waits for a TLS handshake, or says
    nothing). Sends nothing. Blocking."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            line = raw.makefile("rb").readline(512)
    except Exception:
        return None
    text = line.decode("ascii", "replace").strip()
    return text if len(text) >= 3 and text[:3].isdigit() else None

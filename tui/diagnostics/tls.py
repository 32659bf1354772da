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


def smtp_context(ca_file: str = "") -> tuple[ssl.SSLContext, str]:
    """The SMTP TLS context and a description of the CA source it trusts.

    Cached per CA source (file name and modification time, SSL_CERT_FILE / SSL_CERT_DIR): loading the system store
    takes milliseconds of event-loop time, and a context is safe to share between connections."""
    ca_file = (ca_file or "").strip()
    try:
        mtime = os.stat(ca_file).st_mtime_ns if ca_file else None
    except OSError:
        mtime = None
    key = (ca_file, mtime, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    hit = _CONTEXTS.get(key)
    if hit is None:
        hit = _CONTEXTS[key] = _build_smtp_context(ca_file)
    return hit


def _build_smtp_context(ca_file: str) -> tuple[ssl.SSLContext, str]:
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
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


def peek_certificate(host: str, port: int, *, starttls: bool, timeout: float) -> list[str]:
    """Name the certificate a server presents, after verification failed, so the admin knows what to trust.

    It opens a separate connection, (for STARTTLS) says EHLO and STARTTLS, completes a handshake WITHOUT trusting the
    certificate only to read it, and closes at once: nothing else is sent on it, never a credential. Blocking:
    run it in a thread. Returns detail lines, or [] when the certificate cannot be read.
    """
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
                    return []
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # read-only peek: no data is sent over this session
            raw.settimeout(max(0.05, deadline - time.monotonic()))
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
        return describe_der(der) if der else []
    except Exception:
        return []

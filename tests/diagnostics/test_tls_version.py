"""A server that offers only TLS 1.0/1.1 after STARTTLS: the starttls step fails with the tls-old-version hint."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest
import trustme

from tui.diagnostics.engine import diagnose
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.sandbox.certs import allow_tls_below_1_2
from tui.secret import Secret
from tui.settings.model import Settings


def old_tls_server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        allow_tls_below_1_2(ctx, only=True)
    except (ValueError, ssl.SSLError):
        pytest.fail("this OpenSSL cannot serve TLS 1.1, which this test needs (OpenSSL 3 can, at security level 0)")
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


async def diagnose_against(handle, ca_file, username: str = "user@contoso.com") -> Any:
    """Run the diagnostics (protocol smtp, STARTTLS) against a one-off server on 127.0.0.1 speaking `handle`."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = Settings(protocol="smtp", host="127.0.0.1", port=port, connection_security=2, auth_encrypted=False,
                            username=username, password=Secret("pw-value-123") if username else Secret(),
                            sender="user@contoso.com", timeout_seconds=3.0, ca_file=str(ca_file))
        return await diagnose(settings, token_cache=TokenCache())
    finally:
        server.close()


async def test_tls_below_1_2_fails_starttls(tmp_path):
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server_ctx = old_tls_server_context(ca)
    auth_seen = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 old.example ESMTP\r\n")
        while line := await reader.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith("EHLO"):
                writer.write(b"250-old.example\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n")
            elif cmd == "STARTTLS":
                writer.write(b"220 2.0.0 go ahead\r\n")
                await writer.drain()
                try:  # outmail's TLS 1.2 handshake fails here; its read-only TLS 1.0/1.1 probe completes
                    await writer.start_tls(server_ctx)
                except Exception:
                    break
                continue
            elif cmd.startswith("AUTH"):
                auth_seen.append(cmd)
                writer.write(b"235 ok\r\n")
            elif cmd == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    report = await diagnose_against(handle, ca_file)
    step = report.step("starttls")
    assert step.status == "fail", report_text(report)
    assert step.hint.id == "tls-old-version", report_text(report)
    assert report.step("auth").status == "skipped"
    assert not auth_seen


async def test_certificate_for_another_host_fails_starttls_with_tls_hostname(tmp_path):
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("smtp.other.example").configure_cert(server_ctx)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 other.example ESMTP\r\n")
        while line := await reader.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith("EHLO"):
                writer.write(b"250-other.example\r\n250 STARTTLS\r\n")
            elif cmd == "STARTTLS":
                writer.write(b"220 2.0.0 go ahead\r\n")
                await writer.drain()
                try:
                    await writer.start_tls(server_ctx)
                except Exception:
                    break
                continue
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    # LogicalDOC (mail.smtp.ssl.trust=*, no name check) would log in over this session; outmail refuses to send the
    # password over it, and says both
    report = await diagnose_against(handle, ca_file)
    step = report.step("starttls")
    assert step.status == "fail" and step.hint.id == "refuse-unverified-tls", report_text(report)
    assert "LogicalDOC accepts any certificate" in step.hint.cause and "outmail does not send it" in step.hint.cause
    assert any("smtp.other.example" in d for d in step.detail)  # the certificate is named
    assert report.step("auth").status == "skipped"
    assert "pw-value-123" not in report_text(report) + report.transcript_text()

    # no Username: no credential at stake, LogicalDOC sends; outmail goes on over the unverified session and says so
    report = await diagnose_against(handle, ca_file, username="")
    step = report.step("starttls")
    assert step.status == "warn" and step.hint.id == "tls-unverified-no-credential", report_text(report)
    assert "certificate NOT verified" in step.detail
    assert report.step("auth").status == "skipped"
    assert report.step("envelope").status == "ok", report_text(report)
    assert report.ok

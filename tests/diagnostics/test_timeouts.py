"""Timeouts as an admin meets them: a slow but working server passes (LogicalDOC's sender sets no read timeout);
a server that stops answering ends at the timeout with the right words, and its late reply is never read as the
answer to QUIT; a TLS handshake that never completes is not called a blocked TCP port."""

from __future__ import annotations

import asyncio

from tui.diagnostics.engine import diagnose
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.secret import Secret
from tui.settings.model import Settings
from tui.settings.store import load_settings

SLOW_REPLY = 0.4  # seconds the sandbox waits before each reply (fault slow-smtp)
SLOW_TIMEOUT = 1.0  # timeout_seconds: more than one reply's delay, less than the envelope's three
SILENT_TIMEOUT = 0.5  # timeout_seconds against a server that stops answering: the run ends after it


async def test_slow_but_working_server_passes(sandbox_clean, sandbox_env):
    """Every reply 0.4 s late, timeout 1 s: each read is answered in time, so no step may fail, though the envelope
    step's three replies take 1.2 s, more than one timeout (a read is bounded, not the step). The delay is a lower
    bound the server guarantees; the margin of each read (0.6 s) is what a loaded machine may add."""
    sb = sandbox_clean
    sb.delay_seconds = SLOW_REPLY
    sb.set_fault("slow-smtp")
    settings = load_settings(sb.info.settings_path, env={}).with_changes(timeout_seconds=SLOW_TIMEOUT)
    report = await diagnose(settings, token_cache=TokenCache())
    assert report.ok, report_text(report)
    assert report.step("envelope").duration_ms > SLOW_TIMEOUT * 1000  # 3 x 0.4 s: longer than one timeout
    assert report.step("quit").status == "ok"


async def serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def plain(port: int, **changes) -> Settings:
    values = dict(protocol="smtp", host="127.0.0.1", port=port, connection_security=0, auth_encrypted=False,
                  username="", sender="ldoc@example.test", timeout_seconds=SILENT_TIMEOUT)
    return Settings(**{**values, **changes})


async def test_ehlo_without_answer_is_not_a_missing_greeting_and_quit_reads_nothing_stale():
    after_ehlo = bytearray()
    client_closed = asyncio.Event()

    async def banner_then_silence(reader, writer):
        writer.write(b"220 hang.example ESMTP\r\n")
        await writer.drain()
        await reader.read(1 << 16)  # the EHLO, never answered
        while chunk := await reader.read(1 << 16):  # anything more the client sends, until it closes
            after_ehlo.extend(chunk)
        client_closed.set()
        writer.close()

    server, port = await serve(banner_then_silence)
    try:
        report = await diagnose(plain(port), token_cache=TokenCache())
        await asyncio.wait_for(client_closed.wait(), 10)  # outmail closed the connection it gave up
    finally:
        server.close()
    ehlo = report.step("ehlo")
    assert ehlo.status == "fail" and ehlo.hint.id == "step-timeout", report_text(report)
    assert "banner: 220 hang.example ESMTP" in ehlo.detail
    assert f"no answer within {SILENT_TIMEOUT:g} s" in ehlo.detail
    assert "sent no greeting" not in ehlo.hint.cause
    assert report.step("quit").status == "skipped"  # the connection is given up, never read out of step
    assert "permanent error" not in report_text(report)
    assert bytes(after_ehlo) == b""  # no QUIT (or anything else) after the unanswered EHLO: no second wait


async def test_implicit_tls_handshake_that_never_completes_is_a_tls_timeout():
    async def silent(reader, writer):
        while await reader.read(1 << 16):  # the ClientHello, never answered, until the client gives up
            pass
        writer.close()

    server, port = await serve(silent)
    try:
        report = await diagnose(plain(port, connection_security=3, username="svc-ldoc", password=Secret("pw-123456")),
                                token_cache=TokenCache())
    finally:
        server.close()
    connect = report.step("connect")
    assert connect.status == "fail" and connect.hint.id == "tls-timeout", report_text(report)
    assert connect.detail[0].startswith("connected to 127.0.0.1") or any(
        d.startswith("connected to 127.0.0.1") for d in connect.detail)
    assert "egress firewall" not in connect.hint.cause

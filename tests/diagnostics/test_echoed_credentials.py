"""A server that echoes the client's AUTH line in its refusal must not make outmail print the password: the reply
lands in the step's detail, the hint, the JSON and the transcript (the monitoring formats are rendered from them)."""

from __future__ import annotations

import asyncio
import base64
import json

from tui.diagnostics.engine import diagnose
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.secret import Secret
from tui.settings.model import Settings

PASSWORD = "EchoedPw-" + "9911"


async def echoing_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 echo.example ESMTP\r\n")
    while line := await reader.readline():
        cmd = line.decode().strip()
        if cmd.upper().startswith("EHLO"):
            writer.write(b"250-echo.example\r\n250 AUTH PLAIN\r\n")
        elif cmd.upper().startswith("AUTH"):
            writer.write(f"535 5.7.8 bad credentials: {cmd}\r\n".encode())
        elif cmd.upper() == "QUIT":
            writer.write(b"221 bye\r\n")
            break
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()
    writer.close()


async def test_an_echoed_auth_plain_line_is_redacted_everywhere():
    server = await asyncio.start_server(echoing_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = Settings(protocol="smtp", host="127.0.0.1", port=port, connection_security=0, auth_encrypted=False,
                            username="svc-ldoc", password=Secret(PASSWORD), sender="ldoc@example.test",
                            timeout_seconds=3.0)
        report = await diagnose(settings, token_cache=TokenCache())
    finally:
        server.close()
    auth = report.step("auth")
    assert auth.status == "fail" and auth.hint.id == "password-rejected", report_text(report)
    assert auth.hint.reply == "535 5.7.8 bad credentials: AUTH PLAIN <redacted>"
    blob = base64.b64encode(f"\0svc-ldoc\0{PASSWORD}".encode()).decode()
    # the monitoring formats render from this same redacted report
    shown = report_text(report) + json.dumps(report.to_full_json()) + report.transcript_text()
    for leaked in (PASSWORD, blob, blob[:16]):
        assert leaked not in shown

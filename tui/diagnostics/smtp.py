"""The SMTP client with a transcript: an `aiosmtplib.SMTP` whose every line in and out is recorded (redacted).

Imported by the engine only inside the SMTP steps (aiosmtplib must not load when the console starts).

`TracedSMTP` is a plain `aiosmtplib.SMTP` (5.1.x): after `connect()` it hooks its protocol's `write` and
`read_response`, so every command (`execute_command`, `ehlo`, `starttls`, `mail`, `rcpt`, `data`, `sendmail`,
`send_message`, `quit`) lands in the transcript in order. The message content of DATA is recorded as
`<message content, N bytes>`; any line answering a 334 challenge and every AUTH argument is redacted.
"""

from __future__ import annotations

from typing import Any

import aiosmtplib

from tui.diagnostics.transcript import Recorder


class TracedSMTP(aiosmtplib.SMTP):
    """aiosmtplib.SMTP that records the SMTP dialogue in a `Recorder`."""

    def __init__(self, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder
        self._after_334 = False
        self._in_data = False
        self.banner: aiosmtplib.SMTPResponse | None = None

    async def connect(self, **kwargs: Any) -> aiosmtplib.SMTPResponse:  # type: ignore[override]
        kwargs.setdefault("start_tls", False)  # never upgrade (or log in) implicitly: the engine does it step by step
        try:
            response = await super().connect(**kwargs)
        except aiosmtplib.SMTPConnectResponseError as exc:  # a banner other than 220
            self.recorder.server_reply(exc.code, exc.message)
            raise
        self.banner = response
        self.recorder.server_reply(response.code, response.message)
        self._hook()
        return response

    def _hook(self) -> None:
        protocol = self.protocol
        if protocol is None or getattr(protocol, "_outmail_traced", False):
            return
        original_write = protocol.write
        original_read = protocol.read_response

        def write(data: bytes) -> None:
            if self._in_data:
                self._in_data = False
                self.recorder.add("I", f"<message content, {len(data)} bytes>")
            else:
                text = data.decode("utf-8", "replace")
                lines = text.split("\r\n")
                if lines and lines[-1] == "":
                    lines.pop()
                for line in lines:
                    self.recorder.add("C", line, after_334=self._after_334)
                    self._after_334 = False
            original_write(data)

        async def read_response(timeout: float | None = None) -> aiosmtplib.SMTPResponse:
            response = await original_read(timeout=timeout)
            self.recorder.server_reply(response.code, response.message)
            self._after_334 = response.code == 334
            self._in_data = response.code == 354
            return response

        protocol.write = write  # type: ignore[method-assign]
        protocol.read_response = read_response  # type: ignore[method-assign]
        protocol._outmail_traced = True  # type: ignore[attr-defined]

    @property
    def extensions(self) -> dict[str, str]:
        return dict(self.esmtp_extensions)

    @property
    def ssl_object(self) -> Any:
        if self.transport is None:
            return None
        return self.transport.get_extra_info("ssl_object")

"""The transcript: every SMTP line in order (C: / S:), the token request summary and the TLS handshake (I:).

Every line passes through the run's `Redactor` before it is stored or emitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from tui.diagnostics.redact import Redactor


@dataclass(frozen=True)
class TranscriptLine:
    """One transcript line. `t_ms` is the offset from the run's start; `text` is already redacted."""

    t_ms: float
    direction: str  # "C" client, "S" server, "I" info (token request, TLS handshake, connect)
    text: str

    def render(self) -> str:
        return f"{self.t_ms:9.1f} ms  {self.direction}: {self.text}"


class Recorder:
    """Collects transcript lines for one run; `on_line` (the engine's emitter) sees each new line."""

    def __init__(self, redactor: Redactor, t0: float | None = None,
                 on_line: Callable[[TranscriptLine], None] | None = None) -> None:
        self.redactor = redactor
        self.t0 = time.perf_counter() if t0 is None else t0
        self.lines: list[TranscriptLine] = []
        self.on_line = on_line

    def add(self, direction: str, text: str, *, at: float | None = None, raw_client: bool = False,
            after_334: bool = False) -> TranscriptLine:
        """Record a line. Client lines (direction "C") go through Redactor.client_line (AUTH, 334 answers)."""
        t = (at if at is not None else time.perf_counter()) - self.t0
        if direction == "C":
            shown = self.redactor.client_line(text, after_334=after_334)
        else:
            shown = self.redactor.text(text)
        line = TranscriptLine(round(t * 1000, 1), direction, shown)
        self.lines.append(line)
        if self.on_line is not None:
            self.on_line(line)
        return line

    def server_reply(self, code: int, message: str, *, at: float | None = None) -> None:
        """An SMTP reply as the server sent it: one line per reply line, `250-` continuation markers."""
        parts = message.split("\n") if message else [""]
        for i, part in enumerate(parts):
            sep = " " if i == len(parts) - 1 else "-"
            self.add("S", f"{code}{sep}{part}".rstrip(), at=at)

    def text(self) -> str:
        """The whole transcript as plain text (for copying or saving)."""
        return "\n".join(line.render() for line in self.lines) + ("\n" if self.lines else "")

"""The result model of a diagnostics run: `StepResult` (one step), `TokenInfo` (what the token step learnt) and
`Report` (the whole run, with the `outmail check --json` document). No Textual, no network here.

Built by the engine (`tui.diagnostics.engine.diagnose`), carried by its events (`tui.diagnostics.events`), read by
the console, the CLIs, the monitor and the setup guide. Every text in it (detail, hint, transcript) is already
redacted by the run's `Redactor`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tui.diagnostics.hints import Hint
from tui.diagnostics.transcript import TranscriptLine

Status = Literal["pending", "running", "ok", "warn", "fail", "skipped"]


@dataclass
class StepResult:
    """One step's state. `started_ms` is the offset from the run's start (for a waterfall); `detail` and `hint` are
    already redacted."""

    id: str
    title: str
    status: Status = "pending"
    duration_ms: float | None = None
    detail: list[str] = field(default_factory=list)
    hint: Hint | None = None
    started_ms: float | None = None

    def copy(self) -> "StepResult":
        return replace(self, detail=list(self.detail))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "duration_ms": self.duration_ms,
                "detail": list(self.detail), "hint": self.hint.to_json() if self.hint else None}


@dataclass
class TokenInfo:
    """What the token step learnt (no token value)."""

    source: str  # "identity_provider" | "cache"
    preview: str  # first characters only
    expires_in: int | None
    claims: dict[str, Any]  # claims.summary(): aud, tid, appid/azp, oid, roles, exp, ...
    oid: str | None
    ca_source: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "preview": self.preview, "expires_in": self.expires_in,
                "claims": self.claims, "oid": self.oid, "ca_source": self.ca_source}


@dataclass
class Report:
    """The outcome of one run. `ok` is True when no step failed (warnings allowed): the CLI's exit-code rule."""

    steps: list[StepResult]
    transcript: list[TranscriptLine]
    token: TokenInfo | None = None
    target: str = ""  # "smtpmicrosoft365 smtp.office365.com:587 (tenant default)"
    duration_ms: float = 0.0
    cancelled: bool = False
    model: str | None = None  # the authorization model the token implies: "classic", "rbac"; None without a token

    @property
    def ok(self) -> bool:
        return not self.cancelled and not any(s.status == "fail" for s in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "fail"), None)

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)

    def to_json(self) -> dict[str, Any]:
        """The `outmail check --json` document: {"ok", "model", "steps": [{id, title, status, duration_ms, detail,
        hint}]}. `model` is Exchange's authorization model the token implies ("classic": the token carries
        SMTP.SendAsApp; "rbac": it does not, so only RBAC for Applications can authorize the app), null without a
        token; whether it authorized the app is the `auth` step's status."""
        return {"ok": self.ok, "model": self.model, "steps": [s.to_json() for s in self.steps]}

    def to_full_json(self) -> dict[str, Any]:
        """to_json() plus the transcript, the token summary and the target (for saving a run)."""
        doc = self.to_json()
        doc["target"] = self.target
        doc["duration_ms"] = self.duration_ms
        doc["token"] = self.token.to_json() if self.token else None
        doc["transcript"] = [{"t_ms": l.t_ms, "direction": l.direction, "text": l.text} for l in self.transcript]
        return doc

    def saved_text(self) -> str:
        """What "save" writes: every step with its detail and hint, then the whole transcript (all redacted)."""
        return self.to_text(verbose=True) + "\nTranscript\n" + self.transcript_text()

    def save(self, path: Any) -> None:
        """Write saved_text() to `path`, readable by the owner only (0600)."""
        import os

        fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.saved_text())

    def transcript_text(self) -> str:
        return "\n".join(l.render() for l in self.transcript) + ("\n" if self.transcript else "")

    def to_text(self, *, verbose: bool = False) -> str:
        """Plain text for the CLI: one line per step, the detail and hint under a failure (and a warning)."""
        out = [f"outmail check: {self.target}"] if self.target else []
        for s in self.steps:
            mark = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skipped": "skip", "pending": "-",
                    "running": "..."}.get(s.status, s.status)
            dur = f"{s.duration_ms:.0f} ms" if s.duration_ms is not None else ""
            summary = s.detail[0] if s.detail else ""
            out.append(f"  {mark:<5} {s.id:<9} {s.title:<16} {dur:>8}  {summary}".rstrip())
            if s.status in ("fail", "warn") or verbose:
                shown = set(s.detail)
                for d in s.detail[1:]:
                    out.append(f"{'':>9}{d}")
                if s.hint and s.status in ("fail", "warn"):
                    out.extend(f"{'':>9}{line}" for line in s.hint.lines()
                               if line not in shown and line.split(": ", 1)[-1] not in shown)
        if self.model is not None:
            from tui.diagnostics.claims import MODEL_NAMES

            out.append(f"Authorization model (from the token): {MODEL_NAMES[self.model]}")
        verdict = "cancelled" if self.cancelled else ("passed" if self.ok else
                                                         f"FAILED at {self.failed_step.id}" if self.failed_step else "")
        warn = sum(1 for s in self.steps if s.status == "warn")
        warned = f" with {warn} warning{'' if warn == 1 else 's'}" if warn and self.ok else ""
        out.append(f"Result: {verdict}{warned} "
                   f"in {self.duration_ms:.0f} ms")
        return "\n".join(out) + "\n"

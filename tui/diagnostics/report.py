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
    """One step's state: `id` ("settings", "token", "connect", "ehlo", "starttls", "auth", "quit", or an extra
    step's: "envelope", "send"), `title`, `status` (pending, running, ok, warn, fail, skipped), `duration_ms` (None
    until it ends, and for a step skipped without starting), `detail` (lines; detail[0] the summary, for a failure
    what went wrong), `hint` (the hint table's row for a failure or warning), `started_ms` (offset from the run's
    start, for a waterfall; None for a step that never started). Every text is already redacted."""

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
    """What the token step learnt, never the token itself: `source` ("identity_provider" or "cache"), `preview` (its
    first characters, `redact.token_preview`), `expires_in` (seconds, None when Entra ID did not say), `claims`
    (`claims.summary()`: aud, tid, appid/azp, oid, roles, exp, ...), `oid` (the service principal's object id, or
    None), `ca_source` (which CA bundle verified Entra ID's certificate)."""

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
    """The outcome of one run (`engine.diagnose`'s return value and `RunFinished.report`): `steps` in the run's order,
    `transcript` (redacted lines), `token` (TokenInfo or None), `target` ("[path ]protocol host:port (tenant t)"),
    `duration_ms`, `cancelled`, `model` (the authorization model the token implies: "classic", "rbac", None without a
    token), `outcomes` (what extra steps produced, by step id: a test send's SendOutcome under "send"). `ok` is True
    when no step failed (warnings allowed): the CLI's exit-code rule. The text renderings are `tui.diagnostics.text`."""

    steps: list[StepResult]
    transcript: list[TranscriptLine]
    token: TokenInfo | None = None
    target: str = ""  # "smtpmicrosoft365 smtp.office365.com:587 (tenant default)"
    duration_ms: float = 0.0
    cancelled: bool = False
    model: str | None = None  # the authorization model the token implies: "classic", "rbac"; None without a token
    outcomes: dict[str, Any] = field(default_factory=dict)  # what extra steps produced, by step id (to_json() each)

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
        """to_json() plus the target, the duration (ms), the token summary (TokenInfo.to_json(), null without one),
        the transcript [{t_ms, direction, text}] and each extra step's outcome under its step id (a test send's
        "send")."""
        doc = self.to_json()
        doc["target"] = self.target
        doc["duration_ms"] = self.duration_ms
        doc["token"] = self.token.to_json() if self.token else None
        doc["transcript"] = [{"t_ms": l.t_ms, "direction": l.direction, "text": l.text} for l in self.transcript]
        for step_id, outcome in self.outcomes.items():  # e.g. "send": the test send's SendOutcome
            doc[step_id] = outcome.to_json()
        return doc

    def transcript_text(self) -> str:
        """The transcript, one rendered line each ("   12.3 ms  C: EHLO host"), for copying or saving."""
        return "\n".join(l.render() for l in self.transcript) + ("\n" if self.transcript else "")

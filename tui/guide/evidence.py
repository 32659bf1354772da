"""What proves or disproves each setup step: a diagnostics run (or a test send) and the settings themselves.

    last = LastRun(report, finished_at=time.time())   # the console keeps its last Report and when it ended
    items = run_evidence(last, values)                # list[Evidence], one per step it says something about
    items += settings_evidence(values, now)           # S0: protocol SMTP against Exchange Online

An `Evidence` names its step, its verdict ("proven", "failed" or "info"), the words the admin reads ("token issued
at 10:42: S1 and S2 work", "235 at 10:43: S5, S6 and S8 work", "AUTH failed at 10:43: 535 5.7.3 ...; points at S5,
S6") and two times in Unix seconds: `at`, when the thing happened (the token's `iat`, the end of the AUTH step), and
`observed_at`, when the observation it belongs to was made (the run's end, the verification's `collected_at`).
`decide` turns a step's evidence into its state: the newest observation that says something wins, and inside one
observation a failure beats a proof (a run whose token path failed and whose SMTP path passed did not prove S9).

What a run proves (Microsoft 365, the reference's section 4 and the sandbox's identity model):
- a token issued: S1 and S2 (Entra ID knows the app in this tenant and took the secret);
- a token carrying SMTP.SendAsApp: S3 and S4; a token without it: S3/S4 failed (classic model only);
- STARTTLS done and the token fetched over HTTPS: S9;
- AUTH 235: S5 (the service principal exists for the token's oid) and S8 (SMTP AUTH is on: it applies to XOAUTH2),
  plus S6 with a classic token or R1-R3 with a token without roles (RBAC for Applications authorized the app);
- a test send accepted after DATA, From an address other than the mailbox: S7 for that address (Exchange checks
  Send As after DATA, so `check`'s envelope step proves nothing about it);
- a failed step whose hint names setup steps: each of them failed ("the step the last run pointed at").
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import getaddresses
from typing import Any, Iterable, Literal

from tui.guide.values import GuideValues

Verdict = Literal["proven", "failed", "info"]
State = Literal["proven", "failed", "unknown", "not-needed"]
STATES: tuple[str, ...] = ("proven", "failed", "unknown", "not-needed")
REQUIRED_ROLE = "SMTP.SendAsApp"


def clock_text(at: float | None, now: float | None = None) -> str:
    """"10:42" (local time), with the date when `at` is not today: "2026-07-01 10:42"; "?" for None."""
    if at is None:
        return "?"
    now = time.time() if now is None else now
    local = time.localtime(at)
    if time.strftime("%Y-%m-%d", local) != time.strftime("%Y-%m-%d", time.localtime(now)):
        return time.strftime("%Y-%m-%d %H:%M", local)
    return time.strftime("%H:%M", local)


def iso_utc(at: float | None) -> str | None:
    """"2026-07-01T10:42:05Z" for Unix seconds; None for None."""
    if at is None:
        return None
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def join_ids(ids: Iterable[str]) -> str:
    """"S5", "S5 and S6", "S5, S6 and S8"."""
    ids = list(ids)
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " and " + ids[-1] if ids else ""


def split_steps(step: str | None) -> list[str]:
    """A hint's step field ("S5, S6, R1") as ids."""
    return [p.strip() for p in (step or "").split(",") if p.strip()]


@dataclass(frozen=True)
class Evidence:
    """One observation about one setup step. `source` says where it comes from: "settings", "token", "smtp",
    "auth", "envelope", "send" (a run's step id) or "verification"; `subject` narrows it to one address (S7: the
    From it is about; "" for the step as a whole)."""

    step: str
    verdict: Verdict
    text: str
    at: float | None
    observed_at: float
    source: str
    subject: str = ""

    def to_json(self) -> dict[str, Any]:
        """{"step", "verdict", "text", "at" (ISO 8601 UTC or null), "observed_at", "source", "subject"}."""
        return {"step": self.step, "verdict": self.verdict, "text": self.text, "at": iso_utc(self.at),
                "observed_at": iso_utc(self.observed_at), "source": self.source, "subject": self.subject}


@dataclass(frozen=True)
class LastRun:
    """A finished diagnostics run (`engine.Report`, or a test send's `SendReport`) and the Unix time it ended. The
    Report has no wall-clock time of its own: the console records `time.time()` when `RunFinished` arrives; the CLI
    when `diagnose` returns."""

    report: Any
    finished_at: float

    @property
    def started_at(self) -> float:
        return self.finished_at - float(self.report.duration_ms or 0.0) / 1000.0

    def step_end(self, step: Any) -> float:
        """When a step ended (Unix seconds): the run's start plus the step's offset and duration."""
        if step.started_ms is None:
            return self.finished_at
        return self.started_at + (float(step.started_ms) + float(step.duration_ms or 0.0)) / 1000.0

    def summary(self) -> str:
        """"passed at 10:43", "FAILED at auth at 10:43: 535 5.7.3 ...", "cancelled at 10:43"."""
        r = self.report
        when = clock_text(self.finished_at)
        if getattr(r, "cancelled", False):
            return f"cancelled at {when}"
        failed = r.failed_step
        if failed is None:
            return f"passed at {when}"
        return f"FAILED at {failed.id} at {when}: {_why(failed)}"

    def to_json(self) -> dict[str, Any]:
        r = self.report
        failed = r.failed_step
        return {"ok": bool(r.ok), "finished_at": iso_utc(self.finished_at), "model": r.model,
                "failed_step": failed.id if failed is not None else None,
                "hint": failed.hint.to_json() if failed is not None and failed.hint is not None else None}


def _why(step: Any) -> str:
    if step.hint is not None and step.hint.reply:
        return _short(step.hint.reply)
    if step.detail:
        return _short(step.detail[0])
    return _short(step.hint.cause) if step.hint is not None else "failed"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _from_addresses(step: Any, fallback: str) -> list[str]:
    """The From header a test send used (its "From: ..." detail line), else `fallback` (the envelope sender)."""
    for line in step.detail:
        if line.startswith("From: "):
            header = re.sub(r"\s*\(Sender: .*\)$", "", line[len("From: "):])
            found = [addr for _, addr in getaddresses([header]) if addr]
            if found:
                return found
    return [fallback] if fallback else []


def run_evidence(last: LastRun, values: GuideValues, model: str | None = None) -> list[Evidence]:
    """Evidence from one finished run (see the module docstring for what proves what). Only protocol SMTP
    Microsoft 365 runs prove setup steps: a basic-auth run proves nothing about S1-S9. `model` is the guide's model:
    for the classic model a token without SMTP.SendAsApp explains a refused AUTH by itself (S3, S4), so the
    refusal then only informs about the Exchange-side steps it would otherwise point at."""
    r = last.report
    obs = last.finished_at
    out: list[Evidence] = []
    steps = {s.id: s for s in r.steps}

    def add(step_id: str, verdict: Verdict, text: str, at: float | None, source: str, subject: str = "") -> None:
        out.append(Evidence(step_id, verdict, text, at, obs, source, subject))

    # what failed: the hint of each failed step names the setup steps it points at
    for s in r.steps:
        if s.status != "fail" or s.hint is None or not s.hint.setup_step:
            continue
        ids = split_steps(s.hint.setup_step)
        at = last.step_end(s)
        text = f"{s.title} failed at {clock_text(at)}: {_why(s)}; points at {join_ids(ids)}"
        explained = s.id == "auth" and model == "classic" and r.model == "rbac"
        for step_id in ids:
            if explained:
                add(step_id, "info", f"{s.title} failed at {clock_text(at)}: {_why(s)}; with the classic model the "
                                     f"token's missing SMTP.SendAsApp role (S3, S4) explains it", at, s.id)
            else:
                add(step_id, "failed", text, at, s.id)

    if not values.m365:
        return out

    token = getattr(r, "token", None)
    token_step = steps.get("token")
    if token is not None:
        claims = token.claims or {}
        iat = claims.get("iat")
        if token.source == "cache" and isinstance(iat, (int, float)):
            # Entra dates iat (and nbf) 5 minutes back; a cached token was issued about then
            at = float(iat) + 300
            issued = f"token issued at {clock_text(at)} (from the cache at {clock_text(obs)})"
        else:
            at = last.step_end(token_step) if token_step is not None else obs
            issued = f"token issued at {clock_text(at)}"
        add("S1", "proven", f"{issued}: S1 and S2 work", at, "token")
        add("S2", "proven", f"{issued}: S1 and S2 work", at, "token")
        roles = claims.get("roles") or []
        roles = [str(x) for x in roles] if isinstance(roles, list) else [str(roles)]
        if REQUIRED_ROLE in roles:
            text = f"token issued at {clock_text(at)} carries {REQUIRED_ROLE}: S3 and S4 work"
            add("S3", "proven", text, at, "token")
            add("S4", "proven", text, at, "token")
        else:
            text = (f"token issued at {clock_text(at)} has no {REQUIRED_ROLE} role: the permission (S3) or its admin "
                    f"consent (S4) is missing (right for RBAC for Applications, wrong for the classic model)")
            add("S3", "failed", text, at, "token")
            add("S4", "failed", text, at, "token")

    starttls = steps.get("starttls")
    connect = steps.get("connect")
    if (starttls is not None and starttls.status in ("ok", "warn") and connect is not None
            and connect.status in ("ok", "warn") and token is not None):
        at = last.step_end(starttls)
        add("S9", "proven", f"token over HTTPS and STARTTLS with {values.host}:{values.port} at {clock_text(at)}: "
                            f"S9 works", at, "starttls")

    auth = steps.get("auth")
    if auth is not None and auth.status in ("ok", "warn") and token is not None:
        at = last.step_end(auth)
        ids = ["S5"] + (["S6"] if r.model == "classic" else ["R1", "R2", "R3"] if r.model == "rbac" else []) + ["S8"]
        reply = auth.detail[0].split(";")[0] if auth.detail else "235"
        code = reply.split()[0] if reply else "235"
        text = f"{code} at {clock_text(at)}: {join_ids(ids)} work"
        for step_id in ids:
            add(step_id, "proven", text, at, "auth")

    send = steps.get("send")
    # The send step's outcome: Report.outcomes["send"] (the engine's), or a SendReport's .send (its view of it).
    outcome = (getattr(r, "outcomes", None) or {}).get("send", getattr(r, "send", None))
    if send is not None and send.status == "ok" and outcome is not None and getattr(outcome, "sent", False):
        at = last.step_end(send)
        mailbox = values.mailbox.lower()
        for address in _from_addresses(send, getattr(outcome, "envelope_from", "")):
            if address.lower() != mailbox:
                add("S7", "proven", f"250 after DATA at {clock_text(at)}: Exchange took mail From {address}, so "
                                    f"Send As works for it", at, "send", subject=address)
    return out


def settings_evidence(values: GuideValues, now: float, *, basic_auth_exchange: bool) -> list[Evidence]:
    """S0 from the settings: failed while protocol SMTP sends to Exchange Online (basic authentication)."""
    if not basic_auth_exchange:
        return []
    return [Evidence("S0", "failed", f"the settings: Protocol SMTP (basic authentication) to {values.host}, which is "
                     f"Exchange Online", now, now, "settings")]


def decide(step_id: str, items: list[Evidence], *, needed_subjects: tuple[str, ...] = ()) -> tuple[State, Evidence | None]:
    """A step's state from its evidence and the evidence it comes from. The newest observation with a verdict
    decides, a failure beating a proof inside it; no verdict: "unknown". With `needed_subjects` (S7: the From
    addresses), each address is decided on its own: any failed -> failed; all proven -> proven; else unknown (a
    failure without a subject counts for every address)."""
    judged = [e for e in items if e.step == step_id and e.verdict in ("proven", "failed")]
    if not judged:
        return "unknown", None
    if not needed_subjects:
        newest = max(e.observed_at for e in judged)
        latest = [e for e in judged if e.observed_at == newest]
        failed = next((e for e in latest if e.verdict == "failed"), None)
        return ("failed", failed) if failed is not None else ("proven", latest[0])
    per: dict[str, tuple[State, Evidence]] = {}
    for subject in needed_subjects:
        mine = [e for e in judged if e.subject == "" or e.subject.lower() == subject.lower()]
        if mine:
            per[subject] = decide(step_id, [Evidence(e.step, e.verdict, e.text, e.at, e.observed_at, e.source)
                                            for e in mine])  # type: ignore[assignment]
    for state, ev in per.values():
        if state == "failed":
            return "failed", _original(judged, ev)
    if len(per) == len(needed_subjects) and all(state == "proven" for state, _ in per.values()):
        return "proven", _original(judged, next(iter(per.values()))[1])
    return "unknown", None


def _original(items: list[Evidence], copy: Evidence) -> Evidence:
    return next((e for e in items if (e.text, e.observed_at, e.verdict) == (copy.text, copy.observed_at,
                                                                            copy.verdict)), copy)

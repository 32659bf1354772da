"""The setup guide: LogicalDOC's Microsoft 365 procedure as a checklist whose every step carries its state and the
evidence behind it. `build_guide` puts the pieces together; it runs nothing and touches no network.

    guide = build_guide(settings, last_run=LastRun(report, finished_at), verification=v, model=None,
                        from_addresses=(), now=None)
    guide.applicable     # False for protocol SMTP to a server that is not Exchange Online (no Microsoft steps)
    guide.model          # "classic" | "rbac": the one asked for, else the last token's, else "classic"
    guide.model_source   # "chosen" | "token" | "default"
    guide.steps          # tuple[GuideStep] in the procedure's order (S0 first for basic auth to Exchange Online)
    guide.pending        # the steps neither proven nor not needed, in order (what the setup script does)
    guide.cause          # the one named cause of the last run's failure, when the evidence tells it; else None
    guide.privilege      # privilege.Privilege (None without a token: no roles known)
    guide.notes          # tuple[str]: the basic-auth deadline, Exchange's delay, ...
    guide.ok             # no step failed
    guide.setup_script() / guide.verify_script()   # the PowerShell (tui.guide.scripts)
    guide.to_json() / guide.to_text()              # tui.guide.render

Raises `verify.VerificationError` when the verification is about another client id or mailbox than the settings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tui.diagnostics import hints as H
from tui.diagnostics.claims import MODEL_NAMES
from tui.diagnostics.setup_steps import (BASIC_AUTH_DEADLINE_NOTE, RBAC_SETTLING_NOTE, SETTLING_NOTE, SetupStep,
                                         guide_steps)
from tui.guide.evidence import (Evidence, LastRun, State, clock_text, decide, join_ids, run_evidence,
                                settings_evidence, split_steps)
from tui.guide.privilege import Privilege, least_privilege
from tui.guide.values import GuideValues
from tui.guide.verify import Verification, VerificationError, verification_evidence

MODELS = ("classic", "rbac")
EXCHANGE_SIDE = ("S5", "S6", "S7", "S8", "R1", "R2", "R3")


@dataclass(frozen=True)
class GuideStep:
    """One step as the admin sees it: the setup_steps.py row (title, where, what, proves), the PowerShell filled
    with their values (`command`; S7: one line per From address; None for portal steps), its `state` and every piece
    of `evidence` about it, newest observation first; `decisive` is the evidence the state comes from."""

    id: str
    title: str
    where: str
    what: str
    proves: str
    command: str | None
    model: str
    state: State
    evidence: tuple[Evidence, ...] = ()
    decisive: Evidence | None = None
    scripted: bool = False  # the setup script can do it (PowerShell); else it is done in a portal or the settings

    def to_json(self) -> dict[str, Any]:
        """{"id", "title", "where", "what", "proves", "command", "model", "state", "scripted", "evidence": [...],
        "decisive": {...} | null}."""
        return {"id": self.id, "title": self.title, "where": self.where, "what": self.what, "proves": self.proves,
                "command": self.command, "model": self.model, "state": self.state, "scripted": self.scripted,
                "evidence": [e.to_json() for e in self.evidence],
                "decisive": self.decisive.to_json() if self.decisive else None}


@dataclass(frozen=True)
class Guide:
    applicable: bool
    model: str
    model_source: str
    values: GuideValues
    steps: tuple[GuideStep, ...]
    privilege: Privilege | None = None
    notes: tuple[str, ...] = ()
    cause: str | None = None
    cause_steps: tuple[str, ...] = ()
    last_run: LastRun | None = None
    verification: Verification | None = None
    basic_auth_exchange: bool = False
    made_at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """No step failed (steps not yet known allowed): `outmail guide`'s exit 0."""
        return not any(s.state == "failed" for s in self.steps)

    @property
    def pending(self) -> tuple[GuideStep, ...]:
        """Steps neither proven nor not needed, in order."""
        return tuple(s for s in self.steps if s.state in ("failed", "unknown"))

    def step(self, step_id: str) -> GuideStep:
        return next(s for s in self.steps if s.id == step_id)

    def setup_script(self) -> str:
        from tui.guide.scripts import setup_script

        return setup_script(self)

    def verify_script(self) -> str:
        from tui.guide.scripts import verify_script

        return verify_script(self.values)

    def to_json(self) -> dict[str, Any]:
        from tui.guide.render import guide_json

        return guide_json(self)

    def to_text(self) -> str:
        from tui.guide.render import guide_text

        return guide_text(self)


def default_model(report: Any | None) -> tuple[str, str]:
    """(model, source): the last token's model ("token"), else "classic" (LogicalDOC's own guide; "default")."""
    model = getattr(report, "model", None) if report is not None else None
    if model in MODELS:
        return model, "token"
    return "classic", "default"


def is_basic_auth_exchange(settings: Any, report: Any | None = None) -> bool:
    """Protocol SMTP (basic authentication) to Exchange Online: the host says so, or the last run's server did."""
    if getattr(settings, "is_m365", False) or getattr(settings, "protocol", "") != "smtp":
        return False
    if H.server_kind(host=str(getattr(settings, "host", "") or "")) == "exchange":
        return True
    if report is not None:
        said = " ".join(line for s in report.steps if s.id in ("ehlo", "auth", "envelope") for line in s.detail)
        if said and H.server_kind(said=said) == "exchange":
            return True
    return False


def _command(step: SetupStep, values: GuideValues) -> str | None:
    if step.command is None:
        return None
    if step.id == "S7" and len(values.from_addresses) > 1:
        return "\n".join(H.fill(step.command, values.hint_context(sender=a)) or "" for a in values.from_addresses)
    return step.filled_command(values.hint_context())


def build_guide(settings: Any, *, last_run: LastRun | None = None, verification: Verification | None = None,
                model: str | None = None, from_addresses: tuple[str, ...] | list[str] = (),
                now: float | None = None) -> Guide:
    """The guide for `settings` (a tui.settings.model.Settings) from the evidence at hand.

    last_run: the last diagnostics run (or test send) and when it ended; None: nothing proven by a run.
    verification: a parsed verification summary (verify.parse_verification); VerificationError when it is about
        another client id or mailbox.
    model: "classic" or "rbac"; None takes the last token's model, else "classic". ValueError for another value.
    from_addresses: From addresses beyond the Sender Email (with 'Use user's email as sender': the users' own).
    now: Unix seconds (default time.time()), for the settings' evidence and the times shown.
    """
    now = time.time() if now is None else now
    if model is not None and model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    report = last_run.report if last_run is not None else None
    token = getattr(report, "token", None) if report is not None else None
    claims = token.claims if token is not None else None
    values = GuideValues.from_settings(settings, claims, tuple(from_addresses))
    if verification is not None:
        problem = verification.mismatch(values)
        if problem:
            raise VerificationError(problem)
        if not values.object_id and verification.object_id:
            values = values.with_object_id(verification.object_id, "verification")
    if model is None:
        chosen, source = default_model(report)
    else:
        chosen, source = model, "chosen"

    basic = is_basic_auth_exchange(settings, report)
    applicable = bool(getattr(settings, "is_m365", False)) or basic
    notes: list[str] = []
    if not applicable:
        notes.append(f"The setup guide is for Microsoft 365 (Exchange Online). Protocol "
                     f"{getattr(settings, 'protocol', '?')} to {values.host or '(no server)'} needs no Microsoft "
                     f"setup step: `outmail check` proves it.")
        return Guide(False, chosen, source, values, (), None, tuple(notes), last_run=last_run,
                     verification=verification, made_at=now)
    if basic:
        notes.append(BASIC_AUTH_DEADLINE_NOTE)

    items: list[Evidence] = settings_evidence(values, now, basic_auth_exchange=basic)
    if last_run is not None:
        items += run_evidence(last_run, values, chosen)
    if verification is not None:
        items += verification_evidence(verification, values)

    steps: list[GuideStep] = []
    for s in guide_steps(chosen, basic_auth_exchange=basic):
        mine = sorted((e for e in items if e.step == s.id), key=lambda e: e.observed_at, reverse=True)
        if s.id == "S7":
            if not values.sends_as_others() and not any(e.verdict == "failed" for e in mine):
                state: State = "not-needed"
                decisive = Evidence("S7", "info", "From is the mailbox itself (Sender Email is Username and 'Use "
                                    "user's email as sender' is off): no Send As needed", None, now, "settings")
                mine = [decisive, *mine]
            else:
                needed = values.from_addresses if values.from_addresses else ("*",)
                state, decisive = decide("S7", mine, needed_subjects=needed)
                if values.userasfrom and not from_addresses and state == "proven":
                    state = "unknown"  # every user's address sends, and none was named: the rest are not known
                    decisive = None
        else:
            state, decisive = decide(s.id, mine)
        steps.append(GuideStep(s.id, s.title, s.where, s.what, s.proves, _command(s, values), s.model, state,
                               tuple(mine), decisive, scripted=s.script is not None))

    privilege = None
    if claims is not None:
        iat = claims.get("iat")
        privilege = least_privilege(claims, values, chosen, token_at=float(iat) if isinstance(iat, (int, float))
                                    else None)
    elif chosen == "rbac":
        privilege = least_privilege(None, values, chosen)

    cause, cause_steps = _cause(steps, last_run, verification)
    if any(s.id in EXCHANGE_SIDE and s.state in ("failed", "unknown") for s in steps):
        notes.append(RBAC_SETTLING_NOTE if chosen == "rbac" else SETTLING_NOTE)
    if values.userasfrom:
        notes.append("'Use user's email as sender' is on: LogicalDOC sends From each user's own address, and each one "
                     "needs Send As (S7)" + (" or a place in the RBAC scope (R1)" if chosen == "rbac" else "")
                     + "; name them with --from (the console: the From addresses field) to have them filled in and "
                     "checked.")
    if source == "token" and report is not None and report.model is not None:
        other = "rbac" if chosen == "classic" else "classic"
        notes.append(f"Model from the last token: {MODEL_NAMES[chosen]}. For {MODEL_NAMES[other]} choose "
                     f"--model {other}.")
    return Guide(True, chosen, source, values, tuple(steps), privilege, tuple(notes), cause, cause_steps, last_run,
                 verification, basic, now)


def _cause(steps: list[GuideStep], last_run: LastRun | None,
           verification: Verification | None) -> tuple[str | None, tuple[str, ...]]:
    """The one named cause of the last run's failure, when the evidence tells it apart:
    - the run pointed at several steps and newer evidence (a verification) shows which of them is not done;
    - the run failed with a kind Exchange applies late and a newer verification proves every step it pointed at:
      the change is not yet applied;
    - the run pointed at one step.
    Otherwise the hint's own cause (all its candidates)."""
    if last_run is None or last_run.report.ok:
        return None, ()
    failed = last_run.report.failed_step
    if failed is None or failed.hint is None:
        return None, ()
    hint = failed.hint
    pointed = [i for i in split_steps(hint.setup_step) if any(s.id == i for s in steps)]
    by_id = {s.id: s for s in steps}
    newer = verification is not None and verification.collected_at >= last_run.finished_at
    if pointed:
        still = [i for i in pointed if by_id[i].state == "failed"]
        if "R3" in still and ("R1" in still or "R2" in still):
            still.remove("R3")  # R3 tests R1 and R2: its failure follows from theirs
        proven = [i for i in pointed if by_id[i].state == "proven"]
        if newer and not still and len(proven) == len(pointed) and hint.id in H.PROPAGATION_HINTS:
            return (f"not applied yet: the verification at {clock_text(verification.collected_at)} shows "  # type: ignore[union-attr]
                    f"{join_ids(pointed)} in place, and Exchange applies changes 30 minutes to 2 hours late. Wait "
                    f"with `outmail check --until-pass`.", tuple(pointed))
        if len(still) == 1:
            step = by_id[still[0]]
            why = step.decisive.text if step.decisive is not None else hint.cause
            return f"{step.id} {step.title}: {why}", (step.id,)
        if newer and still and len(still) < len(pointed):
            texts = "; ".join(f"{i} {by_id[i].title}: {by_id[i].decisive.text}" for i in still
                              if by_id[i].decisive is not None)
            return texts, tuple(still)
    if not any(by_id[i].state == "failed" for i in pointed):
        # the steps the hint points at are not this model's failure (a classic guide for a token without
        # SMTP.SendAsApp): name the steps the same run shows failed instead
        others = [s for s in steps if s.state == "failed" and s.decisive is not None
                  and s.decisive.observed_at == last_run.finished_at]
        if others:
            return (f"{join_ids([s.id for s in others])} ({', '.join(s.title for s in others)}): "
                    f"{others[0].decisive.text}", tuple(s.id for s in others))  # type: ignore[union-attr]
    return hint.cause, tuple(pointed)

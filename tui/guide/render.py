"""The guide as `outmail guide` prints it: one JSON document, or text for a terminal or a ticket.

    guide_json(guide)   # {"ok", "applicable", "model", "model_name", "model_source", "values", "steps", "cause",
                        #  "cause_steps", "privilege", "notes", "last_run", "verification", "counts",
                        #  "scripts": {"setup", "verify"}}
    guide_text(guide)   # the steps in order, each with its state in words and its evidence; for the steps not
                        # proven, where and what to do and the PowerShell; then the cause, least privilege, notes
Everything comes from the Guide; nothing here is secret (the report is redacted, the values hold no secret).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from tui.diagnostics.claims import MODEL_NAMES
from tui.guide.evidence import iso_utc

if TYPE_CHECKING:
    from tui.guide.model import Guide

STATE_WORDS = {"proven": "proven", "failed": "FAILED", "unknown": "not known", "not-needed": "not needed"}
WIDTH = 110


def counts(guide: "Guide") -> dict[str, int]:
    out = {state: 0 for state in STATE_WORDS}
    for s in guide.steps:
        out[s.state] += 1
    return out


def guide_json(guide: "Guide") -> dict[str, Any]:
    return {
        "ok": guide.ok,
        "applicable": guide.applicable,
        "model": guide.model,
        "model_name": MODEL_NAMES.get(guide.model, guide.model),
        "model_source": guide.model_source,
        "values": guide.values.to_json(),
        "steps": [s.to_json() for s in guide.steps],
        "counts": counts(guide),
        "cause": guide.cause,
        "cause_steps": list(guide.cause_steps),
        "privilege": guide.privilege.to_json() if guide.privilege is not None else None,
        "notes": list(guide.notes),
        "last_run": guide.last_run.to_json() if guide.last_run is not None else None,
        "verification": guide.verification.to_json() if guide.verification is not None else None,
        "made_at": iso_utc(guide.made_at),
        "scripts": {"setup": guide.setup_script(), "verify": guide.verify_script()} if guide.applicable else None,
    }


def _wrap(text: str, indent: str, subsequent: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent,
                         subsequent_indent=indent if subsequent is None else subsequent, break_on_hyphens=False,
                         break_long_words=False) or [indent.rstrip()]


def guide_text(guide: "Guide", *, scripts_hint: bool = True) -> str:
    from tui.guide.verify import verification_summary

    v = guide.values
    out = [f"outmail guide: {v.protocol} {v.host}:{v.port}"]
    if not guide.applicable:
        for note in guide.notes:
            out += _wrap(note, "")
        return "\n".join(out) + "\n"
    how = {"chosen": "as chosen", "token": "from the last token", "default": "LogicalDOC's guide (no token yet)"}
    out.append(f"Model: {MODEL_NAMES.get(guide.model, guide.model)}, {how[guide.model_source]}")
    seen = []
    if guide.last_run is not None:
        seen.append(f"diagnostics {guide.last_run.summary()}")
    if guide.verification is not None:
        seen.append(verification_summary(guide.verification))
    out.append("Evidence: " + ("; ".join(seen) if seen else "none yet (run the diagnostics, paste a verification)"))
    oid = v.object_id or "(not known: no token yet)"
    if v.object_id_source == "token":
        oid += " (the token's oid)"
    elif v.object_id_source == "verification":
        oid += " (from the verification)"
    out.append(f"Values: client id {v.client_id or '(not set)'}, tenant {v.tenant or '(not set)'}, object id {oid}, "
               f"mailbox {v.mailbox or '(not set)'}"
               + (f", From {', '.join(v.from_addresses)}" if v.from_addresses else ""))
    out.append("")
    for s in guide.steps:
        out.append(f"  {STATE_WORDS[s.state]:<11} {s.id:<3} {s.title}")
        if s.state in ("proven", "not-needed") and s.decisive is not None:
            shown = [s.decisive]  # the proof; older evidence stays in the JSON
        else:
            shown = [e for e in s.evidence if e.verdict != "info" or e is s.decisive] or list(s.evidence)
        for e in shown[:3]:
            out += _wrap(e.text, " " * 18)
        if s.state in ("failed", "unknown"):
            out += _wrap(f"Where: {s.where}", " " * 18)
            out += _wrap(f"Do: {s.what}", " " * 18)
            out += _wrap(f"Proof: {s.proves}", " " * 18)
            if s.command:
                out.append(" " * 18 + "PowerShell:")
                out += [" " * 22 + line for line in s.command.splitlines()]
    out.append("")
    if guide.cause:
        out += _wrap(f"Cause: {guide.cause}", "", "  ")
    p = guide.privilege
    if p is not None:
        if p.roles or p.extra:
            out += _wrap(f"Least privilege: the token carries {', '.join(p.roles) or 'no roles'}; SMTP needs "
                         f"{p.needed}.", "")
        else:
            out += _wrap(f"Least privilege: SMTP needs {p.needed}.", "")
        for e in p.extra:
            out += _wrap(f"{e.role}: lets the app {e.allows}.", "  ")
            out += _wrap(f"Remove: {e.remove}", "    ")
        if guide.model == "rbac":
            out += _wrap("RBAC scope holding only the mailboxes LogicalDOC sends from "
                         f"({', '.join(p.scope_addresses) or 'the mailbox'}):", "")
            out.append("    " + p.scope_command)
    for i, note in enumerate(guide.notes):
        out += _wrap(note, "Note: " if i == 0 else "      ", "      ")
    c = counts(guide)
    out.append(f"Result: {c['proven']} proven, {c['failed']} failed, {c['unknown']} not known"
               + (f", {c['not-needed']} not needed" if c["not-needed"] else ""))
    if scripts_hint and guide.pending:
        out += _wrap(f"Next: `outmail guide --script setup --output outmail-setup.ps1` writes one PowerShell script "
                     f"for the {len(guide.pending)} step(s) not proven; `outmail guide --script verify --output "
                     f"outmail-verify.ps1` the read-only check, whose JSON `outmail guide --verify FILE` reads.", "")
    return "\n".join(out) + "\n"

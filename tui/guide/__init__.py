"""The setup guide: LogicalDOC's Microsoft 365 procedure (setup steps S1-S9, R1-R3) as a checklist whose every step
carries its state and the evidence behind it, the PowerShell filled in with the admin's own values, a read-only
verification whose JSON comes back, and a runner that waits out Exchange's delay. No Textual here; nothing here
touches the network except through `engine.diagnose` in the CLI and in the caller's `run_once`.

For a console screen:

    from tui.guide import (build_guide, LastRun, parse_verification, VerificationError, until_pass,
                           UntilPassStatus, default_model, MODELS)

    last = LastRun(report, finished_at)               # the pane's last Report and time.time() at RunFinished
    model, source = default_model(report)             # ask once: preselect the last token's model ("token"),
                                                      #   else "classic" ("default"); MODELS = ("classic", "rbac")
    v = parse_verification(pasted_text)               # VerificationError(message, missing=(...), path=...)
    guide = build_guide(settings, last_run=last, verification=v, model=model, from_addresses=())
    for step in guide.steps:                          # GuideStep, in the procedure's order
        step.id, step.title, step.state               # state: "proven" | "failed" | "unknown" | "not-needed"
        step.decisive                                 # Evidence the state comes from (None for "unknown")
        step.evidence                                 # every Evidence, newest observation first:
                                                      #   .text "token issued at 10:42: S1 and S2 work",
                                                      #   .verdict "proven"|"failed"|"info", .at, .source, .subject
        step.where, step.what, step.proves, step.command   # portal path, words, what proves it, filled PowerShell
    guide.cause                                       # the one named cause of the last failure, or None
    guide.privilege                                   # least privilege: .extra roles with .allows and .remove
    guide.notes                                       # basic-auth deadline, Exchange's delay, userasfrom
    guide.setup_script(), guide.verify_script()       # the PowerShell (copy, or save with tui.files.atomic_write 0600)
    guide.to_json(), guide.to_text()

    result = await until_pass(lambda: diagnose(settings), every=300, limit=7200, changed_at=t,
                              on_status=lambda st: ...)   # st.phase, st.attempt, st.since_change, st.next_run_at
    result.stop                                       # "passed" | "not-propagation" | "limit"; cancel the task to stop

Modules: `values` (the admin's values), `evidence` (what a run proves; how a state is decided), `verify` (the pasted
JSON: strict parsing and what it proves), `privilege` (least privilege), `model` (build_guide), `scripts` (the
PowerShell), `powershell` (literals), `render` (text and JSON), `until_pass` (the runner), `durations`, `cli`
(`outmail guide`), `until_pass_cli` (`outmail check --until-pass`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use, so that `import tui.guide.durations` (the command line's parser) stays cheap.
_EXPORTS = {
    "STATES": "evidence", "Evidence": "evidence", "LastRun": "evidence", "clock_text": "evidence",
    "MODELS": "model", "Guide": "model", "GuideStep": "model", "build_guide": "model", "default_model": "model",
    "UntilPassResult": "until_pass", "UntilPassStatus": "until_pass", "until_pass": "until_pass",
    "waiting_helps": "until_pass", "GuideValues": "values", "Verification": "verify",
    "VerificationError": "verify", "load_verification": "verify", "parse_verification": "verify",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"tui.guide.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'tui.guide' has no attribute {name!r}")

"""The plain text of a diagnostics Report, as `outmail check` prints it and the console's "save report" writes it.

No Textual, no network. Every text in a Report is already redacted, so is everything here.

    report_text(report, verbose=False, command="outmail check")  # "outmail check: <target>", one line per step
        # ("  FAIL  auth      AUTH                  6 ms  535 5.7.3 ..."), under a failed or warned step its other
        # detail lines and the hint's lines (all steps' detail with verbose), the authorization model, then
        # "Result: passed|FAILED at <step>|cancelled [with N warnings] in N ms"
    saved_text(report)          # report_text(verbose=True), then "Transcript" and the whole transcript
    save_report(report, path)   # saved_text into `path`, a new file 0600 from its first byte (OSError propagates)
"""

from __future__ import annotations

from typing import Any

MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skipped": "skip", "pending": "-", "running": "..."}


def report_text(report: Any, *, verbose: bool = False, command: str = "outmail check") -> str:
    """`report` (a Report, or a view with the same attributes) as the CLI prints it; ends with a newline."""
    out = [f"{command}: {report.target}"] if report.target else []
    for s in report.steps:
        mark = MARKS.get(s.status, s.status)
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
    if report.model is not None:
        from tui.diagnostics.claims import MODEL_NAMES

        out.append(f"Authorization model (from the token): {MODEL_NAMES[report.model]}")
    failed = report.failed_step
    verdict = "cancelled" if report.cancelled else ("passed" if report.ok else
                                                    f"FAILED at {failed.id}" if failed else "")
    warn = sum(1 for s in report.steps if s.status == "warn")
    warned = f" with {warn} warning{'' if warn == 1 else 's'}" if warn and report.ok else ""
    out.append(f"Result: {verdict}{warned} in {report.duration_ms:.0f} ms")
    return "\n".join(out) + "\n"


def saved_text(report: Any) -> str:
    """What "save" writes: every step with its detail and hint, then the whole transcript (all redacted)."""
    return report_text(report, verbose=True) + "\nTranscript\n" + report.transcript_text()


def save_report(report: Any, path: Any) -> None:
    """Write saved_text(report) to `path` (str or PathLike), readable by the owner only (`tui.files.atomic_write`:
    0600 from the first byte, whole or not at all; an existing file is replaced). Raises OSError."""
    from tui.files import PRIVATE_MODE, atomic_write

    atomic_write(path, saved_text(report), mode=PRIVATE_MODE)

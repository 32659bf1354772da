"""Waiting out Exchange's delay: rerun the diagnostics on a timer after a change until they pass.

Exchange applies a new service principal, a mailbox permission, an RBAC scope or role assignment, Send As or SMTP
AUTH 30 minutes to 2 hours late, so "fixed but still failing" is normal for a while. `until_pass` reruns a check every
`every` seconds and stops at the first pass, at a failure that waiting does not fix (any hint outside
`hints.PROPAGATION_HINTS`: a wrong secret stays wrong), or when the next run would start after `limit` seconds.

    result = await until_pass(run_once, every=300, limit=7200, changed_at=None, on_status=callback)
    result.stop        # "passed" | "not-propagation" | "limit"
    result.attempts    # tuple[Attempt(number, started_at, finished_at, ok, failed_step, hint_id, summary)]
    result.report      # the last run's Report
    result.exit_code   # check's: 0 passed, 1 otherwise
    result.to_json()   # {"stop", "attempts", "every_s", "limit_s", "changed_at", "started_at", "finished_at",
                       #  "since_change_s", "history": [...]}

`run_once` is an async callable returning an `engine.Report` (the console: `lambda: diagnose(settings)`; the CLI adds
the deadline and the recipient). `on_status(UntilPassStatus)` is called, on the event loop, when an attempt starts
("running"), when the runner starts waiting ("waiting", with `next_run_at`) and at the end ("done", with `stop`):
what a console shows as the attempt, the time since the change and the next run (its own timer can count down to
`next_run_at`). Cancelling the task that awaits `until_pass` stops it at once (the running check is cancelled too).

Times are the injected `clock`'s (default `time.time`, Unix seconds) and waits are `sleep(seconds)` (default
`asyncio.sleep`: real timers); tests pass short intervals, or a fake clock and sleep.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

from tui.diagnostics.hints import PROPAGATION_HINTS

Stop = Literal["passed", "not-propagation", "limit"]
Phase = Literal["running", "waiting", "done"]
DEFAULT_EVERY = 300.0
DEFAULT_LIMIT = 7200.0


def waiting_helps(report: Any) -> bool:
    """Whether the run failed only in a way Exchange's delay explains: every failed step's hint is a propagation
    kind (hints.PROPAGATION_HINTS). A passed run, a cancelled one, or a failure without a hint: False."""
    failed = [s for s in report.steps if s.status == "fail"]
    if not failed or getattr(report, "cancelled", False):
        return False
    return all(s.hint is not None and s.hint.id in PROPAGATION_HINTS for s in failed)


def _minutes(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class Attempt:
    """One run: its number (from 1), start and end (clock seconds), whether it passed, the failed step and its hint
    id, and one line (`summary`: "passed", "FAILED at auth: 535 5.7.3 ...")."""

    number: int
    started_at: float
    finished_at: float
    ok: bool
    failed_step: str | None
    hint_id: str | None
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "started_at": self.started_at, "finished_at": self.finished_at, "ok": self.ok,
                "failed_step": self.failed_step, "hint": self.hint_id, "summary": self.summary}


def _attempt(number: int, started: float, finished: float, report: Any) -> Attempt:
    failed = report.failed_step
    if report.ok:
        summary = "passed"
    elif failed is None:
        summary = "cancelled" if getattr(report, "cancelled", False) else "not finished"
    else:
        why = failed.hint.reply if failed.hint is not None and failed.hint.reply else (failed.detail[0] if failed.detail
                                                                                        else "")
        summary = f"FAILED at {failed.id}" + (f": {' '.join(why.split())}" if why else "")
    return Attempt(number, started, finished, bool(report.ok), failed.id if failed is not None else None,
                   failed.hint.id if failed is not None and failed.hint is not None else None, summary)


@dataclass(frozen=True)
class UntilPassStatus:
    """The runner's state for a display. `attempt` is the number of the running (phase "running") or last finished
    attempt; `last` the last finished one; `next_run_at` while waiting; `stop` when done. Clock seconds."""

    phase: Phase
    attempt: int
    changed_at: float
    now: float
    next_run_at: float | None = None
    last: Attempt | None = None
    stop: Stop | None = None

    @property
    def since_change(self) -> float:
        """Seconds from the change to now."""
        return self.now - self.changed_at

    @property
    def next_run_in(self) -> float | None:
        """Seconds until the next run while waiting, else None."""
        return None if self.next_run_at is None else max(0.0, self.next_run_at - self.now)

    def text(self) -> str:
        """One line: "attempt 3, 12 min after the change: FAILED at auth: 535 5.7.3 ...; next run in 5 min"."""
        head = f"attempt {self.attempt}, {_minutes(self.since_change)} after the change"
        if self.phase == "running":
            return f"{head}: running"
        what = self.last.summary if self.last is not None else ""
        if self.phase == "waiting":
            return f"{head}: {what}; Exchange may not have applied the change yet; next run in " \
                   f"{_minutes(self.next_run_in or 0.0)}"
        return f"{head}: {what}; stopped: {STOP_WORDS.get(self.stop or '', self.stop)}"


STOP_WORDS = {
    "passed": "passed",
    "not-propagation": "this failure is not one that waiting for Exchange fixes",
    "limit": "the time limit is reached",
}


@dataclass(frozen=True)
class UntilPassResult:
    stop: Stop
    attempts: tuple[Attempt, ...]
    report: Any
    every: float
    limit: float
    changed_at: float
    started_at: float
    finished_at: float

    @property
    def ok(self) -> bool:
        return self.stop == "passed"

    @property
    def exit_code(self) -> int:
        """check's convention: 0 passed, 1 a step still fails."""
        return 0 if self.ok else 1

    def text(self) -> str:
        """The closing line: "Until pass: passed at attempt 3, 12 min after the change", "Until pass: stopped after
        24 attempts in 2.0 h: the time limit is reached (--for)", ..."""
        n = len(self.attempts)
        since = _minutes(self.finished_at - self.changed_at)
        if self.stop == "passed":
            return f"Until pass: passed at attempt {n}, {since} after the change"
        why = STOP_WORDS[self.stop] + (" (--for)" if self.stop == "limit" else "")
        return (f"Until pass: stopped after {n} attempt{'s' if n != 1 else ''} in "
                f"{_minutes(self.finished_at - self.started_at)} ({since} after the change): {why}")

    def to_json(self) -> dict[str, Any]:
        return {"stop": self.stop, "ok": self.ok, "attempts": len(self.attempts), "every_s": self.every,
                "limit_s": self.limit, "changed_at": self.changed_at, "started_at": self.started_at,
                "finished_at": self.finished_at, "since_change_s": round(self.finished_at - self.changed_at, 3),
                "history": [a.to_json() for a in self.attempts]}


async def until_pass(run_once: Callable[[], Awaitable[Any]], *, every: float = DEFAULT_EVERY,
                     limit: float = DEFAULT_LIMIT, changed_at: float | None = None,
                     clock: Callable[[], float] = time.time,
                     sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                     on_status: Callable[[UntilPassStatus], None] | None = None) -> UntilPassResult:
    """Run `run_once` now and then every `every` seconds (from each run's start; at once when a run took longer)
    until it passes, fails in a way waiting does not fix, or the next run would start more than `limit` seconds
    after the first. `changed_at` (clock seconds) is when the admin made the change; default: now.
    ValueError for an `every` or `limit` that is not a positive finite number."""
    for name, value in (("every", every), ("limit", limit)):
        if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    started = clock()
    changed = started if changed_at is None else changed_at
    attempts: list[Attempt] = []

    def tell(phase: Phase, number: int, *, next_at: float | None = None, stop: Stop | None = None) -> None:
        if on_status is not None:
            on_status(UntilPassStatus(phase, number, changed, clock(), next_at, attempts[-1] if attempts else None,
                                      stop))

    number = 0
    while True:
        number += 1
        t0 = clock()
        tell("running", number)
        report = await run_once()
        attempts.append(_attempt(number, t0, clock(), report))
        if report.ok:
            stop: Stop = "passed"
            break
        if not waiting_helps(report):
            stop = "not-propagation"
            break
        next_at = max(t0 + every, clock())
        if next_at > started + limit:
            stop = "limit"
            break
        tell("waiting", number, next_at=next_at)
        delay = next_at - clock()
        if delay > 0:
            await sleep(delay)
    finished = clock()
    tell("done", number, stop=stop)
    return UntilPassResult(stop, tuple(attempts), report, float(every), float(limit), changed, started, finished)

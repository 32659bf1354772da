"""Monitoring runs: `outmail check` for one tenant or for every tenant of a settings file, concurrently with a bound,
each tenant judged OK / WARNING / CRITICAL / UNKNOWN. The Nagios and Prometheus renderings are `nagios.py` and
`prometheus.py`; this module runs the checks and renders them as check's own text and JSON. No Textual here.

    run = run_monitor(path, all_tenants=True, jobs=4, rcpt="", fresh_token=False, deadline=None)   # blocking
    run = await monitor(path, ...)            # the same, on a running event loop
    run.results        # tuple[TenantResult, ...] in the file's order (one with all_tenants=False)
    run.error          # Unusable when the file as a whole cannot be used (then results == ())
    run.state          # "OK" | "WARNING" | "CRITICAL" | "UNKNOWN": the worst tenant's (see STATE_SEVERITY)
    run.exit_code      # check's convention: 0 no step failed, 1 a step failed, 2 settings cannot be used; worst wins
    run.to_json()      # all tenants: {"ok": bool, "tenants": [{"tenant": name, "ok", "model", "steps"} |
                       #   {"tenant": name, "ok": false, "error": {...}}]}; one tenant: Report.to_json() as ever;
                       #   a file that cannot be used: {"ok": false, "error": {...}} (unusable.error_document)
    run.to_text()      # each tenant's text.report_text(report), then one "Tenants: ..." line (all tenants)

Each tenant is `engine.diagnose(settings, envelope=True, rcpt=rcpt)` unchanged: the `envelope` step sends MAIL FROM
and RCPT TO and then RSET, so nothing is ever sent; every detail and hint is already redacted by the engine. Each
network step is bounded by the tenant's `[console] timeout_seconds`, so a hung server ends that tenant at its timeout;
`deadline` (seconds, optional) also bounds each tenant's whole run: a step still running then fails with "no result
within the deadline". Tenants run at most `jobs` at a time in one event loop; a tenant whose table cannot be used
(a wrong type, an unknown protocol) is UNKNOWN on its own and the others are still checked; an unexpected error in
one tenant's run is that tenant's UNKNOWN (kind "internal"), never the others'.

States: OK (no step failed, no warning), WARNING (no step failed, at least one `warn`), CRITICAL (a step failed,
including a failed `settings` step: the file is readable but LogicalDOC could not send with it), UNKNOWN (the
tenant's settings cannot be used, or outmail itself failed). A run's state is the worst tenant's by STATE_SEVERITY,
the order of Icinga's "worst state" rule: CRITICAL > UNKNOWN > WARNING > OK.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tui.diagnostics.engine import diagnose
from tui.diagnostics.events import RunStarted, StepFinished, StepStarted
from tui.diagnostics.report import Report, StepResult
from tui.diagnostics.text import report_text
from tui.diagnostics.token import TokenCache
from tui.diagnostics.unusable import Unusable, error_document

State = Literal["OK", "WARNING", "CRITICAL", "UNKNOWN"]
STATE_SEVERITY: dict[str, int] = {"OK": 0, "WARNING": 1, "UNKNOWN": 2, "CRITICAL": 3}
DEFAULT_JOBS = 4
from tui.exitcodes import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE


def worst(states: Sequence[str]) -> State:
    """The most severe of `states` (CRITICAL > UNKNOWN > WARNING > OK); OK for none."""
    return max(states, key=STATE_SEVERITY.__getitem__, default="OK")  # type: ignore[return-value]


def why_text(step: StepResult) -> str:
    """What went wrong in a failed or warning step, in one line: the hint's reply (the server's or Entra's words,
    or the finding that warned), else the step's first detail line, else ""."""
    if step.hint is not None and step.hint.reply:
        return step.hint.reply
    return step.detail[0] if step.detail else ""


@dataclass(frozen=True)
class TenantResult:
    """One tenant's outcome: a Report, or why it could not be checked (`error`). `started`/`finished` are Unix
    times in seconds (time.time()) of the tenant's own check, after it got its turn among the `jobs`."""

    tenant: str
    report: Report | None = None
    error: Unusable | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def state(self) -> State:
        if self.report is None:
            return "UNKNOWN"
        if not self.report.ok:
            return "CRITICAL"
        return "WARNING" if self.warnings else "OK"

    @property
    def ok(self) -> bool:
        """No step failed (warnings allowed): check's exit-code rule."""
        return self.report is not None and self.report.ok

    @property
    def warnings(self) -> list[StepResult]:
        return [s for s in self.report.steps if s.status == "warn"] if self.report is not None else []

    @property
    def exit_code(self) -> int:
        """check's convention: 0 ok (warnings allowed), 1 a step failed or outmail failed, 2 settings unusable."""
        if self.error is not None:
            return EXIT_UNUSABLE if self.error.kind != "internal" else EXIT_FAILED
        return EXIT_OK if self.ok else EXIT_FAILED

    def summary(self) -> str:
        """One line: "passed in 0.21 s; token expires in 59 min", "passed with 1 warning (token: ...)",
        "FAILED at auth: 535 5.7.139 ...", "settings cannot be used: path:line: message"."""
        if self.report is None:
            assert self.error is not None
            what = "outmail failed" if self.error.kind == "internal" else "settings cannot be used"
            return f"{what}: {self.error.text()}"
        r = self.report
        took = f"in {r.duration_ms / 1000:.2f} s"
        if not r.ok:
            failed = r.failed_step
            if failed is None:
                return f"not finished {took}"
            first = why_text(failed)
            return f"FAILED at {failed.id} {took}" + (f": {first}" if first else "")
        expiry = ""
        if r.token is not None and r.token.expires_in is not None:
            expiry = f"; token expires in {r.token.expires_in // 60} min"
        warns = self.warnings
        if not warns:
            return f"passed {took}{expiry}"
        why = f"{warns[0].id}: {why_text(warns[0])}".rstrip(": ")
        return f"passed with {len(warns)} warning{'s' if len(warns) > 1 else ''} {took} ({why}){expiry}"

    def to_json(self) -> dict[str, Any]:
        """{"tenant", "ok", "model", "steps"} (Report.to_json() with the tenant) or {"tenant", "ok": false,
        "error"}."""
        if self.report is None:
            assert self.error is not None
            return {"tenant": self.tenant, **error_document(self.error)}
        return {"tenant": self.tenant, **self.report.to_json()}


@dataclass(frozen=True)
class MonitorRun:
    """A whole monitoring run: every tenant's result, or the file's error. Times are Unix seconds."""

    path: Path
    all_tenants: bool
    results: tuple[TenantResult, ...] = ()
    error: Unusable | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def state(self) -> State:
        if self.error is not None:
            return "UNKNOWN"
        return worst([r.state for r in self.results])

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 every tenant passed (warnings allowed), 1 a step failed somewhere, 2 the file or a tenant's settings
        cannot be used (2 wins over 1)."""
        if self.error is not None:
            return EXIT_UNUSABLE
        return max((r.exit_code for r in self.results), default=EXIT_OK)

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return error_document(self.error)
        if not self.all_tenants:
            return self.results[0].to_json() if self.results[0].report is None else self.results[0].report.to_json()
        return {"ok": self.ok, "tenants": [r.to_json() for r in self.results]}

    def to_text(self) -> str:
        if self.error is not None:
            return f"outmail check: {self.error.text()}\n"
        blocks = []
        for r in self.results:
            if r.report is not None:
                blocks.append(report_text(r.report))
            else:
                blocks.append(f"outmail check: tenant {r.tenant}: {r.summary()}\n")
        if not self.all_tenants:
            return blocks[0]
        by_state: dict[str, list[str]] = {}
        for r in self.results:
            by_state.setdefault(r.state, []).append(r.tenant)
        parts = [f"{len(by_state.get('OK', []))} passed"]
        if by_state.get("WARNING"):
            parts.append(f"{len(by_state['WARNING'])} passed with warnings ({', '.join(by_state['WARNING'])})")
        if by_state.get("CRITICAL"):
            parts.append(f"{len(by_state['CRITICAL'])} FAILED ({', '.join(by_state['CRITICAL'])})")
        if by_state.get("UNKNOWN"):
            parts.append(f"{len(by_state['UNKNOWN'])} not checked ({', '.join(by_state['UNKNOWN'])})")
        took = max(self.finished - self.started, 0.0)
        tail = f"Tenants: {len(self.results)} checked in {took:.2f} s: {', '.join(parts)}\n"
        return "\n".join(blocks) + "\n" + tail


# ------------------------------------------------------------------------------------------------------ loading

# ------------------------------------------------------------------------------------------------------ running

def _target(settings: Any) -> str:
    # The engine's Report.target, for a run cut by the deadline (the engine returns no Report then).
    target = f"{settings.protocol} {settings.host}:{settings.port} (tenant {getattr(settings, 'tenant', 'default')})"
    return f"{settings.source_path} {target}" if getattr(settings, "source_path", None) else target


async def check_tenant(name: str, settings: Any, *, rcpt: str = "", fresh_token: bool = False,
                       deadline: float | None = None, token_cache: TokenCache | None = None) -> TenantResult:
    """One tenant: `diagnose(settings, envelope=True, rcpt=rcpt, fresh_token=fresh_token)` under an optional
    `deadline` (seconds for the whole run). A run cut by the deadline still gives a Report: the steps that had
    finished as they ended, the step(s) still running `fail` ("no result within the deadline of N s"), the others
    `skipped`. Never raises for a failure inside the run (that is the tenant's UNKNOWN, kind "internal");
    CancelledError and KeyboardInterrupt propagate."""
    started = time.time()
    t0 = time.perf_counter()
    steps: dict[str, StepResult] = {}
    running: dict[str, float] = {}

    def emit(event: Any) -> None:
        if isinstance(event, RunStarted):
            steps.update((s.id, s) for s in event.steps)
        elif isinstance(event, StepStarted):
            steps[event.step.id] = event.step
            running[event.step.id] = time.perf_counter()
        elif isinstance(event, StepFinished):
            steps[event.step.id] = event.step
            if event.step.status != "skipped" or event.step.detail[-1:] != ["cancelled"]:
                running.pop(event.step.id, None)

    try:
        async with asyncio.timeout(deadline) as cm:
            report = await diagnose(settings, emit=emit, token_cache=token_cache, fresh_token=fresh_token,
                                    envelope=True, rcpt=rcpt)
    except TimeoutError:
        if not cm.expired():
            return _crashed(name, settings, started)
        now = time.perf_counter()
        cut: list[StepResult] = []
        for s in steps.values():
            s = s.copy()
            if s.id in running:
                s.status, s.hint = "fail", None
                s.duration_ms = round((now - running[s.id]) * 1000, 1)
                s.detail = [f"no result within the deadline of {deadline:g} s (--deadline); each network step may "
                            f"take up to [console] timeout_seconds = {settings.timeout_seconds:g} s"]
            elif s.status in ("pending", "running"):
                s.status, s.detail = "skipped", ["not reached before the deadline"]
            cut.append(s)
        report = Report(steps=cut, transcript=[], target=_target(settings),
                        duration_ms=round((now - t0) * 1000, 1))
    except Exception:  # noqa: BLE001 - a bug in one tenant's run must not hide the others
        return _crashed(name, settings, started)
    return TenantResult(name, report, None, started, time.time())


def _crashed(name: str, settings: Any, started: float) -> TenantResult:
    import sys

    from tui.diagnostics.redact import Redactor

    exc = sys.exc_info()[1]
    redactor = Redactor([settings.client_secret.reveal(), settings.password.reveal()])
    text = redactor.text(f"{type(exc).__name__}: {exc}")
    return TenantResult(name, None, Unusable("internal", text), started, time.time())  # type: ignore[arg-type]


async def check_tenants(entries: Sequence[tuple[str, Any]], *, jobs: int = DEFAULT_JOBS, rcpt: str = "",
                        fresh_token: bool = False, deadline: float | None = None,
                        token_cache: TokenCache | None = None) -> list[TenantResult]:
    """Check (name, Settings | Unusable) entries, at most `jobs` (>= 1) at a time; results in the entries' order."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    gate = asyncio.Semaphore(jobs)

    async def one(name: str, item: Any) -> TenantResult:
        if isinstance(item, Unusable):
            now = time.time()
            return TenantResult(name, None, item, now, now)
        async with gate:
            return await check_tenant(name, item, rcpt=rcpt, fresh_token=fresh_token, deadline=deadline,
                                      token_cache=token_cache)

    return list(await asyncio.gather(*(one(name, item) for name, item in entries)))


async def monitor(path: Path, *, tenant: str | None = None, all_tenants: bool = False, jobs: int = DEFAULT_JOBS,
                  rcpt: str = "", fresh_token: bool = False, deadline: float | None = None,
                  token_cache: TokenCache | None = None) -> MonitorRun:
    """Load the file (every tenant, or the one `tenant` picks as the console does: `tui.invocation.load_invocation`)
    and check. A file that cannot be used is `MonitorRun.error`, never an exception."""
    from tui.invocation import load_invocation

    invocation = load_invocation(Path(path), "tenants", tenant=tenant, all_tenants=all_tenants)
    return await monitor_loaded(invocation, all_tenants=all_tenants, jobs=jobs, rcpt=rcpt, fresh_token=fresh_token,
                                deadline=deadline, token_cache=token_cache)


async def monitor_loaded(invocation: Any, *, all_tenants: bool = False, jobs: int = DEFAULT_JOBS, rcpt: str = "",
                         fresh_token: bool = False, deadline: float | None = None,
                         token_cache: TokenCache | None = None) -> MonitorRun:
    """Check what the top-level CLI loaded (`tui.invocation.Invocation`: one tenant's `settings`, every tenant's
    `tenants` with `all_tenants`, or the file's `error`, which becomes `MonitorRun.error`)."""
    path = Path(invocation.path)
    started = time.time()
    if invocation.error is not None:
        return MonitorRun(path, all_tenants, error=invocation.error, started=started, finished=time.time())
    entries = list(invocation.tenants) if all_tenants else [(invocation.settings.tenant, invocation.settings)]
    results = await check_tenants(entries, jobs=jobs, rcpt=rcpt, fresh_token=fresh_token, deadline=deadline,
                                  token_cache=token_cache)
    return MonitorRun(path, all_tenants, tuple(results), None, started, time.time())


def run_monitor(path: Path, **kwargs: Any) -> MonitorRun:
    """`monitor(path, **kwargs)` in a new event loop."""
    return asyncio.run(monitor(path, **kwargs))


def run_monitor_loaded(invocation: Any, **kwargs: Any) -> MonitorRun:
    """`monitor_loaded(invocation, **kwargs)` in a new event loop (the CLI)."""
    return asyncio.run(monitor_loaded(invocation, **kwargs))

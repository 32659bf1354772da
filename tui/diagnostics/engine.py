"""The diagnostics engine: prove one tenant's Outgoing Email settings step by step. No Textual here.

Steps, in order: the built-in ones (`STEPS`: settings, token, connect, ehlo, starttls, auth, quit) with the extra
steps declared up front between auth and quit (`session.ExtraStep`: by default the `envelope` step; a test send
declares its `send` step instead). `STEP_IDS` are the steps of a default run (`outmail check`, the console's F5).

    token (msal in a daemon thread: import, authority discovery | token request) ──────┐
    settings ── (verdict opens the token request) ── connect ── ehlo ── starttls ──────┴── auth ── [extra steps] ── quit

The token path and the SMTP path up to STARTTLS run concurrently; `auth` waits for both, so on a real link a run
takes about the longer of the two paths. The token thread starts at once (msal import and authority discovery send
nothing secret) but the request carrying the client secret waits for the settings step's verdict; with settings
errors every other step ends `skipped` and nothing secret leaves. A failed step stops its own path; steps that can no
longer run end `skipped`. For Microsoft 365 STARTTLS is required whatever Connection Security says: no credential or
token is ever sent before TLS. Certificates are always verified. Every step is bounded by `settings.timeout_seconds`
times its round trips.

Where things are: this module holds the step table and the orchestration (`diagnose`); the result model is
`tui.diagnostics.report` (StepResult, TokenInfo, Report), the events `tui.diagnostics.events`, the step bookkeeping
`tui.diagnostics.runner`, one run's state and failure explanation `tui.diagnostics.run`, the step bodies
`steps_settings`, `steps_token`, `steps_connect` (connect and TLS), `steps_smtp` (ehlo, starttls, auth, envelope,
quit), the extra steps' declaration and session `tui.diagnostics.session`, the CLI text `tui.diagnostics.text`.

Using it (the console runs `diagnose` in an async worker; cancelling the worker cancels the run at once, even while
msal blocks: the token thread is a daemon and is abandoned, bounded by its own HTTP timeout):

    report = await diagnose(settings, emit=callback)          # callback(event) on the event-loop thread
    report.ok                   # no step failed (warnings allowed): the CLI's exit-code rule
    report.steps                # list[StepResult] in order (extra steps sit before quit)
    report.transcript           # list[TranscriptLine], redacted; report.transcript_text() for copying (OSC 52)
    report.token                # TokenInfo: source "identity_provider"|"cache", claims summary, oid, CA source
    report.to_json()            # the `outmail check --json` document; to_full_json() adds transcript and token

In a Textual pane, use an *async* worker (not thread=True): the engine is asyncio and cancelling is task
cancellation.

Events passed to `emit` (`tui.diagnostics.events`): `RunStarted(steps)` (every step, extra ones included,
pending), `StepStarted(step)`, `StepProgress(step, command, reply)`, `StepFinished(step)`, `TranscriptAdded(line)`,
`RunFinished(report)`. `step` is a snapshot copy of a `StepResult`. StepFinished comes once per step, also for
`skipped` ones (which never get a StepStarted unless they were running when cancelled).

A rerun with unchanged credentials takes the token from the process-wide `TokenCache` (msal's `token_source`
"cache", no network, about a millisecond); pass `token_cache=TokenCache()` to force a fresh token.

Cancelling: CancelledError propagates out of `diagnose`; the running steps get a StepFinished `skipped`
("cancelled"), steps that had not started get no event; the socket is closed at once.

Importing this module imports neither msal, requests, PyJWT nor aiosmtplib: they load inside the steps, in threads
on a first run (so a console's event loop never stalls on them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

from tui.diagnostics.events import RunFinished, RunStarted
from tui.diagnostics.report import Report
from tui.diagnostics.run import Run
from tui.diagnostics.runner import StepHandle
from tui.diagnostics.session import AFTER_AUTH, ExtraStep, Session
from tui.diagnostics.steps_connect import step_connect
from tui.diagnostics.steps_settings import step_settings
from tui.diagnostics.steps_smtp import envelope_step, step_auth, step_ehlo, step_quit, step_starttls
from tui.diagnostics.steps_token import step_token
from tui.diagnostics.token import TokenCache


IMPORT_HEAD_START_SECONDS = 0.3


@dataclass(frozen=True)
class StepSpec:
    """A built-in step: `id`, `title`, `body(run, handle)`; `round_trips`: how many network round trips it makes
    (each read is bounded by timeout_seconds, aiosmtplib's per-command timeout and msal's HTTP timeout; the step by
    that many times it, so a slow but working server, which LogicalDOC's sender never times out, is not failed for
    being slow three times in one step, and a hung one still ends at the first read that gets no answer);
    `timeout_kind`: the hint row when the step's own budget runs out."""

    id: str
    title: str
    body: Callable[[Run, StepHandle], Awaitable[None]]
    round_trips: int = 1
    timeout_kind: str = "timeout"


STEPS: tuple[StepSpec, ...] = (
    StepSpec("settings", "Settings", step_settings),
    StepSpec("token", "Token", step_token, 2, "requests-timeout"),
    StepSpec("connect", "Connect", step_connect, 2, "connect-timeout"),
    StepSpec("ehlo", "Banner and EHLO", step_ehlo, 2, "banner-timeout"),  # "timeout" with implicit TLS
    StepSpec("starttls", "STARTTLS", step_starttls, 3),
    StepSpec("auth", "AUTH", step_auth, 3),
    StepSpec("quit", "QUIT", step_quit),
)
STEPS_BY_ID = {s.id: s for s in STEPS}


def step_order(extra_steps: Sequence[ExtraStep]) -> list[tuple[str, str]]:
    """(id, title) of a run's steps in order: the built-in ones, the extra steps (AFTER_AUTH) before quit.
    ValueError for an extra step whose id is taken."""
    ids = [s.id for s in STEPS]
    for x in extra_steps:
        if x.id in ids:
            raise ValueError(f"extra step {x.id}: a step with this id is already in the run")
        ids.append(x.id)
    before_quit = [(x.id, x.title) for x in extra_steps if x.position == AFTER_AUTH]
    built_in = [(s.id, s.title) for s in STEPS]
    return built_in[:-1] + before_quit + built_in[-1:]


STEP_IDS: tuple[str, ...] = tuple(i for i, _ in step_order([envelope_step()]))  # a default run's steps


async def _run_built_in(run: Run, step_id: str, *, timeout_kind: str | None = None) -> bool:
    spec = STEPS_BY_ID[step_id]
    return await run.run_step(step_id, functools.partial(spec.body, run), round_trips=spec.round_trips,
                              explain=run.explainer(timeout_kind or spec.timeout_kind))


def _skip_extra(run: Run, extra_steps: Sequence[ExtraStep], why: str) -> None:
    for x in extra_steps:
        run.skip(x.id, x.skipped_because(why, run.first_failed()))


async def _smtp_path(run: Run) -> bool:
    if not await _run_built_in(run, "connect"):
        return False
    if not await _run_built_in(run, "ehlo", timeout_kind="timeout" if run.implicit_tls else "banner-timeout"):
        return False
    if run.implicit_tls:
        run.skip("starttls", f"implicit TLS ({run.implicit_reason}): TLS was set up in connect")
        return True
    if not (run.m365 or run.settings.connection_security in (1, 2)):
        run.skip("starttls", "Connection Security None: LogicalDOC does not use TLS, even where the server "
                             "offers STARTTLS")
        return True
    return await _run_built_in(run, "starttls")


async def _after_auth(run: Run, extra_steps: Sequence[ExtraStep]) -> None:
    """The extra steps in order on the authenticated connection; after one that did not end ok or warn the rest
    are skipped."""
    session = Session(run)
    for i, x in enumerate(extra_steps):
        ok = await run.run_step(x.id, functools.partial(x.run, session), round_trips=x.round_trips,
                                explain=run.explainer())
        if not ok:
            ended = "failed" if run.result(x.id).status == "fail" else "was skipped"
            _skip_extra(run, extra_steps[i + 1:], f"the {x.id} step {ended}")
            return


async def _main(run: Run, extra_steps: Sequence[ExtraStep]) -> None:
    run.emit_event(RunStarted(tuple(s.copy() for s in run.steps)))
    tasks: list[asyncio.Task[bool]] = []
    if run.m365:
        # The token path starts first: its thread imports msal and runs the authority discovery (nothing
        # secret) while the settings are checked; the token request itself waits for the settings verdict.
        tasks.append(asyncio.create_task(_run_built_in(run, "token")))
        if "msal" not in sys.modules:
            # First run in this process: let the import finish before the settings check competes for the
            # GIL, so that the check runs during the discovery's network wait; capped.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.libs_ready.wait(), IMPORT_HEAD_START_SECONDS)
    try:
        run.settings_ok = await _run_built_in(run, "settings")
    finally:
        run.verdict.set()
        run.verdict_async.set()
    if not run.settings_ok:
        run.cancel_reason = "settings have errors"
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        extra = {x.id: x for x in extra_steps}
        for r in run.steps[1:]:
            why = "settings have errors"
            run.skip(r.id, extra[r.id].skipped_because(why, run.first_failed()) if r.id in extra else why)
        return
    if not run.m365:
        run.skip("token", "protocol smtp: no token")
    smtp_task = asyncio.create_task(_smtp_path(run))
    tasks.append(smtp_task)
    try:
        results = await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    if run.m365:
        token_ok, smtp_ok = results
    else:
        token_ok, smtp_ok = True, results[0]
    # skip whatever could not run on the SMTP path
    for sid in ("connect", "ehlo", "starttls"):
        run.skip(sid, "an earlier step failed")
    if not (token_ok and smtp_ok):
        why = "no token" if not token_ok else "the connection is not ready"
        run.skip("auth", why)
        _skip_extra(run, extra_steps, why)
    else:
        if not run.user and not run.m365:
            run.skip("auth", "no Username: LogicalDOC sends without AUTH")
            run.auth_skipped = True
            auth_ok = True
        else:
            auth_ok = await _run_built_in(run, "auth")
        if not auth_ok:
            _skip_extra(run, extra_steps, "AUTH failed")
        else:
            await _after_auth(run, extra_steps)
    connected = run.smtp is not None and run.smtp.is_connected
    if connected and run.smtp_unusable:
        run.skip("quit", "the server stopped answering: the connection is closed without QUIT")
        connected = False
    if connected:
        ok = await _run_built_in(run, "quit")
        if not ok:  # a failed QUIT is harmless: the work is done
            run.result("quit").status = "warn"
    else:
        run.skip("quit", "not connected")


async def diagnose(settings: Any, *, emit: Callable[[Any], None] | None = None,
                   token_cache: TokenCache | None = None, fresh_token: bool = False, envelope: bool = True,
                   rcpt: str = "", extra_steps: Sequence[ExtraStep] | None = None) -> Report:
    """Prove `settings` (a tui.settings.model.Settings, saved or not) step by step and return the Report.

    emit(event): called for every event of `tui.diagnostics.events`, on the event-loop thread, synchronously (keep
        it cheap; a Textual worker can post_message from it).
    token_cache: the process-wide cache by default (`token.DEFAULT_TOKEN_CACHE`); pass a fresh `TokenCache()` to
        force a network token.
    fresh_token: drop the cached token first, so that this run asks Entra ID ("new token: a fresh token was asked
        for"); a token that failed a claim check or was refused at AUTH is dropped anyway (TokenCache.invalidate).
    extra_steps: steps declared up front (`session.ExtraStep`), run after a successful auth (or where LogicalDOC
        sends without a login: protocol smtp with no Username or a server that offers no AUTH), in order, before
        quit, on the same connection (the test send's `send`). None (the default): the `envelope` step when
        `envelope` is true (MAIL FROM the Sender Email, RCPT TO `rcpt` or the sender's own address, RSET; nothing is
        sent), else none. ValueError for an extra step whose id is already in the run.
    Cancelling the awaiting task ends the run at once (CancelledError propagates; the socket is closed).
    """
    if extra_steps is None:
        extra_steps = (envelope_step(rcpt),) if envelope else ()
    extra_steps = tuple(extra_steps)
    run = Run(settings, emit, token_cache, step_order(extra_steps))
    run.outcomes = {x.id: x.outcome for x in extra_steps if x.outcome is not None}
    if fresh_token and run.m365:
        run.token_cache.invalidate(settings, "a fresh token was asked for")
    try:
        await _main(run, extra_steps)
    except asyncio.CancelledError:
        run.mark_cancelled()
        run.close()
        raise
    except BaseException:
        run.close()
        raise
    report = run.report()
    run.emit_event(RunFinished(report))
    run.close()
    return report

"""The diagnostics engine: prove one tenant's Outgoing Email settings step by step. No Textual here.

Steps, in order (`STEPS`): settings, token, connect, ehlo, starttls, auth, quit.

    token (msal in a daemon thread: import, authority discovery | token request) ──────┐
    settings ── (verdict opens the token request) ── connect ── ehlo ── starttls ──────┴── auth ── [after_auth] ── quit

The token path and the SMTP path up to STARTTLS run concurrently; `auth` waits for both, so on a real link a run
takes about the longer of the two paths. The token thread starts at once (msal import and authority discovery send
nothing secret) but the request carrying the client secret waits for the settings step's verdict; with settings
errors every other step ends `skipped` and nothing secret leaves. A failed step stops its own path; steps that can no
longer run end `skipped`. For Microsoft 365 STARTTLS is required whatever Connection Security says: no credential or
token is ever sent before TLS. Certificates are always verified. Every step is bounded by `settings.timeout_seconds`.

Using it (the console runs `diagnose` in an async worker; cancelling the worker cancels the run at once, even while
msal blocks: the token thread is a daemon and is abandoned, bounded by its own HTTP timeout):

    report = await diagnose(settings, emit=callback)          # callback(event) on the event-loop thread
    report.ok                   # no step failed (warnings allowed): the CLI's exit-code rule
    report.steps                # list[StepResult] in order (after_auth steps sit before quit)
    report.transcript           # list[TranscriptLine], redacted; report.transcript_text() for copying (OSC 52)
    report.token                # TokenInfo: source "identity_provider"|"cache", claims summary, oid, CA source
    report.to_json()            # the `outmail check --json` document; to_full_json() adds transcript and token
    report.to_text()            # the CLI's text; saved_text() / save(path) (0600) for "save to file"

In a Textual pane, use an *async* worker (not thread=True): the engine is asyncio and cancelling is task
cancellation:

    @work(exclusive=True, exit_on_error=False, group="diagnostics")
    async def _diagnose(self, settings) -> None:
        report = await diagnose(settings, emit=lambda event: self.post_message(DiagnosticsEvent(event)))

Events passed to `emit` (plain dataclasses): `RunStarted(steps)`, `StepStarted(step)`, `StepFinished(step)`,
`TranscriptAdded(line)`, `RunFinished(report)`. `step` is a snapshot copy of a `StepResult`. StepFinished comes
once per step, also for `skipped` ones (which never get a StepStarted unless they were running when cancelled).

The test-send feature passes `after_auth=async_fn(session)`: it runs on the authenticated connection after a
successful `auth` (or, for protocol smtp with no Username, after the skipped auth) and before `quit`, and reports
its own steps through `session.step(id, title)`; see `Session`.

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
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator, Awaitable, Callable, Literal

from tui.diagnostics import hints as H
from tui.diagnostics.hints import Hint, HintContext
from tui.diagnostics.redact import Redactor, token_preview
from tui.diagnostics.token import DEFAULT_TOKEN_CACHE, TokenCache
from tui.diagnostics.transcript import Recorder, TranscriptLine
from tui.diagnostics.report import Report, Status, StepResult, TokenInfo
from tui.diagnostics.events import (Event, RunFinished, RunStarted, StepFinished, StepProgress, StepStarted,
                                    TranscriptAdded)

@dataclass(frozen=True)
class StepSpec:
    id: str
    title: str


STEPS: tuple[StepSpec, ...] = (
    StepSpec("settings", "Settings"),
    StepSpec("token", "Token"),
    StepSpec("connect", "Connect"),
    StepSpec("ehlo", "Banner and EHLO"),
    StepSpec("starttls", "STARTTLS"),
    StepSpec("auth", "AUTH"),
    StepSpec("envelope", "Envelope"),
    StepSpec("quit", "QUIT"),
)
STEP_IDS = tuple(s.id for s in STEPS)
# The SASL mechanisms of LogicalDOC's sender, in its order of preference (Jakarta Mail's mail.smtp.auth.mechanisms
# default "LOGIN PLAIN DIGEST-MD5 NTLM"; XOAUTH2 is off unless protocol smtpmicrosoft365).
JAVAMAIL_MECHANISMS = ("LOGIN", "PLAIN", "DIGEST-MD5", "NTLM")
ARROW = "→"
IMPORT_HEAD_START_SECONDS = 0.3
# How many network round trips a step makes: each read is bounded by timeout_seconds (aiosmtplib's per-command
# timeout, msal's HTTP timeout), the step by that many times it, so a slow but working server (LogicalDOC's sender
# sets no read timeout at all) is not failed for being slow three times in one step, and a hung one still ends at
# the first read that gets no answer.
STEP_ROUND_TRIPS = {"token": 2, "connect": 2, "ehlo": 2, "starttls": 3, "auth": 3, "envelope": 3}


class StepFailed(Exception):
    """Raised inside a step to end it `fail` with a hint."""

    def __init__(self, hint: Hint | None, *details: str) -> None:
        super().__init__(hint.id if hint else "failed")
        self.hint = hint
        self.details = details


class _Skipped(Exception):
    """Raised inside a step that turns out not to apply (ends `skipped` with the message)."""


class StepHandle:
    """What a step body (the engine's or an after_auth step's) works with."""

    def __init__(self, run: "_Run", result: StepResult) -> None:
        self._run = run
        self.result = result
        self.status: Status = "ok"
        self.hint: Hint | None = None

    def detail(self, text: str) -> None:
        """Add a detail line (redacted)."""
        self.result.detail.append(self._run.redactor.text(text))

    def warn(self, hint: Hint | None = None) -> None:
        """End the step `warn` (it goes on), optionally with a hint."""
        if self.status != "fail":
            self.status = "warn"
            if hint is not None:
                self.hint = hint

    def fail(self, hint: Hint | None, *details: str) -> None:
        """End the step `fail` now."""
        raise StepFailed(hint, *details)


class Session:
    """Handed to `after_auth` on the authenticated connection (before QUIT).

    - `smtp`: the `TracedSMTP` (an aiosmtplib.SMTP, authenticated): `await session.smtp.mail(...)`, `.rcpt(...)`,
      `.data(...)`, `.sendmail(...)`, `.send_message(...)`, `.rset()`; every line lands in the transcript.
    - `step(id, title)`: an async context manager reporting a step of your own (appended before `quit`):
          async with session.step("send", "Send test message") as step:
              step.detail("MAIL FROM ...")
              await session.smtp.sendmail(...)      # SMTP errors end the step `fail` with the table's hint
      Exceptions inside are caught and turned into `fail` with a hint (SMTP replies via the hint table); the block
      is bounded by the run's timeout. Afterwards `step.status` tells how it ended.
    - `hint_for_reply(code, message)`: the hint table for a reply, with this run's client id, oid, mailbox, sender.
    - `recorder` (transcript), `emit`, `settings`, `claims` (token claims or None), `hint_context`, `redactor`.
    """

    def __init__(self, run: "_Run") -> None:
        self._run = run
        self.settings = run.settings
        self.smtp = run.smtp
        self.recorder = run.recorder
        self.emit = run.emit_event
        self.claims = run.claims
        self.redactor = run.redactor
        self.timeout = run.timeout

    @property
    def hint_context(self) -> HintContext:
        return self._run.hint_ctx()

    def hint_for_reply(self, code: int, message: str) -> Hint:
        return H.for_smtp_reply(code, message, self.hint_context).redacted(self.redactor.text)

    def step(self, step_id: str, title: str) -> contextlib.AbstractAsyncContextManager[StepHandle]:
        return self._run.custom_step(step_id, title)


def _hostname() -> str:
    name = socket.gethostname() or "localhost"
    name = "".join(c for c in name if c.isalnum() or c in "-.") or "localhost"
    return name


async def _in_daemon_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking function in a daemon thread; cancelling the await abandons the thread at once."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    def runner() -> None:
        try:
            result, exc = fn(*args), None
        except BaseException as e:  # noqa: BLE001 - handed to the loop
            result, exc = None, e
        try:
            loop.call_soon_threadsafe(settle, result, exc)
        except RuntimeError:  # loop closed: the run was abandoned
            pass

    threading.Thread(target=runner, name="outmail-token", daemon=True).start()
    return await fut


class _Run:
    def __init__(self, settings: Any, emit: Callable[[Any], None] | None, token_cache: TokenCache | None) -> None:
        self.settings = settings
        self._emit = emit
        self.token_cache = token_cache if token_cache is not None else DEFAULT_TOKEN_CACHE
        self.t0 = time.perf_counter()
        self.redactor = Redactor([settings.client_secret.reveal(), settings.password.reveal()])
        self.recorder = Recorder(self.redactor, self.t0, on_line=lambda line: self.emit_event(TranscriptAdded(line)))
        self.steps: list[StepResult] = [StepResult(s.id, s.title) for s in STEPS]
        try:
            self.timeout = float(settings.timeout_seconds)
            if not self.timeout > 0:
                raise ValueError
        except (TypeError, ValueError):
            self.timeout = 20.0
        self.m365 = bool(settings.is_m365)
        self.host = settings.host.strip()
        self.port = int(settings.port) if str(settings.port).isdigit() else 0
        # LogicalDOC's sender (verdict.md section 1): "Use secure authentication" selects the smtps transport,
        # implicit TLS whatever Connection Security says; Connection Security SSL does the same on the smtp transport.
        self.auth_encrypted = (not self.m365) and bool(settings.auth_encrypted)
        self.implicit_tls = (not self.m365) and (self.auth_encrypted or settings.connection_security == 3)
        self.implicit_reason = ("'Use secure authentication' is on, so LogicalDOC uses the smtps transport"
                                if self.auth_encrypted else "Connection Security SSL")
        self.user = settings.username.strip()
        self.unverified = False  # the session goes on without a verified certificate (only with no credential)
        self.tcp_connected = False  # the TCP connection stands (a later timeout is TLS's or SMTP's, not the network's)
        self.smtp_unusable = False  # a read timed out: the stream may hold a late reply, so no more commands
        self.auth_skipped = False  # LogicalDOC sends without logging in (no Username, or no AUTH offered)
        self.mechanism = ""  # the SASL mechanism of the login, once chosen
        self.server_said = ""  # the banner and EHLO greeting: tell Exchange Online from other servers
        self.phase = ""  # the SMTP phase running (HintContext.phase)
        self.envelope = True
        self.rcpt = ""
        self.smtp: Any = None
        self.sock: socket.socket | None = None
        self.token: str | None = None
        self.claims: dict[str, Any] | None = None
        self.token_info: TokenInfo | None = None
        self.model: str | None = None  # the authorization model the token implies (claims.authorization_model)
        self.ssl_ctx: ssl.SSLContext | None = None
        self.ca_source = ""
        self.closed = False
        self.banner_seen = False
        self.libs_ready = asyncio.Event()
        self.settings_ok: bool | None = None
        self.cancel_reason = "cancelled"
        self.verdict = threading.Event()  # the settings step is over (read by the token thread's gate)
        self.verdict_async = asyncio.Event()

    # ---- plumbing ----
    def emit_event(self, event: Any) -> None:
        if self._emit is not None and not self.closed:
            self._emit(event)

    def now_ms(self) -> float:
        return round((time.perf_counter() - self.t0) * 1000, 1)

    def result(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)

    def hint_ctx(self, phase: str = "") -> HintContext:
        """The values hints are filled with, and what selects their rows: the login's mechanism, the token's
        authorization model, the server kind (from what the server said once it said something) and the phase."""
        server = H.server_kind(said=self.server_said) if self.server_said else ""
        return HintContext.from_settings(self.settings, self.claims, mechanism=self.mechanism, server=server,
                                         phase=phase or self.phase)

    def _start(self, r: StepResult) -> float:
        r.status = "running"
        r.started_ms = self.now_ms()
        self.emit_event(StepStarted(r.copy()))
        return time.perf_counter()

    def _finish(self, r: StepResult, status: Status, t: float, hint: Hint | None = None) -> None:
        r.status = status
        r.duration_ms = round((time.perf_counter() - t) * 1000, 1)
        r.detail = [self.redactor.text(d) for d in r.detail]
        r.hint = hint.redacted(self.redactor.text) if hint is not None else None
        if status == "fail" and r.hint is not None and r.hint.reply and (not r.detail or r.detail[0] != r.hint.reply):
            if r.hint.reply in r.detail:
                r.detail.remove(r.hint.reply)
            r.detail.insert(0, r.hint.reply)  # the first detail line is the step's summary: what went wrong
        self.emit_event(StepFinished(r.copy()))

    def skip(self, step_id: str, why: str) -> None:
        r = next((s for s in self.steps if s.id == step_id), None)
        if r is None or r.status != "pending":  # None: a step this run does not have (envelope with a send)
            return
        r.status = "skipped"
        r.detail.append(self.redactor.text(why))
        self.emit_event(StepFinished(r.copy()))

    async def run_step(self, step_id: str, body: Callable[[StepHandle], Awaitable[None]],
                       timeout_kind: str = "timeout") -> bool:
        """Run one step under the timeout; True when it ended ok or warn."""
        r = self.result(step_id)
        handle = StepHandle(self, r)
        t = self._start(r)
        budget = self.timeout * STEP_ROUND_TRIPS.get(step_id, 1)
        try:
            async with asyncio.timeout(budget) as cm:
                await body(handle)
        except StepFailed as f:
            for d in f.details:
                handle.detail(d)
            self._finish(r, "fail", t, f.hint)
            return False
        except _Skipped as sk:
            r.detail[:] = [str(sk)]
            self._finish(r, "skipped", t)
            return False
        except asyncio.CancelledError:
            r.detail[:] = [self.cancel_reason]
            self._finish(r, "skipped", t)
            raise
        except TimeoutError as exc:
            kind = timeout_kind if cm.expired() else self.classify(exc, step_id)[0]
            if cm.expired() and step_id == "ehlo" and self.banner_seen:
                kind = "timeout"  # the greeting came; EHLO got no answer
            if cm.expired() and step_id == "connect" and self.tcp_connected and self.implicit_tls:
                kind = "tls-timeout"
            if step_id != "token":
                self.smtp_unusable = True  # a reply may still come: never read the stream out of step
            # the step's budget ran out, or one read got no answer within timeout_seconds (aiosmtplib's own timeout)
            handle.detail(f"no answer within {budget if cm.expired() else self.timeout:g} s")
            hint = await self._explain_silence(handle) if kind == "banner-timeout" else None
            self._finish(r, "fail", t, hint or H.for_exception(kind, None, self.hint_ctx()))
            return False
        except Exception as exc:  # noqa: BLE001 - every failure becomes a hint
            hint = await self.hint_for_exception(exc, step_id, handle)
            self._finish(r, "fail", t, hint)
            return False
        self._finish(r, handle.status, t, handle.hint)
        return True

    @contextlib.asynccontextmanager
    async def custom_step(self, step_id: str, title: str) -> AsyncIterator[StepHandle]:
        """A step reported by after_auth (inserted before quit)."""
        r = StepResult(step_id, title)
        self.steps.insert(self.steps.index(self.result("quit")), r)
        handle = StepHandle(self, r)
        t = self._start(r)
        try:
            async with asyncio.timeout(self.timeout) as cm:
                yield handle
        except StepFailed as f:
            for d in f.details:
                handle.detail(d)
            handle.status = "fail"
            self._finish(r, "fail", t, f.hint)
            return
        except asyncio.CancelledError:
            r.detail.append("cancelled")
            self._finish(r, "skipped", t)
            raise
        except Exception as exc:  # noqa: BLE001
            if isinstance(exc, TimeoutError) and cm.expired():
                handle.detail(f"no answer within {self.timeout:g} s")
                hint = H.for_exception("timeout", None, self.hint_ctx())
            else:
                hint = await self.hint_for_exception(exc, step_id, handle)
            handle.status = "fail"
            self._finish(r, "fail", t, hint)
            return
        self._finish(r, handle.status, t, handle.hint)

    def classify(self, exc: BaseException, step_id: str) -> tuple[str, str]:
        """(exception kind for hints.for_exception, text)."""
        import aiosmtplib  # loaded by now whenever an SMTP step ran

        text = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, socket.gaierror):
            return "dns", text
        if isinstance(exc, ConnectionRefusedError):
            return "connection-refused", text
        if isinstance(exc, ssl.SSLError):
            from tui.diagnostics.tls import classify_ssl_error

            return classify_ssl_error(exc), text
        cause = exc.__cause__
        if isinstance(cause, ssl.SSLError):
            from tui.diagnostics.tls import classify_ssl_error

            return classify_ssl_error(cause), f"{type(cause).__name__}: {cause}"
        if isinstance(exc, aiosmtplib.SMTPTimeoutError) or isinstance(exc, TimeoutError):
            self.smtp_unusable = True  # a late reply would be read as the answer to the next command
            if step_id == "connect" and self.tcp_connected and self.implicit_tls:
                return "tls-timeout", text
            if step_id == "connect" and not self.banner_seen and not self.implicit_tls:
                return "connect-timeout", text
            if not self.banner_seen:
                return "banner-timeout", text
            return "timeout", text
        if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, ConnectionError, EOFError)):
            return "disconnected", text
        if isinstance(exc, OSError) and step_id == "connect":
            return "connection-refused", text
        if isinstance(exc, (OSError, aiosmtplib.SMTPException)):
            return "disconnected", text
        return "unexpected", text

    async def hint_for_exception(self, exc: BaseException, step_id: str, handle: StepHandle) -> Hint:
        try:
            import aiosmtplib
        except ImportError:  # pragma: no cover
            aiosmtplib = None  # type: ignore[assignment]
        if aiosmtplib is not None and isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
            exc = exc.recipients[0]  # every recipient refused: the first reply speaks for them
        if aiosmtplib is not None and isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code > 0:
            return H.for_smtp_reply(exc.code, exc.message, self.hint_ctx())
        kind, text = self.classify(exc, step_id)
        if kind in ("connect-timeout", "banner-timeout", "timeout", "tls-timeout"):
            text = f"no answer within {self.timeout:g} s"  # one read got nothing (aiosmtplib's per-command timeout)
        handle.detail(text)
        if kind == "banner-timeout" and (hint := await self._explain_silence(handle)) is not None:
            return hint
        details: tuple[str, ...] = ()
        if kind in ("tls-verify", "tls-hostname"):
            handle.detail(self.ca_source)
            names = await self.peek_cert(self.host, self.port, starttls=not self.implicit_tls)
            for line in names:
                handle.detail(line)
            details = tuple(names)
        return H.for_exception(kind, text, self.hint_ctx(), details=details)

    async def _explain_silence(self, handle: StepHandle) -> Hint | None:
        """No greeting in clear: when the port answers a TLS handshake it is an implicit-TLS (SMTPS) port, where
        LogicalDOC (Connection Security None, STARTTLS or TLS without 'Use secure authentication') waits in vain too.
        A read-only probe on its own connection; None when it does not tell."""
        if self.m365 or self.implicit_tls:
            return None
        from tui.diagnostics.tls import speaks_implicit_tls

        if not await self._probe(speaks_implicit_tls, self.host, self.port, timeout=min(self.timeout, 5.0)):
            return None
        handle.detail("the port answers a TLS handshake: it speaks implicit TLS (SMTPS)")
        security = {0: "None", 1: "STARTTLS", 2: "TLS"}.get(self.settings.connection_security, "?")
        return H.for_exception("plain-on-implicit-tls-port", None, self.hint_ctx(), extra={"security": security})

    async def peek_cert(self, host: str, port: int, *, starttls: bool) -> list[str]:
        from tui.diagnostics.tls import peek_certificate

        try:
            async with asyncio.timeout(min(self.timeout, 5.0)):
                return await _in_daemon_thread(functools.partial(
                    peek_certificate, host, port, starttls=starttls, timeout=min(self.timeout, 5.0)))
        except Exception:  # noqa: BLE001
            return []

    # ---- the steps ----
    async def step_settings(self, h: StepHandle) -> None:
        s = self.settings
        h.detail(f"{s.protocol} {s.host}:{s.port}" + (f", tenant {s.client_tenant}, client {s.client_id}"
                                                       if self.m365 else ""))
        try:
            from tui.settings.validate import validate
        except ImportError:  # pragma: no cover - the settings package always ships it
            return
        problems = validate(s)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity != "error"]
        for p in errors:
            h.detail(f"error: {p.label}: {p.message}")
        for p in warnings:
            h.detail(f"warning: {p.label}: {p.message}")
        if errors:
            h.result.detail[0:0] = [f"{len(errors)} error{'' if len(errors) == 1 else 's'}, "
                                    f"{len(warnings)} warning{'' if len(warnings) == 1 else 's'}"]
            # the first error's own cause, setup step and fix (not a generic "the settings have errors")
            raise StepFailed(H.for_settings(errors, self.hint_ctx()))
        if warnings:
            h.result.detail.insert(0, f"{len(warnings)} warning{'' if len(warnings) == 1 else 's'}")
            h.warn(H.for_settings(warnings, self.hint_ctx()))

    async def step_token(self, h: StepHandle) -> None:
        from tui.diagnostics.token import fetch_token

        loop = asyncio.get_running_loop()

        def log(text: str) -> None:
            at = time.perf_counter()
            try:
                loop.call_soon_threadsafe(self._token_line, text, at)
            except RuntimeError:
                pass

        def imported() -> None:
            try:
                loop.call_soon_threadsafe(self.libs_ready.set)
            except RuntimeError:
                pass

        def gate() -> bool:  # in the token thread: the client secret leaves only once the settings passed
            self.verdict.wait(self.timeout + 1.0)
            return self.settings_ok is True

        if self.token_cache.serves_from_memory(self.settings):
            # A rerun with unchanged credentials: msal answers from memory, so ask it here, without a thread hop.
            self.libs_ready.set()
            await self.verdict_async.wait()
            if not self.settings_ok:
                raise _Skipped("settings have errors")
            out = fetch_token(self.settings, self.token_cache, self.timeout,
                              lambda text: self._token_line(text, time.perf_counter()))
        else:
            out = await _in_daemon_thread(fetch_token, self.settings, self.token_cache, self.timeout, log,
                                          imported, gate)
        await self.verdict_async.wait()  # a token failure is reported only once the settings passed
        if not self.settings_ok or out.aborted:
            raise _Skipped("settings have errors")
        ctx = self.hint_ctx()
        if out.exc_kind:
            h.detail(out.exc_text)
            h.detail(out.ca_source)
            details = out.exc_details
            if out.exc_kind == "requests-ssl":
                from urllib.parse import urlsplit

                u = urlsplit(self.settings.authority_host.strip())
                names = await self.peek_cert(u.hostname or "", u.port or 443, starttls=False)
                for line in names:
                    h.detail(line)
                details = details + tuple(names)
            raise StepFailed(H.for_exception(out.exc_kind, out.exc_text, ctx, details=details))
        if out.error is not None:
            err = out.error
            code = H.aadsts_code(err)
            h.detail(f"Entra ID refused: {err.get('error', '?')}" + (f" AADSTS{code}" if code else ""))
            raise StepFailed(H.for_token_error(err, ctx))
        assert out.token is not None
        self.token = out.token
        self.redactor.add_token(out.token)
        from tui.diagnostics.claims import check_claims, summary

        source = "cache" if out.source == "cache" else "identity_provider"
        h.detail(f"token from {'cache' if source == 'cache' else 'the identity provider'}"
                 f"{', expires in ' + str(out.expires_in // 60) + ' min' if out.expires_in else ''}"
                 f"{'; new token: ' + out.renewed_because if out.renewed_because else ''}")
        h.detail(f"token {token_preview(out.token)}")
        h.detail(out.ca_source)
        claims = out.claims or {}
        self.claims = claims or None
        self.token_info = TokenInfo(source, token_preview(out.token), out.expires_in, summary(claims),
                                    str(claims.get("oid")) if claims.get("oid") else None, out.ca_source)
        if out.claims is None:
            h.detail(f"claims not checked: {out.claims_error}")
            h.warn(H.for_claim("jwt", out.claims_error, ctx))
            return
        ctx = self.hint_ctx()
        from tui.diagnostics.claims import MODEL_NAMES, authorization_model

        self.model = authorization_model(claims)
        h.detail(f"authorization model: {MODEL_NAMES[self.model]}"
                 + ("" if self.model == "classic" else " (the token has no SMTP.SendAsApp role; AUTH decides)"))
        failed = None
        privileges: list[str] = []
        for finding in check_claims(claims, client_id=self.settings.client_id, tenant=self.settings.client_tenant,
                                    scope=self.settings.scope):
            mark = {"ok": "ok", "info": "  ", "warn": "warn", "fail": "FAIL"}[finding.status]
            h.detail(f"{mark} {finding.text}")
            if finding.status == "fail" and failed is None:
                failed = finding
            elif finding.hint_id == "least-privilege":
                privileges.append(finding.text.removeprefix("least privilege: "))
            elif finding.status == "warn" and finding.hint_id:
                h.warn(H.by_id(finding.hint_id, ctx, reply=finding.text))
            elif finding.status == "warn":
                h.warn()
        if privileges:  # one hint naming every role SMTP does not need
            h.warn(H.by_id("least-privilege", ctx, reply="least privilege: " + "; ".join(privileges)))
        if failed is not None:
            self.token_cache.invalidate(self.settings, f"the last one failed the claim check ({failed.text})")
            raise StepFailed(H.by_id(failed.hint_id or "claim-not-jwt", ctx, reply=failed.text))

    def _token_line(self, text: str, at: float) -> None:
        if not self.closed:
            self.recorder.add("I", text, at=at)

    async def _tcp_connect(self, h: StepHandle | None) -> socket.socket:
        """A TCP connection to host:port (every address in turn); detail lines go to `h` when given."""
        loop = asyncio.get_running_loop()
        t = time.perf_counter()
        try:  # an address literal needs no resolver thread
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        addrs: list[tuple[int, Any]] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if (family, sockaddr) not in addrs:
                addrs.append((family, sockaddr))
        if h is not None:
            shown = ", ".join(str(a[1][0]) for a in addrs)
            h.detail(f"{self.host} resolves to {shown} ({(time.perf_counter() - t) * 1000:.0f} ms)")
        last: BaseException | None = None
        for family, sockaddr in addrs:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            t = time.perf_counter()
            try:
                await loop.sock_connect(s, sockaddr)
            except (OSError, asyncio.CancelledError) as exc:
                s.close()
                if isinstance(exc, asyncio.CancelledError):
                    raise
                last = exc
                if h is not None:
                    h.detail(f"{sockaddr[0]}:{sockaddr[1]} {type(exc).__name__}: {exc}")
                continue
            if h is not None:
                peer = s.getpeername()
                h.result.detail.insert(0, f"connected to {peer[0]}:{peer[1]} in "
                                          f"{(time.perf_counter() - t) * 1000:.0f} ms")
                self.recorder.add("I", f"TCP connected to {peer[0]}:{peer[1]} ({self.host})")
            return s
        raise last or OSError("no address to connect to")

    def _new_smtp(self, tls_context: ssl.SSLContext | None) -> Any:
        from tui.diagnostics.smtp import TracedSMTP

        return TracedSMTP(self.recorder, hostname=self.host, local_hostname=_hostname(), timeout=self.timeout,
                          tls_context=tls_context)

    async def step_connect(self, h: StepHandle) -> None:
        self.phase = "connect"
        if "aiosmtplib" not in sys.modules:
            # First run in this process: import the SMTP client off the event loop (tens of ms of module loading
            # would otherwise stall a console's loop in one piece).
            import importlib

            await _in_daemon_thread(importlib.import_module, "tui.diagnostics.smtp")
        from tui.diagnostics.tls import smtp_context

        sock = await self._tcp_connect(h)
        self.sock = sock
        self.tcp_connected = True
        try:
            self.ssl_ctx, self.ca_source = smtp_context(_expand(self.settings.ca_file), logicaldoc_smtp=not self.m365)
        except (ssl.SSLError, OSError) as exc:
            raise StepFailed(H.for_exception("ca-file", f"{type(exc).__name__}: {exc}", self.hint_ctx())) from None
        self.smtp = self._new_smtp(self.ssl_ctx)
        if self.implicit_tls:
            h.detail(f"implicit TLS from the first byte: {self.implicit_reason}")
            self.sock = None  # aiosmtplib owns it now
            try:
                await self.smtp.connect(sock=sock, use_tls=True, hostname=self.host)
            except Exception as exc:  # noqa: BLE001 - judged as LogicalDOC would (_tls_failed), or re-raised
                with contextlib.suppress(Exception):
                    self.smtp.close()
                await self._tls_failed(exc, h, implicit=True)
            else:
                self.banner_seen = True
                self._tls_details(h)

    async def _tls_failed(self, exc: BaseException, h: StepHandle, *, implicit: bool) -> None:
        """A TLS handshake (implicit, or after STARTTLS) failed: judge it as LogicalDOC's sender would.

        Raises StepFailed with LogicalDOC's view of the failure, re-raises `exc` for the general table, or (certificate
        not verifiable, no credential at stake, protocol smtp: LogicalDOC sends anyway) reconnects over an
        unverified session, ends the step `warn` and returns."""
        if self.m365 or isinstance(exc, StepFailed):
            raise exc
        import aiosmtplib

        if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code > 0:
            raise exc
        kind, text = self.classify(exc, "connect" if implicit else "starttls")
        ctx = self.hint_ctx()
        if kind in ("tls-verify", "tls-hostname"):
            h.detail(text)
            h.detail(self.ca_source)
            names = await self.peek_cert(self.host, self.port, starttls=not implicit)
            for line in names:
                h.detail(line)
            if self.auth_encrypted and kind == "tls-verify":
                raise StepFailed(H.for_exception("tls-verify-logicaldoc", text, ctx, details=tuple(names)))
            if self.user:
                accepts = ("this certificate here (with 'Use secure authentication' it checks the issuer against "
                           "its Java trust store, but no host names)" if self.auth_encrypted else
                           "any certificate here (mail.smtp.ssl.trust=*, and it checks no host names)")
                raise StepFailed(H.for_exception("refuse-unverified-tls", text, ctx, details=tuple(names),
                                                 extra={"accepts": accepts}))
            await self._reopen_unverified(implicit)
            self.unverified = True
            h.detail("went on over the unverified session: no credential is sent (Username is empty)")
            self._tls_details(h)
            h.warn(H.for_exception("tls-unverified-no-credential", text, ctx))
            return
        probe_timeout = min(self.timeout, 5.0)
        if implicit:
            from tui.diagnostics.tls import plain_banner

            banner = await self._probe(plain_banner, self.host, self.port, timeout=probe_timeout)
            if banner:
                h.detail(text)
                plain_fix = ("turn 'Use secure authentication' off and set Connection Security to STARTTLS (or TLS "
                             "to require it)" if self.auth_encrypted else
                             "set Connection Security to STARTTLS (or TLS to require it)")
                raise StepFailed(H.for_exception("implicit-tls-plain-port",
                                                 f"no TLS: the server sent its greeting in clear: {banner}", ctx,
                                                 extra={"why": self.implicit_reason, "plain_fix": plain_fix}))
        if kind in ("tls-version", "tls-handshake", "disconnected"):
            from tui.diagnostics.tls import speaks_only_old_tls, speaks_only_tls13

            if await self._probe(speaks_only_tls13, self.host, self.port, starttls=not implicit,
                                 timeout=probe_timeout):
                h.detail(text)
                h.detail("the server completes a TLS 1.3 handshake and refuses TLS 1.2")
                raise StepFailed(H.for_exception("tls13-only", text, ctx))
            if await self._probe(speaks_only_old_tls, self.host, self.port, starttls=not implicit,
                                 timeout=probe_timeout):
                h.detail(text)
                h.detail("the server completes a TLS 1.0/1.1 handshake and refuses TLS 1.2")
                raise StepFailed(H.for_exception("tls-version", text, ctx))
        raise exc

    async def _probe(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking read-only probe from tui.diagnostics.tls in a daemon thread, bounded; None on any error."""
        try:
            async with asyncio.timeout(float(kwargs.get("timeout", 5.0)) + 1.0):
                return await _in_daemon_thread(functools.partial(fn, *args, **kwargs))
        except Exception:  # noqa: BLE001 - a probe only adds evidence
            return None

    async def _reopen_unverified(self, implicit: bool) -> None:
        """Connect again and set TLS up without verifying the certificate (only when nothing secret will be sent)."""
        from tui.diagnostics.tls import unverified_context

        self.recorder.add("I", "connecting again over TLS without certificate verification (no credential is sent)")
        sock = await self._tcp_connect(None)
        ctx = unverified_context()
        self.smtp = self._new_smtp(ctx)
        if implicit:
            await self.smtp.connect(sock=sock, use_tls=True, hostname=self.host)
            self.banner_seen = True
            return
        await self.smtp.connect(sock=sock)
        await self.smtp.ehlo()
        await self.smtp.starttls(server_hostname=self.host, tls_context=ctx)
        await self.smtp.ehlo()

    def _tls_details(self, h: StepHandle) -> None:
        from tui.diagnostics.tls import cert_lines

        obj = self.smtp.ssl_object
        if obj is None:
            return
        if self.unverified:
            version, cipher = obj.version(), obj.cipher()
            for line in (f"{version}, cipher {cipher[0] if cipher else '?'}", "certificate NOT verified"):
                h.detail(line)
                self.recorder.add("I", f"TLS {line}")
            return
        lines, days = cert_lines(obj)
        for line in lines:
            h.detail(line)
            self.recorder.add("I", f"TLS {line}")
        h.detail(self.ca_source)
        if self.auth_encrypted and _expand(self.settings.ca_file):
            # verified through ca_file, which LogicalDOC's smtps connection does not read: it may still fail there
            h.warn(H.for_exception("tls-java-trust", None, self.hint_ctx()))
        if days is not None and days < 14:
            h.detail(f"warning: the certificate expires in {days} days")
            h.warn()

    async def step_ehlo(self, h: StepHandle) -> None:
        if not self.implicit_tls:
            sock, self.sock = self.sock, None
            banner = await self.smtp.connect(sock=sock)
        else:
            banner = self.smtp.banner
        self.banner_seen = True
        h.detail(f"banner: {banner.code} {banner.message.splitlines()[0] if banner.message else ''}")
        self.server_said = banner.message or ""
        response = await self.smtp.ehlo()
        self.server_said += "\n" + (response.message.splitlines()[0] if response.message else "")
        caps = [line.split(" ", 1)[0].upper() + (" " + line.split(" ", 1)[1] if " " in line else "")
                for line in response.message.splitlines()[1:]]
        h.detail("capabilities: " + (", ".join(caps) or "(none)"))
        if self.m365 and not self.implicit_tls and "auth" in self.smtp.esmtp_extensions:
            h.detail("AUTH is offered before TLS; outmail never uses it there")

    async def step_starttls(self, h: StepHandle) -> None:
        self.phase = "tls"
        smtp = self.smtp
        if not smtp.supports_extension("starttls"):
            h.detail("EHLO does not list STARTTLS")
            if not self.m365:
                ctx = self.hint_ctx()
                if self.settings.connection_security == 2:
                    raise StepFailed(H.for_exception("starttls-required-missing", "EHLO does not list STARTTLS", ctx))
                # Connection Security STARTTLS: LogicalDOC uses it only when offered, and goes on in clear.
                methods = [m.upper() for m in smtp.server_auth_methods]
                if self.user and methods:
                    h.detail(f"the server offers AUTH {' '.join(methods)} in clear")
                    raise StepFailed(H.for_exception("refuse-cleartext-auth", "EHLO does not list STARTTLS", ctx))
                h.detail("LogicalDOC goes on without TLS (STARTTLS is used only when offered)")
                h.warn(H.for_exception("starttls-opportunistic-clear", "EHLO does not list STARTTLS", ctx))
                return
            smtp.esmtp_extensions["starttls"] = ""  # ask anyway, to quote the server's refusal
        import aiosmtplib

        try:
            await smtp.starttls(server_hostname=self.host, tls_context=self.ssl_ctx)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code > 0:
                raw = f"{exc.code} {' '.join(exc.message.split())}"
                hint = H.for_smtp_reply(exc.code, exc.message, self.hint_ctx())
                if hint.id in ("smtp-temporary", "smtp-permanent", "unrecognized-command", "command-unrecognized"):
                    hint = H.for_exception("starttls-not-offered", raw, self.hint_ctx())
                raise StepFailed(hint) from None
            await self._tls_failed(exc, h, implicit=False)
        except Exception as exc:  # noqa: BLE001 - judged as LogicalDOC would, or re-raised
            await self._tls_failed(exc, h, implicit=False)
        else:
            self._tls_details(h)
            await smtp.ehlo()
            self.recorder.add("I", "EHLO again after STARTTLS")
        methods = [m.upper() for m in self.smtp.server_auth_methods]
        h.detail("AUTH " + (" ".join(methods) if methods else "not offered"))
        if self.m365 and "XOAUTH2" not in methods:
            raise StepFailed(H.by_id("xoauth2-not-offered", self.hint_ctx(),
                                     reply="AUTH " + (" ".join(methods) or "(not offered)")))

    async def step_auth(self, h: StepHandle) -> None:
        self.phase = "auth"
        smtp = self.smtp
        user = self.user
        tls = smtp.ssl_object is not None
        if self.m365:
            assert tls, "no credential before TLS"
            from tui.diagnostics.smtp import xoauth2_string

            self.mechanism = "XOAUTH2"
            encoded = xoauth2_string(user, self.token or "")
            self.redactor.add_secret(encoded, f"<redacted, {len(encoded)} bytes>")
            h.detail(f"AUTH XOAUTH2 user={user}")
            response = await smtp.execute_command(b"AUTH", b"XOAUTH2", encoded.encode("ascii"))
            if response.code == 334:
                response = await smtp.execute_command(b"")
            if response.code != 235:
                self.token_cache.invalidate(self.settings, f"the last one was refused at AUTH ({response.code} "
                                            f"{' '.join(H.split_reply(response.message)[:2])})")
        else:
            # LogicalDOC's sender (Jakarta Mail): AUTH only when the server offers it, with the first of LOGIN,
            # PLAIN, DIGEST-MD5, NTLM it offers; no AUTH offered means it sends without logging in.
            assert not self.unverified, "no credential over an unverified session"
            methods = [m.upper() for m in smtp.server_auth_methods]
            ctx = self.hint_ctx()
            if not methods:
                where = "" if tls else " in clear"
                h.detail(f"the server offers no AUTH{where}: LogicalDOC sends without logging in")
                self.auth_skipped = True
                if not tls and smtp.supports_extension("starttls"):  # AUTH would come after STARTTLS
                    h.warn(H.for_exception("auth-after-starttls-only", None, ctx))
                else:
                    h.warn(H.for_exception("no-auth-offered", None, ctx, extra={"where": where}))
                return
            mech = next((m for m in JAVAMAIL_MECHANISMS if m in methods), None)
            shown = {"mechanisms": " ".join(methods)}
            if mech is None:
                raise StepFailed(H.for_exception("auth-no-common-mechanism", "AUTH " + " ".join(methods), ctx,
                                                 extra=shown))
            if mech not in ("LOGIN", "PLAIN"):
                h.detail(f"LogicalDOC would log in with {mech}; outmail speaks LOGIN and PLAIN only")
                self.auth_skipped = True
                h.warn(H.for_exception("auth-mechanism-unproven", "AUTH " + " ".join(methods), ctx, extra=shown))
                return
            if not tls:
                h.detail("warning: the password is sent without TLS (Connection Security None)")
                h.warn()
            self.mechanism = mech
            h.detail(f"AUTH {mech} as {user} (the first of LogicalDOC's LOGIN, PLAIN the server offers)")
            import aiosmtplib

            password = self.settings.password.reveal()
            # what goes on the wire, in case a server echoes it: PLAIN's "\0user\0password" (base64 by add_secret)
            self.redactor.add_secret(f"\0{user}\0{password}" if password else None)
            try:
                if mech == "PLAIN":
                    response = await smtp.auth_plain(user, self.settings.password.reveal())
                else:
                    response = await smtp.auth_login(user, self.settings.password.reveal())
            except aiosmtplib.SMTPAuthenticationError as exc:
                raise StepFailed(H.for_smtp_reply(exc.code, exc.message, self.hint_ctx())) from None
        if response.code != 235:
            raise StepFailed(H.for_smtp_reply(response.code, response.message, self.hint_ctx()))
        summary = f"{response.code} {' '.join(response.message.split())}"
        if self.model is not None:  # which of Exchange's two models let the app in (verdict.md section 2)
            from tui.diagnostics.claims import MODEL_NAMES

            summary += f"; authorized by {MODEL_NAMES[self.model]}"
        h.result.detail.insert(0, summary)

    async def step_envelope(self, h: StepHandle) -> None:
        """MAIL FROM with the From LogicalDOC uses, RCPT TO, then RSET: nothing is sent. Catches what fails at the
        first real mail (530 5.7.57, 554 5.7.1 relay denied, 553 sender not owned)."""
        from tui.addresses import split_mailbox

        s = self.settings
        sender = split_mailbox(s.sender)[1] if s.sender.strip() else self.user  # MAIL FROM takes the bare address
        rcpt = self.rcpt or sender
        options: list[str] = []
        if not (sender.isascii() and rcpt.isascii()):
            if not self.smtp.supports_extension("smtputf8"):
                raise StepFailed(H.by_id("address-not-ascii", self.hint_ctx("mail"),
                                         reply=f"{sender if not sender.isascii() else rcpt}: the server does not "
                                               "offer SMTPUTF8", extra={"status": "EHLO"}))
            options.append("SMTPUTF8")
        self.phase = "mail"
        response = await self.smtp.mail(sender, options=options, encoding="utf-8" if options else "ascii")
        h.detail(f"MAIL FROM:<{sender}> {ARROW} {response.code} {' '.join(response.message.split())}")
        self.phase = "rcpt"
        response = await self.smtp.rcpt(rcpt, encoding="utf-8" if options else "ascii")
        h.detail(f"RCPT TO:<{rcpt}> {ARROW} {response.code} {' '.join(response.message.split())}")
        await self.smtp.rset()
        h.result.detail.insert(0, f"the server accepts mail from {sender} to {rcpt} "
                                  f"({'after AUTH' if self.mechanism else 'without a login'}); RSET, nothing was sent")
        if s.userasfrom:
            h.detail("note: with 'Use user's email as sender' LogicalDOC sends From each user's own address; "
                     "`outmail send --from ADDR` tries one")
        if H.server_kind(said=self.server_said) == "exchange":
            # Exchange accepts MAIL FROM and refuses a From without Send As only after DATA (554 5.2.252)
            h.detail("note: Exchange Online checks Send As only after the message (DATA); `outmail send` proves it")
        if not self.rcpt:
            h.detail("RCPT TO is the sender's own address; `outmail check --rcpt ADDR` tries another recipient")

    async def step_quit(self, h: StepHandle) -> None:
        response = await self.smtp.quit()
        h.detail(f"{response.code} {' '.join(response.message.split())}")

    # ---- orchestration ----
    async def token_path(self) -> bool:
        return await self.run_step("token", self.step_token, timeout_kind="requests-timeout")

    async def smtp_path(self) -> bool:
        if not await self.run_step("connect", self.step_connect, timeout_kind="connect-timeout"):
            return False
        if not await self.run_step("ehlo", self.step_ehlo,
                                   timeout_kind="timeout" if self.implicit_tls else "banner-timeout"):
            return False
        if self.implicit_tls:
            self.skip("starttls", f"implicit TLS ({self.implicit_reason}): TLS was set up in connect")
            return True
        if not (self.m365 or self.settings.connection_security in (1, 2)):
            self.skip("starttls", "Connection Security None: LogicalDOC does not use TLS, even where the server "
                                  "offers STARTTLS")
            return True
        return await self.run_step("starttls", self.step_starttls)

    async def main(self, after_auth: Callable[[Session], Awaitable[None]] | None) -> None:
        self.emit_event(RunStarted(tuple(s.copy() for s in self.steps)))
        tasks: list[asyncio.Task[bool]] = []
        if self.m365:
            # The token path starts first: its thread imports msal and runs the authority discovery (nothing
            # secret) while the settings are checked; the token request itself waits for the settings verdict.
            tasks.append(asyncio.create_task(self.token_path()))
            if "msal" not in sys.modules:
                # First run in this process: let the import finish before the settings check competes for the
                # GIL, so that the check runs during the discovery's network wait; capped.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.libs_ready.wait(), IMPORT_HEAD_START_SECONDS)
        try:
            self.settings_ok = await self.run_step("settings", self.step_settings)
        finally:
            self.verdict.set()
            self.verdict_async.set()
        if not self.settings_ok:
            self.cancel_reason = "settings have errors"
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
            for sid in STEP_IDS[1:]:
                self.skip(sid, "settings have errors")
            return
        if not self.m365:
            self.skip("token", "protocol smtp: no token")
        smtp_task = asyncio.create_task(self.smtp_path())
        tasks.append(smtp_task)
        try:
            results = await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        if self.m365:
            token_ok, smtp_ok = results
        else:
            token_ok, smtp_ok = True, results[0]
        # skip whatever could not run on the SMTP path
        for sid in ("connect", "ehlo", "starttls"):
            self.skip(sid, "an earlier step failed")
        if not (token_ok and smtp_ok):
            why = "no token" if not token_ok else "the connection is not ready"
            self.skip("auth", why)
            self.skip("envelope", why)
        else:
            if not self.user and not self.m365:
                self.skip("auth", "no Username: LogicalDOC sends without AUTH")
                self.auth_skipped = True
                auth_ok = True
            else:
                auth_ok = await self.run_step("auth", self.step_auth)
            if not auth_ok:
                self.skip("envelope", "AUTH failed")
            elif after_auth is not None:
                await after_auth(Session(self))
            elif self.envelope:
                await self.run_step("envelope", self.step_envelope)
        connected = self.smtp is not None and self.smtp.is_connected
        if connected and self.smtp_unusable:
            self.skip("quit", "the server stopped answering: the connection is closed without QUIT")
            connected = False
        if connected:
            ok = await self.run_step("quit", self.step_quit)
            if not ok:  # a failed QUIT is harmless: the work is done
                q = self.result("quit")
                q.status = "warn"
        else:
            self.skip("quit", "not connected")

    def close(self) -> None:
        self.closed = True
        self.verdict.set()  # release a token thread waiting at its gate (settings_ok stays falsy if not decided)
        if self.smtp is not None:
            try:
                self.smtp.close()
            except Exception:  # noqa: BLE001
                pass
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def report(self, cancelled: bool = False) -> Report:
        s = self.settings
        target = f"{s.protocol} {s.host}:{s.port} (tenant {getattr(s, 'tenant', 'default')})"
        if getattr(s, "source_path", None):
            target = f"{s.source_path} {target}"
        return Report(steps=[r.copy() for r in self.steps], transcript=list(self.recorder.lines),
                      token=self.token_info, target=target, duration_ms=self.now_ms(), cancelled=cancelled,
                      model=self.model)


def _expand(path: str) -> str:
    import os

    return os.path.expanduser(path.strip()) if path and path.strip() else ""


async def diagnose(settings: Any, *, emit: Callable[[Any], None] | None = None,
                   token_cache: TokenCache | None = None,
                   after_auth: Callable[[Session], Awaitable[None]] | None = None,
                   fresh_token: bool = False, envelope: bool = True, rcpt: str = "") -> Report:
    """Prove `settings` (a tui.settings.model.Settings, saved or not) step by step and return the Report.

    emit(event): called for every RunStarted / StepStarted / StepFinished / TranscriptAdded / RunFinished, on the
        event-loop thread, synchronously (keep it cheap; a Textual worker can post_message from it).
    token_cache: the process-wide cache by default (`token.DEFAULT_TOKEN_CACHE`); pass a fresh `TokenCache()` to
        force a network token.
    after_auth: async callable(Session) run after a successful auth (or where LogicalDOC sends without a login:
        protocol smtp with no Username or a server that offers no AUTH), before quit (the test send); the
        `envelope` step is then skipped.
    fresh_token: drop the cached token first, so that this run asks Entra ID ("new token: a fresh token was asked
        for"); a token that failed a claim check or was refused at AUTH is dropped anyway (TokenCache.invalidate).
    envelope: run the `envelope` step (MAIL FROM the Sender Email, RCPT TO `rcpt` or the sender's own address, RSET;
        nothing is sent); a run with after_auth, or envelope=False, has no envelope step.
    Cancelling the awaiting task ends the run at once (CancelledError propagates; the socket is closed).
    """
    run = _Run(settings, emit, token_cache)
    run.envelope, run.rcpt = envelope and after_auth is None, rcpt.strip()
    if not run.envelope:  # a test send carries its own MAIL FROM and RCPT TO
        run.steps = [r for r in run.steps if r.id != "envelope"]
    if fresh_token and run.m365:
        run.token_cache.invalidate(settings, "a fresh token was asked for")
    try:
        await run.main(after_auth)
    except asyncio.CancelledError:
        for r in run.steps:
            if r.status in ("pending", "running"):
                r.status = "skipped"
                r.detail.append("cancelled")
        run.close()
        raise
    except BaseException:
        run.close()
        raise
    report = run.report()
    run.emit_event(RunFinished(report))
    run.close()
    return report

"""One diagnostics run's state and how it explains a failure. No Textual here.

`Run` is the `StepRunner` of one `diagnose` call plus what its steps share: the facts taken from the settings
(LogicalDOC's transport: `implicit_tls`, `auth_encrypted`; `m365`, `host`, `port`, `user`), what the steps learnt
(`token`, `claims`, `model`, `token_info`, the SMTP client `smtp`, the TLS context, what the server said, the SASL
mechanism) and the state of the connection (`tcp_connected`, `banner_seen`, `smtp_unusable`, `unverified`).

Failures are explained from evidence, never guessed: `explain` (the runner's hook) classifies an exception
(`classify`), fills the hint table's row for it (`hints.for_exception`, `hints.for_smtp_reply`) with this run's
`hint_ctx()`, and for silence or an unverifiable certificate asks read-only probes on a separate connection
(`tls.speaks_implicit_tls`, `tls.peek_certificate`), each bounded (at most 5 s) and run in a daemon thread.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import threading
from typing import Any, Callable

from tui.diagnostics import hints as H
from tui.diagnostics.hints import Hint, HintContext
from tui.diagnostics.report import Report, TokenInfo
from tui.diagnostics.runner import StepHandle, StepRunner, in_daemon_thread
from tui.diagnostics.token import DEFAULT_TOKEN_CACHE, TokenCache

PROBE_SECONDS = 5.0  # the longest a read-only probe may take (less when timeout_seconds is shorter)


def lookup_error_words(exc: BaseException, host: str = "") -> str:
    """Why `host` could not be looked up, in the admin's words: the idna codec's refusal (a UnicodeError, raised by
    getaddrinfo before any lookup: "label too long", "label empty or too long", told apart by looking at `host`'s
    labels), a NUL in the name (ValueError), or the resolver's own words (socket.gaierror's strerror, "Name or
    service not known")."""
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    text = str(exc)
    if "label" in text and ("too long" in text or "empty" in text):
        labels = host.rstrip(".").split(".") if host.strip(".") else [""]
        if longest := max((len(label) for label in labels), default=0):
            if longest > 63:
                return (f"a label (the text between two dots) is {longest} characters long, more than the 63 "
                        "a label can have")
        if "" in labels:
            return "a label (the text between two dots) is empty: two dots in a row, or a dot at the start"
        return "a label (the text between two dots) is empty or longer than 63 characters"
    if "null" in text:
        return "the name contains a NUL character"
    if isinstance(exc, UnicodeError):
        return f"IDNA cannot encode the name ({text})"
    return text


class Run(StepRunner):
    """The state of one run (see the module docstring); `steps` as StepRunner's. Built by `engine.diagnose`."""

    def __init__(self, settings: Any, emit: Callable[[Any], None] | None, token_cache: TokenCache | None,
                 steps: list[tuple[str, str]]) -> None:
        super().__init__(settings, emit, steps)
        self.token_cache = token_cache if token_cache is not None else DEFAULT_TOKEN_CACHE
        self.m365 = bool(settings.is_m365)
        # the name or address to connect to: an IPv6 address without the brackets the form allows around it
        # (Java's InetAddress takes "[::1]" as it is; getaddrinfo does not)
        host = settings.host.strip()
        self.host = host[1:-1] if host.startswith("[") and host.endswith("]") and ":" in host else host
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
        self.smtp: Any = None  # the TracedSMTP, once connect made it
        self.sock: socket.socket | None = None  # the TCP socket until aiosmtplib owns it
        self.token: str | None = None
        self.claims: dict[str, Any] | None = None
        self.token_info: TokenInfo | None = None
        self.model: str | None = None  # the authorization model the token implies (claims.authorization_model)
        self.ssl_ctx: ssl.SSLContext | None = None
        self.ca_source = ""
        self.banner_seen = False
        self.libs_ready = asyncio.Event()  # msal is imported (the token thread's head start)
        self.settings_ok: bool | None = None
        self.verdict = threading.Event()  # the settings step is over (read by the token thread's gate)
        self.verdict_async = asyncio.Event()
        self.outcomes: dict[str, Any] = {}  # what extra steps produce, by step id (Report.outcomes)

    def hint_ctx(self, phase: str = "") -> HintContext:
        """The values hints are filled with, and what selects their rows: the login's mechanism, the token's
        authorization model, the server kind (from what the server said once it said something) and the phase."""
        server = H.server_kind(said=self.server_said) if self.server_said else ""
        return HintContext.from_settings(self.settings, self.claims, mechanism=self.mechanism, server=server,
                                         phase=phase or self.phase)

    def token_line(self, text: str, at: float) -> None:
        """An `I:` transcript line from the token thread's log, at perf_counter time `at`."""
        if not self.closed:
            self.recorder.add("I", text, at=at)

    # ---- explaining a failure ----
    def explainer(self, timeout_kind: str = "timeout") -> Callable[..., Any]:
        """The runner's `explain` hook for one step; `timeout_kind` is the hint row when the step's budget ran out
        ("connect-timeout", "banner-timeout", "requests-timeout", "timeout")."""
        return functools.partial(self.explain, timeout_kind=timeout_kind)

    async def explain(self, exc: BaseException, h: StepHandle, expired: bool, budget: float, *,
                      timeout_kind: str = "timeout") -> Hint:
        """The hint of a step that raised `exc` (`expired`: its budget of `budget` s ran out)."""
        step_id = h.result.id
        if not isinstance(exc, TimeoutError):
            return await self.hint_for_exception(exc, step_id, h)
        kind = timeout_kind if expired else self.classify(exc, step_id)[0]
        if expired and step_id == "ehlo" and self.banner_seen:
            kind = "timeout"  # the greeting came; EHLO got no answer
        if expired and step_id == "connect" and self.tcp_connected and self.implicit_tls:
            kind = "tls-timeout"
        if step_id != "token":
            self.smtp_unusable = True  # a reply may still come: never read the stream out of step
        # the step's budget ran out, or one read got no answer within timeout_seconds (aiosmtplib's own timeout)
        h.detail(f"no answer within {budget if expired else self.timeout:g} s")
        hint = await self.explain_silence(h) if kind == "banner-timeout" else None
        return hint or H.for_exception(kind, None, self.hint_ctx())

    def classify(self, exc: BaseException, step_id: str) -> tuple[str, str]:
        """(exception kind for hints.for_exception, text)."""
        import aiosmtplib  # loaded by now whenever an SMTP step ran

        text = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, socket.gaierror):
            return "dns", text
        if isinstance(exc, UnicodeError) and step_id == "connect":  # the idna codec refused the name
            return "host-name", lookup_error_words(exc, self.host)
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
        """An SMTP reply's row of the hint table, else the row of the exception's kind (adding its text, and for a
        certificate the names it holds, to the step's detail)."""
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
        if kind == "banner-timeout" and (hint := await self.explain_silence(handle)) is not None:
            return hint
        details: tuple[str, ...] = ()
        if kind in ("tls-verify", "tls-hostname"):
            handle.detail(self.ca_source)
            names = await self.peek_cert(self.host, self.port, starttls=not self.implicit_tls)
            for line in names:
                handle.detail(line)
            details = tuple(names)
        extra = {"reason": text} if kind == "host-name" else None
        return H.for_exception(kind, text, self.hint_ctx(), details=details, extra=extra)

    async def explain_silence(self, handle: StepHandle) -> Hint | None:
        """No greeting in clear: when the port answers a TLS handshake it is an implicit-TLS (SMTPS) port, where
        LogicalDOC (Connection Security None, STARTTLS or TLS without 'Use secure authentication') waits in vain too.
        A read-only probe on its own connection; None when it does not tell."""
        if self.m365 or self.implicit_tls:
            return None
        from tui.diagnostics.tls import speaks_implicit_tls

        if not await self.probe(speaks_implicit_tls, self.host, self.port, timeout=min(self.timeout, PROBE_SECONDS)):
            return None
        handle.detail("the port answers a TLS handshake: it speaks implicit TLS (SMTPS)")
        security = {0: "None", 1: "STARTTLS", 2: "TLS"}.get(self.settings.connection_security, "?")
        return H.for_exception("plain-on-implicit-tls-port", None, self.hint_ctx(), extra={"security": security})

    async def peek_cert(self, host: str, port: int, *, starttls: bool) -> list[str]:
        """The names and issuer of the certificate host:port presents (tls.peek_certificate), [] when it cannot."""
        from tui.diagnostics.tls import peek_certificate

        try:
            async with asyncio.timeout(min(self.timeout, PROBE_SECONDS)):
                return await in_daemon_thread(functools.partial(
                    peek_certificate, host, port, starttls=starttls, timeout=min(self.timeout, PROBE_SECONDS)))
        except Exception:  # noqa: BLE001
            return []

    async def probe(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking read-only probe from tui.diagnostics.tls in a daemon thread, bounded; None on any error."""
        try:
            async with asyncio.timeout(float(kwargs.get("timeout", PROBE_SECONDS)) + 1.0):
                return await in_daemon_thread(functools.partial(fn, *args, **kwargs))
        except Exception:  # noqa: BLE001 - a probe only adds evidence
            return None

    # ---- the end ----
    def close(self) -> None:
        """No more events; release a token thread waiting at its gate; close the connection."""
        self.closed = True
        self.verdict.set()  # settings_ok stays falsy if not decided
        if self.smtp is not None:
            try:
                self.smtp.close()
            except Exception:  # noqa: BLE001
                pass
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def report(self, cancelled: bool = False) -> Report:
        """The Report of the run so far (copies of the steps)."""
        s = self.settings
        target = f"{s.protocol} {s.host}:{s.port} (tenant {getattr(s, 'tenant', 'default')})"
        if getattr(s, "source_path", None):
            target = f"{s.source_path} {target}"
        return Report(steps=[r.copy() for r in self.steps], transcript=list(self.recorder.lines),
                      token=self.token_info, target=target, duration_ms=self.now_ms(), cancelled=cancelled,
                      model=self.model, outcomes=dict(self.outcomes))

    def mark_cancelled(self) -> None:
        """The run was cancelled: every step not ended is `skipped` ("cancelled"), without events."""
        for r in self.steps:
            if r.status in ("pending", "running"):
                r.status = "skipped"
                r.detail.append("cancelled")


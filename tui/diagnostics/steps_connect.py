"""The `connect` step and TLS as LogicalDOC's sender sets it up (implicit here, or after STARTTLS in `steps_smtp`).

`connect`: resolve (a name that cannot be looked up, refused by the resolver or by getaddrinfo's idna codec before
any lookup, is a `fail` that says why: `lookup_failed`), a TCP connection (every address in turn), the trust
(`tls.smtp_context`: ca_file beats REQUESTS_CA_BUNDLE; protocol smtp speaks TLS 1.2 only, as LogicalDOC), and with
implicit TLS ('Use secure authentication', or Connection Security SSL) the handshake from the first byte.

A failed handshake is judged as LogicalDOC would (`tls_failed`), from read-only probes on a separate connection
(`tls.plain_banner`, `speaks_only_tls13`, `speaks_only_old_tls`, `peek_certificate`), never by guessing: where
LogicalDOC would expose a credential over a certificate outmail cannot verify the step fails with both views; with
no credential at stake the run goes on over `tls.unverified_context()` and says so (`warn`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import sys
import time
from typing import Any

from tui.diagnostics import hints as H
from tui.diagnostics.run import Run, lookup_error_words
from tui.diagnostics.runner import StepFailed, StepHandle, in_daemon_thread


def expand(path: str) -> str:
    """A settings path with ~ expanded; "" for an empty one."""
    return os.path.expanduser(path.strip()) if path and path.strip() else ""


def local_hostname() -> str:
    """This host's name for EHLO (letters, digits, '-' and '.' only; "localhost" when none is left)."""
    name = socket.gethostname() or "localhost"
    return "".join(c for c in name if c.isalnum() or c in "-.") or "localhost"


async def tcp_connect(run: Run, h: StepHandle | None) -> socket.socket:
    """A TCP connection to the run's host:port (every address in turn); detail lines go to `h` when given."""
    loop = asyncio.get_running_loop()
    t = time.perf_counter()
    try:
        try:  # an address literal needs no resolver thread
            infos = socket.getaddrinfo(run.host, run.port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            infos = await loop.getaddrinfo(run.host, run.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise lookup_failed(run, exc) from None
    addrs: list[tuple[int, Any]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if (family, sockaddr) not in addrs:
            addrs.append((family, sockaddr))
    if h is not None:
        shown = ", ".join(str(a[1][0]) for a in addrs)
        h.detail(f"{run.host} resolves to {shown} ({(time.perf_counter() - t) * 1000:.0f} ms)")
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
            run.recorder.add("I", f"TCP connected to {peer[0]}:{peer[1]} ({run.host})")
        return s
    raise last or OSError("no address to connect to")


def lookup_failed(run: Run, exc: BaseException) -> StepFailed:
    """The connect step's failure when the Server name cannot be looked up: the resolver's answer (socket.gaierror:
    hint `dns-failure`), or the name refused before any lookup (getaddrinfo's idna codec: UnicodeError, "label too
    long"; a NUL: ValueError; hint `host-name-invalid`). The reply and the first detail say it in the admin's words
    ("Server … cannot be looked up: a label … is longer than 63 characters"), the second the exception's own text;
    the hint points at the Server field, with Microsoft's setup step only for Exchange Online (hints.render)."""
    words = lookup_error_words(exc, run.host)
    shown = run.host if len(run.host) <= 60 else f"{run.host[:60]}… ({len(run.host)} characters)"
    text = f"Server {shown} cannot be looked up: {words}"
    kind = "dns" if isinstance(exc, socket.gaierror) else "host-name"
    return StepFailed(H.for_exception(kind, text, run.hint_ctx(), extra={"reason": words}), text,
                      f"{type(exc).__name__}: {exc}")


def new_smtp(run: Run, tls_context: ssl.SSLContext | None) -> Any:
    """A TracedSMTP for the run's host (every line into its transcript), per-command timeout timeout_seconds."""
    from tui.diagnostics.smtp import TracedSMTP

    return TracedSMTP(run.recorder, hostname=run.host, local_hostname=local_hostname(), timeout=run.timeout,
                      tls_context=tls_context)


async def step_connect(run: Run, h: StepHandle) -> None:
    run.phase = "connect"
    if "aiosmtplib" not in sys.modules:
        # First run in this process: import the SMTP client off the event loop (tens of ms of module loading
        # would otherwise stall a console's loop in one piece).
        import importlib

        await in_daemon_thread(importlib.import_module, "tui.diagnostics.smtp")
    from tui.diagnostics.tls import smtp_context

    sock = await tcp_connect(run, h)
    run.sock = sock
    run.tcp_connected = True
    try:
        run.ssl_ctx, run.ca_source = smtp_context(expand(run.settings.ca_file), logicaldoc_smtp=not run.m365)
    except (ssl.SSLError, OSError) as exc:
        raise StepFailed(H.for_exception("ca-file", f"{type(exc).__name__}: {exc}", run.hint_ctx())) from None
    run.smtp = new_smtp(run, run.ssl_ctx)
    if run.implicit_tls:
        h.detail(f"implicit TLS from the first byte: {run.implicit_reason}")
        run.sock = None  # aiosmtplib owns it now
        try:
            await run.smtp.connect(sock=sock, use_tls=True, hostname=run.host)
        except Exception as exc:  # noqa: BLE001 - judged as LogicalDOC would (tls_failed), or re-raised
            with contextlib.suppress(Exception):
                run.smtp.close()
            await tls_failed(run, exc, h, implicit=True)
        else:
            run.banner_seen = True
            tls_details(run, h)


async def tls_failed(run: Run, exc: BaseException, h: StepHandle, *, implicit: bool) -> None:
    """A TLS handshake (implicit, or after STARTTLS) failed: judge it as LogicalDOC's sender would.

    Raises StepFailed with LogicalDOC's view of the failure, re-raises `exc` for the general table, or (certificate
    not verifiable, no credential at stake, protocol smtp: LogicalDOC sends anyway) reconnects over an
    unverified session, ends the step `warn` and returns."""
    if run.m365 or isinstance(exc, StepFailed):
        raise exc
    import aiosmtplib

    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code > 0:
        raise exc
    kind, text = run.classify(exc, "connect" if implicit else "starttls")
    ctx = run.hint_ctx()
    if kind in ("tls-verify", "tls-hostname"):
        h.detail(text)
        h.detail(run.ca_source)
        names = await run.peek_cert(run.host, run.port, starttls=not implicit)
        for line in names:
            h.detail(line)
        if run.auth_encrypted and kind == "tls-verify":
            raise StepFailed(H.for_exception("tls-verify-logicaldoc", text, ctx, details=tuple(names)))
        if run.user:
            accepts = ("this certificate here (with 'Use secure authentication' it checks the issuer against "
                       "its Java trust store, but no host names)" if run.auth_encrypted else
                       "any certificate here (mail.smtp.ssl.trust=*, and it checks no host names)")
            raise StepFailed(H.for_exception("refuse-unverified-tls", text, ctx, details=tuple(names),
                                             extra={"accepts": accepts}))
        await _reopen_unverified(run, implicit)
        run.unverified = True
        h.detail("went on over the unverified session: no credential is sent (Username is empty)")
        tls_details(run, h)
        h.warn(H.for_exception("tls-unverified-no-credential", text, ctx))
        return
    probe_timeout = min(run.timeout, 5.0)
    if implicit:
        from tui.diagnostics.tls import plain_banner

        banner = await run.probe(plain_banner, run.host, run.port, timeout=probe_timeout)
        if banner:
            h.detail(text)
            plain_fix = ("turn 'Use secure authentication' off and set Connection Security to STARTTLS (or TLS "
                         "to require it)" if run.auth_encrypted else
                         "set Connection Security to STARTTLS (or TLS to require it)")
            raise StepFailed(H.for_exception("implicit-tls-plain-port",
                                             f"no TLS: the server sent its greeting in clear: {banner}", ctx,
                                             extra={"why": run.implicit_reason, "plain_fix": plain_fix}))
    if kind in ("tls-version", "tls-handshake", "disconnected"):
        from tui.diagnostics.tls import speaks_only_old_tls, speaks_only_tls13

        if await run.probe(speaks_only_tls13, run.host, run.port, starttls=not implicit, timeout=probe_timeout):
            h.detail(text)
            h.detail("the server completes a TLS 1.3 handshake and refuses TLS 1.2")
            raise StepFailed(H.for_exception("tls13-only", text, ctx))
        if await run.probe(speaks_only_old_tls, run.host, run.port, starttls=not implicit, timeout=probe_timeout):
            h.detail(text)
            h.detail("the server completes a TLS 1.0/1.1 handshake and refuses TLS 1.2")
            raise StepFailed(H.for_exception("tls-version", text, ctx))
    raise exc


async def _reopen_unverified(run: Run, implicit: bool) -> None:
    """Connect again and set TLS up without verifying the certificate (only when nothing secret will be sent)."""
    from tui.diagnostics.tls import unverified_context

    run.recorder.add("I", "connecting again over TLS without certificate verification (no credential is sent)")
    sock = await tcp_connect(run, None)
    ctx = unverified_context()
    run.smtp = new_smtp(run, ctx)
    if implicit:
        await run.smtp.connect(sock=sock, use_tls=True, hostname=run.host)
        run.banner_seen = True
        return
    await run.smtp.connect(sock=sock)
    await run.smtp.ehlo()
    await run.smtp.starttls(server_hostname=run.host, tls_context=ctx)
    await run.smtp.ehlo()


def tls_details(run: Run, h: StepHandle) -> None:
    """The TLS session in the step's detail and the transcript: version, cipher, certificate, trust source; `warn`
    for a certificate expiring within 14 days, or verified through ca_file where LogicalDOC's smtps does not read it."""
    from tui.diagnostics.tls import cert_lines

    obj = run.smtp.ssl_object
    if obj is None:
        return
    if run.unverified:
        version, cipher = obj.version(), obj.cipher()
        for line in (f"{version}, cipher {cipher[0] if cipher else '?'}", "certificate NOT verified"):
            h.detail(line)
            run.recorder.add("I", f"TLS {line}")
        return
    lines, days = cert_lines(obj)
    for line in lines:
        h.detail(line)
        run.recorder.add("I", f"TLS {line}")
    h.detail(run.ca_source)
    if run.auth_encrypted and expand(run.settings.ca_file):
        # verified through ca_file, which LogicalDOC's smtps connection does not read: it may still fail there
        h.warn(H.for_exception("tls-java-trust", None, run.hint_ctx()))
    if days is not None and days < 14:
        h.detail(f"warning: the certificate expires in {days} days")
        h.warn()

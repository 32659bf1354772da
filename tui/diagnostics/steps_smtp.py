"""The SMTP steps after `connect`: `ehlo`, `starttls`, `auth`, `quit`, and the `envelope` step (an extra step
declared through `session.ExtraStep`, as a test send's `send` is).

The verdict is LogicalDOC's (`../shared/reference/verdict.md`), decided from the settings and the server's
answers: STARTTLS is opportunistic (Connection Security STARTTLS) or required (TLS) in `starttls`, always required
for Microsoft 365 (no credential or token before TLS); AUTH follows Jakarta Mail: only when the server offers it,
with the first of `JAVAMAIL_MECHANISMS` it offers (XOAUTH2 for protocol smtpmicrosoft365); a password is never sent
over a session whose certificate was not verified.
"""

from __future__ import annotations

from dataclasses import replace

from tui.diagnostics import hints as H
from tui.diagnostics.run import Run
from tui.diagnostics.runner import StepFailed, StepHandle
from tui.diagnostics.session import ExtraStep, Session
from tui.diagnostics.steps_connect import tls_details, tls_failed

# The SASL mechanisms of LogicalDOC's sender, in its order of preference (Jakarta Mail's mail.smtp.auth.mechanisms
# default "LOGIN PLAIN DIGEST-MD5 NTLM"; XOAUTH2 is off unless protocol smtpmicrosoft365).
JAVAMAIL_MECHANISMS = ("LOGIN", "PLAIN", "DIGEST-MD5", "NTLM")
ARROW = "→"
ENVELOPE_STEP_ID = "envelope"
ENVELOPE_TITLE = "Envelope"
ENVELOPE_ROUND_TRIPS = 3  # MAIL FROM, RCPT TO, RSET


async def step_ehlo(run: Run, h: StepHandle) -> None:
    if not run.implicit_tls:
        sock, run.sock = run.sock, None
        banner = await run.smtp.connect(sock=sock)
    else:
        banner = run.smtp.banner
    run.banner_seen = True
    h.detail(f"banner: {banner.code} {banner.message.splitlines()[0] if banner.message else ''}")
    run.server_said = banner.message or ""
    response = await run.smtp.ehlo()
    run.server_said += "\n" + (response.message.splitlines()[0] if response.message else "")
    caps = [line.split(" ", 1)[0].upper() + (" " + line.split(" ", 1)[1] if " " in line else "")
            for line in response.message.splitlines()[1:]]
    h.detail("capabilities: " + (", ".join(caps) or "(none)"))
    if run.m365 and not run.implicit_tls and "auth" in run.smtp.esmtp_extensions:
        h.detail("AUTH is offered before TLS; outmail never uses it there")


async def step_starttls(run: Run, h: StepHandle) -> None:
    run.phase = "tls"
    smtp = run.smtp
    if not smtp.supports_extension("starttls"):
        h.detail("EHLO does not list STARTTLS")
        if not run.m365:
            ctx = run.hint_ctx()
            if run.settings.connection_security == 2:
                raise StepFailed(H.for_exception("starttls-required-missing", "EHLO does not list STARTTLS", ctx))
            # Connection Security STARTTLS: LogicalDOC uses it only when offered, and goes on in clear.
            methods = [m.upper() for m in smtp.server_auth_methods]
            if run.user and methods:
                h.detail(f"the server offers AUTH {' '.join(methods)} in clear")
                raise StepFailed(H.for_exception("refuse-cleartext-auth", "EHLO does not list STARTTLS", ctx))
            h.detail("LogicalDOC goes on without TLS (STARTTLS is used only when offered)")
            h.warn(H.for_exception("starttls-opportunistic-clear", "EHLO does not list STARTTLS", ctx))
            return
        smtp.esmtp_extensions["starttls"] = ""  # ask anyway, to quote the server's refusal
    import aiosmtplib

    try:
        await smtp.starttls(server_hostname=run.host, tls_context=run.ssl_ctx)
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code > 0:
            raw = f"{exc.code} {' '.join(exc.message.split())}"
            hint = H.for_smtp_reply(exc.code, exc.message, run.hint_ctx())
            if hint.id in ("smtp-temporary", "smtp-permanent", "unrecognized-command", "command-unrecognized"):
                hint = H.for_exception("starttls-not-offered", raw, run.hint_ctx())
            raise StepFailed(hint) from None
        await tls_failed(run, exc, h, implicit=False)
    except Exception as exc:  # noqa: BLE001 - judged as LogicalDOC would, or re-raised
        await tls_failed(run, exc, h, implicit=False)
    else:
        tls_details(run, h)
        await smtp.ehlo()
        run.recorder.add("I", "EHLO again after STARTTLS")
    methods = [m.upper() for m in run.smtp.server_auth_methods]
    h.detail("AUTH " + (" ".join(methods) if methods else "not offered"))
    if run.m365 and "XOAUTH2" not in methods:
        raise StepFailed(H.by_id("xoauth2-not-offered", run.hint_ctx(),
                                 reply="AUTH " + (" ".join(methods) or "(not offered)")))


async def step_auth(run: Run, h: StepHandle) -> None:
    run.phase = "auth"
    smtp = run.smtp
    user = run.user
    tls = smtp.ssl_object is not None
    if run.m365:
        assert tls, "no credential before TLS"
        from tui.xoauth2 import build_xoauth2

        run.mechanism = "XOAUTH2"
        encoded = build_xoauth2(user, run.token or "")
        run.redactor.add_secret(encoded, f"<redacted, {len(encoded)} bytes>")
        h.detail(f"AUTH XOAUTH2 user={user}")
        response = await smtp.execute_command(b"AUTH", b"XOAUTH2", encoded.encode("ascii"))
        if response.code == 334:
            response = await smtp.execute_command(b"")
        if response.code != 235:
            run.token_cache.invalidate(run.settings, f"the last one was refused at AUTH ({response.code} "
                                       f"{' '.join(H.split_reply(response.message)[:2])})")
    else:
        # LogicalDOC's sender (Jakarta Mail): AUTH only when the server offers it, with the first of LOGIN,
        # PLAIN, DIGEST-MD5, NTLM it offers; no AUTH offered means it sends without logging in.
        assert not run.unverified, "no credential over an unverified session"
        methods = [m.upper() for m in smtp.server_auth_methods]
        ctx = run.hint_ctx()
        if not methods:
            where = "" if tls else " in clear"
            h.detail(f"the server offers no AUTH{where}: LogicalDOC sends without logging in")
            run.auth_skipped = True
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
            run.auth_skipped = True
            h.warn(H.for_exception("auth-mechanism-unproven", "AUTH " + " ".join(methods), ctx, extra=shown))
            return
        if not tls:
            h.detail("warning: the password is sent without TLS (Connection Security None)")
            h.warn()
        run.mechanism = mech
        h.detail(f"AUTH {mech} as {user} (the first of LogicalDOC's LOGIN, PLAIN the server offers)")
        import aiosmtplib

        password = run.settings.password.reveal()
        # what goes on the wire, in case a server echoes it: PLAIN's "\0user\0password" (base64 by add_secret)
        run.redactor.add_secret(f"\0{user}\0{password}" if password else None)
        try:
            if mech == "PLAIN":
                response = await smtp.auth_plain(user, run.settings.password.reveal())
            else:
                response = await smtp.auth_login(user, run.settings.password.reveal())
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise StepFailed(H.for_smtp_reply(exc.code, exc.message, run.hint_ctx())) from None
    if response.code != 235:
        raise StepFailed(H.for_smtp_reply(response.code, response.message, run.hint_ctx()))
    summary = f"{response.code} {' '.join(response.message.split())}"
    if run.model is not None:  # which of Exchange's two models let the app in (verdict.md section 2)
        from tui.diagnostics.claims import MODEL_NAMES

        summary += f"; authorized by {MODEL_NAMES[run.model]}"
    h.result.detail.insert(0, summary)


async def step_quit(run: Run, h: StepHandle) -> None:
    response = await run.smtp.quit()
    h.detail(f"{response.code} {' '.join(response.message.split())}")


def envelope_step(rcpt: str = "") -> ExtraStep:
    """The `envelope` step (MAIL FROM the Sender Email, RCPT TO `rcpt` or the sender's own address, then RSET:
    nothing is sent), declared as an extra step after AUTH."""
    rcpt = rcpt.strip()

    async def body(session: Session, h: StepHandle) -> None:
        await step_envelope(session, h, rcpt)

    return ExtraStep(ENVELOPE_STEP_ID, ENVELOPE_TITLE, body, round_trips=ENVELOPE_ROUND_TRIPS)


async def step_envelope(session: Session, h: StepHandle, rcpt: str = "") -> None:
    """MAIL FROM with the From LogicalDOC uses, RCPT TO, then RSET: nothing is sent. Catches what fails at the
    first real mail (530 5.7.57, 554 5.7.1 relay denied, 553 sender not owned)."""
    from tui.addresses import split_mailbox

    s = session.settings
    smtp = session.smtp
    user = s.username.strip()
    sender = split_mailbox(s.sender)[1] if s.sender.strip() else user  # MAIL FROM takes the bare address
    to = rcpt or sender
    options: list[str] = []
    if not (sender.isascii() and to.isascii()):
        if not smtp.supports_extension("smtputf8"):
            raise StepFailed(H.by_id("address-not-ascii", replace(session.hint_context, phase="mail"),
                                     reply=f"{sender if not sender.isascii() else to}: the server does not "
                                           "offer SMTPUTF8", extra={"status": "EHLO"}))
        options.append("SMTPUTF8")
    session.phase = "mail"
    response = await smtp.mail(sender, options=options, encoding="utf-8" if options else "ascii")
    h.detail(f"MAIL FROM:<{sender}> {ARROW} {response.code} {' '.join(response.message.split())}")
    session.phase = "rcpt"
    response = await smtp.rcpt(to, encoding="utf-8" if options else "ascii")
    h.detail(f"RCPT TO:<{to}> {ARROW} {response.code} {' '.join(response.message.split())}")
    await smtp.rset()
    h.result.detail.insert(0, f"the server accepts mail from {sender} to {to} "
                              f"({'after AUTH' if session.mechanism else 'without a login'}); RSET, nothing was sent")
    if s.userasfrom:
        h.detail("note: with 'Use user's email as sender' LogicalDOC sends From each user's own address; "
                 "`outmail send --from ADDR` tries one")
    if H.server_kind(said=session.server_said) == "exchange":
        # Exchange accepts MAIL FROM and refuses a From without Send As only after DATA (554 5.2.252)
        h.detail("note: Exchange Online checks Send As only after the message (DATA); `outmail send` proves it")
    if not rcpt:
        h.detail("RCPT TO is the sender's own address; `outmail check --rcpt ADDR` tries another recipient")

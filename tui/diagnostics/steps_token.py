"""The `token` step: an access token from Entra ID (msal, `tui.diagnostics.token.fetch_token`) and its claims.

msal runs in a daemon thread that starts with the run (the import and the authority's discovery send nothing
secret); the request carrying the client secret waits at a gate for the `settings` step's verdict and is never
made when the settings have errors. A rerun with unchanged credentials is answered from the `TokenCache` in memory,
without a thread. The token itself never leaves this step: the redactor learns it, the detail shows its first
characters (`redact.token_preview`), `TokenInfo` keeps the claims summary. Claims are checked
(`claims.check_claims`) and name the authorization model (`claims.authorization_model`); a failed check drops the
cached token (`TokenCache.invalidate`) so the next run asks Entra ID again.
"""

from __future__ import annotations

import asyncio
import time

from tui.diagnostics import hints as H
from tui.diagnostics.redact import token_preview
from tui.diagnostics.report import TokenInfo
from tui.diagnostics.run import Run
from tui.diagnostics.runner import StepFailed, StepHandle, StepSkipped, in_daemon_thread


async def step_token(run: Run, h: StepHandle) -> None:
    from tui.diagnostics.token import fetch_token

    loop = asyncio.get_running_loop()

    def log(text: str) -> None:
        at = time.perf_counter()
        try:
            loop.call_soon_threadsafe(run.token_line, text, at)
        except RuntimeError:
            pass

    def imported() -> None:
        try:
            loop.call_soon_threadsafe(run.libs_ready.set)
        except RuntimeError:
            pass

    def gate() -> bool:  # in the token thread: the client secret leaves only once the settings passed
        run.verdict.wait(run.timeout + 1.0)
        return run.settings_ok is True

    if run.token_cache.serves_from_memory(run.settings):
        # A rerun with unchanged credentials: msal answers from memory, so ask it here, without a thread hop.
        run.libs_ready.set()
        await run.verdict_async.wait()
        if not run.settings_ok:
            raise StepSkipped("settings have errors")
        out = fetch_token(run.settings, run.token_cache, run.timeout,
                          lambda text: run.token_line(text, time.perf_counter()))
    else:
        out = await in_daemon_thread(fetch_token, run.settings, run.token_cache, run.timeout, log, imported, gate)
    await run.verdict_async.wait()  # a token failure is reported only once the settings passed
    if not run.settings_ok or out.aborted:
        raise StepSkipped("settings have errors")
    ctx = run.hint_ctx()
    if out.exc_kind:
        h.detail(out.exc_text)
        h.detail(out.ca_source)
        details = out.exc_details
        if out.exc_kind == "requests-ssl":
            from urllib.parse import urlsplit

            u = urlsplit(run.settings.authority_host.strip())
            names = await run.peek_cert(u.hostname or "", u.port or 443, starttls=False)
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
    run.token = out.token
    run.redactor.add_token(out.token)
    from tui.diagnostics.claims import check_claims, summary

    source = "cache" if out.source == "cache" else "identity_provider"
    h.detail(f"token from {'cache' if source == 'cache' else 'the identity provider'}"
             f"{', expires in ' + str(out.expires_in // 60) + ' min' if out.expires_in else ''}"
             f"{'; new token: ' + out.renewed_because if out.renewed_because else ''}")
    h.detail(f"token {token_preview(out.token)}")
    h.detail(out.ca_source)
    claims = out.claims or {}
    run.claims = claims or None
    run.token_info = TokenInfo(source, token_preview(out.token), out.expires_in, summary(claims),
                               str(claims.get("oid")) if claims.get("oid") else None, out.ca_source)
    if out.claims is None:
        h.detail(f"claims not checked: {out.claims_error}")
        h.warn(H.for_claim("jwt", out.claims_error, ctx))
        return
    ctx = run.hint_ctx()
    from tui.diagnostics.claims import MODEL_NAMES, authorization_model

    run.model = authorization_model(claims)
    h.detail(f"authorization model: {MODEL_NAMES[run.model]}"
             + ("" if run.model == "classic" else " (the token has no SMTP.SendAsApp role; AUTH decides)"))
    failed = None
    privileges: list[str] = []
    for finding in check_claims(claims, client_id=run.settings.client_id, tenant=run.settings.client_tenant,
                                scope=run.settings.scope):
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
        run.token_cache.invalidate(run.settings, f"the last one failed the claim check ({failed.text})")
        raise StepFailed(H.by_id(failed.hint_id or "claim-not-jwt", ctx, reply=failed.text))

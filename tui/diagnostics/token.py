"""The token path: msal client credentials, blocking, run by the engine in a daemon thread.

A fresh `msal.ConfidentialClientApplication` per run (its HTTP layer caches HTTP 400 answers for 60 s, so a fixed
problem would otherwise keep failing), but one shared `TokenCache`: per credential key an msal token cache and a
discovery-only HTTP cache, so a rerun with unchanged credentials takes msal's cached token (`token_source` "cache")
without any network I/O. msal, requests and PyJWT are imported inside `fetch_token` only.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from tui.diagnostics.tls import requests_verify

logging.getLogger("msal").addHandler(logging.NullHandler())  # msal's warnings must not reach a terminal UI


class _DiscoveryOnlyCache(dict):
    """An msal `http_cache` that keeps only successful discovery GETs (never POST answers, never tokens)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        if key == "_index_" or (isinstance(key, str) and key.startswith("GET ")):
            super().__setitem__(key, value)


@dataclass
class _Entry:
    msal_cache: Any
    http_cache: _DiscoveryOnlyCache = field(default_factory=_DiscoveryOnlyCache)
    renew_reason: str = ""  # why the next request must go to Entra (set by TokenCache.invalidate)


class TokenCache:
    """Process-wide and thread-safe. Keyed so that a change of authority, tenant, client id, secret, scope or CA
    file misses. Holds msal token caches in memory only; nothing is written to disk.

    A cached token is reused only while it is known good (verdict.md section 4): the engine calls `invalidate` when
    the token failed a claim check or Exchange refused it at AUTH, and when the admin asks for a fresh token; the next
    request then goes to Entra ID, and its outcome says why (`TokenOutcome.renewed_because`). Without this, msal would
    hand back the refused token for up to an hour, after the admin had fixed the cause."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._pending: dict[str, str] = {}  # renewal reasons for keys with no entry yet

    @staticmethod
    def key(settings: Any) -> str:
        parts = [settings.authority_host.strip().rstrip("/"), settings.client_tenant.strip(),
                 settings.client_id.strip(), settings.client_secret.reveal(), settings.scope.strip(),
                 (settings.ca_file or "").strip()]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    def entry(self, settings: Any) -> _Entry:
        import msal

        k = self.key(settings)
        with self._lock:
            e = self._entries.get(k)
            if e is None:
                e = self._entries[k] = _Entry(msal.TokenCache(), renew_reason=self._pending.pop(k, ""))
            return e

    def invalidate(self, settings: Any, reason: str) -> None:
        """Drop the access tokens cached for `settings` (the authority discovery stays cached) so that the next
        request asks Entra ID again; `reason` ("the last one was refused at AUTH: 535 5.7.3 ...") is reported then.
        Cheap and safe on an event loop: it never imports msal."""
        k = self.key(settings)
        with self._lock:
            e = self._entries.pop(k, None)
            if e is not None:
                # a new entry, so that a token request still running on the old one cannot refill it
                self._entries[k] = _Entry(type(e.msal_cache)(), e.http_cache, reason)
            else:
                self._pending[k] = reason

    def renew_reason(self, settings: Any) -> str:
        """Why the next request for `settings` goes to Entra ID ("" when nothing was invalidated)."""
        k = self.key(settings)
        with self._lock:
            e = self._entries.get(k)
            return e.renew_reason if e is not None else self._pending.get(k, "")

    def serves_from_memory(self, settings: Any, margin_seconds: float = 600.0) -> bool:
        """True when a token request for `settings` is sure to be answered from memory, with no network I/O: msal is
        loaded, the authority's discovery is cached (not near expiry) and an access token for the scope is valid for
        more than `margin_seconds` without a due refresh. The engine then asks msal on the event loop directly
        (well under a millisecond) instead of hopping to a thread."""
        import sys

        if "msal" not in sys.modules:
            return False
        with self._lock:
            e = self._entries.get(self.key(settings))
        if e is None:
            return False
        now = time.time()
        try:
            _sequence, stamps = e.http_cache.get("_index_", ([], {}))
            gets = [k for k in list(e.http_cache) if isinstance(k, str) and k.startswith("GET ")]
            if not gets or any(k not in stamps or stamps[k][0] <= now + margin_seconds for k in gets):
                return False
            import msal

            found = list(e.msal_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN,
                                             target=[settings.scope.strip()],
                                             query={"client_id": settings.client_id.strip()}))
        except Exception:  # any surprise in msal's internals: take the safe (threaded) path
            return False
        for at in found:
            try:
                if int(at["expires_on"]) - now > margin_seconds and \
                        ("refresh_on" not in at or int(at["refresh_on"]) > now + margin_seconds):
                    return True
            except (KeyError, TypeError, ValueError):
                continue
        return False

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._pending.clear()

    def __len__(self) -> int:
        return len(self._entries)


DEFAULT_TOKEN_CACHE = TokenCache()


@dataclass
class TokenOutcome:
    """What the token thread hands back to the event loop."""

    token: str | None = None
    source: str = ""  # "identity_provider" | "cache"
    expires_in: int | None = None
    token_type: str = ""
    error: dict[str, Any] | None = None  # Entra's error JSON (msal's error dict)
    exc_kind: str | None = None  # hints.EXCEPTION_KINDS
    exc_text: str = ""
    exc_details: tuple[str, ...] = ()
    ca_source: str = ""
    lines: list[tuple[float, str]] = field(default_factory=list)  # (perf_counter, text) for the transcript
    claims: dict[str, Any] | None = None
    claims_error: str = ""
    aborted: bool = False  # the gate said no: the token request was never sent
    renewed_because: str = ""  # a new token was asked for because the cached one was invalidated (and why)


def _make_session(verify: Any, timeout: float, log: Callable[[str], None]):
    import requests

    class PinnedSession(requests.Session):
        """requests.Session whose every request passes `verify` explicitly (so REQUESTS_CA_BUNDLE cannot override
        ca_file) and a timeout (msal ignores its own `timeout` when given an http_client)."""

        def request(self, method, url, *args, **kwargs):  # type: ignore[override]
            kwargs["verify"] = verify
            kwargs["timeout"] = kwargs.get("timeout") or timeout
            t = time.perf_counter()
            shown = urlsplit(url)._replace(query="").geturl()
            log(f"{method} {shown}")
            try:
                resp = super().request(method, url, *args, **kwargs)
            except Exception as exc:
                log(f"{method} {shown} failed after {(time.perf_counter() - t) * 1000:.0f} ms: "
                    f"{type(exc).__name__}")
                raise
            log(f"HTTP {resp.status_code} {resp.reason or ''} ({(time.perf_counter() - t) * 1000:.0f} ms)".rstrip())
            return resp

    return PinnedSession()


def _classify_value_error(exc: ValueError) -> tuple[str, tuple[str, ...]]:
    text = str(exc)
    low = text.lower()
    chained = str(exc.__context__ or exc.__cause__ or "")
    details = (f"cause: {chained.splitlines()[0][:300]}",) if chained else ()
    if "unable to get authority configuration" in low or "tenant" in low and "discovery" in chained.lower():
        return "msal-unknown-tenant", details
    if "invalid_instance" in low or "instance_discovery" in low or "instance discovery" in low:
        return "msal-instance-discovery", details
    if "https url" in low or "minimum of one segment" in low or "authority" in low:
        return "msal-bad-authority", details
    if "json" in low:
        return "token-not-json", details
    return "msal-bad-authority", details


def _well_known_hosts() -> frozenset[str]:
    try:
        from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

        return frozenset(WELL_KNOWN_AUTHORITY_HOSTS)
    except Exception:  # pragma: no cover
        return frozenset({"login.microsoftonline.com", "login.chinacloudapi.cn", "login-us.microsoftonline.com",
                          "login.microsoftonline.us"})


def fetch_token(settings: Any, cache: TokenCache, timeout: float,
                log: Callable[[str], None] | None = None,
                on_imported: Callable[[], None] | None = None,
                gate: Callable[[], bool] | None = None) -> TokenOutcome:
    """Blocking: build a fresh msal app (shared token cache), acquire a token for the client, decode its claims.

    `log(text)` receives the transcript lines (request summary, HTTP status and time; never a body or secret).
    `on_imported()` is called once msal is imported. `gate()` is called after the app is built (authority
    discovery, nothing secret sent yet) and before the token request that carries the client secret; when it
    returns False the request is not sent and the outcome has `aborted` set."""
    out = TokenOutcome()
    sink = log

    def log(text: str) -> None:  # noqa: F811
        out.lines.append((time.perf_counter(), text))
        if sink is not None:
            sink(text)

    try:
        import msal
        import requests
    except ImportError as exc:  # pragma: no cover
        out.exc_kind, out.exc_text = "token-not-json", f"msal is not installed: {exc}"
        return out
    finally:
        if on_imported is not None:
            on_imported()
    verify, out.ca_source = requests_verify(settings.ca_file)
    authority_host = settings.authority_host.strip().rstrip("/")
    authority = f"{authority_host}/{settings.client_tenant.strip()}"
    host = (urlsplit(authority_host).hostname or "").lower()
    kwargs: dict[str, Any] = {}
    if host not in _well_known_hosts():
        kwargs["instance_discovery"] = False
    entry = cache.entry(settings)
    out.renewed_because = entry.renew_reason
    if out.renewed_because:
        log(f"new token: {out.renewed_because}")
    session = _make_session(verify, timeout, log)
    log(f"token request: client credentials, client_id {settings.client_id.strip()}, scope {settings.scope.strip()}, "
        f"authority {authority}{'' if 'instance_discovery' not in kwargs else ' (instance discovery off)'}; "
        f"{out.ca_source}")
    try:
        app = msal.ConfidentialClientApplication(
            settings.client_id.strip(), client_credential=settings.client_secret.reveal(), authority=authority,
            token_cache=entry.msal_cache, http_client=session, http_cache=entry.http_cache, **kwargs)
        if gate is not None and not gate():
            out.aborted = True
            return out
        result = app.acquire_token_for_client(scopes=[settings.scope.strip()])
        if isinstance(result, dict) and "access_token" in result:
            entry.renew_reason = ""  # a new token came: the reason is told once, with it
    except ValueError as exc:
        out.exc_kind, out.exc_details = _classify_value_error(exc)
        out.exc_text = f"ValueError: {str(exc).splitlines()[0][:400]}"
        return out
    except requests.exceptions.SSLError as exc:
        text = _short(exc)
        bad_ca = "no certificate or crl found" in text.lower() or "no_certificate_or_crl_found" in text.lower()
        out.exc_kind, out.exc_text = ("ca-file" if bad_ca else "requests-ssl"), f"SSLError: {text}"
        return out
    except requests.exceptions.Timeout as exc:
        out.exc_kind, out.exc_text = "requests-timeout", f"{type(exc).__name__}: {_short(exc)}"
        return out
    except requests.exceptions.HTTPError as exc:
        out.exc_kind, out.exc_text = "http-5xx", f"HTTPError: {_short(exc)}"
        return out
    except requests.exceptions.RequestException as exc:
        out.exc_kind, out.exc_text = "requests-connection", f"{type(exc).__name__}: {_short(exc)}"
        return out
    except OSError as exc:  # requests: "Could not find a suitable TLS CA certificate bundle, invalid path: ..."
        bad_ca = "certificate bundle" in str(exc).lower()
        out.exc_kind = "ca-file" if bad_ca else "requests-connection"
        out.exc_text = f"{type(exc).__name__}: {_short(exc)}"
        return out
    finally:
        session.close()
    if not isinstance(result, dict) or "access_token" not in result:
        out.error = {k: v for k, v in (result or {}).items() if k != "access_token"}
        log(f"token error: {out.error.get('error', '?')}")
        return out
    out.token = result["access_token"]
    out.source = result.get("token_source", "identity_provider")
    out.expires_in = result.get("expires_in")
    out.token_type = result.get("token_type", "")
    log(f"token from {'cache' if out.source == 'cache' else 'the identity provider'}: {out.token_type or 'Bearer'}, "
        f"expires_in {out.expires_in}")
    try:
        from tui.diagnostics.claims import decode

        out.claims = decode(out.token)
    except ValueError as exc:
        out.claims_error = str(exc)
    return out


def _short(exc: BaseException) -> str:
    text = str(exc)
    # requests' messages nest the reason deep inside; keep the readable tail
    for marker in ("Caused by ", "(Caused by "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text[:400]

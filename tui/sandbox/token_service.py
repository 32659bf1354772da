"""The sandbox's Entra ID: an HTTPS token service on 127.0.0.1 that msal's ConfidentialClientApplication accepts.

Serves, as login.microsoftonline.com does:
- `GET /{tenant}/v2.0/.well-known/openid-configuration` (and the v1 `/{tenant}/.well-known/openid-configuration`),
- `POST /{tenant}/oauth2/v2.0/token` (client credentials only),
- `GET /common/discovery/instance` (instance discovery),
- `GET /{tenant}/discovery/v2.0/keys` and `/common/discovery/v2.0/keys` (the JWKS that signs the tokens).
`{tenant}` is the tenant GUID or its domain. Errors use Entra's JSON and HTTP status. Each connection has a socket
timeout; the token-hang fault holds a token request until the client goes away or the service stops.
"""

from __future__ import annotations

import json
import re
import select
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from tui.sandbox.identity import KNOWN_RESOURCES, SandboxIdentity
from tui.sandbox.tokens import TOKEN_LIFETIME, TokenIssuer, entra_error

HANG_LIMIT = 600.0  # token-hang: give up on a held request after this long even if the client stays
MAX_BODY = 65536
_DNS_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
# Entra's tenant-independent names: discovery answers for them, but client credentials need a real tenant.
MULTI_TENANT = ("common", "organizations", "consumers")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class TokenService:
    """The HTTPS server and its state; `start()` binds 127.0.0.1 on an OS-chosen port, `stop()` ends every thread."""

    def __init__(self, identity: SandboxIdentity, issuer: TokenIssuer, ssl_context: ssl.SSLContext, *,
                 get_fault: Callable[[], str | None], get_delay: Callable[[], float],
                 request_timeout: float = 30.0,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.identity = identity
        self.on_event = on_event
        self.issuer = issuer
        self.ssl_context = ssl_context
        self.get_fault = get_fault
        self.get_delay = get_delay
        self.request_timeout = request_timeout
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sandbox-token-service", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        server.close_connections()
        server.join_threads(timeout=5)

    # -- record -------------------------------------------------------------------------------------------------------
    def record(self, event: dict[str, Any]) -> None:
        event = dict(event, time=time.time())
        with self._lock:
            self._events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(dict(event))
            except Exception:  # noqa: BLE001 - a listener never breaks the service
                pass

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._events]

    # -- the Entra logic ----------------------------------------------------------------------------------------------
    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        base, tid = self.base_url, self.identity.tenant_id
        if tenant.lower() in MULTI_TENANT:
            tid = tenant.lower()
        return {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{'{tenantid}' if tid in MULTI_TENANT else tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": f"{base}/{tid}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def tenant_error(self, tenant: str, correlation_id: str | None, *, discovery: bool) -> dict[str, Any] | None:
        """None when the tenant is known (and no unknown-tenant fault), else Entra's 400 answer."""
        if self.get_fault() != "unknown-tenant" and self.identity.knows_tenant(tenant):
            return None
        if tenant.lower() in MULTI_TENANT:
            if discovery:
                return None
            return entra_error("invalid_request", 50059, correlation_id=correlation_id)
        if not (_GUID.match(tenant) or _DNS_NAME.match(tenant)):
            return entra_error("invalid_request", 900023, correlation_id=correlation_id, tenant=tenant)
        return entra_error("invalid_tenant" if discovery else "invalid_request", 90002,
                           correlation_id=correlation_id, tenant=tenant)

    def token_answer(self, tenant: str, form: dict[str, str], correlation_id: str | None) -> tuple[int, dict]:
        """(HTTP status, JSON body) for a token POST, checked in Entra's order."""
        ident, fault = self.identity, self.get_fault()
        err = self.tenant_error(tenant, correlation_id, discovery=False)
        if err:
            return 400, err
        cid = correlation_id

        grant_type = form.get("grant_type", "")
        if not grant_type:
            return 400, entra_error("invalid_request", 900144, correlation_id=cid, parameter="grant_type")
        if grant_type != "client_credentials":
            return 400, entra_error("unsupported_grant_type", 70003, correlation_id=cid, grant_type=grant_type)

        client_id = form.get("client_id", "")
        if not client_id:
            return 400, entra_error("invalid_request", 900144, correlation_id=cid, parameter="client_id")
        if fault == "unknown-client" or client_id.lower() != ident.client_id.lower():
            return 400, entra_error("unauthorized_client", 700016, correlation_id=cid, appid=client_id,
                                    directory=ident.tenant_name)

        secret = form.get("client_secret")
        if not secret and not form.get("client_assertion"):
            return 401, entra_error("invalid_client", 7000218, correlation_id=cid)
        if fault == "expired-secret" and secret == ident.client_secret:
            return 401, entra_error("invalid_client", 7000222, correlation_id=cid, appid=ident.client_id)
        if fault in ("wrong-secret", "expired-secret") or secret != ident.client_secret:
            return 401, entra_error("invalid_client", 7000215, correlation_id=cid, appid=ident.client_id)

        scope = form.get("scope", "").strip()
        if not scope:
            return 400, entra_error("invalid_request", 900144, correlation_id=cid, parameter="scope")
        if fault == "bad-scope":
            return 400, entra_error("invalid_scope", 1002012, correlation_id=cid, scope=scope)
        scopes = scope.split()
        if len(scopes) > 1:
            return 400, entra_error("invalid_scope", 70011, correlation_id=cid, scope=scope)
        if not scope.endswith("/.default"):
            return 400, entra_error("invalid_scope", 1002012, correlation_id=cid, scope=scope)
        resource = scope[: -len("/.default")]
        if resource not in KNOWN_RESOURCES:
            return 400, entra_error("invalid_resource", 500011, correlation_id=cid, resource=resource,
                                    directory=ident.tenant_id)

        roles = ident.configured_for(fault).app_roles(resource)  # [] (no-smtp-role, rbac...): no roles claim
        token = self.issuer.issue(audience=resource, roles=roles)
        return 200, {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "ext_expires_in": TOKEN_LIFETIME,
                     "access_token": token}

    def instance_discovery(self, query: dict[str, str], correlation_id: str | None) -> tuple[int, dict]:
        endpoint = query.get("authorization_endpoint", "")
        parts = urlsplit(endpoint)
        host = f"127.0.0.1:{self.port}"
        if parts.netloc and parts.netloc.lower() not in (host, f"localhost:{self.port}"):
            body = entra_error("invalid_instance", 50049, correlation_id=correlation_id)
            return 400, body
        segments = [s for s in parts.path.split("/") if s]
        tenant = segments[0] if segments else "common"
        return 200, {
            "tenant_discovery_endpoint": f"{self.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = False

    def __init__(self, service: TokenService) -> None:
        self.service = service
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request, client_address) -> None:  # one thread per connection, tracked
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                             name="sandbox-token-conn", daemon=True)
        with self._conn_lock:
            self._workers.add(t)
        t.start()

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._workers.discard(threading.current_thread())

    def finish_request(self, request, client_address) -> None:
        """TLS handshake in the connection's own thread (a slow client cannot stall accept), then HTTP."""
        request.settimeout(self.service.request_timeout)
        try:
            tls = self.service.ssl_context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        except (OSError, ValueError):
            return
        with self._conn_lock:
            self._connections.add(tls)
        try:
            if self.service.stopping.is_set():
                return
            tls.do_handshake()
            self.RequestHandlerClass(tls, client_address, self)
        except (OSError, ValueError):
            pass
        finally:
            with self._conn_lock:
                self._connections.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass

    def join_threads(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            workers = list(self._workers)
        for t in workers:
            t.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"  # what Entra sends
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # no stderr noise
        pass

    @property
    def service(self) -> TokenService:
        return self.server.service

    # -- dispatch -----------------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        segments = [unquote(s) for s in url.path.split("/") if s]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        cid = self.headers.get("client-request-id")
        svc = self.service
        if segments[:3] == ["common", "discovery", "instance"]:
            return self._answer(*svc.instance_discovery(query, cid))
        if len(segments) >= 2 and segments[1:] in (["v2.0", ".well-known", "openid-configuration"],
                                                   [".well-known", "openid-configuration"]):
            tenant = segments[0]
            err = svc.tenant_error(tenant, cid, discovery=True)
            if err:
                return self._answer(400, err)
            return self._answer(200, svc.openid_configuration(tenant))
        if len(segments) >= 3 and segments[1:] in (["discovery", "v2.0", "keys"], ["discovery", "keys"]):
            return self._answer(200, svc.issuer.jwks())
        if len(segments) == 4 and segments[1:] == ["oauth2", "v2.0", "token"]:
            return self._answer(400, entra_error("invalid_request", 900561, correlation_id=cid))
        self._answer(404, None)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        segments = [unquote(s) for s in url.path.split("/") if s]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self._answer(413, None)
        body = self.rfile.read(length) if length else b""
        if not (len(segments) == 4 and segments[1:] == ["oauth2", "v2.0", "token"]):
            return self._answer(404, None)
        if self.service.get_fault() == "token-hang":
            self.service.record({"method": "POST", "path": url.path, "status": None, "error_codes": [],
                                 "fault": "token-hang"})
            return self._hang()
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        status, answer = self.service.token_answer(segments[0], form, self.headers.get("client-request-id"))
        self._answer(status, answer, grant_type=form.get("grant_type"))

    # -- answers ------------------------------------------------------------------------------------------------------
    def _answer(self, status: int, body: dict | None, **extra: Any) -> None:
        svc = self.service
        fault = svc.get_fault()
        if fault == "slow-token":
            if svc.stopping.wait(svc.get_delay()):
                self.close_connection = True
                return
        payload = json.dumps(body).encode() if body is not None else b""
        svc.record({"method": self.command, "path": urlsplit(self.path).path, "status": status,
                    "error_codes": (body or {}).get("error_codes", []) if status >= 400 else [], **extra})
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.send_header("Pragma", "no-cache")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        cid = self.headers.get("client-request-id")
        if cid:
            self.send_header("client-request-id", cid)
        self.end_headers()
        self.wfile.write(payload)

    def _hang(self) -> None:
        """Never answer: wait until the client closes the connection, the service stops, or HANG_LIMIT passes."""
        self.close_connection = True
        sock = self.connection
        deadline = time.monotonic() + HANG_LIMIT
        while not self.service.stopping.is_set() and time.monotonic() < deadline:
            try:
                readable, _, _ = select.select([sock], [], [], 0.1)
            except (OSError, ValueError):
                return
            if readable:
                try:
                    if not sock.recv(4096):
                        return
                except ssl.SSLWantReadError:
                    continue
                except (OSError, ValueError):
                    return

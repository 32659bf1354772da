"""Entra ID's side of tokens: RS256 access tokens with v1 app-token claims, the JWKS, and Entra's error JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tui.sandbox.identity import EXCHANGE_AUDIENCES, ROLE_SMTP, SandboxIdentity

TOKEN_LIFETIME = 3599
CLOCK_BACKDATE = 300  # Entra sets iat and nbf five minutes in the past


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(n: int) -> str:
    return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class TokenIssuer:
    """Signs and checks access tokens with a key made at start (RSA 2048)."""

    def __init__(self, identity: SandboxIdentity) -> None:
        self.identity = identity
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _b64url(hashlib.sha1(der).digest())

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.identity.tenant_id}/"

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set as Entra serves it at `jwks_uri`."""
        numbers = self.public_key.public_numbers()
        return {"keys": [{
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e),
            "issuer": f"https://login.microsoftonline.com/{self.identity.tenant_id}/v2.0",
        }]}

    def claims(self, *, audience: str, roles: list[str] | None, now: float | None = None,
               lifetime: int = TOKEN_LIFETIME) -> dict[str, Any]:
        """The claims of a v1 app-only token for the sandbox app, as Entra issues them for client credentials."""
        ident = self.identity
        now = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer,
            "iat": now - CLOCK_BACKDATE,
            "nbf": now - CLOCK_BACKDATE,
            "exp": now + lifetime,
            "aio": _b64url(uuid.uuid4().bytes + uuid.uuid4().bytes),
            "app_displayname": ident.app_name,
            "appid": ident.client_id,
            "appidacr": "1",
            "idp": self.issuer,
            "idtyp": "app",
            "oid": ident.sp_object_id,
            "rh": "0.AAAA" + _b64url(uuid.uuid4().bytes) + ".",
            "sub": ident.sp_object_id,
            "tid": ident.tenant_id,
            "uti": _b64url(uuid.uuid4().bytes)[:22],
            "ver": "1.0",
        }
        if roles:  # Entra omits the claim when the app has no role on the resource (never an empty list)
            claims["roles"] = list(roles)
        return claims

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256",
                          headers={"typ": "JWT", "x5t": self.kid, "kid": self.kid})

    def issue(self, *, audience: str = "https://outlook.office365.com", roles: list[str] | None = None,
              lifetime: int = TOKEN_LIFETIME, now: float | None = None, **extra: Any) -> str:
        """A signed access token; `roles` defaults to [SMTP.SendAsApp]; `extra` adds or replaces claims."""
        claims = self.claims(audience=audience, roles=[ROLE_SMTP] if roles is None else roles, now=now,
                             lifetime=lifetime)
        claims.update(extra)
        return self.sign(claims)

    def verify_for_exchange(self, token: str) -> tuple[dict[str, Any] | None, str]:
        """Check a token itself as Exchange Online does (signature, expiry, audience, tenant, issuer): (claims, "")
        when good, else (None, the reason, for the log). What the token may do (the SMTP.SendAsApp role and FullAccess,
        or an RBAC role assignment) is `SandboxIdentity.authorize_smtp`'s question."""
        try:
            claims = jwt.decode(token, self.public_key, algorithms=["RS256"],
                                options={"verify_aud": False, "require": ["exp", "nbf", "aud", "tid"]})
        except jwt.ExpiredSignatureError:
            return None, "token expired"
        except jwt.InvalidTokenError as exc:
            return None, f"invalid token: {exc}"
        if claims.get("aud") not in EXCHANGE_AUDIENCES:
            return None, f"audience {claims.get('aud')!r} is not Exchange Online"
        if claims.get("tid") != self.identity.tenant_id:
            return None, "token from another tenant"
        if claims.get("iss") != self.issuer:
            return None, "unexpected issuer"
        return claims, ""


# --- Entra's error answers -------------------------------------------------------------------------------------------

def entra_timestamp(when: datetime | None = None) -> str:
    """Entra's timestamp format: '2024-03-20 10:27:56Z'."""
    when = when or datetime.now(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%SZ")


def aadsts_text(code: int, **values: str) -> str:
    """The first line of Entra's error_description for an AADSTS code (without the 'AADSTSnnn: ' prefix)."""
    return AADSTS_TEXTS[code].format(**values)


AADSTS_TEXTS: dict[int, str] = {
    7000215: ("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
              "not the client secret ID, for a secret added to app '{appid}'."),
    7000222: ("The provided client secret keys for app '{appid}' are expired. Visit the Azure portal to create new keys "
              "for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added "
              "security: https://aka.ms/certCreds."),
    7000218: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    700016: ("Application with identifier '{appid}' was not found in the directory '{directory}'. This can happen if "
             "the application has not been installed by the administrator of the tenant or consented to by any user in "
             "the tenant. You may have sent your authentication request to the wrong tenant."),
    90002: ("Tenant '{tenant}' not found. This may happen if there are no active subscriptions for the tenant. Check to "
            "make sure you have the correct tenant ID. Check with your subscription administrator."),
    900023: "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
    1002012: ("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
              "/.default suffixed to the resource identifier (application ID URI)."),
    500011: ("The resource principal named {resource} was not found in the tenant named {directory}. This can happen "
             "if the application has not been installed by the administrator of the tenant or consented to by any user "
             "in the tenant. You might have sent your authentication request to the wrong tenant."),
    70011: ("The provided value for the input parameter 'scope' is not valid. One or more scopes in '{scope}' are not "
            "compatible with each other."),
    900144: "The request body must contain the following parameter: '{parameter}'.",
    70003: "The app requested an unsupported grant type '{grant_type}'.",
    900561: "The endpoint only accepts POST requests. Received a GET request.",
    50049: "Unknown or invalid instance.",
    50059: "No tenant-identifying information found in either the request or implied by any provided credentials.",
}


def entra_error(error: str, code: int, *, correlation_id: str | None = None, **values: str) -> dict[str, Any]:
    """Entra's error JSON: error, error_description (text, Trace ID, Correlation ID, Timestamp joined by CRLF),
    error_codes, timestamp, trace_id, correlation_id, error_uri."""
    trace_id = str(uuid.uuid4())
    correlation_id = correlation_id or str(uuid.uuid4())
    timestamp = entra_timestamp()
    description = (f"AADSTS{code}: {aadsts_text(code, **values)}\r\nTrace ID: {trace_id}\r\n"
                   f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}")
    return {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def decode_unverified(token: str) -> dict[str, Any]:
    """A token's claims without checking anything (for display)."""
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))

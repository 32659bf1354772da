"""Decode the access token (no signature check: it is meant for Exchange) and judge its claims (reference section 4).

`check_claims` returns one `ClaimFinding` per claim, each `ok`, `info`, `warn` or `fail` with the hint id to use
when it fails. Claims only confirm setup steps S1-S4: a token can pass every check and still get `535 5.7.3`.

The `roles` claim is never a failure (../shared/reference/verdict.md section 2): Exchange authorizes an app for SMTP
either through the Entra permission SMTP.SendAsApp (classic: the token carries `roles: ["SMTP.SendAsApp"]`) or
through RBAC for Applications (an Exchange role assignment "Application SMTP.SendAsApp" scoped to mailboxes; the
token then has no `roles` claim, and that is normal). Only AUTH decides. `authorization_model(claims)` tells which
model a token implies; every Exchange role beyond SMTP.SendAsApp is a least-privilege warning (`EXTRA_ROLE_EFFECTS`).
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Mapping

REQUIRED_ROLE = "SMTP.SendAsApp"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online's well-known app id
EXCHANGE_AUDIENCES = frozenset({
    "https://outlook.office365.com", "https://outlook.office.com", "https://ps.outlook.com",
    "https://outlook.office365.us", "https://outlook-dod.office365.us", "https://partner.outlook.cn",
    EXCHANGE_APP_ID,
})
GRAPH_AUDIENCES = frozenset({"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"})
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
CLOCK_SKEW_WARN_SECONDS = 300


class ClaimsError(ValueError):
    """The token is not a decodable JWT."""


@dataclass(frozen=True)
class ClaimFinding:
    claim: str
    status: str  # "ok" | "info" | "warn" | "fail"
    text: str
    hint_id: str | None = None


def decode(token: str) -> dict[str, Any]:
    """The token's payload claims, without verifying the signature.

    The same result as PyJWT's `jwt.decode(token, options={"verify_signature": False})` (the tests cross-check), but
    with base64url + JSON only: importing PyJWT pulls in cryptography, 50-100 ms on the token path of every check.
    """
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[1]:
        raise ClaimsError("not a JWT: expected three dot-separated segments")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClaimsError(f"not a JWT: {type(exc).__name__}") from None
    if not isinstance(claims, dict):
        raise ClaimsError("not a JWT: payload is not an object")
    return claims


def _resource_of(scope: str) -> str:
    return scope.strip().removesuffix("/.default").rstrip("/")


def _roles(claims: Mapping[str, Any]) -> list[str]:
    roles = claims.get("roles") or []
    return [str(r) for r in roles] if isinstance(roles, list) else [str(roles)]


MODEL_CLASSIC = "classic"
MODEL_RBAC = "rbac"
MODEL_NAMES = {MODEL_CLASSIC: "classic (Entra permission SMTP.SendAsApp)",
               MODEL_RBAC: "RBAC for Applications (Exchange role assignment)"}

# What each Office 365 Exchange Online application role lets an app do beyond SMTP (verdict.md section 3; Microsoft's
# permission descriptions). Any role not listed here is still reported, as "not needed for SMTP".
EXTRA_ROLE_EFFECTS: dict[str, str] = {
    "full_access_as_app": "have full access to every mailbox in the tenant through EWS: read, send and delete any "
                          "mail",
    "Mail.Read": "read the mail of every mailbox",
    "Mail.ReadBasic": "read the mail (without bodies) of every mailbox",
    "Mail.ReadBasic.All": "read the mail (without bodies) of every mailbox",
    "Mail.ReadWrite": "read, change and delete the mail of every mailbox",
    "Mail.Send": "send mail as any user of the tenant (REST), not only the SMTP mailbox",
    "Mail.Send.All": "send mail as any user of the tenant",
    "IMAP.AccessAsApp": "read every mailbox over IMAP",
    "POP.AccessAsApp": "read every mailbox over POP",
    "EWS.AccessAsApp": "access every mailbox through EWS",
    "Exchange.ManageAsApp": "run Exchange Online PowerShell as an administrator",
    "MailboxSettings.Read": "read every mailbox's settings",
    "MailboxSettings.ReadWrite": "change every mailbox's settings",
    "Calendars.Read": "read every calendar",
    "Calendars.ReadWrite.All": "read and change every calendar",
    "Contacts.Read": "read every mailbox's contacts",
    "Contacts.ReadWrite": "read and change every mailbox's contacts",
}


def authorization_model(claims: Mapping[str, Any] | None) -> str | None:
    """"classic" when the token carries SMTP.SendAsApp, "rbac" when it has no SMTP.SendAsApp role (Exchange can then
    only authorize the app through RBAC for Applications), None when the claims are unknown."""
    if claims is None:
        return None
    return MODEL_CLASSIC if REQUIRED_ROLE in _roles(claims) else MODEL_RBAC


def extra_roles(claims: Mapping[str, Any]) -> list[str]:
    """The token's roles beyond SMTP.SendAsApp, in the token's order."""
    return [r for r in _roles(claims) if r != REQUIRED_ROLE]


def judge_roles(claims: Mapping[str, Any]) -> list[ClaimFinding]:
    """The `roles` findings: the authorization model (info, never a failure) and one least-privilege warning per
    role the app does not need for SMTP (hint `least-privilege`)."""
    roles = _roles(claims)
    out: list[ClaimFinding] = []
    if REQUIRED_ROLE in roles:
        out.append(ClaimFinding("roles", "ok", f"roles {', '.join(roles)}: {MODEL_NAMES[MODEL_CLASSIC]}"))
    elif roles:
        out.append(ClaimFinding("roles", "info", f"roles {', '.join(roles)}: no {REQUIRED_ROLE}, so Exchange can only "
                                f"authorize the app through RBAC for Applications; AUTH decides"))
    else:
        out.append(ClaimFinding("roles", "info", "no roles claim: RBAC for Applications (an Exchange role assignment), "
                                "or the SMTP.SendAsApp permission is not granted; AUTH decides"))
    for role in extra_roles(claims):
        effect = EXTRA_ROLE_EFFECTS.get(role, "do more than SMTP needs")
        out.append(ClaimFinding("roles", "warn", f"least privilege: {role} lets the app {effect}", "least-privilege"))
    return out


def check_claims(claims: Mapping[str, Any], *, client_id: str, tenant: str, scope: str = "",
                 now: float | None = None) -> list[ClaimFinding]:
    """Judge aud, roles, scp, tid, appid/azp, exp (and nbf/iat skew); show oid and the credential type."""
    now = time.time() if now is None else now
    out: list[ClaimFinding] = []

    aud = str(claims.get("aud") or "")
    expected = set(EXCHANGE_AUDIENCES)
    if scope:
        expected.add(_resource_of(scope))
    if aud.rstrip("/") in expected:
        out.append(ClaimFinding("aud", "ok", f"aud {aud} (Exchange Online)"))
    elif aud.rstrip("/") in GRAPH_AUDIENCES:
        out.append(ClaimFinding("aud", "fail", f"aud {aud} is Microsoft Graph, not Exchange Online", "claim-aud"))
    else:
        out.append(ClaimFinding("aud", "fail", f"aud {aud or '(missing)'} is not Exchange Online "
                                f"(expected https://outlook.office365.com)", "claim-aud"))

    out.extend(judge_roles(claims))

    if claims.get("scp"):
        out.append(ClaimFinding("scp", "fail", f"scp {claims['scp']}: a delegated (user) token", "claim-scp"))

    tid = str(claims.get("tid") or "")
    tenant = (tenant or "").strip()
    if not tid:
        out.append(ClaimFinding("tid", "warn", "tid missing"))
    elif _GUID_RE.match(tenant):
        if tid.lower() == tenant.lower():
            out.append(ClaimFinding("tid", "ok", f"tid {tid}"))
        else:
            out.append(ClaimFinding("tid", "fail", f"tid {tid} is not the configured Tenant ID {tenant}", "claim-tid"))
    else:
        out.append(ClaimFinding("tid", "info", f"tid {tid} (Tenant ID {tenant or '(empty)'} is a domain; its GUID "
                                f"is {tid})"))

    app = str(claims.get("appid") or claims.get("azp") or "")
    which = "appid" if claims.get("appid") else "azp"
    if not app:
        out.append(ClaimFinding("appid", "warn", "neither appid nor azp present"))
    elif app.lower() == (client_id or "").strip().lower():
        out.append(ClaimFinding("appid", "ok", f"{which} {app}"))
    else:
        out.append(ClaimFinding("appid", "fail", f"{which} {app} is not the configured Client ID {client_id}",
                                "claim-appid"))

    oid = claims.get("oid")
    if oid:
        out.append(ClaimFinding("oid", "info", f"oid {oid}: the Enterprise Application object id "
                                "(New-ServicePrincipal -ObjectId, setup step S5)"))
    acr = claims.get("appidacr") or claims.get("azpacr")
    if acr is not None:
        kind = {"0": "public client", "1": "client secret", "2": "certificate"}.get(str(acr), str(acr))
        out.append(ClaimFinding("appidacr", "info", f"credential: {kind}"))

    exp = claims.get("exp")
    if isinstance(exp, (int, float)):
        left = exp - now
        if left <= 0:
            out.append(ClaimFinding("exp", "fail", f"expired {int(-left // 60)} min ago", "claim-expired"))
        else:
            out.append(ClaimFinding("exp", "ok", f"expires in {int(left // 60)} min"))
    else:
        out.append(ClaimFinding("exp", "warn", "exp missing"))
    for key in ("nbf", "iat"):
        v = claims.get(key)
        if isinstance(v, (int, float)) and v - now > CLOCK_SKEW_WARN_SECONDS:
            out.append(ClaimFinding(key, "warn", f"{key} is {int((v - now) // 60)} min in the future: this "
                                    "machine's clock is behind", "claim-expired"))
    return out


def summary(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims worth showing (no signature, nothing secret)."""
    keys = ("aud", "iss", "tid", "appid", "azp", "oid", "roles", "scp", "idtyp", "ver", "appidacr", "azpacr",
            "iat", "nbf", "exp")
    return {k: claims[k] for k in keys if k in claims}

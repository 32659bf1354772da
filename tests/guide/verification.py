"""What the verification script would print for the sandbox tenant as a fault sets it up (tests only).

    doc = verification_for(sb, "rbac-out-of-scope", collected_at=time.time() + 2, from_addresses=("shared@...",))
    text = json.dumps(doc)          # the one line the script prints; tui.guide.verify.parse_verification reads it

The sandbox's identity model (`SandboxIdentity.configured_for`) holds both of Exchange's authorization models as
data; this reads it the way the script's cmdlets read Exchange: Get-ServicePrincipal (the service principal's object
id), Get-CASMailbox / Get-TransportConfig (SMTP AUTH), Get-MailboxPermission (FullAccess), Get-RecipientPermission
(Send As), Test-ServicePrincipalAuthorization (the app's RBAC role assignments and whether each covers a resource).
Faults that only make the SMTP server refuse are read as the grant they stand for: `no-mailbox-permission` is no
FullAccess, `smtp-auth-disabled-*` are the switches, `sendas-denied` is no Send As anywhere.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def verification_for(sb: Any, fault: str | None, *, collected_at: float, from_addresses: tuple[str, ...] = (),
                     object_id: str | None = None) -> dict[str, Any]:
    ident = sb.identity.configured_for(fault)
    info = sb.info
    mailbox = info.mailbox
    oid = ident.sp_object_id
    full_access = mailbox.lower() in ident.full_access_mailboxes() and fault != "no-mailbox-permission"
    send_as = [{"address": a, "granted": fault != "sendas-denied" and a.lower() == ident.sendas_address.lower()}
               for a in from_addresses]
    rbac = []
    for resource in (mailbox, *from_addresses):
        for assignment in ident.smtp_role_assignments(info.client_id):
            rbac.append({"resource": resource, "role": assignment.role, "scope": assignment.scope.name,
                         "in_scope": assignment.scope.includes(resource)})
    return {
        "outmail_verify": 1,
        "collected_at": stamp(collected_at),
        "client_id": info.client_id,
        "object_id": oid if object_id is None else object_id,
        "mailbox": mailbox,
        "from_addresses": list(from_addresses),
        "service_principal": {"found": True, "app_id": info.client_id, "object_id": oid,
                              "display_name": ident.app_name},
        "mailbox_info": {"found": True, "primary_smtp_address": mailbox,
                         "smtp_auth_disabled": True if fault == "smtp-auth-disabled-mailbox" else None},
        "transport_config": {"smtp_auth_disabled": fault == "smtp-auth-disabled-tenant"},
        "full_access": {"granted": full_access},
        "send_as": send_as,
        "rbac": rbac,
        "errors": [],
    }

"""Who exists in the sandbox tenant: the tenant, the app registration, its service principal, the mailboxes, and what
the app was granted, in both of Exchange Online's authorization models for SMTP AUTH XOAUTH2:

- **classic**: the Entra application role `SMTP.SendAsApp` on Office 365 Exchange Online (with admin consent, so the
  token carries `roles: ["SMTP.SendAsApp"]`), plus FullAccess on the `user=` mailbox (`Add-MailboxPermission`);
- **RBAC for Applications**: no Entra permission at all (the token has no `roles` claim) and an Exchange management
  role assignment `Application SMTP.SendAsApp` for the app (`New-ManagementRoleAssignment -App <clientId>`) whose
  management scope (`New-ManagementScope`) contains the `user=` mailbox; no FullAccess is needed.

Both need the Exchange service principal (`New-ServicePrincipal`: the token's `oid`). The two models add up: either
one authorizes. `SandboxIdentity` is the correctly set-up classic tenant; `configured_for(fault)` gives the tenant as
a fault sets it up (the token service and the SMTP server both ask it).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

RESOURCE_EXCHANGE = "https://outlook.office365.com"
RESOURCE_GRAPH = "https://graph.microsoft.com"
SCOPE_EXCHANGE = RESOURCE_EXCHANGE + "/.default"
ROLE_SMTP = "SMTP.SendAsApp"
# The Exchange RBAC role an app needs for SMTP AUTH under RBAC for Applications.
RBAC_ROLE_SMTP = "Application SMTP.SendAsApp"
# Resources whose tokens carry the Office 365 Exchange Online application roles.
EXCHANGE_RESOURCES = (RESOURCE_EXCHANGE, "https://outlook.office.com")
# Resources the tenant knows (a token for any other is AADSTS500011).
KNOWN_RESOURCES = frozenset({*EXCHANGE_RESOURCES, RESOURCE_GRAPH})
# Audiences Exchange Online accepts for SMTP (community reports include the latter two).
EXCHANGE_AUDIENCES = frozenset({RESOURCE_EXCHANGE, "https://outlook.office.com", "https://ps.outlook.com",
                                "00000002-0000-0ff1-ce00-000000000000"})
# The over-broad grants LogicalDOC's setup guide asks for, as they appear in tokens: only application roles that exist
# on the resource. Office 365 Exchange Online: full_access_as_app, IMAP.AccessAsApp, Mail.Read, Mail.Send and
# SMTP.SendAsApp (the guide's "Mail.Send.All" is left out: we found no application role of that name on that API,
# and Entra puts only existing application roles in a token). Microsoft Graph
# (only in a Graph token): Mail.Read, Mail.ReadBasic, Mail.ReadBasic.All, Mail.ReadWrite, Mail.Send (the guide's
# SMTP.Send and User.Read are delegated permissions: never in an app-only token).
OVER_BROAD_EXCHANGE_ROLES = ("full_access_as_app", "IMAP.AccessAsApp", "Mail.Read", "Mail.Send", ROLE_SMTP)
OVER_BROAD_GRAPH_ROLES = ("Mail.Read", "Mail.ReadBasic", "Mail.ReadBasic.All", "Mail.ReadWrite", "Mail.Send")
# A group's distinguished name as Exchange Online shows it (for -RecipientRestrictionFilter "MemberOfGroup -eq ...").
SENDERS_GROUP_DN = ("CN=outmail-senders,OU=contoso.test,OU=Microsoft Exchange Hosted Organizations,"
                    "DC=SBXPR01A001,DC=PROD,DC=OUTLOOK,DC=COM")


def _secret_value() -> str:
    """A client secret Value in Entra's shape: 40 characters, with a '~' at position 4 (e.g. 'AbC8Q~...')."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-."
    rnd = "".join(secrets.choice(alphabet) for _ in range(37))
    return rnd[:3] + "8Q~" + rnd[3:37]


@dataclass(frozen=True)
class ManagementScope:
    """An Exchange management scope: `New-ManagementScope -Name <name> -RecipientRestrictionFilter <recipient_filter>`.

    `members` are the recipients the filter matches in this tenant, lower case: the sandbox does not evaluate OPATH
    filters, the filter text is for display and must describe `members`."""

    name: str
    recipient_filter: str
    members: frozenset[str]

    def includes(self, address: str) -> bool:
        return address.lower() in self.members


@dataclass(frozen=True)
class RoleAssignment:
    """An Exchange management role assignment for an app (RBAC for Applications):
    `New-ManagementRoleAssignment -App <app_id> -Role <role> -CustomResourceScope <scope.name>`."""

    app_id: str  # the client id
    role: str  # e.g. "Application SMTP.SendAsApp"
    scope: ManagementScope


@dataclass(frozen=True)
class SmtpAuthorization:
    """Exchange's answer to "may this token authenticate as this mailbox?": `model` is "classic" or "rbac" when it
    may, "" when not; `reason` says why, for the SMTP event log."""

    ok: bool
    model: str
    reason: str


@dataclass(frozen=True)
class SandboxIdentity:
    """The sandbox tenant, fresh for each start (new GUIDs and secret); by default set up in the classic model."""

    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant_domain: str = "contoso.test"
    tenant_name: str = "Contoso"
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(default_factory=_secret_value)
    app_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # App registrations > Object ID
    sp_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # Enterprise applications > Object ID (oid)
    app_name: str = "outmail sandbox"
    mailbox: str = "noreply@contoso.test"  # the user= mailbox; may send as itself
    sendas_address: str = "shared@contoso.test"  # has granted the app Send As only (Add-RecipientPermission)
    second_mailbox: str = "alerts@contoso.test"  # no grants; with the mailbox in the group outmail-senders
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))  # the mailbox's, for protocol smtp
    users: tuple[str, ...] = ("alice@contoso.test", "bob@contoso.test", "jürgen@contoso.test")  # other recipients
    # Entra: application roles granted (with admin consent) on Office 365 Exchange Online and on Microsoft Graph.
    exchange_roles: tuple[str, ...] = (ROLE_SMTP,)
    graph_roles: tuple[str, ...] = ()
    # Exchange: the mailbox granted the app's service principal FullAccess (Add-MailboxPermission).
    full_access: bool = True
    # Exchange: RBAC for Applications role assignments (New-ManagementRoleAssignment -App ...).
    rbac_assignments: tuple[RoleAssignment, ...] = ()

    # -- the tenant as a fault sets it up -----------------------------------------------------------------------------
    def configured_for(self, fault: str | None) -> "SandboxIdentity":
        """This tenant as the fault sets it up (same GUIDs, secret and mailboxes; other grants):
        - `no-smtp-role`: classic with the Entra permission (or its admin consent) missing; no RBAC assignment;
        - `rbac`: RBAC for Applications: no Entra permission, no FullAccess, an `Application SMTP.SendAsApp`
          assignment scoped to the group outmail-senders (the mailbox and `second_mailbox`);
        - `rbac-out-of-scope`: the same assignment, but its scope holds only `second_mailbox`, not the mailbox;
        - `over-privileged`: classic, with the over-broad Entra grants LogicalDOC's guide asks for;
        - anything else: unchanged (the correctly set-up classic tenant)."""
        if fault == "no-smtp-role":
            return replace(self, exchange_roles=(), rbac_assignments=())
        if fault in ("rbac", "rbac-out-of-scope"):
            return replace(self, exchange_roles=(), graph_roles=(), full_access=False,
                           rbac_assignments=(self.smtp_role_assignment(in_scope=fault == "rbac"),))
        if fault == "over-privileged":
            return replace(self, exchange_roles=OVER_BROAD_EXCHANGE_ROLES, graph_roles=OVER_BROAD_GRAPH_ROLES)
        return self

    def smtp_role_assignment(self, *, in_scope: bool = True) -> RoleAssignment:
        """The app's `Application SMTP.SendAsApp` assignment with the management scope "outmail-smtp": the group
        outmail-senders (the mailbox and `second_mailbox`), or, with in_scope=False, `second_mailbox` only."""
        if in_scope:
            scope = ManagementScope("outmail-smtp", f"MemberOfGroup -eq '{SENDERS_GROUP_DN}'",
                                    frozenset({self.mailbox.lower(), self.second_mailbox.lower()}))
        else:
            scope = ManagementScope("outmail-smtp", f"PrimarySmtpAddress -eq '{self.second_mailbox}'",
                                    frozenset({self.second_mailbox.lower()}))
        return RoleAssignment(app_id=self.client_id, role=RBAC_ROLE_SMTP, scope=scope)

    # -- Entra --------------------------------------------------------------------------------------------------------
    def knows_tenant(self, tenant: str) -> bool:
        """The tenant as its GUID or verified domain (Entra accepts both, case-insensitively)."""
        return tenant.lower() in (self.tenant_id.lower(), self.tenant_domain.lower())

    def app_roles(self, resource: str) -> list[str]:
        """The application roles a client-credentials token for `resource` carries (empty: Entra omits `roles`)."""
        if resource in EXCHANGE_RESOURCES:
            return list(self.exchange_roles)
        if resource == RESOURCE_GRAPH:
            return list(self.graph_roles)
        return []

    # -- Exchange -----------------------------------------------------------------------------------------------------
    def full_access_mailboxes(self) -> set[str]:
        """Mailboxes that granted the service principal FullAccess (`Add-MailboxPermission`), lower case."""
        return {self.mailbox.lower()} if self.full_access else set()

    def smtp_role_assignments(self, app_id: str) -> list[RoleAssignment]:
        """The app's RBAC role assignments of role `Application SMTP.SendAsApp`."""
        return [a for a in self.rbac_assignments
                if a.app_id.lower() == app_id.lower() and a.role == RBAC_ROLE_SMTP]

    def smtp_rbac_scope(self, app_id: str, mailbox: str) -> ManagementScope | None:
        """Is `mailbox` in the app's SMTP RBAC scope? The scope of the first `Application SMTP.SendAsApp` assignment
        that contains it, else None (what `Test-ServicePrincipalAuthorization` reports as InScope True / False)."""
        for assignment in self.smtp_role_assignments(app_id):
            if assignment.scope.includes(mailbox):
                return assignment.scope
        return None

    def authorize_smtp(self, claims: dict[str, Any], mailbox: str) -> SmtpAuthorization:
        """Whether a token (already checked: signature, expiry, audience, tenant, issuer) may authenticate as
        `mailbox`, in either model. The service principal (oid) must exist in both."""
        if claims.get("oid") != self.sp_object_id:
            return SmtpAuthorization(False, "", "no Exchange service principal for this object id")
        app_id = str(claims.get("appid") or "")
        roles = claims.get("roles") or []
        has_role = ROLE_SMTP in roles
        if has_role and mailbox.lower() in self.full_access_mailboxes():
            extra = [r for r in roles if r != ROLE_SMTP]
            also = f"; the token also carries {', '.join(extra)}" if extra else ""
            return SmtpAuthorization(True, "classic", f"classic: {ROLE_SMTP} role and FullAccess on {mailbox}{also}")
        scope = self.smtp_rbac_scope(app_id, mailbox)
        if scope is not None:
            return SmtpAuthorization(True, "rbac", f"RBAC: {mailbox} in scope {scope.name} ({RBAC_ROLE_SMTP})")
        assignments = self.smtp_role_assignments(app_id)
        if has_role:
            why = f"{mailbox} has not granted the app FullAccess"
        else:
            why = f"no {ROLE_SMTP} role"
        if not assignments:
            return SmtpAuthorization(False, "", f"{why} and no RBAC role assignment")
        names = ", ".join(sorted({a.scope.name for a in assignments}))
        return SmtpAuthorization(False, "", f"{why}; RBAC: {mailbox} is outside the management scope {names}")

    def may_send_as(self, mailbox: str, address: str, app_id: str | None = None) -> bool:
        """Whether a session authenticated as `mailbox` may use `address` as From: itself, a Send As grant, or, for
        the app (`app_id` given: an XOAUTH2 session), an address in its SMTP RBAC scope."""
        address = address.lower()
        if address == mailbox.lower() or address == self.sendas_address.lower():
            return True
        return app_id is not None and self.smtp_rbac_scope(app_id, address) is not None

    def knows_recipient(self, address: str) -> bool:
        """Exchange's recipient lookup: an address in the tenant's own domain must exist; others go out as they are."""
        address = address.lower()
        if address.rpartition("@")[2] != self.tenant_domain.lower():
            return True
        return address in {self.mailbox.lower(), self.sendas_address.lower(), self.second_mailbox.lower(),
                           *(u.lower() for u in self.users)}

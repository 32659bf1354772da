"""Who exists in the sandbox tenant: the tenant, the app registration, its service principal and the mailboxes."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

RESOURCE_EXCHANGE = "https://outlook.office365.com"
SCOPE_EXCHANGE = RESOURCE_EXCHANGE + "/.default"
ROLE_SMTP = "SMTP.SendAsApp"
# Resources the tenant knows, with the application roles the sandbox app was granted on each.
KNOWN_RESOURCES: dict[str, list[str]] = {
    RESOURCE_EXCHANGE: [ROLE_SMTP],
    "https://outlook.office.com": [ROLE_SMTP],
    "https://graph.microsoft.com": [],  # reachable, but the app has no Graph roles: such a token fails SMTP AUTH
}
# Audiences Exchange Online accepts for SMTP (community reports include the latter two).
EXCHANGE_AUDIENCES = frozenset({RESOURCE_EXCHANGE, "https://outlook.office.com", "https://ps.outlook.com",
                                "00000002-0000-0ff1-ce00-000000000000"})


def _secret_value() -> str:
    """A client secret Value in Entra's shape: 40 characters, with a '~' at position 4 (e.g. 'AbC8Q~...')."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-."
    rnd = "".join(secrets.choice(alphabet) for _ in range(37))
    return rnd[:3] + "8Q~" + rnd[3:37]


@dataclass(frozen=True)
class SandboxIdentity:
    """The sandbox tenant, fresh for each start (new GUIDs and secret)."""

    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant_domain: str = "contoso.test"
    tenant_name: str = "Contoso"
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(default_factory=_secret_value)
    app_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # App registrations > Object ID
    sp_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # Enterprise applications > Object ID (oid)
    app_name: str = "outmail sandbox"
    mailbox: str = "noreply@contoso.test"  # has granted the app FullAccess; may send as itself
    sendas_address: str = "shared@contoso.test"  # has granted the app Send As only
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))  # the mailbox's, for protocol smtp
    users: tuple[str, ...] = ("alice@contoso.test", "bob@contoso.test", "jürgen@contoso.test")  # other recipients

    def knows_tenant(self, tenant: str) -> bool:
        """The tenant as its GUID or verified domain (Entra accepts both, case-insensitively)."""
        return tenant.lower() in (self.tenant_id.lower(), self.tenant_domain.lower())

    def full_access_mailboxes(self) -> set[str]:
        """Mailboxes that granted the service principal FullAccess (`Add-MailboxPermission`), lower case."""
        return {self.mailbox.lower()}

    def may_send_as(self, mailbox: str, address: str) -> bool:
        """Whether a session authenticated as `mailbox` may use `address` as From (itself, or a Send As grant)."""
        address = address.lower()
        return address == mailbox.lower() or address == self.sendas_address.lower()

    def knows_recipient(self, address: str) -> bool:
        """Exchange's recipient lookup: an address in the tenant's own domain must exist; others go out as they are."""
        address = address.lower()
        if address.rpartition("@")[2] != self.tenant_domain.lower():
            return True
        return address in {self.mailbox.lower(), self.sendas_address.lower(), *(u.lower() for u in self.users)}

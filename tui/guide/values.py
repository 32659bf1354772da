"""The admin's own values the guide fills in: client id, tenant, the Enterprise application's object id (the token's
`oid`), the mailbox and the From addresses. Nothing secret: the client secret and the password are never read here.

    values = GuideValues.from_settings(settings, claims=report.token.claims, extra_from=("sales@contoso.com",))
    values.hint_context()      # a hints.HintContext, for SetupStep.filled_command and hints.fill
    values.scope_addresses     # what an RBAC scope must hold: the mailbox and every From address
    values.to_json()           # {"client_id", "tenant", "object_id", "object_id_source", "mailbox", "sender",
                               #  "from_addresses", "userasfrom", "protocol", "host"}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from tui.diagnostics.hints import HintContext


def _norm(address: str) -> str:
    return address.strip().lower()


@dataclass(frozen=True)
class GuideValues:
    """`object_id` is "" when no token (and no verification) told it; `object_id_source` is "token",
    "verification" or "". `from_addresses` are the From addresses other than the mailbox, in order, without
    duplicates (case-insensitive): the Sender Email when it differs from Username, then the extra ones given (with
    'Use user's email as sender', the LogicalDOC users' addresses the admin names)."""

    client_id: str = ""
    tenant: str = ""
    object_id: str = ""
    object_id_source: str = ""
    mailbox: str = ""
    sender: str = ""
    from_addresses: tuple[str, ...] = ()
    userasfrom: bool = False
    protocol: str = ""
    host: str = ""
    port: str = ""
    m365: bool = False

    @classmethod
    def from_settings(cls, settings: Any, claims: Mapping[str, Any] | None = None,
                      extra_from: tuple[str, ...] | list[str] = ()) -> "GuideValues":
        """From a tui.settings.model.Settings and, when a token was issued, its claims (oid, tid)."""
        ctx = HintContext.from_settings(settings, claims)
        mailbox = str(getattr(settings, "username", "") or "").strip()
        sender = str(getattr(settings, "sender", "") or "").strip()
        froms: list[str] = []
        seen = {_norm(mailbox)} if mailbox else set()
        for address in (sender, *extra_from):
            address = address.strip()
            if address and _norm(address) not in seen:
                seen.add(_norm(address))
                froms.append(address)
        return cls(client_id=ctx.client_id, tenant=ctx.tenant, object_id=ctx.object_id,
                   object_id_source="token" if ctx.object_id else "", mailbox=mailbox, sender=sender or mailbox,
                   from_addresses=tuple(froms), userasfrom=bool(getattr(settings, "userasfrom", False)),
                   protocol=str(getattr(settings, "protocol", "") or ""), host=ctx.host, port=ctx.port,
                   m365=bool(getattr(settings, "is_m365", False)))

    def with_object_id(self, object_id: str, source: str) -> "GuideValues":
        return replace(self, object_id=object_id, object_id_source=source)

    @property
    def scope_addresses(self) -> tuple[str, ...]:
        """The addresses LogicalDOC sends from: the mailbox, then every From address (an RBAC scope holds these)."""
        return ((self.mailbox,) if self.mailbox else ()) + self.from_addresses

    def sends_as_others(self) -> bool:
        """Whether Send As (S7) is needed: a From other than the mailbox, or 'Use user's email as sender'."""
        return bool(self.from_addresses) or self.userasfrom

    def hint_context(self, **changes: str) -> HintContext:
        """The values as a HintContext (unknown ones become the hint table's <PLACEHOLDER>s when filled)."""
        ctx = HintContext(client_id=self.client_id, object_id=self.object_id, mailbox=self.mailbox,
                          sender=self.from_addresses[0] if self.from_addresses else self.sender,
                          tenant=self.tenant, host=self.host, port=self.port,
                          server="exchange" if self.m365 else "")
        return replace(ctx, **changes) if changes else ctx

    def to_json(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "tenant": self.tenant, "object_id": self.object_id,
                "object_id_source": self.object_id_source, "mailbox": self.mailbox, "sender": self.sender,
                "from_addresses": list(self.from_addresses), "userasfrom": self.userasfrom,
                "protocol": self.protocol, "host": self.host}

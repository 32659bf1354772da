"""Least privilege: the roles the token shows against what SMTP needs, and the RBAC scope that holds only the
mailboxes LogicalDOC sends from.

    p = least_privilege(claims, values, model, token_at=iat)
    p.needed       # what SMTP needs in this model, in words
    p.roles        # the token's roles (Office 365 Exchange Online application roles)
    p.extra        # tuple[ExtraRole(role, allows, cause, remove)]: each role beyond the need, what it lets the app
                   #   do (claims.EXTRA_ROLE_EFFECTS) and how to remove it (the hint table's least-privilege rows)
    p.scope_addresses, p.scope_filter, p.scope_command   # RBAC: the scope of exactly the mailbox and the Froms
    p.to_json()

SMTP needs SMTP.SendAsApp and nothing else in the classic model, and no Entra permission at all with RBAC for
Applications (verdict.md section 3): there even SMTP.SendAsApp is extra, because the two models add up and the
Entra grant widens what the scope allows. Graph permissions are on another resource and never show in an Exchange
token, so they cannot be judged here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tui.diagnostics import hints as H
from tui.diagnostics.claims import EXTRA_ROLE_EFFECTS, REQUIRED_ROLE
from tui.diagnostics.setup_steps import RBAC_FILTER_TERM, RBAC_SCOPE_NAME
from tui.guide.powershell import double_quoted_body, opath_string
from tui.guide.values import GuideValues

NEEDED = {
    "classic": f"{REQUIRED_ROLE} (Office 365 Exchange Online, application permission with admin consent) and "
               "nothing else",
    "rbac": "no Entra permission at all: an Exchange role assignment \"Application SMTP.SendAsApp\" on a scope that "
            "holds only the mailboxes LogicalDOC sends from",
}


@dataclass(frozen=True)
class ExtraRole:
    """One role SMTP does not need: `allows` what it lets the app do, `cause` and `remove` the hint table's
    words (rule `hint_id`)."""

    role: str
    allows: str
    cause: str
    remove: str
    hint_id: str

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "allows": self.allows, "cause": self.cause, "remove": self.remove,
                "hint": self.hint_id}


@dataclass(frozen=True)
class Privilege:
    model: str
    roles: tuple[str, ...]
    needed: str
    extra: tuple[ExtraRole, ...]
    token_at: float | None
    scope_addresses: tuple[str, ...]
    scope_filter: str
    scope_command: str

    @property
    def ok(self) -> bool:
        """No role beyond what SMTP needs in this model."""
        return not self.extra

    def to_json(self) -> dict[str, Any]:
        from tui.guide.evidence import iso_utc

        return {"model": self.model, "roles": list(self.roles), "needed": self.needed, "ok": self.ok,
                "extra": [e.to_json() for e in self.extra], "token_at": iso_utc(self.token_at),
                "rbac_scope": {"name": RBAC_SCOPE_NAME, "addresses": list(self.scope_addresses),
                               "filter": self.scope_filter, "command": self.scope_command}}


def scope_filter(addresses: tuple[str, ...]) -> str:
    """The -RecipientRestrictionFilter that holds exactly these addresses (OPATH; quotes escaped)."""
    terms = [RBAC_FILTER_TERM.replace("'{address}'", opath_string(a)) for a in addresses]
    return " -or ".join(terms) if terms else RBAC_FILTER_TERM.replace("{address}", "<mailbox>")


def least_privilege(claims: Mapping[str, Any] | None, values: GuideValues, model: str, *,
                    token_at: float | None = None) -> Privilege:
    """The roles of `claims` (a token's claims summary; None: no token yet, so no roles known) judged for `model`
    ("classic" or "rbac")."""
    raw = (claims or {}).get("roles") or []
    roles = tuple(str(r) for r in raw) if isinstance(raw, list) else (str(raw),)
    ctx = values.hint_context()
    extra: list[ExtraRole] = []
    for role in roles:
        if role == REQUIRED_ROLE:
            if model == "rbac":
                rule = H.by_id("least-privilege-rbac-entra-role", ctx)
                extra.append(ExtraRole(role, "be authorized through the classic model too (any mailbox that grants "
                                             "it FullAccess), beyond the RBAC scope", rule.cause, rule.fix, rule.id))
            continue
        allows = EXTRA_ROLE_EFFECTS.get(role, "do more than SMTP needs")
        rule = H.by_id("least-privilege-role", ctx, extra={"role": role, "allows": allows})
        extra.append(ExtraRole(role, allows, rule.cause, rule.fix, rule.id))
    addresses = values.scope_addresses
    flt = scope_filter(addresses)
    command = (f'New-ManagementScope -Name "{RBAC_SCOPE_NAME}" -RecipientRestrictionFilter '
               f'"{double_quoted_body(flt)}"')
    return Privilege(model, roles, NEEDED.get(model, NEEDED["classic"]), tuple(extra), token_at, addresses, flt,
                     command)

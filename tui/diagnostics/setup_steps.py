"""The Microsoft 365 setup steps as data, read by the help screen and by the hints.

S1-S9 are Microsoft's OAuth procedure (reference microsoft365-smtp.md section 2). Exchange has two ways to authorize
the app for SMTP (verdict.md section 2), so each step names the model it belongs to (`SetupStep.model`):
- classic: the Entra API permission SMTP.SendAsApp with admin consent (S3, S4) and FullAccess on the mailbox (S6);
- rbac: RBAC for Applications (Exchange; SMTP since November 2025, roadmap RM498356): no Entra permission, a
  management scope holding the mailbox (R1), the role assignment "Application SMTP.SendAsApp" on that scope (R2),
  checked with Test-ServicePrincipalAuthorization (R3);
- both: the rest (app registration, secret, service principal S5, Send As S7, SMTP AUTH S8, network S9).

Each step has a title, where to do it (portal path or shell), what it achieves, and the PowerShell, if any, as a
template with the same placeholders the hints use (`{client_id}`, `{object_id}`, `{mailbox}`, `{sender}`,
`{tenant}`); `SetupStep.filled_command(ctx)` fills them from the settings and the token (a hints.HintContext, e.g.
`HintContext.from_settings(settings, report.token.claims)`), unknown values becoming `<PLACEHOLDER>`s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SetupStep:
    id: str  # "S1".."S9", "R1".."R3"
    title: str
    where: str  # where in the portal (or which shell)
    what: str  # what to do and what it is for
    command: str | None = None  # PowerShell template, placeholders as in hints.HintContext
    model: str = "both"  # "classic", "rbac" or "both" (see the module docstring)

    def filled_command(self, ctx: object = None) -> str | None:
        """The PowerShell with this admin's values (ctx: a hints.HintContext; None leaves placeholders)."""
        from tui.diagnostics.hints import fill

        return fill(self.command, ctx)  # type: ignore[arg-type]


SETUP_STEPS: tuple[SetupStep, ...] = (
    SetupStep(
        "S1", "App registration",
        "Entra admin center > App registrations > New registration",
        "Register the application. Its Application (client) ID goes to Client ID (smtp.clientId) and the "
        "Directory (tenant) ID to Tenant ID (smtp.clientTenant).",
    ),
    SetupStep(
        "S2", "Client secret",
        "App registrations > <your app> > Certificates & secrets > New client secret",
        "Create a client secret and copy its Value (shown once), not its Secret ID, into Client secret "
        "(smtp.clientSecret). Secrets expire: note the date.",
    ),
    SetupStep(
        "S3", "API permission SMTP.SendAsApp",
        "App registrations > <your app> > API permissions > Add a permission > APIs my organization uses > "
        "Office 365 Exchange Online > Application permissions",
        "Add SMTP.SendAsApp. Not Microsoft Graph Mail.Send, not the delegated SMTP.Send.",
        model="classic",
    ),
    SetupStep(
        "S4", "Admin consent",
        "App registrations > <your app> > API permissions > Grant admin consent for <tenant>",
        "Grant admin consent, so that the token carries the SMTP.SendAsApp role. A multi-tenant app needs the "
        "admin-consent URL with scope=https://outlook.office365.com/.default.",
        model="classic",
    ),
    SetupStep(
        "S5", "Exchange service principal",
        "Exchange Online PowerShell (the Object ID is on Entra admin center > Enterprise applications > "
        "<your app> > Overview, not the App registration's Object ID)",
        "Register the app's service principal in Exchange. OBJECT_ID is the Enterprise Application's object id: "
        "the token's oid claim, which outmail fills in.",
        "Connect-ExchangeOnline -Organization {tenant}\n"
        "New-ServicePrincipal -AppId {client_id} -ObjectId {object_id}\n"
        "Get-ServicePrincipal | fl",
    ),
    SetupStep(
        "S6", "Mailbox permission (FullAccess)",
        "Exchange Online PowerShell",
        "Give the service principal FullAccess to the mailbox in Username (the XOAUTH2 user=).",
        'Add-MailboxPermission -Identity "{mailbox}" -User {object_id} -AccessRights FullAccess',
        model="classic",
    ),
    SetupStep(
        "S7", "Send As",
        "Exchange Online PowerShell",
        "Only when From differs from the authenticated mailbox (including 'Use user's email as sender'): grant "
        "Send As on every From address.",
        'Add-RecipientPermission "{sender}" -Trustee {object_id} -AccessRights SendAs',
    ),
    SetupStep(
        "S8", "SMTP AUTH enabled",
        "Exchange Online PowerShell (Microsoft 365 admin center > Users > Mail > Manage email apps > "
        "Authenticated SMTP, per mailbox)",
        "SMTP AUTH is off by default for tenants created after January 2020; the switch applies to XOAUTH2 too. "
        "The mailbox setting overrides the tenant's.",
        "Get-TransportConfig | fl SmtpClientAuthenticationDisabled\n"
        "Set-TransportConfig -SmtpClientAuthenticationDisabled $false\n"
        'Get-CASMailbox -Identity "{mailbox}" | fl SmtpClientAuthenticationDisabled\n'
        'Set-CASMailbox -Identity "{mailbox}" -SmtpClientAuthenticationDisabled $false',
    ),
    SetupStep(
        "S9", "Network and TLS",
        "Firewall, proxy, CA bundle",
        "Outbound TCP 587 to smtp.office365.com, STARTTLS, TLS 1.2 or newer; the login host reachable over "
        "HTTPS; the CA that signs both certificates trusted (system store, REQUESTS_CA_BUNDLE / SSL_CERT_FILE, or "
        "[console] ca_file).",
    ),
    SetupStep(
        "R1", "Management scope (RBAC for Applications)",
        "Exchange Online PowerShell",
        "Only for RBAC for Applications (no Entra permission needed): a management scope that holds the mailbox in "
        "Username (and every From address), or a group: -RecipientRestrictionFilter \"MemberOfGroup -eq "
        "'<group distinguished name>'\".",
        'New-ManagementScope -Name "outmail-smtp" -RecipientRestrictionFilter "PrimarySmtpAddress -eq \'{mailbox}\'"',
        model="rbac",
    ),
    SetupStep(
        "R2", "Role assignment Application SMTP.SendAsApp (RBAC)",
        "Exchange Online PowerShell",
        "Assign the role \"Application SMTP.SendAsApp\" to the app's service principal (S5), limited to the scope of "
        "R1. FullAccess (S6) is not needed on this path.",
        'New-ManagementRoleAssignment -App {client_id} -Role "Application SMTP.SendAsApp" '
        '-CustomResourceScope "outmail-smtp"',
        model="rbac",
    ),
    SetupStep(
        "R3", "Test the authorization (RBAC)",
        "Exchange Online PowerShell",
        "Ask Exchange whether the assignment covers the mailbox: InScope True. Exchange applies RBAC changes 30 "
        "minutes to 2 hours late, so a 535 5.7.3 right after R1 or R2 may mean 'not yet'.",
        "Test-ServicePrincipalAuthorization -Identity {client_id} -Resource {mailbox}",
        model="rbac",
    ),
)

# The procedure's order: the RBAC steps stand where the classic model has S6, before Send As (S7).
_ORDER = ("S1", "S2", "S3", "S4", "S5", "S6", "R1", "R2", "R3", "S7", "S8", "S9")
SETUP_STEPS = tuple(sorted(SETUP_STEPS, key=lambda s: _ORDER.index(s.id)))
SETUP_STEPS_BY_ID: dict[str, SetupStep] = {s.id: s for s in SETUP_STEPS}

SETTLING_NOTE = ("Changes in S5-S8 take time to apply: wait 30 minutes or more before treating a 535 5.7.3 as a "
                 "real fault.")
RBAC_SETTLING_NOTE = ("Exchange caches authorization: a role assignment or scope change takes 30 minutes to 2 hours "
                      "to apply, so a 535 5.7.3 right after a change may mean 'not yet'.")


def steps_for_model(model: str | None) -> tuple[SetupStep, ...]:
    """The steps of one authorization model ("classic" or "rbac") in order; every step for None."""
    return tuple(s for s in SETUP_STEPS if model is None or s.model in ("both", model))

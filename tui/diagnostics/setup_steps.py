"""The Microsoft 365 setup steps S1-S9 as data (reference section 2), read by the help screen and by the hints.

Each step has a title, where to do it (portal path or shell), what it achieves, and the PowerShell, if any, as a
template with the same placeholders the hints use (`{client_id}`, `{object_id}`, `{mailbox}`, `{sender}`,
`{tenant}`); `SetupStep.filled_command(ctx)` fills them from the settings and the token (a hints.HintContext, e.g.
`HintContext.from_settings(settings, report.token.claims)`), unknown values becoming `<PLACEHOLDER>`s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SetupStep:
    id: str  # "S1".."S9"
    title: str
    where: str  # where in the portal (or which shell)
    what: str  # what to do and what it is for
    command: str | None = None  # PowerShell template, placeholders as in hints.HintContext

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
    ),
    SetupStep(
        "S4", "Admin consent",
        "App registrations > <your app> > API permissions > Grant admin consent for <tenant>",
        "Grant admin consent, so that the token carries the SMTP.SendAsApp role. A multi-tenant app needs the "
        "admin-consent URL with scope=https://outlook.office365.com/.default.",
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
)

SETUP_STEPS_BY_ID: dict[str, SetupStep] = {s.id: s for s in SETUP_STEPS}

SETTLING_NOTE = ("Changes in S5-S8 take time to apply: wait 30 minutes or more before treating a 535 5.7.3 as a "
                 "real fault.")

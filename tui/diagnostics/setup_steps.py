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

For the setup guide (`tui.guide`) each step also says what outmail takes as proof that it works (`proves`) and,
where PowerShell can do it, an idempotent block for the guide's one setup script (`script`: it checks before it
changes, so the script can run again). Script blocks use PowerShell variables, not literal values, so that no value
is ever parsed as code: `{client_id}` is `$AppId`, `{object_id}` `$ObjectId`, `{mailbox}` `$Mailbox`, `{sender}`
`$From` (inside the loop over `$FromAddresses`), `{scope_name}` `$ScopeName`, `{scope_filter}` `$ScopeFilter`
(`tui.guide.scripts` sets them). `MOVE_TO_OAUTH` (S0) is the guide's first step for a tenant that still sends to
Exchange Online with protocol SMTP (basic authentication, `BASIC_AUTH_DEADLINE_NOTE`); it is not one of Microsoft's
steps, so it is not in `SETUP_STEPS`.
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
    proves: str = ""  # what outmail takes as proof that the step works (the setup guide's evidence)
    script: str | None = None  # idempotent PowerShell for the guide's setup script (variables, see the docstring)

    def filled_command(self, ctx: object = None) -> str | None:
        """The PowerShell with this admin's values (ctx: a hints.HintContext; None leaves placeholders)."""
        from tui.diagnostics.hints import fill

        return fill(self.command, ctx)  # type: ignore[arg-type]


# RBAC for Applications: the role an app needs for SMTP, and the management scope the guide creates for it.
RBAC_ROLE = "Application SMTP.SendAsApp"
RBAC_SCOPE_NAME = "outmail-smtp"
# One recipient of the scope's -RecipientRestrictionFilter (OPATH); terms are joined with " -or ".
RBAC_FILTER_TERM = "PrimarySmtpAddress -eq '{address}'"

_S5_NEW = "New-ServicePrincipal -AppId {client_id} -ObjectId {object_id}"
_S6_ADD = 'Add-MailboxPermission -Identity "{mailbox}" -User {object_id} -AccessRights FullAccess'
_S7_ADD = 'Add-RecipientPermission "{sender}" -Trustee {object_id} -AccessRights SendAs'
_R1_NEW = ('New-ManagementScope -Name "' + RBAC_SCOPE_NAME + '" -RecipientRestrictionFilter "'
           + RBAC_FILTER_TERM.format(address="{mailbox}") + '"')
_R2_NEW = 'New-ManagementRoleAssignment -App {client_id} -Role "' + RBAC_ROLE + '" -CustomResourceScope "' \
          + RBAC_SCOPE_NAME + '"'
_R3_TEST = "Test-ServicePrincipalAuthorization -Identity {client_id} -Resource {mailbox}"
# The rows of Test-ServicePrincipalAuthorization that are the SMTP role (the script's guard for R2, S7 under RBAC).
_SMTP_ROLE_ROWS = ('@(Test-ServicePrincipalAuthorization -Identity {client_id} -Resource {resource} '
                   '-ErrorAction SilentlyContinue | Where-Object {{ "$($_.RoleName)" -eq "' + RBAC_ROLE + '" }})')

SETUP_STEPS: tuple[SetupStep, ...] = (
    SetupStep(
        "S1", "App registration",
        "Entra admin center > App registrations > New registration",
        "Register the application. Its Application (client) ID goes to Client ID (smtp.clientId) and the "
        "Directory (tenant) ID to Tenant ID (smtp.clientTenant).",
        proves="Entra ID issues a token for this Client ID in this tenant.",
    ),
    SetupStep(
        "S2", "Client secret",
        "App registrations > <your app> > Certificates & secrets > New client secret",
        "Create a client secret and copy its Value (shown once), not its Secret ID, into Client secret "
        "(smtp.clientSecret). Secrets expire: note the date.",
        proves="Entra ID accepts the client secret: a token is issued.",
    ),
    SetupStep(
        "S3", "API permission SMTP.SendAsApp",
        "App registrations > <your app> > API permissions > Add a permission > APIs my organization uses > "
        "Office 365 Exchange Online > Application permissions",
        "Add SMTP.SendAsApp. Not Microsoft Graph Mail.Send, not the delegated SMTP.Send.",
        model="classic",
        proves="The token carries the role SMTP.SendAsApp.",
    ),
    SetupStep(
        "S4", "Admin consent",
        "App registrations > <your app> > API permissions > Grant admin consent for <tenant>",
        "Grant admin consent, so that the token carries the SMTP.SendAsApp role. A multi-tenant app needs the "
        "admin-consent URL with scope=https://outlook.office365.com/.default.",
        model="classic",
        proves="The token carries the role SMTP.SendAsApp, which it does only once admin consent is granted.",
    ),
    SetupStep(
        "S5", "Exchange service principal",
        "Exchange Online PowerShell (the Object ID is on Entra admin center > Enterprise applications > "
        "<your app> > Overview, not the App registration's Object ID)",
        "Register the app's service principal in Exchange. OBJECT_ID is the Enterprise Application's object id: "
        "the token's oid claim, which outmail fills in.",
        "Connect-ExchangeOnline -Organization {tenant}\n"
        + _S5_NEW + "\n"
        "Get-ServicePrincipal | fl",
        proves="Exchange accepts the token at AUTH (235); or the verification's Get-ServicePrincipal finds the app "
               "with the token's oid as its object id.",
        script=(
            "$sp = Get-ServicePrincipal -Identity {client_id} -ErrorAction SilentlyContinue | Select-Object -First 1\n"
            "if (-not $sp) {{\n"
            "    " + _S5_NEW + " | Out-Null\n"
            '    Write-Host "S5: service principal created for {client_id}"\n'
            '}} elseif ("$($sp.ObjectId)" -ne {object_id}) {{\n'
            '    Write-Warning ("S5: the service principal was made with object id $($sp.ObjectId), not {object_id} "'
            ' + "(the Enterprise application\'s object id, the token\'s oid). Remove it with Remove-ServicePrincipal '
            '-Identity {client_id} and run this script again.")\n'
            "}} else {{\n"
            '    Write-Host "S5: service principal already there"\n'
            "}}"
        ),
    ),
    SetupStep(
        "S6", "Mailbox permission (FullAccess)",
        "Exchange Online PowerShell",
        "Give the service principal FullAccess to the mailbox in Username (the XOAUTH2 user=).",
        _S6_ADD,
        model="classic",
        proves="AUTH 235 with a token that carries SMTP.SendAsApp; or the verification's Get-MailboxPermission shows "
               "FullAccess for the service principal.",
        script=(
            "$fullAccess = Get-MailboxPermission -Identity \"{mailbox}\" -User {object_id} -ErrorAction "
            "SilentlyContinue |\n"
            '    Where-Object {{ "$($_.AccessRights)" -match "FullAccess" -and "$($_.Deny)" -ne "True" }}\n'
            "if (-not $fullAccess) {{\n"
            "    " + _S6_ADD + " | Out-Null\n"
            '    Write-Host "S6: FullAccess granted on {mailbox}"\n'
            "}} else {{\n"
            '    Write-Host "S6: FullAccess on {mailbox} already granted"\n'
            "}}"
        ),
    ),
    SetupStep(
        "S7", "Send As",
        "Exchange Online PowerShell",
        "Only when From differs from the authenticated mailbox (including 'Use user's email as sender'): grant "
        "Send As on every From address.",
        _S7_ADD,
        proves="A test send From that address is accepted (Exchange checks Send As after DATA, not at MAIL FROM); or "
               "the verification's Get-RecipientPermission shows Send As (under RBAC for Applications also: "
               "Test-ServicePrincipalAuthorization puts the address in the scope).",
        script=(
            "foreach ($From in $FromAddresses) {{\n"
            '    if ($Model -eq "rbac" -and @(' + _SMTP_ROLE_ROWS.replace("{resource}", '"{sender}"')
            + ' | Where-Object {{ "$($_.InScope)" -eq "True" }}).Count -gt 0) {{\n'
            '        Write-Host "S7: {sender} is in the scope of the app\'s role assignment: no Send As needed"\n'
            "        continue\n"
            "    }}\n"
            '    $sendAs = Get-RecipientPermission -Identity "{sender}" -Trustee {object_id} -AccessRights SendAs '
            "-ErrorAction SilentlyContinue\n"
            "    if (-not $sendAs) {{\n"
            "        " + _S7_ADD + " -Confirm:$false | Out-Null\n"
            '        Write-Host "S7: Send As granted on {sender}"\n'
            "    }} else {{\n"
            '        Write-Host "S7: Send As on {sender} already granted"\n'
            "    }}\n"
            "}}"
        ),
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
        proves="AUTH 235 (the switch applies to XOAUTH2 too); or the verification's Get-CASMailbox (the mailbox's "
               "setting, which wins) and Get-TransportConfig (the tenant's).",
        script=(
            '$cas = Get-CASMailbox -Identity "{mailbox}"\n'
            "$tenantOff = (Get-TransportConfig).SmtpClientAuthenticationDisabled\n"
            'if ("$($cas.SmtpClientAuthenticationDisabled)" -eq "True" -or '
            '($null -eq $cas.SmtpClientAuthenticationDisabled -and "$tenantOff" -eq "True")) {{\n'
            '    Set-CASMailbox -Identity "{mailbox}" -SmtpClientAuthenticationDisabled $false\n'
            '    Write-Host "S8: SMTP AUTH enabled for {mailbox} only (the tenant\'s setting is left as it is)"\n'
            "}} else {{\n"
            '    Write-Host "S8: SMTP AUTH already enabled for {mailbox}"\n'
            "}}"
        ),
    ),
    SetupStep(
        "S9", "Network and TLS",
        "Firewall, proxy, CA bundle",
        "Outbound TCP 587 to smtp.office365.com, STARTTLS, TLS 1.2 or newer; the login host reachable over "
        "HTTPS; the CA that signs both certificates trusted (system store, REQUESTS_CA_BUNDLE / SSL_CERT_FILE, or "
        "[console] ca_file).",
        proves="The token request reaches the login host over HTTPS and the SMTP session gets through STARTTLS.",
    ),
    SetupStep(
        "R1", "Management scope (RBAC for Applications)",
        "Exchange Online PowerShell",
        "Only for RBAC for Applications (no Entra permission needed): a management scope that holds the mailbox in "
        "Username (and every From address), or a group: -RecipientRestrictionFilter \"MemberOfGroup -eq "
        "'<group distinguished name>'\".",
        _R1_NEW,
        model="rbac",
        proves="AUTH 235 with a token without SMTP.SendAsApp; or the verification's "
               "Test-ServicePrincipalAuthorization: InScope True for the mailbox.",
        script=(
            '$scope = Get-ManagementScope -Identity "{scope_name}" -ErrorAction SilentlyContinue\n'
            "if (-not $scope) {{\n"
            '    New-ManagementScope -Name "{scope_name}" -RecipientRestrictionFilter {scope_filter} | Out-Null\n'
            '    Write-Host "R1: management scope {scope_name} created: {scope_filter}"\n'
            "}} else {{\n"
            '    Write-Host "R1: management scope {scope_name} already there; its filter: $($scope.RecipientFilter) '
            '(outmail\'s: {scope_filter})"\n'
            "}}"
        ),
    ),
    SetupStep(
        "R2", "Role assignment Application SMTP.SendAsApp (RBAC)",
        "Exchange Online PowerShell",
        "Assign the role \"Application SMTP.SendAsApp\" to the app's service principal (S5), limited to the scope of "
        "R1. FullAccess (S6) is not needed on this path.",
        _R2_NEW,
        model="rbac",
        proves="AUTH 235 with a token without SMTP.SendAsApp; or a Test-ServicePrincipalAuthorization row for "
               "Application SMTP.SendAsApp in the verification.",
        script=(
            "$smtpRole = " + _SMTP_ROLE_ROWS.replace("{resource}", '"{mailbox}"') + "\n"
            "if ($smtpRole.Count -eq 0) {{\n"
            '    New-ManagementRoleAssignment -App {client_id} -Role "' + RBAC_ROLE + '" -CustomResourceScope '
            '"{scope_name}" | Out-Null\n'
            '    Write-Host "R2: ' + RBAC_ROLE + ' assigned to {client_id} on the scope {scope_name}"\n'
            '}} elseif (@($smtpRole | Where-Object {{ "$($_.InScope)" -eq "True" }}).Count -eq 0) {{\n'
            '    Write-Warning ("R2: the app has ' + RBAC_ROLE + ' on the scope(s) $($smtpRole.AllowedResourceScope '
            '-join \', \'), which do not hold {mailbox}; add the mailbox to that scope, or run New-ManagementRoleAssignment '
            '-App {client_id} -Role \'' + RBAC_ROLE + '\' -CustomResourceScope {scope_name}")\n'
            "}} else {{\n"
            '    Write-Host "R2: ' + RBAC_ROLE + ' already assigned"\n'
            "}}"
        ),
    ),
    SetupStep(
        "R3", "Test the authorization (RBAC)",
        "Exchange Online PowerShell",
        "Ask Exchange whether the assignment covers the mailbox: InScope True. Exchange applies RBAC changes 30 "
        "minutes to 2 hours late, so a 535 5.7.3 right after R1 or R2 may mean 'not yet'.",
        _R3_TEST,
        model="rbac",
        proves="The verification's Test-ServicePrincipalAuthorization: InScope True for the mailbox (or AUTH 235 with "
               "a token without SMTP.SendAsApp).",
        script=('Test-ServicePrincipalAuthorization -Identity {client_id} -Resource "{mailbox}" |\n'
                "    Format-Table -Property @('RoleName', 'AllowedResourceScope', 'InScope')"),
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


# ---- the setup guide's own first step for protocol SMTP against Exchange Online (not one of Microsoft's S1-S9) ----
BASIC_AUTH_DEADLINE_NOTE = (
    "Protocol SMTP logs in to Exchange Online with the password (basic authentication, AUTH LOGIN or PLAIN), which "
    "Microsoft switches off by default for existing tenants at the end of December 2026 (admins can turn it back on "
    "for a while) and which is off for tenants created after that; Microsoft announces the final removal in the "
    "second half of 2027. OAuth 2.0 (protocol SMTP Microsoft 365, AUTH XOAUTH2) is not affected.")

MOVE_TO_OAUTH = SetupStep(
    "S0", "Move to SMTP Microsoft 365 (OAuth 2.0)",
    "LogicalDOC > Administration > Settings > Outgoing Email (or outmail's console)",
    "Set Protocol to SMTP Microsoft 365 (Server smtp.office365.com, Port 587) and fill Client ID, Tenant ID and "
    "Client secret from the app registration (S1, S2); Username stays the mailbox. LogicalDOC then logs in with a "
    "token (AUTH XOAUTH2) instead of the password, which Exchange Online stops taking by default at the end of "
    "December 2026.",
    proves="The settings: Protocol SMTP Microsoft 365.",
)


def guide_steps(model: str | None, *, basic_auth_exchange: bool = False) -> tuple[SetupStep, ...]:
    """The setup guide's steps in order: `MOVE_TO_OAUTH` (S0) first for a tenant that sends to Exchange Online with
    protocol SMTP, then `steps_for_model(model)`."""
    return ((MOVE_TO_OAUTH,) if basic_auth_exchange else ()) + steps_for_model(model)

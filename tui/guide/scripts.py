"""The guide's two PowerShell scripts, filled with the admin's own values and never with a secret.

    setup_script(guide)     # everything not yet proven, in the procedure's order; idempotent (each block checks
                            # before it changes: setup_steps.SetupStep.script); portal steps as comments
    verify_script(values)   # read-only: Get-ServicePrincipal, Get-CASMailbox, Get-TransportConfig,
                            # Get-MailboxPermission, Get-RecipientPermission, Test-ServicePrincipalAuthorization;
                            # prints one JSON line, the document tui.guide.verify parses

Both use the ExchangeOnlineManagement module (Connect-ExchangeOnline), in PowerShell 7 or Windows PowerShell 5.1.
Values go into single-quoted variables at the top (`$AppId`, `$ObjectId`, `$Mailbox`, `$FromAddresses`,
`$ScopeName`, `$ScopeFilter`, `$Model`); the blocks only use the variables, so no value is ever parsed as code.
A value the script needs but outmail does not know (the object id before any token) stops the script at once with
what to fill in, instead of creating something wrong.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tui import __version__
from tui.diagnostics.hints import HintContext, fill
from tui.diagnostics.setup_steps import RBAC_ROLE, RBAC_SCOPE_NAME, SETUP_STEPS_BY_ID
from tui.guide.evidence import iso_utc
from tui.guide.powershell import comment, single_quoted, string_array
from tui.guide.privilege import scope_filter
from tui.guide.values import GuideValues

if TYPE_CHECKING:
    from tui.guide.model import Guide

MODULE = "ExchangeOnlineManagement"
CONNECT = "Connect-ExchangeOnline -ShowBanner:$false"
# What the blocks' placeholders are filled with: the script's own variables.
VARIABLES = HintContext(client_id="$AppId", object_id="$ObjectId", mailbox="$Mailbox", sender="$From",
                        tenant="$Tenant")
VARIABLE_EXTRA = {"scope_name": "$ScopeName", "scope_filter": "$ScopeFilter"}
_NEEDS = {"S5": ("object_id",), "S6": ("object_id", "mailbox"), "S7": ("object_id",), "S8": ("mailbox",),
          "R1": ("mailbox",), "R2": ("mailbox",), "R3": ("mailbox",)}
_WHERE_FROM = {
    "client_id": "the Application (client) ID of the app registration (Client ID in the settings)",
    "object_id": "the Object ID on Entra admin center > Enterprise applications > <your app> > Overview (not the App "
                 "registration's); outmail fills it in from the token's oid once a token is issued",
    "mailbox": "the mailbox LogicalDOC logs in as (Username in the settings)",
}


def _header(title: str, values: GuideValues, lines: list[str]) -> list[str]:
    out = [f"# {title}",
           f"# Made by outmail {__version__} at {iso_utc(time.time())} for LogicalDOC's Outgoing Email "
           f"(SMTP Microsoft 365).",
           f"# Client ID {comment(values.client_id or '(not set)')}, tenant {comment(values.tenant or '(not set)')}, "
           f"mailbox {comment(values.mailbox or '(not set)')}.",
           "# It holds no secret: no client secret, password or token."]
    out += [f"# {comment(line)}" for line in lines]
    out += [f"#Requires -Modules {MODULE}",
            '$ErrorActionPreference = "Stop"',
            f"# Once, if it is missing: Install-Module -Name {MODULE} -Scope CurrentUser",
            f"Import-Module {MODULE}",
            f"{CONNECT}   # sign in as an Exchange administrator of the tenant above",
            ""]
    return out


def _variables(values: GuideValues, model: str) -> list[str]:
    froms = values.from_addresses
    lines = [f"$Model = {single_quoted(model)}",
             f"$Tenant = {single_quoted(values.tenant)}",
             f"$AppId = {single_quoted(values.client_id)}            # Application (client) ID",
             f"$ObjectId = {single_quoted(values.object_id)}         # Enterprise application's object id"
             + (" (the token's oid)" if values.object_id_source == "token" else ""),
             f"$Mailbox = {single_quoted(values.mailbox)}            # Username: the mailbox LogicalDOC logs in as",
             f"$FromAddresses = {string_array(froms)}"
             + ("   # 'Use user's email as sender': add every LogicalDOC user's address" if values.userasfrom
                else "   # From addresses other than the mailbox")]
    return lines


def _preflight(needed: set[str]) -> list[str]:
    out = []
    names = {"client_id": "$AppId", "object_id": "$ObjectId", "mailbox": "$Mailbox"}
    for key in ("client_id", "object_id", "mailbox"):
        if key in needed:
            var = names[key]
            out.append(f"if (-not {var}) {{ throw \"Set {var.replace('$', '`$')} at the top of this script: "
                       f"{_WHERE_FROM[key]}\" }}")
    return out


def setup_script(guide: "Guide") -> str:
    """One script for every step of `guide` that is not yet proven (failed or not known), in order. Steps that
    PowerShell cannot do (the portal's S1-S4, the network's S9, the settings' S0) are comments with where and what;
    the others are their setup_steps.py `script` blocks. Ends with R3's test under RBAC for Applications and with
    what to do next."""
    values = guide.values
    pending = [s for s in guide.pending]
    proven = [s.id for s in guide.steps if s.state in ("proven", "not-needed")]
    lines = _header(f"outmail setup script, model: {guide.model}", values, [
        "Every step that is not proven yet, in order; each checks before it changes, so the script can run again.",
        f"Already proven or not needed: {', '.join(proven) if proven else 'none'}.",
        "Exchange applies these changes 30 minutes to 2 hours late: afterwards run `outmail check --until-pass`.",
    ])
    lines += _variables(values, guide.model)
    scripted = [s for s in pending if SETUP_STEPS_BY_ID.get(s.id) is not None and SETUP_STEPS_BY_ID[s.id].script]
    if any(s.id in ("R1", "R2") for s in scripted) or (guide.model == "rbac" and any(s.id == "S7" for s in scripted)):
        lines += [f"$ScopeName = {single_quoted(RBAC_SCOPE_NAME)}",
                  f"$ScopeFilter = {single_quoted(scope_filter(values.scope_addresses))}"
                  "   # only the mailboxes LogicalDOC sends from"]
    needed: set[str] = {"client_id"} if scripted else set()
    for s in scripted:
        needed.update(_NEEDS.get(s.id, ()))
    lines += _preflight(needed)
    lines.append("")
    if not pending:
        lines.append('Write-Host "outmail: every step is proven; nothing to do."')
    for s in pending:
        step = SETUP_STEPS_BY_ID.get(s.id)
        lines.append(f"# ---- {s.id} {comment(s.title)} ({'failed' if s.state == 'failed' else 'not proven yet'})")
        if s.decisive is not None:
            lines.append(f"#      {comment(s.decisive.text)}")
        if step is None or not step.script:
            lines.append(f"#      Not PowerShell: {comment(s.where)}")
            lines.append(f"#      {comment(s.what)}")
            lines.append(f'Write-Host {single_quoted(f"{s.id} {s.title}: do it in the portal or the settings (see the comment in this script)")}')
        else:
            lines += (fill(step.script, VARIABLES, VARIABLE_EXTRA) or "").splitlines()
        lines.append("")
    if guide.model == "rbac" and not any(s.id == "R3" for s in pending) and any(s.id in ("R1", "R2") for s in pending):
        lines += (fill(SETUP_STEPS_BY_ID["R3"].script, VARIABLES, VARIABLE_EXTRA) or "").splitlines()
    lines.append('Write-Host "outmail: done. Exchange applies changes 30 minutes to 2 hours late; run the verification '
                 'script, paste its JSON into outmail guide --verify, and outmail check --until-pass."')
    return "\n".join(lines) + "\n"


_VERIFY_BODY = r'''$Errors = New-Object System.Collections.ArrayList
function Add-OutmailError([string]$Check, $ErrorRecord) {
    [void]$Errors.Add([ordered]@{ check = $Check; message = "$($ErrorRecord.Exception.Message)" })
}
function Test-OutmailNotFound($ErrorRecord) {
    $text = "$($ErrorRecord.CategoryInfo.Reason) $($ErrorRecord.Exception.GetType().Name) $($ErrorRecord.Exception.Message)"
    return ($text -match "ManagementObjectNotFound|couldn't be found|could not be found")
}
function ConvertTo-OutmailBool($Value) {
    if ($null -eq $Value -or "$Value" -eq "") { return $null }
    return ("$Value" -eq "True")
}

# S5: the Exchange service principal of the app, and the object id it was made with
$servicePrincipal = $null
try {
    $sp = @(Get-ServicePrincipal -ErrorAction Stop | Where-Object { "$($_.AppId)" -eq $AppId }) | Select-Object -First 1
    if ($sp) {
        $servicePrincipal = [ordered]@{ found = $true; app_id = "$($sp.AppId)"; object_id = "$($sp.ObjectId)"; display_name = "$($sp.DisplayName)" }
        if (-not $ObjectId) { $ObjectId = "$($sp.ObjectId)" }
    } else {
        $servicePrincipal = [ordered]@{ found = $false }
    }
} catch { Add-OutmailError "service_principal" $_ }

# the mailbox, and S8 for it (its setting wins over the tenant's)
$mailboxInfo = $null
try {
    $cas = Get-CASMailbox -Identity $Mailbox -ErrorAction Stop
    $mailboxInfo = [ordered]@{ found = $true; primary_smtp_address = "$($cas.PrimarySmtpAddress)"; smtp_auth_disabled = (ConvertTo-OutmailBool $cas.SmtpClientAuthenticationDisabled) }
} catch {
    if (Test-OutmailNotFound $_) { $mailboxInfo = [ordered]@{ found = $false; primary_smtp_address = ""; smtp_auth_disabled = $null } }
    else { Add-OutmailError "mailbox_info" $_ }
}

# S8 for the tenant
$transportConfig = $null
try {
    $tc = Get-TransportConfig -ErrorAction Stop
    $transportConfig = [ordered]@{ smtp_auth_disabled = (ConvertTo-OutmailBool $tc.SmtpClientAuthenticationDisabled) }
} catch { Add-OutmailError "transport_config" $_ }

# S6 (classic): FullAccess for the service principal on the mailbox
$fullAccess = $null
if ($ObjectId) {
    try {
        $rows = @(Get-MailboxPermission -Identity $Mailbox -User $ObjectId -ErrorAction Stop | Where-Object { "$($_.AccessRights)" -match "FullAccess" -and "$($_.Deny)" -ne "True" })
        $fullAccess = [ordered]@{ granted = ($rows.Count -gt 0) }
    } catch {
        if (Test-OutmailNotFound $_) { $fullAccess = [ordered]@{ granted = $false } }
        else { Add-OutmailError "full_access" $_ }
    }
} else { [void]$Errors.Add([ordered]@{ check = "full_access"; message = "no object id: no service principal found for the app" }) }

# S7: Send As for the service principal on every From address
$sendAs = $null
if ($ObjectId) {
    $sendAs = New-Object System.Collections.ArrayList
    foreach ($From in $FromAddresses) {
        try {
            $rows = @(Get-RecipientPermission -Identity $From -Trustee $ObjectId -AccessRights SendAs -ErrorAction Stop)
            [void]$sendAs.Add([ordered]@{ address = $From; granted = ($rows.Count -gt 0) })
        } catch {
            if (Test-OutmailNotFound $_) { [void]$sendAs.Add([ordered]@{ address = $From; granted = $false }) }
            else { [void]$sendAs.Add([ordered]@{ address = $From; granted = $null }); Add-OutmailError "send_as $From" $_ }
        }
    }
} else { [void]$Errors.Add([ordered]@{ check = "send_as"; message = "no object id: no service principal found for the app" }) }

# R1-R3 (RBAC for Applications): which role assignments cover the mailbox and each From address
$rbac = New-Object System.Collections.ArrayList
try {
    foreach ($Resource in @(@($Mailbox) + @($FromAddresses))) {
        try {
            foreach ($row in @(Test-ServicePrincipalAuthorization -Identity $AppId -Resource $Resource -ErrorAction Stop)) {
                [void]$rbac.Add([ordered]@{ resource = $Resource; role = "$($row.RoleName)"; scope = "$($row.AllowedResourceScope)"; in_scope = ("$($row.InScope)" -eq "True") })
            }
        } catch {
            if (-not (Test-OutmailNotFound $_)) { throw }
        }
    }
} catch { $rbac = $null; Add-OutmailError "rbac" $_ }

$sendAsList = $null
if ($null -ne $sendAs) { $sendAsList = [object[]]$sendAs.ToArray() }
$rbacList = $null
if ($null -ne $rbac) { $rbacList = [object[]]$rbac.ToArray() }
$summary = [ordered]@{
    outmail_verify = 1
    collected_at = (Get-Date).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
    client_id = $AppId
    object_id = $ExpectedObjectId
    mailbox = $Mailbox
    from_addresses = [object[]]$FromAddresses
    service_principal = $servicePrincipal
    mailbox_info = $mailboxInfo
    transport_config = $transportConfig
    full_access = $fullAccess
    send_as = $sendAsList
    rbac = $rbacList
    errors = [object[]]$Errors.ToArray()
}
Write-Host "outmail: paste the JSON line below into the guide (or save it and run: outmail guide --verify FILE)"
ConvertTo-Json -InputObject $summary -Depth 6 -Compress
'''


def verify_script(values: GuideValues) -> str:
    """The read-only verification script for these values: it changes nothing, and prints one JSON line (the
    document of tui.guide.verify) with what Exchange has for the app, the mailbox and the From addresses. Without
    a known object id it takes the one of the service principal it finds (and the guide compares it once a token
    is issued)."""
    lines = _header("outmail verification script (read-only: Get-* and Test-* only, it changes nothing)", values, [
        "It prints one line of JSON: paste it into the console's guide, or save it and run `outmail guide --verify "
        "FILE`. Windows PowerShell's `>` writes UTF-16, which outmail reads as well.",
    ])
    lines += [f"$AppId = {single_quoted(values.client_id)}",
              f"$ExpectedObjectId = {single_quoted(values.object_id)}   # the token's oid, when outmail knows it",
              "$ObjectId = $ExpectedObjectId",
              f"$Mailbox = {single_quoted(values.mailbox)}",
              f"$FromAddresses = {string_array(values.from_addresses)}"]
    lines += _preflight({"client_id", "mailbox"})
    lines.append("")
    return "\n".join(lines) + "\n" + _VERIFY_BODY


__all__ = ["setup_script", "verify_script", "MODULE", "RBAC_ROLE"]

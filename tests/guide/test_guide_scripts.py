"""The two PowerShell scripts as text: filled values, idempotence guards, ExchangeOnlineManagement only, read-only
verification, never a secret; and parsed with a PowerShell grammar (tree-sitter-powershell, from PyPI: PowerShell
itself cannot be installed here, so the scripts never run in these tests)."""

from __future__ import annotations

import re
import time

import pytest
import tree_sitter
import tree_sitter_powershell

from tui.diagnostics.token import TokenCache
from tui.guide import LastRun, build_guide
from tui.guide.powershell import single_quoted
from tui.guide.verify import OPTIONAL_KEYS, REQUIRED_KEYS
from tui.sandbox.faults import FAULT_TABLE
from tui.secret import Secret
from tui.settings.model import Settings
from tui.settings.store import load_settings

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
# Cmdlets that change something; the verification script has none, the setup script has each inside a guard.
CHANGING = re.compile(r"\b(New|Add|Set|Remove|Enable|Disable|Grant|Revoke|Update)-(?!Object\b|OutmailError\b)"
                      r"[A-Z][A-Za-z]+")


def parse_errors(script: str) -> list[str]:
    """Every ERROR or MISSING node of the PowerShell grammar's parse tree, as text."""
    src = script.encode("utf-8")
    tree = PARSER.parse(src)
    out: list[str] = []

    def walk(node) -> None:
        if node.type == "ERROR" or node.is_missing:
            out.append(f"{node.type} at {node.start_point}: {src[node.start_byte:node.end_byte][:80]!r}")
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return out


def test_the_grammar_finds_errors():
    """The parse check is worth something: broken PowerShell is reported."""
    assert parse_errors("if (-not $x) { Write-Host 'a' }\n") == []
    assert parse_errors("if (-not $x { Write-Host 'a' }\n")
    assert parse_errors("$a = @{ b = 1\n")
    assert parse_errors("Write-Host 'unterminated\n")


def code_lines(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def check_common(script: str, secrets: list[str]) -> None:
    assert parse_errors(script) == []
    assert "#Requires -Modules ExchangeOnlineManagement" in script
    assert "Import-Module ExchangeOnlineManagement" in script and "Connect-ExchangeOnline" in script
    assert "AzureAD" not in script and "MSOnline" not in script
    for secret in secrets:
        assert secret not in script
    assert not JWT_RE.search(script)
    # "$Name:" would be read as a drive-qualified variable inside a string
    assert not re.search(r"\$[A-Za-z_]\w*:(?!:)", script)


def check_guarded(script: str) -> None:
    """Every change sits inside an if/else or foreach block (indented) after the check that guards it."""
    for line in code_lines(script):
        m = CHANGING.search(line)
        if m and not line.lstrip().startswith(("Write-", "Write-Host")) and "Write-" not in line.split(m.group(0))[0]:
            assert line.startswith("    "), f"unguarded change: {line}"
    guards = [("New-ServicePrincipal", "Get-ServicePrincipal -Identity $AppId -ErrorAction SilentlyContinue"),
              ("Add-MailboxPermission", "Get-MailboxPermission -Identity \"$Mailbox\" -User $ObjectId -ErrorAction "
                                        "SilentlyContinue"),
              ("Add-RecipientPermission", "Get-RecipientPermission -Identity \"$From\" -Trustee $ObjectId "
                                          "-AccessRights SendAs -ErrorAction SilentlyContinue"),
              ("New-ManagementScope", "Get-ManagementScope -Identity \"$ScopeName\" -ErrorAction SilentlyContinue"),
              ("New-ManagementRoleAssignment", "Test-ServicePrincipalAuthorization -Identity $AppId -Resource "
                                               "\"$Mailbox\" -ErrorAction SilentlyContinue"),
              ("Set-CASMailbox", "Get-CASMailbox -Identity \"$Mailbox\"")]
    for change, guard in guards:
        if re.search(rf"^\s+{change}\b", script, re.M):
            assert guard in script, change
            assert script.index(guard) < re.search(rf"^\s+{change}\b", script, re.M).start(), change


def settings_for(sb, **changes):
    s = load_settings(sb.info.settings_path, env={})
    return s.with_changes(**{"timeout_seconds": 1.0, **changes})


@pytest.mark.parametrize("fault", [None] + [f.name for f in FAULT_TABLE if f.name not in ("slow-smtp", "slow-token")])
async def test_scripts_for_every_fault(sandbox_clean, sandbox_env, fault):
    from tui.diagnostics.engine import diagnose

    sb = sandbox_clean
    sb.set_fault(fault)
    s = settings_for(sb, sender="shared@contoso.test")
    report = await diagnose(s, token_cache=TokenCache())
    last = LastRun(report, time.time())
    secrets = [sb.info.client_secret, sb.info.password]
    for model in ("classic", "rbac"):
        guide = build_guide(s, last_run=last, model=model)
        setup, verify = guide.setup_script(), guide.verify_script()
        check_common(setup, secrets)
        check_common(verify, secrets)
        check_guarded(setup)
        assert f"$AppId = '{sb.info.client_id}'" in setup and f"$AppId = '{sb.info.client_id}'" in verify
        assert f"$Mailbox = '{sb.info.mailbox}'" in setup and f"$Mailbox = '{sb.info.mailbox}'" in verify
        assert "$FromAddresses = @('shared@contoso.test')" in setup
        if report.token is not None:
            assert f"$ObjectId = '{sb.info.object_id}'" in setup
            assert f"$ExpectedObjectId = '{sb.info.object_id}'" in verify
        # exactly the steps not proven, in the procedure's order
        blocks = re.findall(r"^# ---- (\w+) ", setup, re.M)
        assert blocks == [x.id for x in guide.pending]
        assert f"$Model = '{model}'" in setup


def test_fresh_tenant_script_does_everything_in_order_with_guards():
    s = Settings(username="noreply@contoso.com", sender="noreply@contoso.com", client_id="8b357bd8-27d7-4e37-88ef-"
                 "4d0b82be8168", client_tenant="contoso.onmicrosoft.com", client_secret=Secret("Sec8Q~notinthescript"))
    for model, order in (("classic", ["S1", "S2", "S3", "S4", "S5", "S6", "S8", "S9"]),
                         ("rbac", ["S1", "S2", "S5", "R1", "R2", "R3", "S8", "S9"])):
        guide = build_guide(s, model=model)
        script = guide.setup_script()
        assert re.findall(r"^# ---- (\w+) ", script, re.M) == order
        check_common(script, ["Sec8Q~notinthescript"])
        check_guarded(script)
        # no token yet: the object id is not guessed, the script stops and says where to find it
        assert "$ObjectId = ''" in script
        assert 'if (-not $ObjectId) { throw "Set `$ObjectId' in script
        assert "Enterprise applications > <your app> > Overview" in script
        # portal steps are comments with their place; S7 is not needed (From is the mailbox)
        assert "#      Not PowerShell: Entra admin center > App registrations > New registration" in script
        if model == "rbac":
            assert "$ScopeFilter = 'PrimarySmtpAddress -eq ''noreply@contoso.com'''" in script
            assert "New-ManagementScope -Name \"$ScopeName\" -RecipientRestrictionFilter $ScopeFilter" in script


def test_verification_script_is_read_only_and_prints_the_parsers_keys():
    s = Settings(username="noreply@contoso.com", sender="shared@contoso.com", client_id="8b357bd8-27d7-4e37-88ef-"
                 "4d0b82be8168", client_tenant="contoso.onmicrosoft.com")
    script = build_guide(s).verify_script()
    check_common(script, [])
    changes = [line for line in code_lines(script) if CHANGING.search(line)]
    assert changes == [], changes
    for cmdlet in ("Get-ServicePrincipal", "Get-MailboxPermission", "Get-RecipientPermission", "Get-CASMailbox",
                   "Get-TransportConfig", "Test-ServicePrincipalAuthorization"):
        assert cmdlet in script
    summary = script[script.index("$summary = [ordered]@{"):]
    for key in REQUIRED_KEYS + OPTIONAL_KEYS:
        assert re.search(rf"^\s+{key} = ", summary, re.M), key
    for key in ("found", "app_id", "object_id", "display_name", "primary_smtp_address", "smtp_auth_disabled",
                "granted", "address", "resource", "role", "scope", "in_scope", "check", "message"):
        assert f"{key} = " in script, key
    assert "ConvertTo-Json -InputObject $summary -Depth 6 -Compress" in script
    assert "$FromAddresses = @('shared@contoso.com')" in script


# Every command the scripts run (the grammar's command names): a value never adds one.
KNOWN_COMMANDS = {
    "Import-Module", "Connect-ExchangeOnline", "Write-Host", "Write-Warning", "Select-Object", "Where-Object",
    "Out-Null", "Format-Table", "New-Object", "ConvertTo-Json", "Get-Date", "Add-OutmailError",
    "Test-OutmailNotFound", "ConvertTo-OutmailBool", "Get-ServicePrincipal", "New-ServicePrincipal",
    "Get-MailboxPermission", "Add-MailboxPermission", "Get-RecipientPermission", "Add-RecipientPermission",
    "Get-CASMailbox", "Set-CASMailbox", "Get-TransportConfig", "Get-ManagementScope", "New-ManagementScope",
    "New-ManagementRoleAssignment", "Test-ServicePrincipalAuthorization",
}


def command_names(script: str) -> set[str]:
    src = script.encode("utf-8")
    names: set[str] = set()

    def walk(node) -> None:
        if node.type == "command_name":
            names.add(src[node.start_byte:node.end_byte].decode())
        for child in node.children:
            walk(child)

    walk(PARSER.parse(src).root_node)
    return names


@pytest.mark.parametrize("hostile", [
    "o'brien@contoso.com",
    "a\u2019b@contoso.com",
    'x"$(Remove-Mailbox -Identity everyone)@contoso.com',
    "x`$(Invoke-Evil)@contoso.com",
    "x@contoso.com\nRemove-Mailbox -Identity everyone",
    "x@contoso.com'; Remove-Mailbox -Identity everyone; '",
])
def test_values_never_become_code(hostile):
    s = Settings(username=hostile, sender=hostile + ".sender", client_id="8b357bd8-27d7-4e37-88ef-4d0b82be8168",
                 client_tenant="contoso.onmicrosoft.com")
    for model in ("classic", "rbac"):
        guide = build_guide(s, model=model, from_addresses=("o'neil@contoso.com",))
        for script in (guide.setup_script(), guide.verify_script()):
            assert parse_errors(script) == [], (hostile, parse_errors(script))
            assert f"$Mailbox = {single_quoted(hostile)}" in script
            names = command_names(script)
            assert names <= KNOWN_COMMANDS, names - KNOWN_COMMANDS


def test_known_commands_cover_the_scripts():
    s = Settings(username="noreply@contoso.com", sender="shared@contoso.com", client_id="8b357bd8-27d7-4e37-88ef-"
                 "4d0b82be8168", client_tenant="contoso.com")
    for model in ("classic", "rbac"):
        guide = build_guide(s, model=model)
        names = command_names(guide.setup_script()) | command_names(guide.verify_script())
        assert names <= KNOWN_COMMANDS, names - KNOWN_COMMANDS
        assert {"New-ServicePrincipal", "Get-CASMailbox", "Test-ServicePrincipalAuthorization"} <= names


def test_s7_block_and_command_for_several_from_addresses():
    s = Settings(username="noreply@contoso.com", sender="shared@contoso.com", userasfrom=True,
                 client_id="8b357bd8-27d7-4e37-88ef-4d0b82be8168", client_tenant="contoso.com")
    guide = build_guide(s, from_addresses=("alice@contoso.com",))
    step = guide.step("S7")
    assert step.state == "unknown"
    assert step.command.splitlines() == [
        'Add-RecipientPermission "shared@contoso.com" -Trustee <OBJECT_ID of the Enterprise application> '
        "-AccessRights SendAs",
        'Add-RecipientPermission "alice@contoso.com" -Trustee <OBJECT_ID of the Enterprise application> '
        "-AccessRights SendAs"]
    script = guide.setup_script()
    assert "$FromAddresses = @('shared@contoso.com', 'alice@contoso.com')   # 'Use user's email as sender'" in script
    assert "foreach ($From in $FromAddresses) {" in script
    assert any("Use user's email as sender" in n for n in guide.notes)

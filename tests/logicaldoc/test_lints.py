"""The LogicalDOC lints live once (tui.settings.validate.logicaldoc_lints): the form, `check`'s settings step and
export (and import) say the same warnings, in the same words, for the same settings.

Each settings file below also holds an error (Timeout 0, outmail's own option) so that `check` stops after its
settings step: nothing connects, and the Microsoft 365 cases point their token service at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tui.logicaldoc.exporting import plan_export
from tui.logicaldoc.importing import apply_import, plan_import
from tui.settings.store import load_settings
from tui.settings.validate import logicaldoc_lints, validate

LOCAL_AUTHORITY = "https://127.0.0.1:9"  # nothing listens: the token path fails at once, on this machine

M365 = """\
[tenants.{tenant}.smtp]
protocol = "smtpmicrosoft365"
host = "{host}"
port = {port}
connectionSecurity = {cs}
authEncrypted = false
username = "noreply@contoso.com"
password = "{password}"
clientId = "11111111-2222-3333-4444-555555555555"
clientTenant = "contoso.com"
clientSecret = "abc8Q~lint-test-secret-value"
sender = "{sender}"
userasfrom = {userasfrom}

[tenants.{tenant}.microsoft365]
authority_host = "{authority}"

[console]
timeout_seconds = 0
"""

SMTP = """\
[tenants.{tenant}.smtp]
protocol = "smtp"
host = "{host}"
port = {port}
{security}username = "{username}"
password = "{password}"
sender = "ldoc@example.net"
userasfrom = false

[console]
timeout_seconds = 0
"""

CASES = {
    # Microsoft 365: a port Exchange does not offer, Send As twice, both ignored fields, a sovereign cloud's server
    "m365-everything": M365.format(tenant="acme", host="smtp.office365.com", port=465, cs=3, password="ignored-pw",
                                   sender="alerts@contoso.com", userasfrom="true", authority=LOCAL_AUTHORITY),
    "m365-sovereign-server": M365.format(tenant="gov", host="smtp.office365.us", port=587, cs=1, password="",
                                         sender="noreply@contoso.com", userasfrom="false",
                                         authority=LOCAL_AUTHORITY),
    # basic authentication against Exchange, no STARTTLS, a Username without a Password, a key left out
    "smtp-exchange": SMTP.format(tenant="t", host="smtp.office365.com", port=587,
                                 security="connectionSecurity = 3\n", username="u@contoso.com", password=""),
    # 'Use secure authentication' with STARTTLS
    "smtp-implicit-tls": SMTP.format(tenant="t", host="mail.example.net", port=587,
                                     security="connectionSecurity = 1\nauthEncrypted = true\n", username="svc-ldoc",
                                     password="pw"),
    # no encryption at all with a password
    "smtp-in-clear": SMTP.format(tenant="t", host="mail.example.net", port=25,
                                 security="connectionSecurity = 0\nauthEncrypted = false\n", username="svc-ldoc",
                                 password="pw"),
}
EXPECTED_ATTRS = {
    "m365-everything": {"port", "userasfrom", "sender", "connection_security", "password"},
    "m365-sovereign-server": {"host"},
    "smtp-exchange": {"protocol", "connection_security", "auth_encrypted", "password"},
    "smtp-implicit-tls": {"auth_encrypted"},
    "smtp-in-clear": {"connection_security"},
}
PROPERTIES = b"# LogicalDOC\n"


def _settings_file(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(CASES[case])
    return path


def _check_warnings(path: Path) -> list[str]:
    """`check`'s settings step: its `warning: <label>: <message>` lines, as messages."""
    from tui.diagnostics.engine import diagnose

    settings = load_settings(path, env={})
    report = asyncio.run(diagnose(settings))
    step = next(s for s in report.steps if s.id == "settings")
    assert step.status == "fail"  # the Timeout error: nothing else ran
    labels = {p.message: p.label for p in validate(settings)}
    found = []
    for line in step.detail:
        if line.startswith("warning: "):
            label, _, message = line.removeprefix("warning: ").partition(": ")
            assert labels[message] == label
            found.append(message)
    return found


def _export_warnings(path: Path, props: Path, lints: list[str]) -> list[str]:
    """Export's warnings that are lints, in its order (its others are about the properties file: keys it leaves
    alone, a missing userasfrom), after checking that no other warning repeats a lint in other words."""
    plan = plan_export(path, props, env={})
    others = [w.message for w in plan.warnings if w.message not in lints]
    assert not [m for m in others if "Send As" in m or "ignored by LogicalDOC" in m or "December 2026" in m], others
    return [w.message for w in plan.warnings if w.message in lints and w.severity == "warning"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_and_export_say_the_lints_of_validate(tmp_path: Path, case: str) -> None:
    path = _settings_file(tmp_path, case)
    props = tmp_path / "context.properties"
    props.write_bytes(PROPERTIES)
    settings = load_settings(path, env={})
    lints = [p.message for p in logicaldoc_lints(settings)]
    assert {p.attr for p in logicaldoc_lints(settings)} == EXPECTED_ATTRS[case]
    assert [p.message for p in validate(settings) if p.severity == "warning"] == lints  # the form's list
    assert _check_warnings(path) == lints
    assert _export_warnings(path, props, lints) == lints
    assert "ignored-pw" not in "\n".join(lints)


def test_import_says_what_check_will_say_about_the_imported_values(tmp_path: Path) -> None:
    """Import lints the settings as they load from the new file: the same words as check then."""
    props = tmp_path / "context.properties"
    props.write_bytes(b"t.smtp.protocol=smtp\nt.smtp.host=smtp.office365.com\nt.smtp.port=587\n"
                      b"t.smtp.connectionSecurity=3\nt.smtp.authEncrypted=false\nt.smtp.username=u@contoso.com\n"
                      b"t.smtp.password=\nt.smtp.sender=ldoc@contoso.com\nt.smtp.userasfrom=false\n")
    config = tmp_path / "settings.toml"
    plan = plan_import(props, config)
    said = [w.message for w in plan.warnings if w.severity == "warning"]
    apply_import(plan)
    settings = load_settings(config, env={})
    assert said == [p.message for p in logicaldoc_lints(settings)]
    assert {p.attr for p in logicaldoc_lints(settings)} == {"protocol", "connection_security", "password"}


@pytest.mark.parametrize("case", ["m365-everything", "smtp-exchange"])
async def test_the_form_shows_the_same_lints_beside_their_fields(tmp_path: Path, case: str) -> None:
    from textual.widgets import Static

    from tui.console.launch import build_app
    from tui.console.shorten import cut_words

    path = _settings_file(tmp_path, case)
    props = tmp_path / "context.properties"
    props.write_bytes(PROPERTIES)
    lints = [p.message for p in logicaldoc_lints(load_settings(path, env={}))]
    expected = _export_warnings(path, props, lints)
    assert expected == lints
    app = build_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.form_ready.wait()
        await pilot.pause()
        shown: list[str] = []
        for widget in app.query(".field-problems").results(Static):
            if widget.display:
                shown += [line for line in str(widget.render()).splitlines() if line.startswith("▲ warning: ")]
    # each lint once, under its own field (or under Protocol, with its label, for a field the protocol hides)
    assert len(shown) == len(expected)
    for message in expected:
        assert sum(line.endswith(cut_words(message)) for line in shown) == 1, (message, shown)

"""Import and export between outmail's settings file and a real-shaped context.properties."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
import tomlkit

from tests.logicaldoc.conftest import FIXTURE, FIXTURE_CRLF, FULL_T, changed_region, edit_smtp
from tui.logicaldoc.exporting import apply_export, plan_export
from tui.logicaldoc.importing import apply_import, plan_import
from tui.logicaldoc.plans import BridgeError
from tui.logicaldoc.view import LogicalDocView, discover_tenants
from tui.logicaldoc.properties import PropertiesError, PropertiesFile
from tui.settings import store
from tui.settings.example import render_example

SECRET = "Abc8Q~x=y:z!#secret"
NO_ENV: dict[str, str] = {}


def _imported(tmp_path: Path, source: Path = FIXTURE) -> tuple[Path, Path]:
    """(properties copy, settings file imported from it)."""
    props = tmp_path / "conf" / source.name
    props.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, props)
    config = tmp_path / "settings.toml"
    apply_import(plan_import(props, config))
    return props, config


def _edit_m365(config: Path, tenant: str, **values: object) -> None:
    doc = tomlkit.parse(config.read_text())
    tenant_table = doc["tenants"][tenant]
    if "microsoft365" not in tenant_table:
        tenant_table["microsoft365"] = tomlkit.table()
    for key, value in values.items():
        tenant_table["microsoft365"][key] = value
    config.write_text(tomlkit.dumps(doc))


# ------------------------------------------------------------------------------------------------------ import

def test_discovers_tenants() -> None:
    assert discover_tenants(PropertiesFile.read(FIXTURE).keys()) == ["default", "acme", "contoso"]


def test_import_into_a_new_settings_file(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # it holds acme's client secret
    data = store.parse(config.read_text())
    assert store.tenant_names(data) == ("default", "acme", "contoso")
    acme = store.settings_from_data(data, "acme", env=NO_ENV)
    assert (acme.protocol, acme.host, acme.port, acme.connection_security) == ("smtpmicrosoft365",
                                                                                "smtp.office365.com", 587, 1)
    assert acme.client_tenant == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"  # a continued value
    assert acme.client_secret.reveal() == SECRET  # escaped = : ! #
    default = store.settings_from_data(data, "default", env=NO_ENV)
    assert (default.protocol, default.host, default.port, default.userasfrom) == ("smtp", "localhost", 25, True)
    contoso = store.settings_from_data(data, "contoso", env=NO_ENV)
    assert (contoso.host, contoso.port) == ("relay.contoso.example", 25)  # un-prefixed fallbacks
    assert (contoso.auth_encrypted, contoso.connection_security) == (False, 0)  # missing: as Java reads them
    assert "# tenant acme: LogicalDOC keys acme.smtp.*" in config.read_text()  # new tenants get a commented table


def test_new_tenants_go_above_the_comment_that_introduces_console(tmp_path: Path) -> None:
    """A comment after the last tenant's keys belongs to the next table ([console]); new tenants go above it."""
    props, config = _imported(tmp_path)
    text = config.read_text()
    console = text.index("[console]")
    assert text[:console].endswith("# outmail's own options.\n")  # still right above [console]
    assert text.index("[tenants.contoso.smtp]") < text.index("# outmail's own options.")
    assert "\n\n[tenants.acme.smtp]" in text and "\n\n\n" not in text  # one blank line before a new tenant

    hand = tmp_path / "hand.toml"
    hand.write_text('[tenants.default.smtp]\nhost = "x" # c\n\n# about the console\n[console]\ntimeout_seconds = 20\n')
    plan = plan_import(props, hand, tenants=["acme"])
    apply_import(plan)
    text = hand.read_text()
    assert text.startswith('[tenants.default.smtp]\nhost = "x" # c\n\n[tenants.acme.smtp]')
    assert text.endswith('debug = "true"\n\n# about the console\n[console]\ntimeout_seconds = 20\n')


def test_import_keeps_comments_and_changes_only_values(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    text = config.read_text().replace("[tenants.acme.smtp]", "# hand-written note\n[tenants.acme.smtp]")
    text = text.replace('host = "smtp.office365.com"', 'host = "smtp.office365.com"  # keep me')
    config.write_text(text)
    assert not plan_import(props, config).changed  # same values: nothing to write
    p = PropertiesFile.read(props)
    p.set("acme.smtp.port", "25")
    props.write_bytes(p.render())
    plan = plan_import(props, config, ["acme"])
    assert [(c.key, c.old, c.new) for c in plan.changes] == [("tenants.acme.smtp.port", "587", "25")]
    apply_import(plan)
    new = config.read_text()
    assert "# hand-written note" in new and "# keep me" in new
    import difflib

    changed = [line for line in difflib.ndiff(text.splitlines(), new.splitlines()) if line[:1] in "+-"]
    assert changed == ["- port = 587", "+ port = 25"]


def test_import_diff_and_warnings_never_show_secrets(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    p = PropertiesFile.read(props)
    p.set("acme.smtp.clientSecret", "second#secret")
    p.set("default.smtp.password", "pw=1")
    props.write_bytes(p.render())
    plan = plan_import(props, config)
    shown = plan.diff + "\n".join(map(str, plan.warnings)) + "\n".join(map(str, plan.changes))
    for secret in (SECRET, "second#secret", "pw=1", "#secret", "pw="):
        assert secret not in shown
    assert 'clientSecret = "*** (changed)"' in plan.diff
    assert "second#secret" in plan.new_text  # the file itself gets it


def test_import_reports_values_it_cannot_use(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(b"t.smtp.protocol=smtpgoogle\nt.smtp.port=abc\nt.smtp.host=_b64_c210cC5leGFtcGxlLm9yZw==\n"
                      b"t.smtp.sender=a@b.example \nt.smtp.userasfrom=false\n")
    plan = plan_import(props, tmp_path / "s.toml")
    text = "\n".join(map(str, plan.warnings))
    assert "smtpgoogle" in text and "not a whole number" in text and "trailing blanks" in text
    data = store.parse(plan.new_text)
    assert data["tenants"]["t"]["smtp"]["host"] == "smtp.example.org"  # _b64_ decoded like getString
    assert "protocol" not in data["tenants"]["t"]["smtp"]


def test_import_unknown_tenant(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(b"a.smtp.host=x\n")
    with pytest.raises(BridgeError, match="nobody.smtp"):
        plan_import(props, tmp_path / "s.toml", ["nobody"])


def test_import_reads_the_override_file(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    shutil.copyfile(FIXTURE, props)
    (tmp_path / "context-override.properties").write_bytes(b"acme.smtp.host=override.example\n")
    plan = plan_import(props, tmp_path / "s.toml", ["acme"])
    assert store.parse(plan.new_text)["tenants"]["acme"]["smtp"]["host"] == "override.example"
    assert any("context-override.properties" in str(w) for w in plan.warnings)


# ------------------------------------------------------------------------------------------------------ export

@pytest.mark.parametrize("source", [FIXTURE, FIXTURE_CRLF], ids=["lf", "crlf"])
def test_import_then_export_is_byte_identical(tmp_path: Path, source: Path) -> None:
    props, config = _imported(tmp_path, source)
    tenants = store.parse(config.read_text())["tenants"]  # the keys outside the field table made the trip too
    assert tenants["default"]["smtp"]["save"] == tenants["acme"]["smtp"]["save"] == {"folderId": "", "foldering": "3"}
    assert tenants["acme"]["smtp"]["debug"] == "true" and tenants["contoso"]["smtp"]["save"] == {"foldering": "1"}
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed and plan.diff == "" and plan.changes == ()
    assert plan.new_bytes == source.read_bytes()
    assert apply_export(plan) is None
    assert props.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("source", [FIXTURE, FIXTURE_CRLF], ids=["lf", "crlf"])
def test_a_change_touches_only_its_value(tmp_path: Path, source: Path) -> None:
    props, config = _imported(tmp_path, source)
    edit_smtp(config, "acme", username="mailer@acme.example", sender="mailer@acme.example")
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.changed_keys == ("acme.smtp.username", "acme.smtp.sender")
    old, new = source.read_bytes(), plan.new_bytes
    eol = b"\r\n" if source is FIXTURE_CRLF else b"\n"
    assert new == old.replace(b"acme.smtp.username=noreply@acme.example" + eol,
                              b"acme.smtp.username=mailer@acme.example" + eol).replace(
        b"acme.smtp.sender=noreply@acme.example" + eol, b"acme.smtp.sender=mailer@acme.example" + eol)
    assert "-acme.smtp.username=noreply@acme.example" in plan.diff
    assert "+acme.smtp.username=mailer@acme.example" in plan.diff


def test_escapes_and_separators_of_a_changed_line_stay(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    edit_smtp(config, "acme", port=2525, clientTenant="contoso.onmicrosoft.com")
    plan = plan_export(config, props, env=NO_ENV)
    old = FIXTURE.read_bytes()
    assert b"acme.smtp.port:2525\n" in plan.new_bytes  # the ':' separator is kept
    assert b"acme.smtp.clientTenant=contoso.onmicrosoft.com\n" in plan.new_bytes  # its continuation collapses
    assert len(plan.new_bytes.splitlines()) == len(old.splitlines()) - 1


def test_secret_export_is_written_but_redacted(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    edit_smtp(config, "acme", clientSecret="N3w:secret=value")
    plan = plan_export(config, props, env=NO_ENV)
    assert b"acme.smtp.clientSecret=N3w\\:secret\\=value\n" in plan.new_bytes
    shown = plan.diff + "".join(map(str, plan.warnings)) + "".join(map(str, plan.changes))
    assert "N3w" not in shown and "Abc8Q" not in shown
    assert "-acme.smtp.clientSecret=***" in plan.diff and "+acme.smtp.clientSecret=*** (changed)" in plan.diff
    assert PropertiesFile(plan.new_bytes).get("acme.smtp.clientSecret") == "N3w:secret=value"


def test_empty_secret_in_outmail_keeps_logicaldocs(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    edit_smtp(config, "acme", clientSecret="")
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed
    assert any("kept LogicalDOC's existing acme.smtp.clientSecret" in str(w) for w in plan.warnings)


def test_secret_from_environment_is_exported_with_a_note(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    edit_smtp(config, "acme", clientSecret="")
    plan = plan_export(config, props, env={"OUTMAIL_ACME_CLIENT_SECRET": "from-env"})
    assert PropertiesFile(plan.new_bytes).get("acme.smtp.clientSecret") == "from-env"
    assert any("OUTMAIL_ACME_CLIENT_SECRET" in str(w) for w in plan.warnings)
    assert "from-env" not in plan.diff


def test_missing_keys_go_after_the_tenants_block(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    edit_smtp(config, "contoso", host="smtp.contoso.example", username="u@contoso.example")
    plan = plan_export(config, props, env=NO_ENV)
    lines = plan.new_bytes.decode("latin-1").splitlines()
    i = lines.index("contoso.smtp.userasfrom=false")
    assert lines[i + 1:i + 3] == ["contoso.smtp.host=smtp.contoso.example", "contoso.smtp.username=u@contoso.example"]
    assert "smtp.host=relay.contoso.example" in lines  # the shared fallback is never edited
    assert {c.action for c in plan.changes} == {"add"}


def test_new_tenant_is_appended_with_a_header(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    doc = tomlkit.parse(config.read_text())
    store.set_values(doc, "globex", {"protocol": "smtpmicrosoft365", "username": "a@globex.example",
                                     "sender": "a@globex.example", "client_id": "id", "client_tenant": "t"})
    config.write_text(tomlkit.dumps(doc))
    plan = plan_export(config, props, ["globex"], env=NO_ENV)
    old = FIXTURE.read_bytes()
    assert plan.new_bytes.startswith(old)
    tail = plan.new_bytes[len(old):].decode()
    assert tail == ("\n\n# Outgoing Email of tenant globex (written by outmail)\nglobex.smtp.protocol=smtpmicrosoft365\n"
                    "globex.smtp.username=a@globex.example\nglobex.smtp.clientId=id\nglobex.smtp.clientTenant=t\n"
                    "globex.smtp.sender=a@globex.example\n")  # only what the settings file sets
    shown = "\n".join(map(str, plan.warnings))
    assert ("not written, since [tenants.globex.smtp] does not set them: globex.smtp.host (LogicalDOC: "
            "relay.contoso.example, from smtp.host; outmail proves smtp.office365.com); globex.smtp.port (LogicalDOC: "
            "25, from smtp.port; outmail proves 587). Set them in the settings file to write them") in shown
    doc = tomlkit.parse(config.read_text())
    store.set_values(doc, "globex", {"host": "smtp.office365.com", "port": 587, "userasfrom": False})
    config.write_text(tomlkit.dumps(doc))
    tail = plan_export(config, props, ["globex"], env=NO_ENV).new_bytes[len(old):].decode()
    assert "globex.smtp.host=smtp.office365.com\nglobex.smtp.port=587\n" in tail
    assert "globex.smtp.userasfrom=false\n" in tail  # set in the file: written (LogicalDOC's screen would show true)


def test_missing_userasfrom_is_not_invented(tmp_path: Path) -> None:
    """LogicalDOC's sender reads a missing userasfrom as false, its screen as true: import records nothing, export
    writes nothing, until the admin sets it in outmail."""
    props = tmp_path / "context.properties"
    source = b"t.smtp.protocol=smtp\nt.smtp.host=h\nt.smtp.port=25\n"
    props.write_bytes(source)
    config = tmp_path / "s.toml"
    plan = plan_import(props, config)
    assert any("userasfrom is missing: LogicalDOC's sender treats it as false" in str(w) for w in plan.warnings)
    apply_import(plan)
    smtp = store.parse(config.read_text())["tenants"]["t"]["smtp"]
    assert store.tenant_names(store.parse(config.read_text())) == ("t",)  # not the example's sample tenant
    assert "userasfrom" not in smtp and store.load_settings(config, env=NO_ENV).userasfrom is False
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == source and not plan.changed
    edit_smtp(config, "t", userasfrom=False)  # set in outmail: written, so LogicalDOC's screen cannot flip it
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == source + b"t.smtp.userasfrom=false\n"
    assert any("userasfrom is missing" in str(w) and "export writes it" in str(w) for w in plan.warnings)


def test_logicaldoc_warnings(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    p = PropertiesFile.read(props)
    p.set("smtp.nosend", "true")
    props.write_bytes(p.render())
    edit_smtp(config, "acme", userasfrom=True, connectionSecurity=0, password="ignored-pw", host="smtp.office365.us")
    _edit_m365(config, "acme", authority_host="https://login.microsoftonline.us",
               scope="https://outlook.office365.us/.default")
    plan = plan_export(config, props, ["acme"], env=NO_ENV)
    text = "\n".join(map(str, plan.warnings))
    assert "smtp.nosend=true" in text
    # each ignored value is named once, in the words of the form and of `check` (tui.settings.validate)
    assert "Password is ignored by LogicalDOC with SMTP Microsoft 365" in text
    assert "Connection Security is None: LogicalDOC ignores it with SMTP Microsoft 365" in text
    assert "ignored-pw" not in text and "ignored-pw" not in plan.diff
    assert "always uses the global cloud" in text and "login.microsoftonline.us" in text
    assert "Send As for every such user (setup step S7)" in text
    assert all(w.tenant in (None, "acme") for w in plan.warnings)


def test_override_file_warns_on_export(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    (props.parent / "context-override.properties").write_bytes(b"acme.smtp.username=x@acme.example\n")
    edit_smtp(config, "acme", username="mailer@acme.example")
    plan = plan_export(config, props, ["acme"], env=NO_ENV)
    assert any("context-override.properties sets acme.smtp.username" in str(w) for w in plan.warnings)


def test_unknown_tenant_in_settings(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    with pytest.raises(BridgeError, match="no tenant nobody"):
        plan_export(config, props, ["nobody"], env=NO_ENV)


def test_apply_export_backup_mode_and_owner(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    os.chmod(props, 0o640)
    before = props.stat()
    edit_smtp(config, "acme", username="mailer@acme.example")
    plan = plan_export(config, props, env=NO_ENV)
    backup = apply_export(plan)
    assert backup is not None and backup.parent == props.parent
    assert backup.name.startswith("context.properties.bak-") and backup.read_bytes() == FIXTURE.read_bytes()
    after = props.stat()
    assert props.read_bytes() == plan.new_bytes
    assert stat.S_IMODE(after.st_mode) == 0o640 and (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o640
    assert sorted(p.name for p in props.parent.iterdir()) == sorted(["context.properties", backup.name])


def test_apply_export_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    edit_smtp(config, "acme", username="mailer@acme.example")
    plan = plan_export(config, props, env=NO_ENV)
    props.write_bytes(props.read_bytes() + b"added.by.logicaldoc=1\n")
    changed = props.read_bytes()
    with pytest.raises(BridgeError, match="changed on disk"):
        apply_export(plan)
    assert props.read_bytes() == changed


def test_export_follows_a_symlink(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    link = tmp_path / "link.properties"
    link.symlink_to(props)
    edit_smtp(config, "acme", username="mailer@acme.example")
    apply_export(plan_export(config, link, env=NO_ENV))
    assert link.is_symlink() and b"mailer@acme.example" in props.read_bytes()


@pytest.mark.parametrize("direction", ["import", "export"])
def test_malformed_file_is_reported_and_untouched(tmp_path: Path, direction: str) -> None:
    props, config = _imported(tmp_path)
    bad = FIXTURE.read_bytes().replace(b"default.company=Soci\\u00e9t\\u00e9", b"default.company=Soci\\u00gt\\u00e9")
    props.write_bytes(bad)
    line = bad[:bad.index(b"\\u00gt")].count(b"\n") + 1
    os.utime(props, (1_700_000_000, 1_700_000_000))
    config_before = config.read_bytes()
    with pytest.raises(PropertiesError) as info:
        if direction == "import":
            plan_import(props, config)
        else:
            plan_export(config, props, env=NO_ENV)
    assert info.value.line == line and f"line {line}" in str(info.value) and "\\uXXXX" in str(info.value)
    assert props.read_bytes() == bad and props.stat().st_mtime == 1_700_000_000
    assert config.read_bytes() == config_before


def test_view_resolution_matches_getTenantProperty() -> None:
    view = LogicalDocView(PropertiesFile(b"a.smtp.host=\nsmtp.host=fallback\nsmtp.port=25\n"))
    from tui.settings.fields import FIELDS_BY_ATTR

    assert view.tenant_property("a", FIELDS_BY_ATTR["host"]) == ("", "a.smtp.host")  # empty but present: used
    assert view.tenant_property("a", FIELDS_BY_ATTR["port"]) == ("25", "smtp.port")
    assert view.tenant_property("a", FIELDS_BY_ATTR["sender"]) == (None, None)


def test_console_api_exports_in_memory_settings(tmp_path: Path) -> None:
    """The console plans from the Settings it has on screen, previews, then applies."""
    from tui.logicaldoc.exporting import plan_export_for
    from tui.secret import Secret

    props, config = _imported(tmp_path)
    on_screen = store.load_settings(config, "acme", env=NO_ENV).with_changes(
        username="mailer@acme.example", client_secret=Secret("typed-in-the-form"))
    plan = plan_export_for(on_screen, props)
    assert plan.tenants == ("acme",)
    assert plan.changed_keys == ("acme.smtp.username", "acme.smtp.clientSecret")
    assert "typed-in-the-form" not in plan.preview_text and "acme.smtp.clientSecret=***" in plan.preview_text
    assert "Z\u00fcrich" in plan.preview_text  # raw UTF-8 shown as the admin's editor shows it
    assert "typed-in-the-form" in plan.new_text  # what gets written
    assert apply_export(plan) is not None
    assert PropertiesFile.read(props).get("acme.smtp.clientSecret") == "typed-in-the-form"


def test_import_preview_redacts(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    shutil.copyfile(FIXTURE, props)
    plan = plan_import(props, tmp_path / "s.toml")
    assert SECRET not in plan.preview_text and 'clientSecret = "***"' in plan.preview_text
    assert SECRET in plan.new_text


def test_diff_context_redacts_other_credentials_and_odd_line_breaks(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(b"jdbc.password=dbpw\n" b"t.smtp.host=h\n" b"form\x0cfeed=a\x85b\n" b"t.smtp.userasfrom=false\n"
                      b"t.smtp.protocol=smtp\nt.smtp.port=25\nt.smtp.password=old\\\n  pw\nz=1\n")
    config = tmp_path / "s.toml"
    apply_import(plan_import(props, config))
    edit_smtp(config, "t", host="h2", password="new-pw")
    plan = plan_export(config, props, env=NO_ENV)
    assert "dbpw" not in plan.diff and "jdbc.password=***" in plan.diff
    assert "new-pw" not in plan.diff and "oldpw" not in plan.diff and "old" not in plan.diff
    assert "+t.smtp.password=*** (changed)" in plan.diff
    assert "+t.smtp.host=h2" in plan.diff
    assert PropertiesFile(plan.new_bytes).get("t.smtp.password") == "new-pw"


def test_broken_settings_file_is_reported_and_untouched(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    shutil.copyfile(FIXTURE, props)
    config = tmp_path / "s.toml"
    config.write_text('[tenants.default.smtp]\nhost = "unterminated\n')
    for plan in (lambda: plan_import(props, config), lambda: plan_export(config, props, env=NO_ENV)):
        with pytest.raises(store.SettingsFileError) as info:
            plan()
        assert info.value.line == 2
    assert config.read_text() == '[tenants.default.smtp]\nhost = "unterminated\n'
    assert props.read_bytes() == FIXTURE.read_bytes()


# --------------------------------------------------------------------------------- keys outside the field table

T_TOML = ('[tenants.t.smtp]\nprotocol = "smtp"\nhost = "h"\nport = 25\nconnectionSecurity = 0\nauthEncrypted = false\n'
          'username = ""\npassword = ""\nclientId = ""\nclientTenant = ""\nclientSecret = ""\n'
          'sender = "s@t.example"\nuserasfrom = false\n')

def _set_line(text: str, table: str, line: str) -> str:
    """`text` with `line` added as the first key of `[table]` (a hand edit)."""
    header = f"[{table}]"
    start = text.index(header)
    eol = text.index("\n", start) + 1
    return text[:eol] + line + "\n" + text[eol:]


def test_import_reads_save_keys_and_unknown_keys(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    text = config.read_text()
    data = store.parse(text)
    tenants = data["tenants"]
    assert tenants["default"]["smtp"]["save"] == {"folderId": "", "foldering": "3"}
    assert tenants["acme"]["smtp"]["save"] == {"folderId": "", "foldering": "3"}
    assert tenants["acme"]["smtp"]["debug"] == "true"  # a property is a string, whatever it looks like
    assert tenants["contoso"]["smtp"]["save"] == {"foldering": "1"}  # the un-prefixed smtp.save.foldering
    assert all("nosend" not in t["smtp"] for t in tenants.values())  # global: never a tenant key
    acme = text[text.index("[tenants.acme.smtp]"):text.index("[tenants.contoso.smtp]")]
    assert 'userasfrom = false\nsave.folderId = ""\nsave.foldering = "3"\ndebug = "true"\n' in acme  # dotted form
    plan = plan_import(props, tmp_path / "other.toml")
    assert ("tenants.acme.smtp.save.foldering", None, "3") in [(c.key, c.old, c.new) for c in plan.changes]
    assert any("smtp.save.foldering used for lack of contoso.smtp.*" in str(w) for w in plan.warnings)


@pytest.mark.parametrize("source", [FIXTURE, FIXTURE_CRLF], ids=["lf", "crlf"])
def test_changed_foldering_changes_exactly_that_line(tmp_path: Path, source: Path) -> None:
    props, config = _imported(tmp_path, source)
    doc = tomlkit.parse(config.read_text())
    doc["tenants"]["acme"]["smtp"]["save"]["foldering"] = "1"
    config.write_text(tomlkit.dumps(doc))
    plan = plan_export(config, props, env=NO_ENV)
    eol = b"\r\n" if source is FIXTURE_CRLF else b"\n"
    old = source.read_bytes()
    assert plan.changed_keys == ("acme.smtp.save.foldering",)
    assert plan.new_bytes == old.replace(b"acme.smtp.save.foldering=3" + eol, b"acme.smtp.save.foldering=1" + eol)
    assert "-acme.smtp.save.foldering=3" in plan.diff and "+acme.smtp.save.foldering=1" in plan.diff


def test_hand_written_int_exports_digits_and_keeps_its_type_on_import(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    text = config.read_text().replace('save.foldering = "3"\ndebug', "save.foldering = 2  # Month\ndebug")
    config.write_text(text)
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.changed_keys == ("acme.smtp.save.foldering",)
    assert plan.new_bytes == FIXTURE.read_bytes().replace(b"acme.smtp.save.foldering=3\n",
                                                          b"acme.smtp.save.foldering=2\n")
    apply_export(plan)
    assert not plan_import(props, config).changed  # "2" is what the int says: nothing to write
    p = PropertiesFile.read(props)
    p.set("acme.smtp.save.foldering", "1")
    props.write_bytes(p.render())
    apply_import(plan_import(props, config))
    assert "save.foldering = 1  # Month\n" in config.read_text()  # still an int, comment kept
    p.set("acme.smtp.save.foldering", "01")  # an int would export "1": kept as text instead
    props.write_bytes(p.render())
    apply_import(plan_import(props, config))
    assert store.parse(config.read_text())["tenants"]["acme"]["smtp"]["save"]["foldering"] == "01"
    assert not plan_export(config, props, env=NO_ENV).changed


def test_bool_in_the_settings_file_exports_true_false(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    config.write_text(config.read_text().replace('debug = "true"', "debug = false"))
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == FIXTURE.read_bytes().replace(b"acme.smtp.debug=true\n", b"acme.smtp.debug=false\n")
    apply_export(plan)
    p = PropertiesFile.read(props)
    p.set("acme.smtp.debug", "true")
    props.write_bytes(p.render())
    apply_import(plan_import(props, config))
    assert "debug = true\n" in config.read_text()
    p.set("acme.smtp.debug", "yes")  # not what true exports: becomes text
    props.write_bytes(p.render())
    apply_import(plan_import(props, config))
    assert 'debug = "yes"\n' in config.read_text()


def test_quoted_and_nested_forms_are_read_and_updated_in_place(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(FULL_T + b"t.smtp.save.folderId=4\nt.smtp.save.foldering=3\nt.smtp.retries=2\n")
    config = tmp_path / "s.toml"
    original = (T_TOML + '"save.folderId" = "4"  # quoted\nretries = {count = "9"}\n\n'
                '[tenants.t.smtp.save]\nfoldering = "3"\n')
    config.write_text(original)
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.changed_keys == ("t.smtp.retries.count",)  # an inline table nests too
    assert plan.new_bytes == props.read_bytes() + b"t.smtp.retries.count=9\n"
    p = PropertiesFile.read(props)
    p.set("t.smtp.save.folderId", "5")
    p.set("t.smtp.save.foldering", "2")
    props.write_bytes(p.render())
    plan = plan_import(props, config)
    assert plan.new_text == original.replace('"save.folderId" = "4"', '"save.folderId" = "5"').replace(
        'foldering = "3"', 'foldering = "2"')  # both updated where they are, nothing added
    assert [c.key for c in plan.changes] == ['tenants.t.smtp."save.folderId"', "tenants.t.smtp.save.foldering"]
    # `retries` is a table here ({count = ...}): LogicalDOC's t.smtp.retries cannot sit next to it, and says so
    assert any("t.smtp.retries is not imported" in str(w) and "a value and a table" in str(w)
               for w in plan.warnings)


def test_a_name_written_twice(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(FULL_T + b"t.smtp.save.folderId=4\n")
    config = tmp_path / "s.toml"
    config.write_text(T_TOML + 'save.folderId = "4"\n"save.folderId" = "7"\n')
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed
    assert any('writes save.folderId 2 times (save.folderId, "save.folderId") with different values: not exported'
               in str(w) for w in plan.warnings)
    plan = plan_import(props, config)  # import makes them agree again
    assert store.parse(plan.new_text)["tenants"]["t"]["smtp"]["save.folderId"] == "4"
    assert plan.new_text == config.read_text().replace('"save.folderId" = "7"', '"save.folderId" = "4"')
    assert any("writes save.folderId 2 times" in str(w) for w in plan.warnings)
    apply_import(plan)
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed and not any("2 times" in str(w) for w in plan.warnings)
    config.write_text(config.read_text().replace('"save.folderId" = "4"', '"save.folderId" = "8"'))
    assert plan_export(config, props, env=NO_ENV).new_bytes == props.read_bytes()  # differ again: not exported


def test_new_names_that_cannot_be_dotted_are_quoted_and_round_trip(tmp_path: Path) -> None:
    source = FULL_T + (b"t.smtp.save.folderId=4\nt.smtp.save=x\nt.smtp.host.alias=y\nt.smtp.x\\ y.z=1\n"
                       b"t.smtp.a..b=2\nt.smtp.=empty\nt.smtp.note=caf\\u00e9 \\u65e5\n")
    props = tmp_path / "context.properties"
    props.write_bytes(source)
    config = tmp_path / "s.toml"
    apply_import(plan_import(props, config))
    text = config.read_text()
    block = text[text.index('userasfrom = false\n'):]
    assert block.startswith('userasfrom = false\n"save.folderId" = "4"\nsave = "x"\n"host.alias" = "y"\n'
                            '"x y".z = "1"\n"a..b" = "2"\n"" = "empty"\nnote = "caf\u00e9 \u65e5"\n')
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed and plan.new_bytes == source
    doc = tomlkit.parse(text)
    doc["tenants"]["t"]["smtp"]["x y"]["z"] = "2"
    config.write_text(tomlkit.dumps(doc))
    assert plan_export(config, props, env=NO_ENV).new_bytes == source.replace(b"z=1", b"z=2")


def test_values_that_cannot_be_exported_are_named(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    text = _set_line(config.read_text(), "tenants.acme.smtp", "ratio = 1.5\nhosts = [\"a\", \"b\"]\nnosend = true")
    config.write_text(text)
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed
    shown = "\n".join(map(str, plan.warnings))
    assert "[tenants.acme.smtp] ratio is a float: not exported" in shown
    assert "[tenants.acme.smtp] hosts is an array: not exported" in shown
    assert "[tenants.acme.smtp] nosend is not exported: smtp.nosend is LogicalDOC's kill switch" in shown


def test_nosend_of_a_tenant_is_not_imported(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(FULL_T + b"t.smtp.nosend=false\nsmtp.nosend=false\nt.smtp.bad=\\uD800\n")
    plan = plan_import(props, tmp_path / "s.toml")
    smtp = store.parse(plan.new_text)["tenants"]["t"]["smtp"]
    assert "nosend" not in smtp and "bad" not in smtp
    shown = "\n".join(map(str, plan.warnings))
    assert "t.smtp.nosend is not imported" in shown
    assert "t.smtp.bad is not imported: its value holds a lone UTF-16 surrogate" in shown


def test_missing_extra_keys_go_after_the_tenants_block_and_fallbacks_stay(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    doc = tomlkit.parse(config.read_text())
    doc["tenants"]["acme"]["smtp"]["retries"] = 3
    doc["tenants"]["contoso"]["smtp"]["save"]["foldering"] = "2"
    config.write_text(tomlkit.dumps(doc))
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.changed_keys == ("acme.smtp.retries", "contoso.smtp.save.foldering")
    assert {c.action for c in plan.changes} == {"add"}
    lines = plan.new_bytes.decode("latin-1").splitlines()
    assert lines[lines.index("acme.smtp.debug=true") + 1] == "acme.smtp.retries=3"
    assert lines[lines.index("contoso.smtp.userasfrom=false") + 1] == "contoso.smtp.save.foldering=2"
    assert "smtp.save.foldering=1" in lines  # the shared fallback is never edited
    assert len(lines) == len(FIXTURE.read_bytes().splitlines()) + 2


def test_fallback_extra_equal_value_is_not_added(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    plan = plan_export(config, props, ["contoso"], env=NO_ENV)
    assert not plan.changed
    assert any("contoso.smtp.save.foldering (= smtp.save.foldering)" in str(w) for w in plan.warnings)


def test_other_sections_are_never_exported(tmp_path: Path) -> None:
    props, config = _imported(tmp_path)
    _edit_m365(config, "acme", authority_host="https://login.microsoftonline.com", scope="https://x/.default")
    doc = tomlkit.parse(config.read_text())
    doc["console"]["timeout_seconds"] = 5
    doc["tenants"]["acme"]["smtp"]["retries"] = "4"
    config.write_text(tomlkit.dumps(doc))
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.changed_keys == ("acme.smtp.retries",)
    assert plan.new_bytes == FIXTURE.read_bytes().replace(b"acme.smtp.debug=true\n",
                                                          b"acme.smtp.debug=true\nacme.smtp.retries=4\n")


def test_credential_looking_extra_keys_are_redacted(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(FULL_T + b"t.smtp.oauth.refreshToken=tok-123\n")
    config = tmp_path / "s.toml"
    plan = plan_import(props, config)
    shown = plan.diff + plan.preview_text + "".join(map(str, plan.warnings)) + "".join(map(str, plan.changes))
    assert "tok-123" not in shown and 'oauth.refreshToken = "***"' in plan.diff
    apply_import(plan)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # it holds a credential
    assert store.parse(config.read_text())["tenants"]["t"]["smtp"]["oauth"]["refreshToken"] == "tok-123"
    doc = tomlkit.parse(config.read_text())
    doc["tenants"]["t"]["smtp"]["oauth"]["refreshToken"] = "tok-456"
    config.write_text(tomlkit.dumps(doc))
    plan = plan_export(config, props, env=NO_ENV)
    shown = plan.diff + plan.preview_text + "".join(map(str, plan.warnings)) + "".join(map(str, plan.changes))
    assert "tok-" not in shown and "+t.smtp.oauth.refreshToken=*** (changed)" in plan.diff
    assert PropertiesFile(plan.new_bytes).get("t.smtp.oauth.refreshToken") == "tok-456"
    apply_export(plan)
    assert not plan_import(props, config).changed
    doc["tenants"]["t"]["smtp"]["oauth"]["refreshToken"] = ""
    config.write_text(tomlkit.dumps(doc))
    plan = plan_export(config, props, env=NO_ENV)
    assert not plan.changed
    assert any("kept LogicalDOC's existing t.smtp.oauth.refreshToken" in str(w) for w in plan.warnings)


def test_import_puts_new_keys_above_the_next_tables_comments(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(b"t.smtp.protocol=smtp\nt.smtp.userasfrom=false\nt.smtp.host=h\nt.smtp.save.folderId=4\n")
    config = tmp_path / "s.toml"
    config.write_text('[tenants.t.smtp]\nprotocol = "smtp"  # plain\nuserasfrom = false\n\n'
                      "# Tokens (not LogicalDOC)\n[tenants.t.microsoft365]\nscope = \"s\"\n")
    apply_import(plan_import(props, config))
    assert config.read_text() == ('[tenants.t.smtp]\nprotocol = "smtp"  # plain\nuserasfrom = false\nhost = "h"\n'
                                  'connectionSecurity = 0\nauthEncrypted = false\nsave.folderId = "4"\n\n'
                                  '# Tokens (not LogicalDOC)\n[tenants.t.microsoft365]\nscope = "s"\n')


def test_console_export_takes_extra_keys_from_the_settings_file(tmp_path: Path) -> None:
    from tui.logicaldoc.exporting import plan_export_for

    props, config = _imported(tmp_path)
    config.write_text(config.read_text().replace('save.foldering = "3"\ndebug', 'save.foldering = 2\ndebug'))
    on_screen = store.load_settings(config, "acme", env=NO_ENV).with_changes(username="mailer@acme.example")
    plan = plan_export_for(on_screen, props)
    assert plan.changed_keys == ("acme.smtp.username", "acme.smtp.save.foldering")
    config.write_text("[tenants.acme.smtp\n")  # broken on disk since the form loaded it
    plan = plan_export_for(on_screen, props)
    assert plan.changed_keys == ("acme.smtp.username",)
    assert any("not valid TOML" in str(w) and "not exported" in str(w) for w in plan.warnings)


# ------------------------------------------------------------------------- values LogicalDOC has no value for

def test_missing_protocol_is_imported_as_logicaldocs_smtp(tmp_path: Path) -> None:
    """LogicalDOC's default protocol is smtp: a tenant without <t>.smtp.protocol is no Microsoft 365 tenant, and
    export does not propose adding one."""
    props = tmp_path / "context.properties"
    source = b"acme.smtp.host=mail.acme.example\nacme.smtp.port=25\nacme.smtp.sender=a@acme.example\n"
    props.write_bytes(source)
    for config in (tmp_path / "new.toml", tmp_path / "example.toml"):
        if config.name == "example.toml":  # an existing file whose tenant says Microsoft 365
            config.write_text(render_example().replace("tenants.default", "tenants.acme"))
        plan = plan_import(props, config)
        assert any("acme.smtp.protocol (LogicalDOC uses smtp)" in str(w) for w in plan.warnings)
        apply_import(plan)
        settings = store.load_settings(config, "acme", env=NO_ENV)
        assert (settings.protocol, settings.connection_security, settings.auth_encrypted) == ("smtp", 0, False)
        plan = plan_export(config, props, env=NO_ENV)
        assert plan.new_bytes == source and plan.diff == "" and plan.changes == ()
        assert "protocol" not in plan.diff


def test_google_protocol_is_kept_and_never_overwritten(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    source = (b"acme.smtp.protocol=smtpgoogle\nacme.smtp.host=smtp.gmail.com\nacme.smtp.port=587\n"
              b"acme.smtp.username=a@acme.example\nacme.smtp.userasfrom=false\n")
    props.write_bytes(source)
    config = tmp_path / "s.toml"
    config.write_text('[tenants.acme.smtp]\nprotocol = "smtpmicrosoft365"  # outmail\'s old value\nhost = "x"\n')
    plan = plan_import(props, config)
    shown = "\n".join(map(str, plan.warnings))
    assert "acme.smtp.protocol='smtpgoogle': a protocol outmail does not diagnose" in shown
    assert ("tenants.acme.smtp.protocol", "remove") in [(c.key, c.action) for c in plan.changes]
    apply_import(plan)
    assert "protocol" not in store.parse(config.read_text())["tenants"]["acme"]["smtp"]
    assert "Microsoft 365" not in shown and "Send As" not in shown  # no Microsoft 365 advice for a Google tenant
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == source and not plan.changed
    assert any("acme.smtp.protocol='smtpgoogle' kept" in str(w) for w in plan.warnings)
    edit_smtp(config, "acme", protocol="smtp", host="smtp.example.org")  # whatever the file says
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.changed_keys == ("acme.smtp.host",) and b"acme.smtp.protocol=smtpgoogle\n" in plan.new_bytes


def test_google_protocol_from_the_unprefixed_fallback_is_kept(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    source = b"smtp.protocol=smtpgoogle\nacme.smtp.host=smtp.gmail.com\nacme.smtp.port=587\n"
    props.write_bytes(source)
    config = tmp_path / "s.toml"
    apply_import(plan_import(props, config))
    edit_smtp(config, "acme", protocol="smtpmicrosoft365")
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == source


def test_what_logicaldoc_lacks_leaves_the_settings_file_and_is_not_exported(tmp_path: Path) -> None:
    """A port LogicalDOC does not have, or cannot read, is not invented: import takes outmail's value out of the
    settings file (outmail then proves its default, and says so), export leaves LogicalDOC's file as it is, until the
    admin sets the port."""
    props = tmp_path / "context.properties"
    source = b"t.smtp.protocol=smtp\nt.smtp.host=h.example\nt.smtp.userasfrom=maybe\nt.smtp.authEncrypted=\n"
    props.write_bytes(source)
    config = tmp_path / "s.toml"
    config.write_text('[tenants.t.smtp]\nprotocol = "smtp"\nhost = "h.example"\nport = 2525  # mine\n'
                      'userasfrom = true\n')
    plan = plan_import(props, config)
    assert [(c.key, c.action) for c in plan.changes] == [
        ("tenants.t.smtp.connectionSecurity", "add"), ("tenants.t.smtp.authEncrypted", "add"),  # LogicalDOC's
        ("tenants.t.smtp.userasfrom", "set"), ("tenants.t.smtp.port", "remove")]
    assert "-port = 2525  # mine" in plan.diff
    shown = "\n".join(map(str, plan.warnings))
    assert "t.smtp.port (LogicalDOC has no value; outmail uses its default 587" in shown
    assert "t.smtp.userasfrom (Use user's email as sender) is 'maybe', which LogicalDOC reads as false" in shown
    assert "t.smtp.authEncrypted (Use secure authentication) is empty, which LogicalDOC reads as false" in shown
    apply_import(plan)
    settings = store.load_settings(config, env=NO_ENV)
    assert (settings.port, settings.userasfrom, settings.auth_encrypted) == (587, False, False)
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == source
    assert any("t.smtp.port (LogicalDOC: no value; outmail proves 587)" in str(w) for w in plan.warnings)
    props.write_bytes(source + b"t.smtp.port=abc\n")  # a value outmail cannot read: kept as well
    plan = plan_import(props, config)
    assert any("t.smtp.port (Port) 'abc' is not a whole number: not imported" in str(w) for w in plan.warnings)
    apply_import(plan)
    assert plan_export(config, props, env=NO_ENV).new_bytes == source + b"t.smtp.port=abc\n"
    edit_smtp(config, "t", port=2525)  # the admin sets it: written
    assert plan_export(config, props, env=NO_ENV).new_bytes == source + b"t.smtp.port=2525\n"


def test_an_override_only_key_is_not_copied_into_the_main_file(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    source = b"t.smtp.protocol=smtp\nt.smtp.host=h.example\nt.smtp.port=25\n"
    props.write_bytes(source)
    (tmp_path / "context-override.properties").write_bytes(b"t.smtp.username=u\nt.smtp.save.folderId=4\n")
    config = tmp_path / "s.toml"
    apply_import(plan_import(props, config))
    assert plan_export(config, props, env=NO_ENV).new_bytes == source
    edit_smtp(config, "t", username="v")
    plan = plan_export(config, props, env=NO_ENV)
    assert plan.new_bytes == source + b"t.smtp.username=v\n"
    assert any("context-override.properties sets t.smtp.username" in str(w) for w in plan.warnings)


def test_imported_values_keep_the_examples_comment_column(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    props.write_bytes(b"default.smtp.protocol=smtp\ndefault.smtp.host=localhost\ndefault.smtp.port=25\n"
                      b"default.smtp.username=\ndefault.smtp.sender=logicaldoc@acme.com\n"
                      b"default.smtp.userasfrom=true\n")
    config = tmp_path / "s.toml"
    apply_import(plan_import(props, config))  # a new settings file: the example's, with LogicalDOC's values
    lines = config.read_text().splitlines()
    column = render_example().splitlines()[8].index("#")
    for key in ("protocol", "host", "port", "connectionSecurity", "authEncrypted", "username", "sender",
                "userasfrom"):
        line = next(line for line in lines if line.startswith(f"{key} ="))
        assert line.index("#") == column, line
    assert 'host = "localhost"                 # "Server"' in lines


def test_new_keys_never_land_under_the_next_tables_comment(tmp_path: Path) -> None:
    """Keys import adds go into their tenant's tables, above the comment that introduces what follows, with nested
    tables ([tenants.t.smtp.save]) and dotted keys alike; new tenants go above it too."""
    props = tmp_path / "context.properties"
    props.write_bytes(b"t.smtp.protocol=smtp\nt.smtp.host=h\nt.smtp.save.folderId=4\nt.smtp.save.foldering=3\n"
                      b"t.smtp.debug=1\nu.smtp.host=x\n")
    config = tmp_path / "s.toml"
    config.write_text('[tenants.t.smtp]\nprotocol = "smtp"\n\n[tenants.t.smtp.save]\nfolderId = "4"\n\n'
                      '# outmail itself\n[console]\ntimeout_seconds = 20\n')
    text = plan_import(props, config).new_text
    assert '[tenants.t.smtp.save]\nfolderId = "4"\nfoldering = "3"\n\n[tenants.u.smtp]' in text
    assert 'authEncrypted = false\ndebug = "1"\n\n[tenants.t.smtp.save]' in text
    assert text.endswith('sender = ""\n\n# outmail itself\n[console]\ntimeout_seconds = 20\n')
    config.write_text('[tenants.t.smtp]\nprotocol = "smtp"\nsave.folderId = "4"\n\n# outmail itself\n[console]\n'
                      'timeout_seconds = 20\n')
    text = plan_import(props, config, ["t"]).new_text
    assert text == ('[tenants.t.smtp]\nprotocol = "smtp"\nsave.folderId = "4"\nsave.foldering = "3"\nhost = "h"\n'
                    'connectionSecurity = 0\nauthEncrypted = false\ndebug = "1"\n\n# outmail itself\n[console]\n'
                    'timeout_seconds = 20\n')


def test_a_settings_file_with_a_bom_is_imported_into_and_exported_from(tmp_path: Path) -> None:
    props = tmp_path / "context.properties"
    source = b"t.smtp.protocol=smtp\nt.smtp.host=h\nt.smtp.port=25\nt.smtp.clientSecret=s3cret-value\n"
    props.write_bytes(source)
    config = tmp_path / "s.toml"
    config.write_bytes(b'\xef\xbb\xbf# saved by Notepad\r\n[tenants.t.smtp]\r\nhost = "old"\r\n')
    plan = plan_import(props, config)
    assert "\ufeff" not in plan.diff and "s3cret" not in plan.diff + plan.preview_text
    apply_import(plan)
    data = config.read_bytes()
    assert data.startswith(b'\xef\xbb\xbf# saved by Notepad\r\n[tenants.t.smtp]\r\nhost = "h"\r\n')
    assert store.load_settings(config, env=NO_ENV).port == 25
    assert plan_export(config, props, env=NO_ENV).new_bytes == source

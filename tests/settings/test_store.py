"""Loading, saving and the safety rules of the settings file (real files in a temporary folder)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.secret import Secret
from tui.settings.example import render_example
from tui.settings.store import (
    SettingsConflictError,
    SettingsFileError,
    load_settings,
    open_settings_file,
    save_settings,
)

ROOT = Path(__file__).resolve().parents[2]

COMMENTED = """\
# LogicalDOC production mail settings -- owned by ops
[tenants.default.smtp]            # default tenant
protocol = "smtpmicrosoft365"     # Microsoft 365
host = "smtp.office365.com"
port = 587                        # submission
connectionSecurity = 1
authEncrypted = true
username = "noreply@contoso.com"
password = ""
sender = "noreply@contoso.com"    # same as username
userasfrom = false
clientId = "0b5d6f1e-3c2a-4d8e-9f10-2a3b4c5d6e7f"
clientTenant = "contoso.onmicrosoft.com"
clientSecret = ""
save.folderId = "4"               # LogicalDOC key outmail does not know
foldering = 3

[tenants.default.microsoft365]
authority_host = "https://login.microsoftonline.com"
scope = "https://outlook.office365.com/.default"

[tenants.acme.smtp]
protocol = "smtp"
host = "mail.acme.local"
port = 25

[console]
timeout_seconds = 20
ca_file = ""

[extra]   # someone else's table
keep = [1, 2, 3]
"""


@pytest.fixture
def commented(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED)
    return path


def test_example_file_is_generated_from_the_field_table():
    assert (ROOT / "settings.example.toml").read_text() == render_example()


def test_example_file_loads_and_names_every_key():
    from tui.settings.fields import FIELDS

    text = render_example()
    for field in FIELDS:
        line = next(line for line in text.splitlines() if line.startswith(f"{field.key} ="))
        assert f'"{field.label}"' in line


def test_load_reads_the_default_tenant(commented: Path):
    settings = load_settings(commented, env={})
    assert (settings.tenant, settings.port, settings.client_tenant) == ("default", 587, "contoso.onmicrosoft.com")
    assert settings.timeout_seconds == 20.0


def test_load_other_tenant_fills_defaults(commented: Path):
    settings = load_settings(commented, tenant="acme", env={})
    assert (settings.protocol, settings.host, settings.port, settings.sender) == ("smtp", "mail.acme.local", 25, "")


def test_unknown_tenant_is_an_error(commented: Path):
    with pytest.raises(SettingsFileError, match="no tenant 'nope'"):
        load_settings(commented, tenant="nope", env={})


def test_several_tenants_without_default_need_a_choice(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text("[tenants.a.smtp]\nport = 25\n[tenants.b.smtp]\nport = 26\n")
    with pytest.raises(SettingsFileError, match="several tenants"):
        load_settings(path, env={})


def test_missing_file_for_headless_commands(tmp_path: Path):
    with pytest.raises(SettingsFileError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_secret_from_environment(commented: Path):
    settings = load_settings(commented, env={"OUTMAIL_CLIENT_SECRET": "from-env"})
    assert settings.client_secret.reveal() == "from-env"
    assert settings.secret_source("client_secret") == "env:OUTMAIL_CLIENT_SECRET"
    per_tenant = load_settings(commented, env={"OUTMAIL_CLIENT_SECRET": "x", "OUTMAIL_DEFAULT_CLIENT_SECRET": "y"})
    assert per_tenant.client_secret.reveal() == "y"


def test_every_secret_of_the_field_table_may_come_from_its_environment_variable(tmp_path: Path):
    """The field table names each secret's variable; the per-tenant one wins (OUTMAIL_<TENANT>_...)."""
    from tui.settings.fields import SECRET_FIELDS

    path = tmp_path / "s.toml"
    path.write_text('[tenants.acme-eu.smtp]\nprotocol = "smtp"\n')
    assert {f.attr for f in SECRET_FIELDS} == {"client_secret", "password"}
    for field in SECRET_FIELDS:
        per_tenant = field.env.replace("OUTMAIL_", "OUTMAIL_ACME_EU_", 1)
        settings = load_settings(path, env={field.env: "plain", per_tenant: "tenant's"})
        assert getattr(settings, field.attr).reveal() == "tenant's"
        assert settings.secret_source(field.attr) == f"env:{per_tenant}"


def test_secret_never_in_repr(commented: Path):
    settings = load_settings(commented, env={"OUTMAIL_CLIENT_SECRET": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in f"{settings.client_secret}"


@pytest.mark.parametrize("text,line,column,words", [
    ("[tenants.default.smtp]\nport = \n", 2, 8, "not valid TOML"),
    ("[tenants.default.smtp]\nport = \"587\"\n", 2, None, "port (Port) must be a whole number"),
    ("[tenants.default.smtp]\nhost = \"h\"\nuserasfrom = \"yes\"\n", 3, None, "true or false"),
    ("[tenants.default.smtp]\nprotocol = \"smtpgoogle\"\n", 2, None, "unknown protocol 'smtpgoogle'"),
])
def test_malformed_files_are_reported_with_their_line(tmp_path: Path, text, line, column, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsFileError) as info:
        load_settings(path, env={})
    assert info.value.line == line and info.value.column == column
    assert words in str(info.value) and str(path) in str(info.value)


def test_unchanged_save_is_byte_identical_and_writes_nothing(commented: Path):
    before = commented.stat().st_mtime_ns
    file, settings = open_settings_file(commented, env={})
    save_settings(file, settings, settings)
    assert commented.read_text() == COMMENTED and commented.stat().st_mtime_ns == before


def test_edit_changes_only_its_value(commented: Path):
    file, settings = open_settings_file(commented, env={})
    save_settings(file, settings, settings.with_changes(port=2525))
    old, new = COMMENTED.splitlines(), commented.read_text().splitlines()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    # the comment keeps its column
    assert changed == [("port = 587                        # submission", "port = 2525                       # submission")]


def test_save_of_a_missing_key_adds_it_to_its_table(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text("# mine\n[tenants.default.smtp]\nhost = \"h.example\"\n")
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=26))
    assert path.read_text() == "# mine\n[tenants.default.smtp]\nhost = \"h.example\"\nport = 26\n"


def test_secret_file_gets_mode_0600(commented: Path):
    os.chmod(commented, 0o644)
    file, settings = open_settings_file(commented, env={})
    save_settings(file, settings, settings.with_changes(client_secret=Secret("value-8Q~xyz")))
    assert stat.S_IMODE(commented.stat().st_mode) == 0o600
    assert 'clientSecret = "value-8Q~xyz"' in commented.read_text()


def test_environment_secret_is_not_written_back(commented: Path):
    file, settings = open_settings_file(commented, env={"OUTMAIL_CLIENT_SECRET": "env-only"})
    save_settings(file, settings, settings.with_changes(port=588))
    assert "env-only" not in commented.read_text()


def test_mode_is_kept_when_no_secret(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text("[tenants.default.smtp]\nport = 25\n")
    os.chmod(path, 0o640)
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=26))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_credential_outside_the_field_table_makes_the_file_private_too(tmp_path: Path):
    """The secret fields come from the field table; a key outside it (LogicalDOC's `<tenant>.smtp.<name>`) whose name
    looks like a credential counts as well, nested ones included (fields.is_secret_key)."""
    path = tmp_path / "s.toml"
    path.write_text('[tenants.default.smtp]\nport = 25\nsave.folderId = "4"\n')
    os.chmod(path, 0o644)
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=26))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # no secret: the mode is kept
    path.write_text('[tenants.default.smtp]\nport = 25\n\n[tenants.default.smtp.relay]\napiKey = "k-123"\n')
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=26))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and 'apiKey = "k-123"' in path.read_text()


def test_conflict_when_file_changed_on_disk(commented: Path):
    file, settings = open_settings_file(commented, env={})
    commented.write_text(COMMENTED.replace("port = 587", "port = 1025"))
    with pytest.raises(SettingsConflictError):
        save_settings(file, settings, settings.with_changes(host="smtp2.office365.com"))
    assert "port = 1025" in commented.read_text()  # nothing lost
    save_settings(file, settings, settings.with_changes(host="smtp2.office365.com"), overwrite=True)
    assert 'host = "smtp2.office365.com"' in commented.read_text()


def test_new_file_starts_from_the_example_and_is_created_on_first_save(tmp_path: Path):
    path = tmp_path / "new.toml"
    file, settings = open_settings_file(path, env={})
    assert not file.exists and not path.exists()
    saved, _ = save_settings(file, settings, settings.with_changes(username="a@contoso.com"))
    assert saved.exists and path.read_text() == render_example().replace(
        'username = "noreply@contoso.com"   # "Username"', 'username = "a@contoso.com"         # "Username"')


def test_crlf_files_keep_their_line_endings(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_bytes(b"# win\r\n[tenants.default.smtp]\r\nport = 25\r\nhost = \"h.example\"\r\n")
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=26))
    assert path.read_bytes() == b"# win\r\n[tenants.default.smtp]\r\nport = 26\r\nhost = \"h.example\"\r\n"


def test_no_temporary_files_left_behind(commented: Path):
    file, settings = open_settings_file(commented, env={})
    save_settings(file, settings, settings.with_changes(port=2525))
    assert sorted(p.name for p in commented.parent.iterdir()) == ["settings.toml"]


def test_a_utf8_bom_is_accepted_and_kept(tmp_path: Path):
    """Windows editors write a UTF-8 byte order mark: the file loads, and a save keeps the mark."""
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf# from Notepad\r\n[tenants.default.smtp]\r\nport = 25\r\nhost = \"h.example\"\r\n")
    settings = load_settings(path, env={})
    assert (settings.port, settings.host) == (25, "h.example")
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf# from Notepad")
    save_settings(file, settings, settings.with_changes(port=26))
    assert path.read_bytes() == b"\xef\xbb\xbf# from Notepad\r\n[tenants.default.smtp]\r\nport = 26\r\nhost = \"h.example\"\r\n"
    file, settings = open_settings_file(path, env={})  # the saved file loads again, and a second save works
    save_settings(file, settings, settings.with_changes(client_secret=Secret("value-8Q~xyz")))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf#") and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_utf16_file_is_named(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_bytes("[tenants.default.smtp]\nport = 25\n".encode("utf-16"))
    with pytest.raises(SettingsFileError, match="is UTF-16 text .*save it as UTF-8"):
        load_settings(path, env={})


def test_a_new_key_lands_in_its_table_above_the_next_tables_comment(tmp_path: Path):
    """A key the file lacks goes after its table's last key, not under the comment that introduces the next table."""
    path = tmp_path / "s.toml"
    text = ('[tenants.default.smtp]\nhost = "h.example"   # mine\n\n# Tokens: not LogicalDOC\n'
            '[tenants.default.microsoft365]\nscope = "https://outlook.office365.com/.default"\n\n'
            '# outmail itself\n[console]\ntimeout_seconds = 20\n')
    path.write_text(text)
    file, settings = open_settings_file(path, env={})
    save_settings(file, settings, settings.with_changes(port=2525, userasfrom=True, ca_file="/etc/ca.pem"))
    assert path.read_text() == text.replace('# mine\n', '# mine\nport = 2525\nuserasfrom = true\n').replace(
        "timeout_seconds = 20\n", 'timeout_seconds = 20\nca_file = "/etc/ca.pem"\n')


def test_a_changed_value_keeps_the_examples_comment_column(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text(render_example())
    column = render_example().splitlines()[9].index("#")  # host = "smtp.office365.com"        # "Server"
    file, settings = open_settings_file(path, env={})
    long_host = "smtp.a-very-long-relay-name.contoso.example"
    file, settings = save_settings(file, settings, settings.with_changes(host=long_host, protocol="smtp"))
    lines = path.read_text().splitlines()
    assert lines[9] == f'host = "{long_host}" # "Server"'  # longer than the column: one space
    assert lines[8].index("#") == column  # protocol = "smtp"
    save_settings(file, settings, settings.with_changes(host="localhost"))
    assert path.read_text().splitlines()[9] == 'host = "localhost"                 # "Server"'  # back in the column
    assert path.read_text().splitlines()[9].index("#") == column

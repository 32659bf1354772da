"""`outmail import` / `outmail export` as an admin runs them (subprocess), plus the confirmation prompt in-process."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path


from tests.logicaldoc.conftest import FIXTURE, edit_smtp
from tui.invocation import Invocation
from tui.logicaldoc import cli as ld_cli

REPO = Path(__file__).resolve().parents[2]
SECRET = "Abc8Q~x=y:z!#secret"


def outmail(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTMAIL_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "tui", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    conf = tmp_path / "conf"
    conf.mkdir()
    props = conf / "context.properties"
    shutil.copyfile(FIXTURE, props)
    os.chmod(props, 0o640)
    config = tmp_path / "settings.toml"
    result = outmail("import", props, "--config", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return props, config


def test_import_then_export_unchanged(tmp_path: Path) -> None:
    props, config = _setup(tmp_path)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    result = outmail("export", props, "--config", config, "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nothing to write" in result.stdout
    assert props.read_bytes() == FIXTURE.read_bytes()
    assert sorted(p.name for p in props.parent.iterdir()) == ["context.properties"]  # no backup when unchanged


def test_import_output_redacts_secrets(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    shutil.copyfile(FIXTURE, conf / "context.properties")
    result = outmail("import", conf / "context.properties", "--config", tmp_path / "s.toml", "--tenant", "acme",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr and "#secret" not in result.stdout
    assert 'clientSecret = "***"' in result.stdout
    assert "[tenants.acme.smtp]" in (tmp_path / "s.toml").read_text()
    assert "[tenants.default" not in (tmp_path / "s.toml").read_text()


def test_import_dry_run_writes_nothing(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    shutil.copyfile(FIXTURE, conf / "context.properties")
    config = tmp_path / "s.toml"
    result = outmail("import", conf / "context.properties", "--config", config, "--tenant", "acme", "--dry-run",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '+host = "smtp.office365.com"' in result.stdout and 'clientSecret = "***"' in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert "Dry run" in result.stdout and "nothing written" in result.stdout
    assert not config.exists()


def test_export_dry_run_writes_nothing(tmp_path: Path) -> None:
    props, config = _setup(tmp_path)
    edit_smtp(config, "acme", username="mailer@acme.example", clientSecret="NewSecret!")
    before = props.read_bytes()
    result = outmail("export", props, "--config", config, "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "+acme.smtp.username=mailer@acme.example" in result.stdout
    assert "NewSecret" not in result.stdout + result.stderr and "Abc8Q" not in result.stdout
    assert "Dry run: 2 changes, nothing written." in result.stdout  # no "(s)"
    assert props.read_bytes() == before


def test_export_without_terminal_or_yes_refuses(tmp_path: Path) -> None:
    props, config = _setup(tmp_path)
    edit_smtp(config, "acme", username="mailer@acme.example")
    before = props.read_bytes()
    result = outmail("export", props, "--config", config, cwd=tmp_path)
    assert result.returncode == 2
    assert "+acme.smtp.username=mailer@acme.example" in result.stdout  # the diff is still shown
    assert "--yes" in result.stderr
    assert props.read_bytes() == before


def test_export_yes_writes_with_backup_and_mode(tmp_path: Path) -> None:
    props, config = _setup(tmp_path)
    edit_smtp(config, "acme", username="mailer@acme.example", userasfrom=True)
    result = outmail("export", props, "--config", config, "--tenant", "acme", "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Send As for every such user" in result.stderr  # the userasfrom warning
    assert "Restart LogicalDOC" in result.stdout
    backups = [p for p in props.parent.iterdir() if p.name.startswith("context.properties.bak-")]
    assert len(backups) == 1 and backups[0].read_bytes() == FIXTURE.read_bytes()
    assert stat.S_IMODE(props.stat().st_mode) == 0o640
    new = props.read_bytes()
    assert b"acme.smtp.username=mailer@acme.example\n" in new and b"acme.smtp.userasfrom=true\n" in new
    assert len(new.splitlines()) == len(FIXTURE.read_bytes().splitlines())


def test_malformed_properties_exit_2_with_line(tmp_path: Path) -> None:
    props, config = _setup(tmp_path)
    bad = props.read_bytes().replace(b"jdbc.maxActive=100", b"jdbc.maxActive=\\u10")
    props.write_bytes(bad)
    line = bad[:bad.index(b"jdbc.maxActive")].count(b"\n") + 1
    os.utime(props, (1_700_000_000, 1_700_000_000))
    for command in (("export", "--yes"), ("import",)):
        result = outmail(command[0], props, "--config", config, *command[1:], cwd=tmp_path)
        assert result.returncode == 2
        assert f"line {line}" in result.stderr and "malformed" in result.stderr
        assert props.read_bytes() == bad and props.stat().st_mtime == 1_700_000_000


def test_unknown_tenant_and_missing_files_exit_2(tmp_path: Path) -> None:
    props, config = _setup(tmp_path)
    assert outmail("export", props, "--config", config, "--tenant", "nobody", "--yes", cwd=tmp_path).returncode == 2
    assert outmail("export", props, "--config", tmp_path / "none.toml", "--yes", cwd=tmp_path).returncode == 2
    result = outmail("import", tmp_path / "missing.properties", "--config", config, cwd=tmp_path)
    assert result.returncode == 2 and "cannot read" in result.stderr


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _args(props: Path, config: Path, **extra: object) -> argparse.Namespace:
    return argparse.Namespace(properties=str(props), config=str(config), tenant=None, dry_run=False, yes=False,
                              **extra)


def test_confirmation_prompt(tmp_path: Path, monkeypatch) -> None:
    for name in [k for k in os.environ if k.startswith("OUTMAIL_")]:
        monkeypatch.delenv(name)
    props, config = _setup(tmp_path)
    edit_smtp(config, "acme", username="mailer@acme.example")
    before = props.read_bytes()
    out, err = io.StringIO(), io.StringIO()
    assert ld_cli.run_export(_args(props, config), Invocation(config), out=out, err=err, stdin=_Tty("n\n")) == 1
    assert f"Write these changes to {props}? [y/N]" in out.getvalue()
    assert props.read_bytes() == before
    out = io.StringIO()
    assert ld_cli.run_export(_args(props, config), Invocation(config), out=out, err=err, stdin=_Tty("y\n")) == 0
    assert b"acme.smtp.username=mailer@acme.example" in props.read_bytes()


def test_save_keys_travel_through_the_commands(tmp_path: Path) -> None:
    """LogicalDOC's Target folder and Foldering (and an unknown smtp key) go into the settings file and back."""
    props, config = _setup(tmp_path)
    text = config.read_text()
    acme = text.index("[tenants.acme.smtp]")
    assert 'save.folderId = ""\nsave.foldering = "3"\ndebug = "true"\n' in text[acme:]
    config.write_text(text[:acme] + text[acme:].replace('save.foldering = "3"', "save.foldering = 2", 1))
    result = outmail("export", props, "--config", config, "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "-acme.smtp.save.foldering=3\n+acme.smtp.save.foldering=2\n" in result.stdout
    assert props.read_bytes() == FIXTURE.read_bytes().replace(b"acme.smtp.save.foldering=3\n",
                                                              b"acme.smtp.save.foldering=2\n")
    before = config.read_text()
    result = outmail("import", props, "--config", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "already has these values" in result.stdout and config.read_text() == before


def test_counts_are_written_in_words(tmp_path: Path) -> None:
    """"1 change", "2 values": never "change(s)"."""
    assert [ld_cli.counted(n, "change") for n in (0, 1, 2)] == ["0 changes", "1 change", "2 changes"]
    props, config = _setup(tmp_path)
    edit_smtp(config, "acme", username="mailer@acme.example")
    result = outmail("export", props, "--config", config, "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {props} (1 change); backup: " in result.stdout and "(s)" not in result.stdout
    p = props.read_bytes().replace(b"acme.smtp.port:587", b"acme.smtp.port:25")
    props.write_bytes(p.replace(b"acme.smtp.username=mailer@acme.example", b"acme.smtp.username=x@acme.example"))
    result = outmail("import", props, "--config", config, "--tenant", "acme", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(2 values, tenants: acme)" in result.stdout and "(s)" not in result.stdout

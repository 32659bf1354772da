"""run_console: an unusable file is reported with line and column, exit code 2, without starting Textual."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.conftest import COMMENTED_M365
from tui.console.launch import run_console


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (COMMENTED_M365.replace("port = 587 ", "port = = 587 "), ":7:"),
        (COMMENTED_M365.replace("port = 587 ", 'port = "587"'), "port (Port) must be a whole number"),
        (COMMENTED_M365.replace('"smtpmicrosoft365"', '"smtpgoogle"'), "unknown protocol 'smtpgoogle'"),
    ],
    ids=["malformed", "wrong-type", "unknown-protocol"],
)
def test_unusable_file_exits_2_and_is_not_touched(tmp_path: Path, capsys, broken: str, expected: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(broken.encode())
    assert run_console(path) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err
    assert "the file was not changed" in err
    assert path.read_bytes() == broken.encode()


def test_unknown_theme_exits_2(settings_path: Path, capsys) -> None:
    assert run_console(settings_path, theme="no-such-theme") == 2
    assert "unknown theme 'no-such-theme'" in capsys.readouterr().err


def test_several_tenants_without_default_and_unknown_tenant(two_tenant_path: Path, capsys) -> None:
    assert run_console(two_tenant_path, tenant="initech") == 2
    assert "has no tenant 'initech' (tenants: acme, globex)" in capsys.readouterr().err


def test_demo_object_is_exposed(settings_path: Path) -> None:
    from tui.console.launch import build_app

    marker = object()
    assert build_app(settings_path, demo=marker).demo is marker
    assert build_app(settings_path).demo is None

"""The command line: options before or after the subcommand, and which settings file is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import build_parser, resolve_config_path


@pytest.mark.parametrize("argv", [["--config", "a.toml", "check"], ["check", "--config", "a.toml"]])
def test_config_before_or_after_the_subcommand(argv):
    assert build_parser().parse_args(argv).config == "a.toml"


def test_tenant_list_for_export():
    args = build_parser().parse_args(["export", "ctx.properties", "--tenant", "a", "--tenant", "b"])
    assert args.tenant == ["a", "b"]


def test_config_resolution_order(monkeypatch):
    monkeypatch.setenv("OUTMAIL_CONFIG", "/etc/outmail/settings.toml")
    assert resolve_config_path("x.toml") == Path("x.toml")
    assert resolve_config_path(None) == Path("/etc/outmail/settings.toml")
    monkeypatch.delenv("OUTMAIL_CONFIG")
    assert resolve_config_path(None) == Path("settings.toml")


def test_headless_commands_exit_2_for_a_missing_file(tmp_path, capsys):
    from tui.cli import main

    assert main(["check", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_reader_that_went_away_gets_no_traceback():
    """`outmail sandbox --list-faults | head -2`: the reader closed its end before outmail wrote; outmail stops
    quietly with 141 (as a process killed by SIGPIPE would), no BrokenPipeError traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: deterministic EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "tui", "sandbox", "--list-faults"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr

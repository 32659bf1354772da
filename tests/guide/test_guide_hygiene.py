"""The guide is core: no Textual, nothing heavy at import, and the command line's parser stays as cheap as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_guide_modules_never_import_textual_or_network_libraries():
    modules = sorted("tui.guide." + p.stem for p in (ROOT / "tui" / "guide").glob("*.py") if p.stem != "__init__")
    assert "tui.guide.model" in modules and "tui.guide.until_pass" in modules
    loaded = loaded_after("\n".join(f"import {m}" for m in modules))
    tops = {m.split(".")[0] for m in loaded}
    assert not tops & {"textual", "msal", "aiosmtplib", "requests", "tomlkit"}, tops


def test_the_command_line_parser_does_not_load_the_guide():
    loaded = loaded_after("import tui.cli\ntui.cli.build_parser().parse_args(['check', '--every', '30s'])")
    assert "tui.guide.durations" in loaded  # check's --every and --for read durations
    assert "tui.guide.model" not in loaded and "tui.diagnostics.hints" not in loaded


def test_the_console_start_builds_no_subcommand_parser():
    loaded = loaded_after("import tui.cli\nargs = tui.cli.build_parser().parse_args(['--config', 'x.toml'])\n"
                          "assert args.command is None and args.config == 'x.toml'")
    assert "tui.guide.durations" not in loaded  # check's arguments were never added

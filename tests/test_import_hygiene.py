"""The core never imports Textual, and starting the console imports no network or TOML-writing libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_MODULES = ["tui.settings.fields", "tui.settings.model", "tui.settings.validate", "tui.settings.store",
                "tui.settings.example", "tui.secret", "tui.addresses", "tui.cli", "tui.files", "tui.invocation"]
TEXTUAL_FREE_PACKAGES = ["diagnostics", "sandbox", "logicaldoc", "mail", "guide", "settings"]
HEAVY = ["msal", "aiosmtplib", "requests", "tomlkit"]


def loaded_after(code: str) -> set[str]:
    """Top-level package names in sys.modules after running `code` in a fresh interpreter."""
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def package_modules(package: str) -> list[str]:
    folder = ROOT / "tui" / package
    return sorted(
        "tui." + ".".join(path.relative_to(ROOT / "tui").with_suffix("").parts).removesuffix(".__init__")
        for path in folder.rglob("*.py")
        if path.name != "__main__.py"  # importing it would run the command
    )


def test_core_never_imports_textual() -> None:
    assert "textual" not in loaded_after("\n".join(f"import {m}" for m in CORE_MODULES))


@pytest.mark.parametrize("package", TEXTUAL_FREE_PACKAGES)
def test_other_packages_never_import_textual(package: str) -> None:
    modules = package_modules(package)
    assert modules, f"tui/{package} has no modules: the list of Textual-free packages is out of date"
    assert "textual" not in loaded_after("\n".join(f"import {m}" for m in modules))


def test_starting_the_console_imports_nothing_heavy() -> None:
    code = (
        "from tests.console.conftest import COMMENTED_M365\n"
        "import tempfile, pathlib\n"
        "path = pathlib.Path(tempfile.mkdtemp()) / 'settings.toml'\n"
        "path.write_text(COMMENTED_M365)\n"
        "from tui.console.launch import build_app\n"
        "import tui.console.app, tui.console.help_screen, tui.console.commands\n"
        "app = build_app(path)\n"
        "import asyncio\n"
        "async def main():\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "asyncio.run(main())\n"
    )
    loaded = loaded_after(code)
    assert "textual" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_no_test_module_imports_another():
    """Shared helpers live in helper modules (tests/console/helpers.py, tests/e2e/tmuxrun.py, ...): a test module
    imported by another is collected twice on every worker and reads as a test where it is a helper."""
    import ast

    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):  # from tests.x.test_y import z; from tests.x import test_y
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names
                          if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")]
    assert offenders == []

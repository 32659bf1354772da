"""The import contracts in pyproject.toml ([tool.importlinter]) hold: the core (diagnostics, settings, mail, sandbox,
logicaldoc, guide) never imports the console or Textual, no subpackage imports the top-level command line, and the
console never imports an SMTP or HTTP client itself (it runs the engine in workers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "3 kept, 0 broken" in proc.stdout

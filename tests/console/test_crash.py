"""A crash never prints the secret: the crash report drops frame locals, and the exit code is non-zero."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest

from tests.console.conftest import COMMENTED_M365
from tests.console.ptyrun import run_in_pty


@pytest.mark.parametrize("where", ["handler", "worker"])
def test_crash_report_hides_the_secret_and_exits_non_zero(tmp_path: Path, where: str) -> None:
    sentinel = "s3cr" + secrets.token_hex(10)  # generated, so it appears in no source line of the traceback
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"', 'clientSecret = ""'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTMAIL_")}
    env.update(TERM="xterm-256color", OUTMAIL_CLIENT_SECRET=sentinel, OUTMAIL_TEST_CRASH=where,
               TEXTUAL_ANIMATIONS="none")
    code, output = run_in_pty([sys.executable, "-m", "tui", "--config", str(path)], env)
    text = output.decode("utf-8", "replace")
    assert f"test crash in a {where}" in text, text[-3000:]  # the crash happened and was reported
    assert sentinel not in text
    assert sentinel.encode() not in output
    assert code != 0
    assert path.read_text() == COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"', 'clientSecret = ""')

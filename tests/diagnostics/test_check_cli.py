"""`outmail check` in a subprocess against the sandbox: exit codes, the JSON shape, no secrets in any output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


def run_check(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("OUTMAIL_CONFIG", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "tui", "check", *args], capture_output=True, text=True,
                          cwd=ROOT, env=e, timeout=60)


def assert_clean(sb, proc):
    for out in (proc.stdout, proc.stderr):
        assert sb.info.client_secret not in out
        assert sb.info.password not in out
        assert not JWT_RE.search(out)


def test_check_json_happy(sandbox_clean):
    sb = sandbox_clean
    proc = run_check("--config", str(sb.info.settings_path), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"ok", "model", "steps"} and doc["ok"] is True
    assert doc["model"] == "classic"
    assert [s["id"] for s in doc["steps"]] == ["settings", "token", "connect", "ehlo", "starttls", "auth", "envelope",
                                               "quit"]
    for s in doc["steps"]:
        assert set(s) == {"id", "title", "status", "duration_ms", "detail", "hint"}
        assert s["status"] in ("ok", "warn")
    envelope = next(s for s in doc["steps"] if s["id"] == "envelope")
    assert envelope["detail"][0].startswith(f"the server accepts mail from {sb.info.mailbox} to {sb.info.mailbox} "
                                            "(after AUTH); RSET, nothing was sent")
    assert any(d.startswith(f"MAIL FROM:<{sb.info.mailbox}> → 250") for d in envelope["detail"])
    assert any(d.startswith(f"RCPT TO:<{sb.info.mailbox}> → 250") for d in envelope["detail"])
    assert "note: Exchange Online checks Send As only after the message (DATA); `outmail send` proves it" in \
        envelope["detail"]
    assert_clean(sb, proc)


def test_check_rcpt_option_and_nothing_sent(sandbox_clean):
    sb = sandbox_clean
    before, events_before = len(sb.messages()), len(sb.smtp_events())
    proc = run_check("--config", str(sb.info.settings_path), "--json", "--rcpt", "nobody@contoso.test")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    failed = [s for s in doc["steps"] if s["status"] == "fail"]
    assert [s["id"] for s in failed] == ["envelope"]
    assert failed[0]["hint"]["id"] == "recipient-not-found"
    assert len(sb.messages()) == before
    commands = [e["command"].split(":")[0].upper() for e in sb.smtp_events()[events_before:]]
    assert "DATA" not in commands
    proc = run_check("--config", str(sb.info.settings_path), "--rcpt", "not an address")
    assert proc.returncode == 2 and "--rcpt not an address" in proc.stderr


@pytest.mark.parametrize("fault,step_id,hint_id", [
    ("wrong-secret", "token", "invalid-secret"),
    ("no-mailbox-permission", "auth", "exchange-refused-token"),
])
def test_check_json_fault(sandbox_clean, fault, step_id, hint_id):
    sb = sandbox_clean
    sb.set_fault(fault)
    proc = run_check("--config", str(sb.info.settings_path), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False
    failed = [s for s in doc["steps"] if s["status"] == "fail"]
    assert [s["id"] for s in failed] == [step_id]
    assert failed[0]["hint"]["id"] == hint_id
    assert_clean(sb, proc)


def test_check_text_shows_hint_under_failure(sandbox_clean):
    sb = sandbox_clean
    sb.set_fault("no-mailbox-permission")
    proc = run_check("--config", str(sb.info.settings_path))
    assert proc.returncode == 1
    out = proc.stdout
    assert re.search(r"^\s+FAIL\s+auth\b", out, re.M)
    assert "Setup step: S5 Exchange service principal, S6 Mailbox permission" in out
    assert f"New-ServicePrincipal -AppId {sb.info.client_id} -ObjectId {sb.info.object_id}" in out
    assert_clean(sb, proc)


def test_check_text_happy(sandbox_clean):
    sb = sandbox_clean
    proc = run_check("--config", str(sb.info.settings_path), "--tenant", "default")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Result: passed" in proc.stdout
    assert len([l for l in proc.stdout.splitlines() if re.match(r"^\s+(ok|WARN|FAIL|skip)\s", l)]) == 8
    assert_clean(sb, proc)


def test_check_missing_file_exits_2(tmp_path):
    proc = run_check("--config", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr and proc.stdout == ""


def test_check_malformed_file_exits_2(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[tenants.default.smtp\nprotocol = ")
    proc = run_check("--config", str(p), "--json")
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr
    err = json.loads(proc.stdout)["error"]  # --json prints JSON on every exit
    assert err["kind"] == "settings" and err["path"] == str(p) and err["line"] == 1


def test_check_settings_errors_exit_1(sandbox_clean, tmp_path):
    text = Path(sandbox_clean.info.settings_path).read_text().replace(
        f'clientId = "{sandbox_clean.info.client_id}"', 'clientId = "not-a-guid"')
    p = tmp_path / "s.toml"
    p.write_text(text)
    proc = run_check("--config", str(p), "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    hint = doc["steps"][0]["hint"]
    assert doc["steps"][0]["status"] == "fail" and hint["id"] == "field-client-id" and hint["setup_step"] == "S1"

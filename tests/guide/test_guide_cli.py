"""`outmail guide` in a subprocess against the sandbox: text and JSON, the scripts, --verify, exit codes, files written
private, no secret anywhere."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.guide.verification import verification_for

ROOT = Path(__file__).resolve().parents[2]
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


def guide(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OUTMAIL_CONFIG", None)
    env.pop("REQUESTS_CA_BUNDLE", None)
    return subprocess.run([sys.executable, "-m", "tui", "guide", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60, input=stdin)


def assert_clean(sb, proc):
    for out in (proc.stdout, proc.stderr):
        assert sb.info.client_secret not in out
        assert sb.info.password not in out
        assert not JWT_RE.search(out)


def test_text_happy_path(sandbox_clean):
    sb = sandbox_clean
    before = len(sb.messages())
    proc = guide("--config", str(sb.info.settings_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("outmail guide: smtpmicrosoft365 127.0.0.1:")
    assert "Model: classic (Entra permission SMTP.SendAsApp), from the last token" in out
    assert re.search(r"^  proven\s+S1\s+App registration\n\s+token issued at \d\d:\d\d: S1 and S2 work$", out, re.M)
    assert re.search(r"^  proven\s+S6\s+Mailbox permission \(FullAccess\)\n\s+235 at \d\d:\d\d: S5, S6 and S8 work",
                     out, re.M)
    assert "Result: 8 proven, 0 failed, 0 not known, 1 not needed" in out
    assert "running the diagnostics first (nothing is sent" in proc.stderr
    assert len(sb.messages()) == before  # the diagnostics send nothing
    assert_clean(sb, proc)


def test_json_failure_and_exit_code(sandbox_clean):
    sb = sandbox_clean
    sb.set_fault("no-mailbox-permission")
    proc = guide("--config", str(sb.info.settings_path), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["model"] == "classic" and doc["model_source"] == "token"
    states = {s["id"]: s["state"] for s in doc["steps"]}
    assert states["S5"] == states["S6"] == "failed" and states["S1"] == "proven"
    s5 = next(s for s in doc["steps"] if s["id"] == "S5")
    assert set(s5) == {"id", "title", "where", "what", "proves", "command", "model", "state", "scripted",
                       "evidence", "decisive"}
    assert s5["decisive"]["verdict"] == "failed" and s5["decisive"]["source"] == "auth"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s5["decisive"]["at"])
    assert f"-ObjectId {sb.info.object_id}" in s5["command"]
    assert doc["values"]["object_id"] == sb.info.object_id
    assert doc["last_run"]["failed_step"] == "auth" and doc["last_run"]["hint"]["id"] == "exchange-refused-token"
    assert "# ---- S5" in doc["scripts"]["setup"] and "ConvertTo-Json" in doc["scripts"]["verify"]
    assert doc["counts"] == {"proven": 5, "failed": 2, "unknown": 1, "not-needed": 1}
    assert_clean(sb, proc)


def test_scripts_to_files_are_private(sandbox_clean, tmp_path):
    sb = sandbox_clean
    sb.set_fault("rbac-out-of-scope")
    target = tmp_path / "outmail-setup.ps1"
    proc = guide("--config", str(sb.info.settings_path), "--script", "setup", "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and f"wrote {target} (0600)" in proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert text.startswith("# outmail setup script, model: rbac")
    assert "# ---- R1 Management scope" in text and sb.info.client_secret not in text
    assert not list(tmp_path.glob("*.tmp"))  # written atomically: no temporary file left
    proc = guide("--config", str(sb.info.settings_path), "--script", "verify", "--no-run")
    assert proc.returncode == 0 and proc.stdout.startswith("# outmail verification script (read-only")
    assert f"$AppId = '{sb.info.client_id}'" in proc.stdout


def test_verify_file_and_stdin(sandbox_clean, tmp_path):
    sb = sandbox_clean
    sb.set_fault("rbac-out-of-scope")
    doc = verification_for(sb, "rbac-out-of-scope", collected_at=time.time() + 5)
    path = tmp_path / "verify.json"
    path.write_bytes(b"\xff\xfe" + json.dumps(doc).encode("utf-16-le"))  # as Windows PowerShell's > writes it
    proc = guide("--config", str(sb.info.settings_path), "--verify", str(path), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    states = {s["id"]: s["state"] for s in out["steps"]}
    assert states["S5"] == states["R2"] == "proven" and states["R1"] == "failed"
    assert out["cause_steps"] == ["R1"] and "outside the scope outmail-smtp" in out["cause"]
    assert out["verification"]["collected_at"] is not None
    proc = guide("--config", str(sb.info.settings_path), "--no-run", "--verify", "-", stdin=json.dumps(doc))
    assert proc.returncode == 1 and "verification at " in proc.stdout


def test_unusable_inputs_exit_2(sandbox_clean, tmp_path):
    sb = sandbox_clean
    bad = tmp_path / "bad.json"
    bad.write_text('{"outmail_verify": 1, "client_id": "x"}')
    proc = guide("--config", str(sb.info.settings_path), "--no-run", "--verify", str(bad), "--json")
    assert proc.returncode == 2
    err = json.loads(proc.stdout)["error"]
    assert err["kind"] == "arguments" and "missing collected_at" in err["message"]
    proc = guide("--config", str(tmp_path / "none.toml"), "--json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["kind"] == "settings"
    proc = guide("--config", str(sb.info.settings_path), "--model", "both", "--json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["kind"] == "arguments"
    proc = guide("--config", str(sb.info.settings_path), "--script", "setup", "--json")
    assert proc.returncode == 2 and "leave out --json" in proc.stderr
    proc = guide("--config", str(sb.info.settings_path), "--from", "not an address", "--no-run")
    assert proc.returncode == 2 and "--from not an address" in proc.stderr
    other = verification_for(sb, None, collected_at=time.time())
    other["mailbox"] = "someone@contoso.test"
    bad.write_text(json.dumps(other))
    proc = guide("--config", str(sb.info.settings_path), "--no-run", "--verify", str(bad))
    assert proc.returncode == 2 and "mailbox someone@contoso.test" in proc.stderr


def test_model_choice_and_from_addresses(sandbox_clean):
    sb = sandbox_clean
    proc = guide("--config", str(sb.info.settings_path), "--model", "rbac", "--from", "alerts@contoso.test",
                 "--json")
    doc = json.loads(proc.stdout)
    assert doc["model"] == "rbac" and doc["model_source"] == "chosen"
    assert doc["values"]["from_addresses"] == ["alerts@contoso.test"]
    assert [s["id"] for s in doc["steps"]] == ["S1", "S2", "S5", "R1", "R2", "R3", "S7", "S8", "S9"]
    # the token carries SMTP.SendAsApp: for RBAC for Applications that is more than SMTP needs
    assert [e["role"] for e in doc["privilege"]["extra"]] == ["SMTP.SendAsApp"]
    assert doc["privilege"]["rbac_scope"]["addresses"] == [sb.info.mailbox, "alerts@contoso.test"]

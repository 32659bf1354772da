"""A Server name that cannot be looked up fails the connect step with the reason, in the admin's words and with a
hint at the Server field, never as an "unexpected error": names the resolver does not know (`check`, text and
JSON), and names getaddrinfo refuses before any lookup (its idna codec: a label over 63 characters, an empty label),
which validation stops first but the connect step must still explain. No DNS query leaves this machine: the CLI runs
with tests/diagnostics/local_resolver.py (RFC 6761's negative answer for `.invalid`), the rest never reaches a
resolver."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui.diagnostics.run import Run
from tui.diagnostics.runner import StepFailed
from tui.diagnostics.steps_connect import step_connect, tcp_connect
from tui.diagnostics.token import TokenCache
from tui.secret import Secret
from tui.settings.model import Settings
from tui.settings.validate import validate

ROOT = Path(__file__).resolve().parents[2]
RESOLVER = Path(__file__).with_name("local_resolver.py")
UNKNOWN = "no-such-host.invalid"
GUID = "0b5d6f1e-3c2a-4d8e-9f10-2a3b4c5d6e7f"


def plain(host: str, **changes) -> Settings:
    """Protocol smtp to a relay that needs no login: nothing runs before connect but the settings step."""
    return Settings(protocol="smtp", host=host, port=2525, connection_security=0, auth_encrypted=False,
                    username="", sender="a@example.com", timeout_seconds=5.0).with_changes(**changes)


def m365(host: str) -> Settings:
    return Settings(protocol="smtpmicrosoft365", host=host, port=587, username="noreply@contoso.com",
                    sender="noreply@contoso.com", client_id=GUID, client_tenant=GUID,
                    client_secret=Secret("abc8Q~not-a-guid-value"), timeout_seconds=5.0)


def run_check(tmp_path: Path, host: str, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "settings.toml"
    config.write_text(f'[tenants.default.smtp]\nprotocol = "smtp"\nhost = "{host}"\nport = 2525\n'
                      'connectionSecurity = 0\nauthEncrypted = false\nsender = "a@example.com"\n')
    env = dict(os.environ)
    env.pop("OUTMAIL_CONFIG", None)
    return subprocess.run([sys.executable, str(RESOLVER), "check", "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)


def test_check_json_an_unknown_server_name_fails_connect_with_the_resolvers_words(tmp_path):
    proc = run_check(tmp_path, UNKNOWN, "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    steps = {s["id"]: s for s in doc["steps"]}
    assert doc["ok"] is False and steps["settings"]["status"] in ("ok", "warn")
    connect = steps["connect"]
    assert connect["status"] == "fail"
    assert connect["detail"][0] == f"Server {UNKNOWN} cannot be looked up: Name or service not known"
    hint = connect["hint"]
    assert hint["id"] == "dns-failure" and hint["reply"] == connect["detail"][0]
    assert hint["cause"] == f"The server name {UNKNOWN} does not resolve."
    assert hint["fix"].startswith(f"Check Server ({UNKNOWN})")
    assert hint["setup_step"] is None and hint["command"] is None  # a Postfix admin gets no Microsoft setup step
    assert [steps[i]["status"] for i in ("ehlo", "starttls", "auth", "envelope", "quit")] == ["skipped"] * 5


def test_check_text_an_unknown_server_name_fails_connect_with_the_resolvers_words(tmp_path):
    proc = run_check(tmp_path, UNKNOWN)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    line = next(l for l in out.splitlines() if l.strip().startswith("FAIL"))
    assert line.split()[:2] == ["FAIL", "connect"]
    assert line.endswith(f"Server {UNKNOWN} cannot be looked up: Name or service not known")
    assert f"Cause: The server name {UNKNOWN} does not resolve." in out
    assert f"Fix: Check Server ({UNKNOWN}) and this machine's DNS resolver" in out
    assert "(hint dns-failure)" in out and "Setup step" not in out
    assert "unexpected" not in out and "Result: FAILED at connect" in out


@pytest.mark.parametrize("host,words", [
    ("a" * 300, "a label (the text between two dots) is 300 characters long, more than the 63 a label can have"),
    ("a" * 64 + ".example.com",
     "a label (the text between two dots) is 64 characters long, more than the 63 a label can have"),
    ("mail..example.com", "a label (the text between two dots) is empty: two dots in a row, or a dot at the start"),
])
@pytest.mark.parametrize("settings_for", [plain, m365], ids=["smtp", "smtpmicrosoft365"])
async def test_a_name_getaddrinfo_refuses_fails_connect_with_the_reason(host, words, settings_for, sandbox_env):
    """Validation stops these names first (tests/settings/test_validate.py); the connect step, given one, says what
    is wrong with it at the Server field, for a Postfix admin and a Microsoft 365 admin alike, instead of the
    idna codec's UnicodeError as an unexpected error."""
    settings = settings_for(host)
    assert [p.attr for p in validate(settings) if p.severity == "error"] == ["host"]
    run = Run(settings, None, TokenCache(), [("connect", "Connect")])
    try:
        assert not await run.run_step("connect", lambda h: step_connect(run, h),
                                      explain=run.explainer("connect-timeout"))
    finally:
        run.close()
    step = run.result("connect")
    assert step.status == "fail" and step.hint.id == "host-name-invalid"
    shown = host if len(host) <= 60 else f"{host[:60]}… ({len(host)} characters)"
    assert step.detail[0] == step.hint.reply == f"Server {shown} cannot be looked up: {words}"
    assert step.detail[1].startswith("UnicodeError: encoding with 'idna' codec failed")
    assert step.hint.cause == (f"The Server name cannot be looked up: {words}. LogicalDOC's sender cannot connect "
                               "to it either, so no mail goes out.")
    assert step.hint.fix.startswith("Correct Server:") and step.hint.setup_step is None
    assert step.hint.command is None and "unexpected" not in " ".join(step.hint.lines())


async def test_the_connect_step_resolves_an_ipv6_address_in_brackets(sandbox_env):
    """The form takes "[::1]" (as LogicalDOC's Java InetAddress does); the connect step connects to ::1."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.bind(("::1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    settings = plain("[::1]", port=port)
    assert "host" not in {p.attr for p in validate(settings)}
    run = Run(settings, None, TokenCache(), [("connect", "Connect")])
    try:
        sock = await tcp_connect(run, None)
        assert sock.getpeername()[:2] == ("::1", port)
        sock.close()
    finally:
        run.close()
        listener.close()


async def test_a_resolver_refusal_in_the_connect_step_is_a_step_failure(monkeypatch, sandbox_env):
    """Whatever getaddrinfo raises for the name (the resolver's gaierror, the codec's UnicodeError) ends the step
    with StepFailed, never as an exception the run calls unexpected."""
    def refuse(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    run = Run(plain("relay.example.net"), None, TokenCache(), [("connect", "Connect")])
    with pytest.raises(StepFailed) as failed:
        await tcp_connect(run, None)
    run.close()
    hint = failed.value.hint
    assert hint.id == "dns-failure" and hint.setup_step is None
    assert hint.reply == "Server relay.example.net cannot be looked up: Temporary failure in name resolution"

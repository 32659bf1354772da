"""Starting and stopping: own folder or a temporary one, clean stop with connections held open, the CLI, XOAUTH2."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tui.sandbox import FAULTS, Sandbox, build_xoauth2, parse_xoauth2
from tui.xoauth2 import XOAuth2Error

ROOT = Path(__file__).resolve().parents[2]

# Microsoft's published test vector (Exchange docs, "Authenticate an IMAP, POP or SMTP connection using OAuth").
VECTOR_USER = "test@contoso.onmicrosoft.com"
VECTOR_TOKEN = "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"
VECTOR = ("dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0Nj"
          "bFJDM0VvQUEBAQ==")


def sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sandbox-")]


def test_xoauth2_test_vector():
    assert build_xoauth2(VECTOR_USER, VECTOR_TOKEN) == VECTOR
    assert parse_xoauth2(VECTOR) == (VECTOR_USER, VECTOR_TOKEN)
    assert parse_xoauth2(base64.b64decode(VECTOR), encoded=False) == (VECTOR_USER, VECTOR_TOKEN)


@pytest.mark.parametrize("bad", ["***", base64.b64encode(b"user=a\x01auth=Bearer x").decode(),
                                 base64.b64encode(b"auth=Bearer x\x01\x01").decode(),
                                 base64.b64encode(b"user=a\x01auth=Basic x\x01\x01").decode()])
def test_xoauth2_malformed(bad):
    with pytest.raises(XOAuth2Error):
        parse_xoauth2(bad)


def test_vector_token_refused_by_smtp(sandbox_clean):
    """The vector's token is not a JWT the sandbox signed: Exchange's 535 5.7.3."""
    import smtplib

    info = sandbox_clean.info
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.starttls(context=ssl.create_default_context(cafile=str(info.ca_file)))
        s.ehlo("client.example")
        code, reply = s.docmd("AUTH", "XOAUTH2 " + VECTOR)
    assert code == 535 and reply.startswith(b"5.7.3 Authentication unsuccessful [")


def test_own_directory_kept_and_temp_directory_removed(tmp_path):
    given = tmp_path / "sb"
    with Sandbox(directory=given) as sb:
        assert sb.info.ca_file == given.resolve() / "ca.pem"
        assert sb.info.settings_path.is_file() and sb.info.mail_dir.is_dir()
    assert (given / "ca.pem").is_file()  # a given folder is kept
    with Sandbox() as sb:
        temp = sb.info.directory
        assert temp.is_dir()
    assert not temp.exists()


def wait_until(what: str, predicate, timeout: float = 10.0) -> None:
    """Poll `predicate` until it is true; fail naming `what` after `timeout` s (a bound, never the expected time)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.01)


def closed_by_server(sock: socket.socket) -> bool:
    """True when the peer has closed `sock` (EOF or reset); a socket still open raises its own timeout."""
    try:
        return sock.recv(1024) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def test_stop_is_clean_with_connections_held_open():
    before = set(sandbox_threads())
    sb = Sandbox(fault="silent-server", delay_seconds=0.2).start()
    info = sb.info
    silent = socket.create_connection((info.smtp_host, info.smtp_port), timeout=5)
    wait_until("the silent SMTP connection", lambda: any(e["command"] == "(connect)" for e in sb.smtp_events()))
    sb.set_fault("token-hang")
    port = int(info.authority_host.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=str(info.ca_file))
    hung = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1")
    body = b"grant_type=client_credentials"
    hung.sendall(b"POST /%s/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                 b"\r\nContent-Length: %d\r\n\r\n%s" % (info.tenant_id.encode(), len(body), body))
    wait_until("the held token request", lambda: any(e.get("fault") == "token-hang" for e in sb.token_events()))
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # TCP only, no TLS handshake
    wait_until("a thread for each token connection",
               lambda: sum(t.name == "sandbox-token-conn" and t not in before for t in threading.enumerate()) >= 2)
    sb.stop()
    # every held connection was closed by the sandbox (none left to a join's timeout), and no thread is left
    assert not set(sandbox_threads()) - before
    for s in (silent, hung, idle):
        assert closed_by_server(s)
    sb.stop()  # idempotent
    for s in (silent, hung, idle):
        s.close()
    with pytest.raises(RuntimeError):
        sb.info


def test_start_twice_and_unknown_fault():
    with pytest.raises(ValueError):
        Sandbox(fault="nope")
    sb = Sandbox()
    try:
        sb.start()
        port = sb.info.smtp_port
        sb.start()
        assert sb.info.smtp_port == port
    finally:
        sb.stop()


def run_cli(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tui", "sandbox", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30, **kw)


def test_cli_list_faults():
    result = run_cli("--list-faults")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(FAULTS)


def test_cli_unknown_fault():
    result = run_cli("--fault", "nope")
    assert result.returncode == 2
    assert "unknown fault 'nope'" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_runs_until_signal(tmp_path, sig):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tui", "sandbox", "--dir", str(tmp_path), "--fault", "slow-smtp"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        data = json.loads(line)
        for key in ("authority_host", "tenant_id", "client_id", "client_secret", "smtp_host", "smtp_port", "ca_file",
                    "mailbox", "settings_path"):
            assert data[key], key
        assert data["fault"] == "slow-smtp"
        assert Path(data["settings_path"]) == tmp_path.resolve() / "settings.toml"
        assert Path(data["ca_file"]).is_file()
        with socket.create_connection((data["smtp_host"], data["smtp_port"]), timeout=5):
            pass
        proc.send_signal(sig)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_on_event_listener_sees_both_services_in_order(monkeypatch):
    import msal
    import smtplib

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    seen: list[tuple[str, dict]] = []
    with Sandbox(on_event=lambda service, event: seen.append((service, event))) as sb:
        info = sb.info
        app = msal.ConfidentialClientApplication(info.client_id, client_credential="wrong",
                                                 authority=f"{info.authority_host}/{info.tenant_id}",
                                                 instance_discovery=False, verify=str(info.ca_file), timeout=5)
        app.acquire_token_for_client(scopes=["https://outlook.office365.com/.default"])
        with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
            s.starttls(context=ssl.create_default_context(cafile=str(info.ca_file)))
    token = [e for svc, e in seen if svc == "token"]
    assert [e["status"] for e in token] == [200, 401] and token[1]["error_codes"] == [7000215]
    commands = [e["command"] for svc, e in seen if svc == "smtp"]
    assert commands == ["(connect)", "EHLO [127.0.0.1]", "STARTTLS", "(tls)", "QUIT"]
    assert "wrong" not in repr(seen)


def test_requests_ca_bundle_overrides_msal_verify(monkeypatch, sandbox_clean):
    """Reference section 10: REQUESTS_CA_BUNDLE wins over msal's verify=; the sandbox's TLS is real, so it fails."""
    import certifi
    import msal
    import requests

    info = sandbox_clean.info
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with pytest.raises(requests.exceptions.SSLError):
        msal.ConfidentialClientApplication(info.client_id, client_credential=info.client_secret,
                                           authority=f"{info.authority_host}/{info.tenant_id}",
                                           instance_discovery=False, verify=str(info.ca_file), timeout=5)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(info.ca_file))
    msal.ConfidentialClientApplication(info.client_id, client_credential=info.client_secret,
                                       authority=f"{info.authority_host}/{info.tenant_id}",
                                       instance_discovery=False, verify=True, timeout=5)


def test_settings_file_loads_with_outmail(sandbox_clean):
    from tui.settings.store import load_settings

    info = sandbox_clean.info
    settings = load_settings(info.settings_path, env={})
    assert settings.is_m365
    assert (settings.host, settings.port) == (info.smtp_host, info.smtp_port)
    assert settings.username == settings.sender == info.mailbox and settings.userasfrom is False
    assert (settings.client_id, settings.client_tenant) == (info.client_id, info.tenant_id)
    assert settings.client_secret.reveal() == info.client_secret
    assert settings.authority_host == info.authority_host
    assert settings.scope == "https://outlook.office365.com/.default"
    assert settings.ca_file == str(info.ca_file)


def test_dsn_parameters_accepted(sandbox_clean):
    import smtplib

    sb = sandbox_clean
    info = sb.info
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as s:
        s.starttls(context=ssl.create_default_context(cafile=str(info.ca_file)))
        s.ehlo("client.example")
        s.login(info.mailbox, info.password)
        assert s.mail(info.mailbox, ["RET=HDRS", "ENVID=abc"]) == (250, b"2.1.0 Sender OK")
        assert s.rcpt("a@example.com", ["NOTIFY=FAILURE", "ORCPT=rfc822;a@example.com"]) == \
            (250, b"2.1.5 Recipient OK")
        assert s.data(f"From: {info.mailbox}\r\nSubject: dsn\r\n\r\nx\r\n")[0] == 250
    message = sb.messages()[-1]
    assert message["Subject"] == "dsn" and message["Return-Path"] == f"<{info.mailbox}>"


def test_readme_fault_table_is_current():
    from tui.sandbox.faults import faults_markdown

    readme = (ROOT / "tui" / "sandbox" / "README.md").read_text()
    assert faults_markdown() in readme

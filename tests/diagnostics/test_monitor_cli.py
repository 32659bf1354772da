"""`outmail check --all-tenants / --format nagios|prometheus / --output` and JSON on every exit (`check --json`,
`send --json`), in a subprocess against real sandboxes: exit codes per convention, the metrics file written
atomically, the error document for unusable settings and arguments, no secret anywhere."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.diagnostics.multitenant import tenant_sandboxes
from tests.diagnostics.nagios_grammar import parse_nagios

ROOT = Path(__file__).resolve().parents[2]
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
FLEET = {"healthy": None, "wrong_secret": "wrong-secret", "auth_off": "smtp-auth-disabled-tenant",
         "over_privileged": "over-privileged"}
BROKEN = '\n[tenants.broken.smtp]\nprotocol = "smtpmicrosoft365"\nport = "x"\n'


def outmail(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OUTMAIL_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=60)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with tenant_sandboxes(tmp_path_factory.mktemp("cli-fleet"), FLEET, timeout=5.0, extra=BROKEN) as f:
        yield f


def assert_clean(fleet, proc, *more: str) -> None:
    for out in (proc.stdout, proc.stderr, *more):
        for secret in fleet.secrets:
            assert secret not in out
        assert not JWT_RE.search(out)


@pytest.mark.parametrize("tenant,state,code", [
    ("healthy", "OK", 0), ("over_privileged", "WARNING", 1), ("wrong_secret", "CRITICAL", 2),
    ("auth_off", "CRITICAL", 2), ("broken", "UNKNOWN", 3),
])
def test_nagios_exit_codes_follow_the_plugin_convention(fleet, tenant, state, code):
    proc = outmail("check", "--config", str(fleet.path), "--tenant", tenant, "--format", "nagios")
    assert proc.returncode == code, proc.stdout + proc.stderr
    got, summary, _, perf = parse_nagios(proc.stdout)
    assert got == state
    if state == "UNKNOWN":
        assert summary.startswith(f"settings: {fleet.path}:") and "port (Port) must be a whole number" in summary
        assert perf == []
    else:
        assert summary.startswith(f"{tenant}: ")
        assert any(p.startswith("token=") for p in perf)
    assert_clean(fleet, proc)


def test_all_tenants_nagios(fleet):
    proc = outmail("check", "--config", str(fleet.path), "--all-tenants", "--format", "nagios", "--jobs", "2")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    state, summary, long_lines, perf = parse_nagios(proc.stdout)
    assert state == "CRITICAL"
    assert summary == ("5 tenants: 2 CRITICAL (wrong_secret: token, auth_off: auth), 1 UNKNOWN (broken), "
                       "1 WARNING (over_privileged), 1 OK")
    assert {p.split(".")[0] for p in perf} == set(FLEET)
    assert f"outmail check: tenant broken: {fleet.path}:" in proc.stderr
    assert_clean(fleet, proc)


def test_all_tenants_prometheus_to_a_file_atomically(fleet, tmp_path):
    out = tmp_path / "textfile" / "outmail.prom"
    out.parent.mkdir()
    proc = outmail("check", "--config", str(fleet.path), "--all-tenants", "--format", "prometheus",
                   "--output", str(out))
    assert proc.returncode == 2, proc.stdout + proc.stderr  # a tenant's settings cannot be used
    assert proc.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # node_exporter reads it
    assert os.listdir(out.parent) == ["outmail.prom"]  # no temporary file left behind
    text = out.read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    ok = {s.labels["tenant"]: s.value for s in families["outmail_check_ok"].samples}
    assert ok == {"healthy": 1, "wrong_secret": 0, "auth_off": 0, "over_privileged": 1, "broken": 0}
    assert_clean(fleet, proc, text)

    out.chmod(0o640)  # an admin's choice (group node_exporter) is kept
    proc = outmail("check", "--config", str(fleet.path), "--tenant", "healthy", "--format", "prometheus",
                   "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and os.listdir(out.parent) == ["outmail.prom"]
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    assert [s.labels for s in families["outmail_check_ok"].samples] == [{"tenant": "healthy"}]


def test_prometheus_for_an_unusable_file_says_so_in_the_metrics(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[tenants.default.smtp\n")
    out = tmp_path / "outmail.prom"
    proc = outmail("check", "--config", str(bad), "--all-tenants", "--format", "prometheus", "--output", str(out))
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    assert families["outmail_settings_file_ok"].samples[0].value == 0


def test_all_tenants_json_and_text(fleet):
    proc = outmail("check", "--config", str(fleet.path), "--all-tenants", "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and [t["tenant"] for t in doc["tenants"]] == [*FLEET, "broken"]
    assert doc["tenants"][-1]["error"]["kind"] == "settings"
    assert_clean(fleet, proc)
    proc = outmail("check", "--config", str(fleet.path), "--all-tenants", "--format", "text")
    assert proc.returncode == 2
    assert re.search(r"^Tenants: 5 checked in .* 2 FAILED \(wrong_secret, auth_off\), 1 not checked \(broken\)$",
                     proc.stdout, re.M)
    assert_clean(fleet, proc)


def test_all_tenants_without_unusable_ones_exits_1(fleet, tmp_path):
    text = fleet.path.read_text().replace(BROKEN, "")
    path = tmp_path / "no-broken.toml"
    path.write_text(text)
    proc = outmail("check", "--config", str(path), "--all-tenants", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [t["ok"] for t in json.loads(proc.stdout)["tenants"]] == [True, False, False, True]


# ---- JSON (and Nagios UNKNOWN) on every exit ----------------------------------------------------------------------
def test_check_json_for_a_missing_file(tmp_path):
    proc = outmail("check", "--config", str(tmp_path / "absent.toml"), "--json")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc == {"ok": False, "error": {"kind": "settings", "message": doc["error"]["message"],
                                          "path": str(tmp_path / "absent.toml")}}
    assert doc["error"]["message"].startswith("does not exist")


def test_check_json_for_malformed_toml_has_line_and_column(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[tenants.default.smtp]\nport = 25\nhost = "a" "b"\n')
    proc = outmail("check", "--config", str(p), "--json")
    assert proc.returncode == 2
    err = json.loads(proc.stdout)["error"]
    assert err["kind"] == "settings" and err["path"] == str(p) and err["line"] == 3 and err["column"] >= 1
    assert err["message"].startswith("not valid TOML")


@pytest.mark.parametrize("args,words", [
    (["--rcpt", "not an address"], "--rcpt not an address"),
    (["--all-tenants", "--tenant", "x"], "--all-tenants and --tenant do not go together"),
    (["--output", "x.prom"], "--output is for --format prometheus"),
    (["--format", "nagios"], "--json and --format nagios do not go together"),
    (["--jobs", "0"], "argument --jobs: must be 1 or more, not 0"),
    (["--deadline", "soon"], "argument --deadline: not a number: 'soon'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
])
def test_check_json_for_unusable_arguments(fleet, args, words):
    proc = outmail("check", "--config", str(fleet.path), "--json", *args)  # arguments are judged before the file
    assert proc.returncode == 2, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["error"]["kind"] == "arguments"
    assert words in doc["error"]["message"] and words in proc.stderr


def test_argparse_errors_without_json_keep_argparse_behaviour():
    proc = outmail("check", "--jobs", "0")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("usage: outmail check") and "error: argument --jobs" in proc.stderr
    proc = outmail("frobnicate")
    assert proc.returncode == 2 and proc.stdout == "" and "invalid choice" in proc.stderr


@pytest.mark.parametrize("args", [
    ["--config", "/nonexistent/settings.toml"],
    ["--jobs", "x"],
])
def test_nagios_unknown_for_unusable_settings_or_arguments(args):
    proc = outmail("check", "--format", "nagios", *args)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    state, summary, long_lines, perf = parse_nagios(proc.stdout)
    assert state == "UNKNOWN" and long_lines == [] and perf == []
    assert summary.startswith("settings: /nonexistent/settings.toml: does not exist" if "--config" in args
                              else "arguments: argument --jobs: not a whole number: 'x'")


def test_send_json_on_every_exit(fleet, tmp_path):
    proc = outmail("send", "--config", str(tmp_path / "absent.toml"), "--to", "a@contoso.test", "--json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["kind"] == "settings"
    proc = outmail("send", "--config", str(fleet.path), "--tenant", "healthy", "--to", "not-an-address", "--json")
    assert proc.returncode == 2
    err = json.loads(proc.stdout)["error"]
    assert err["kind"] == "arguments" and "not a valid email address" in err["message"]
    proc = outmail("send", "--config", str(fleet.path), "--json")  # --to is required: argparse's error
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"] == {"kind": "arguments",
                                                "message": "the following arguments are required: --to"}
    no_sender = tmp_path / "no-sender.toml"
    no_sender.write_text(re.sub(r'(?m)^sender = ".*"$', 'sender = ""', fleet.path.read_text()))
    proc = outmail("send", "--config", str(no_sender), "--tenant", "healthy", "--to", "a@contoso.test", "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"] == {"kind": "settings", "path": str(no_sender),
                                                "message": "From: Sender Email is empty; nothing was sent"}
    assert fleet.sandboxes["healthy"].messages() == []
    proc = outmail("send", "--config", str(fleet.path), "--to", "a@contoso.test", "--tenant", "healthy",
                   "--body-file", str(tmp_path / "none.txt"))
    assert proc.returncode == 2 and proc.stdout == ""  # without --json: stderr only, as ever


@pytest.mark.parametrize("argv,expected", [
    (["check", "--json", "--jobs", "0"], ("check", "json")),
    (["--config", "check", "send", "--json"], ("send", "json")),  # a top-level option's value is not the command
    (["check", "--format", "nagios", "--bogus"], ("check", "nagios")),
    (["check", "--format=prometheus"], ("check", "prometheus")),
    (["check", "--format", "nagios", "--json"], ("check", "json")),  # --json always means JSON
    (["--tenant", "a", "check"], ("check", "text")),
])
def test_the_format_of_an_argparse_error_is_read_from_the_raw_arguments(argv, expected):
    from tui.cli import _wanted_output

    assert _wanted_output(argv) == expected


def test_the_readmes_command_lines_parse():
    import shlex

    from tui.cli import build_parser

    text = (ROOT / "README.md").read_text()
    exec_start = re.search(r"^ExecStart=/usr/local/bin/outmail ((?:.*\\\n)*.*)$", text, re.M).group(1)
    nagios_line = re.search(r"command_line\s+/usr/local/bin/outmail (.*)$", text, re.M).group(1)
    for line in (exec_start.replace("\\\n", " "), nagios_line.replace("$ARG1$", "/etc/outmail/settings.toml")):
        args = build_parser().parse_args(shlex.split(line))
        assert args.command == "check" and args.all_tenants and args.deadline > 0
        assert args.format in ("nagios", "prometheus")
        assert args.output is None or args.format == "prometheus"

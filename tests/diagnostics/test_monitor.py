"""Monitoring runs against real sandboxes, one per tenant: every tenant judged on its own, a hung tenant ends at its
timeout without delaying the others, concurrency bounded by --jobs, nothing sent, no secret in any format, and the
formats parse (Prometheus' own parser; the Nagios plugin guidelines' status line and perfdata grammar)."""

from __future__ import annotations

import json
import re
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.diagnostics.multitenant import tenant_sandboxes
from tests.diagnostics.nagios_grammar import PERF_ITEM_RE, parse_nagios
from tui.diagnostics import nagios, prometheus
from tui.diagnostics.text import report_text
from tui.diagnostics.report import Report, StepResult, TokenInfo
from tui.diagnostics.monitor import MonitorRun, TenantResult, check_tenants, run_monitor, worst
from tui.invocation import load_tenants
from tui.settings.store import SettingsFileError

TIMEOUT = 2.0
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
FLEET = {"healthy": None, "wrong_secret": "wrong-secret", "auth_off": "smtp-auth-disabled-tenant",
         "silent": "silent-server", "token_hang": "token-hang", "over_privileged": "over-privileged"}
BROKEN = '\n[tenants.broken.smtp]\nprotocol = "smtpmicrosoft365"\nport = "x"\n'
EXPECTED = {"healthy": ("OK", None), "wrong_secret": ("CRITICAL", "token"), "auth_off": ("CRITICAL", "auth"),
            "silent": ("CRITICAL", "ehlo"), "token_hang": ("CRITICAL", "token"),
            "over_privileged": ("WARNING", None), "broken": ("UNKNOWN", None)}

@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with tenant_sandboxes(tmp_path_factory.mktemp("fleet"), FLEET, timeout=TIMEOUT, extra=BROKEN) as f:
        yield f


@pytest.fixture(scope="module")
def fleet_run(fleet):
    t = time.perf_counter()
    run = run_monitor(fleet.path, all_tenants=True, jobs=8)
    return run, time.perf_counter() - t


def test_every_tenant_is_judged_on_its_own(fleet_run):
    run, _ = fleet_run
    assert [r.tenant for r in run.results] == list(FLEET) + ["broken"]  # the file's order
    for r in run.results:
        state, step = EXPECTED[r.tenant]
        assert r.state == state, (r.tenant, r.summary())
        if step:
            assert r.report.failed_step.id == step, report_text(r.report)
    by = {r.tenant: r for r in run.results}
    assert by["wrong_secret"].report.failed_step.hint.id == "invalid-secret"
    assert by["auth_off"].report.failed_step.hint.id == "smtp-auth-disabled-tenant"
    assert by["silent"].report.failed_step.detail[0] == f"no answer within {TIMEOUT:g} s"
    assert by["broken"].error.kind == "settings" and by["broken"].error.line is not None
    assert "port (Port) must be a whole number" in by["broken"].error.message
    assert run.state == "CRITICAL" and nagios.exit_code(run) == 2
    assert run.exit_code == 2  # a tenant whose settings cannot be used wins over failed steps


def test_a_hung_tenant_ends_at_its_timeout_and_delays_no_other(fleet_run):
    """Told by order and by the reports, never by how fast this machine is: a hung tenant waited its timeout (a lower
    bound its server forces) and failed once, by that timeout, with nothing waited after it; every tenant started
    before the first hung one ended, and the others ended before it."""
    run, _ = fleet_run
    by = {r.tenant: r for r in run.results}
    hung = ("silent", "token_hang")
    for name in hung:
        r = by[name]
        assert r.finished - r.started >= TIMEOUT * 0.95, (name, r.finished - r.started)
        failed = [s for s in r.report.steps if s.status == "fail"]
        assert len(failed) == 1, (name, [(s.id, s.detail[:1]) for s in failed])
        assert re.search(rf"no answer within {TIMEOUT:g} s|timed out", failed[0].detail[0]), failed[0].detail
    first_hung_end = min(by[name].finished for name in hung)
    for r in run.results:
        assert r.started < first_hung_end, r.tenant  # no tenant waited for a hung one to start
        if r.tenant not in hung:
            assert r.finished <= first_hung_end, r.tenant  # nor to end


def test_nothing_is_sent(fleet, fleet_run):
    for name, sb in fleet.sandboxes.items():
        assert sb.messages() == [], name
        commands = [e["command"].split(":")[0].upper() for e in sb.smtp_events()]
        assert "DATA" not in commands and "BDAT" not in commands, name
    healthy = [e["command"] for e in fleet.sandboxes["healthy"].smtp_events()]
    assert "RSET" in healthy and any(c.startswith("RCPT TO:") for c in healthy)


def test_no_secret_in_any_format(fleet, fleet_run):
    run, _ = fleet_run
    outputs = [run.to_text(), json.dumps(run.to_json()), nagios.render(run), prometheus.render(run)]
    for out in outputs:
        for secret in fleet.secrets:
            assert secret not in out
        assert not JWT_RE.search(out)


def test_prometheus_text_parses_with_the_client_library(fleet_run):
    run, _ = fleet_run
    text = prometheus.render(run)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {m.name for m in prometheus.METRICS}
    for metric in prometheus.METRICS:
        fam = families[metric.name]
        assert fam.type == "gauge" and fam.documentation == metric.help
        for sample in fam.samples:
            assert set(sample.labels) == set(metric.labels), sample
    value = {(f.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}

    def get(name, tenant=None, step=None):
        labels = tuple(sorted({k: v for k, v in (("tenant", tenant), ("step", step)) if v}.items()))
        return value.get((name, labels))

    assert get("outmail_settings_file_ok") == 1
    for step in ("settings", "token", "connect", "ehlo", "starttls", "auth", "envelope", "quit"):
        assert get("outmail_step_ok", "healthy", step) == 1
        assert get("outmail_step_duration_seconds", "healthy", step) >= 0
    assert get("outmail_step_ok", "wrong_secret", "token") == 0
    assert get("outmail_step_ok", "wrong_secret", "auth") is None  # skipped: no sample
    assert get("outmail_step_ok", "auth_off", "auth") == 0
    assert get("outmail_step_ok", "silent", "ehlo") == 0
    assert get("outmail_step_duration_seconds", "silent", "ehlo") >= TIMEOUT * 0.95
    assert [get("outmail_check_ok", t) for t in EXPECTED] == [1, 0, 0, 0, 0, 1, 0]
    assert get("outmail_check_warnings", "over_privileged") == 1
    assert get("outmail_check_warnings", "broken") is None and get("outmail_check_ok", "broken") == 0
    assert 3000 < get("outmail_token_expiry_seconds", "healthy") <= 3600
    assert get("outmail_token_expiry_seconds", "wrong_secret") is None
    for tenant in EXPECTED:
        assert run.started - 1 <= get("outmail_check_timestamp_seconds", tenant) <= run.finished + 1
    assert text.endswith("\n")
    # no sample timestamps: node_exporter's textfile collector refuses them
    assert all(s.timestamp is None for f in families.values() for s in f.samples)


def test_nagios_output_follows_the_plugin_guidelines(fleet_run):
    run, _ = fleet_run
    state, summary, long_lines, perf = parse_nagios(nagios.render(run))
    assert state == "CRITICAL"
    assert summary == ("7 tenants: 4 CRITICAL (wrong_secret: token, auth_off: auth, silent: ehlo, token_hang: token), "
                       "1 UNKNOWN (broken), 1 WARNING (over_privileged), 1 OK")
    labels = [PERF_ITEM_RE.match(p).group(2) for p in perf]
    assert len(labels) == len(set(labels))
    assert "healthy.token" in labels and "healthy.token_minutes_left" in labels and "silent.ehlo" in labels
    assert "wrong_secret.auth" not in labels  # skipped: no datum
    token = next(p for p in perf if p.startswith("healthy.token="))
    assert re.fullmatch(r"healthy\.token=\d+\.\d{3}s;;;0", token)
    minutes = next(p for p in perf if p.startswith("healthy.token_minutes_left="))
    assert 50 <= int(minutes.split("=")[1].split(";")[0]) <= 60
    headers = [line for line in long_lines if line.startswith("[")]
    assert [h.split("]")[0][1:] for h in headers] == ["CRITICAL"] * 4 + ["UNKNOWN", "WARNING", "OK"]
    text = "\n".join(long_lines)
    assert "Setup step: S8" in text and "Get-TransportConfig ¦ fl SmtpClientAuthenticationDisabled" in text
    assert "(hint invalid-secret)" in text and "(hint server-silent)" in text
    assert "[UNKNOWN] broken: settings cannot be used: " in text
    assert re.search(r"^  token: WARN least privilege: full_access_as_app", text, re.M)


def test_nagios_one_tenant_has_plain_labels(fleet):
    run = run_monitor(fleet.path, tenant="auth_off")
    state, summary, long_lines, perf = parse_nagios(nagios.render(run))
    assert state == "CRITICAL" and nagios.exit_code(run) == 2
    assert summary.startswith("auth_off: FAILED at auth in ") and "535 5.7.139" in summary
    assert {p.split("=")[0] for p in perf} == {"settings", "token", "connect", "ehlo", "starttls", "auth", "quit",
                                              "token_minutes_left"}
    assert long_lines[0].startswith("  auth: FAIL 535 5.7.139")


def test_json_lists_every_tenant(fleet_run):
    run, _ = fleet_run
    doc = json.loads(json.dumps(run.to_json()))
    assert set(doc) == {"ok", "tenants"} and doc["ok"] is False
    assert [t["tenant"] for t in doc["tenants"]] == list(EXPECTED)
    healthy = doc["tenants"][0]
    assert set(healthy) == {"tenant", "ok", "model", "steps"} and healthy["ok"] is True
    assert [s["id"] for s in healthy["steps"]][-2:] == ["envelope", "quit"]
    broken = doc["tenants"][-1]
    assert broken["ok"] is False and broken["error"]["kind"] == "settings"
    assert broken["error"]["path"] == str(run.path) and isinstance(broken["error"]["line"], int)


def test_text_is_each_report_then_one_line(fleet_run):
    run, _ = fleet_run
    text = run.to_text()
    for name in FLEET:
        assert f"(tenant {name})" in text
    assert "outmail check: tenant broken: settings cannot be used: " in text
    assert re.search(r"^Tenants: 7 checked in \d+\.\d\d s: 1 passed, 1 passed with warnings \(over_privileged\), "
                     r"4 FAILED \(wrong_secret, auth_off, silent, token_hang\), 1 not checked \(broken\)$",
                     text, re.M), text


def test_one_tenant_json_keeps_checks_shape(fleet):
    run = run_monitor(fleet.path, tenant="healthy")
    assert set(run.to_json()) == {"ok", "model", "steps"} and run.exit_code == 0 and run.state == "OK"


# ---- concurrency and the deadline, on slow tenants -----------------------------------------------------------------
SLOW = {f"slow{i}": "slow-smtp" for i in range(4)}


@pytest.fixture(scope="module")
def slow_fleet(tmp_path_factory):
    with tenant_sandboxes(tmp_path_factory.mktemp("slow"), SLOW, timeout=5.0, delay=0.1) as f:
        yield f


def smtp_connections(fleet) -> list[tuple[float, float]]:
    """(first event, last event) of every SMTP connection the sandboxes saw, server-side clocks."""
    spans = []
    for sb in fleet.sandboxes.values():
        by_conn: dict[int, list[float]] = {}
        for e in sb.smtp_events():
            by_conn.setdefault(e["connection"], []).append(e["time"])
        spans += [(min(t), max(t)) for t in by_conn.values()]
    return spans


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda x: (x[0], x[1]))
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def test_concurrency_is_bounded_by_jobs(slow_fleet):
    before = {name: len(sb.smtp_events()) for name, sb in slow_fleet.sandboxes.items()}
    run = run_monitor(slow_fleet.path, all_tenants=True, jobs=2)
    assert [r.state for r in run.results] == ["OK"] * 4
    spans = []
    for name, sb in slow_fleet.sandboxes.items():
        events = sb.smtp_events()[before[name]:]
        assert len({e["connection"] for e in events}) == 1, name
        spans.append((events[0]["time"], events[-1]["time"]))
    assert most_at_once(spans) == 2  # bounded by --jobs, and concurrent up to it
    intervals = [(r.started, r.finished) for r in run.results]
    assert most_at_once(intervals) == 2


def last_connection(sb) -> int:
    return sb.smtp_events()[-1]["connection"]


def test_deadline_fails_the_running_step_and_keeps_the_rest(slow_fleet):
    slow = slow_fleet.sandboxes["slow0"]
    slow.delay_seconds = 1.0
    try:
        t = time.perf_counter()
        run = run_monitor(slow_fleet.path, all_tenants=True, jobs=4, deadline=1.5)
        wall = time.perf_counter() - t
    finally:
        slow.delay_seconds = 0.1
    by = {r.tenant: r for r in run.results}
    cut = by["slow0"]
    assert cut.state == "CRITICAL", report_text(cut.report)
    failed = [s for s in cut.report.steps if s.status == "fail"]
    assert failed and all(s.detail[0].startswith("no result within the deadline of 1.5 s (--deadline)")
                          for s in failed)
    assert cut.report.step("settings").status == "ok"
    assert cut.report.step("quit").status == "skipped"
    assert [by[f"slow{i}"].state for i in (1, 2, 3)] == ["OK"] * 3
    # cut, not waited out: uncut, slow0 needed one 1 s delay per reply of a whole session (as many as slow1 got)
    replies = sum(1 for e in slow_fleet.sandboxes["slow1"].smtp_events() if e["connection"] == last_connection(
        slow_fleet.sandboxes["slow1"]))
    assert replies >= 8 and wall < replies * 1.0, (replies, wall)
    state, _, long_lines, _ = parse_nagios(nagios.render(run))
    assert state == "CRITICAL" and any("no result within the deadline" in line for line in long_lines)


# ---- without the network -------------------------------------------------------------------------------------------
def fake_result(tenant: str, statuses: dict[str, str]) -> TenantResult:
    steps = [StepResult(sid, sid.title(), status, 12.5 if status != "skipped" else None,
                        [f"{sid} detail | with a pipe"]) for sid, status in statuses.items()]
    token = TokenInfo("cache", "eyJ0…", 1799, {}, None, "")
    return TenantResult(tenant, Report(steps=steps, transcript=[], token=token, duration_ms=40.0), None, 10.0, 11.0)


def test_prometheus_escapes_label_values_and_the_parser_reads_them_back():
    odd = 'odd "tenant" \\ with\nnewline'
    run = MonitorRun(__import__("pathlib").Path("s.toml"), True,
                     (fake_result(odd, {"settings": "ok", "token": "warn", "auth": "fail", "quit": "skipped"}),),
                     None, 10.0, 11.0)
    families = {f.name: f for f in text_string_to_metric_families(prometheus.render(run))}
    steps = {s.labels["step"]: s.value for s in families["outmail_step_ok"].samples}
    assert steps == {"settings": 1, "token": 1, "auth": 0}
    assert {s.labels["tenant"] for s in families["outmail_step_ok"].samples} == {odd}
    assert families["outmail_token_expiry_seconds"].samples[0].value == 1799
    assert families["outmail_check_timestamp_seconds"].samples[0].value == 11.0


def test_nagios_labels_are_quoted_and_pipes_never_reach_the_text():
    run = MonitorRun(__import__("pathlib").Path("s.toml"), True,
                     (fake_result("it's a|b", {"settings": "ok", "auth": "fail"}),), None, 10.0, 11.0)
    state, _, long_lines, perf = parse_nagios(nagios.render(run))
    assert state == "CRITICAL"
    assert perf[0] == "'it''s a¦b.settings'=0.013s;;;0"
    assert nagios.perf_label("plain.token") == "plain.token" and nagios.perf_label("a b") == "'a b'"
    assert nagios.clean("a\nb | c") == "a b ¦ c"


def test_unknown_line_for_unusable_settings():
    from tui.diagnostics.unusable import Unusable

    err = Unusable("settings", "not valid TOML: x | y", "/etc/outmail/settings.toml", 3, 7)
    assert nagios.unknown(err) == "OUTMAIL UNKNOWN - settings: /etc/outmail/settings.toml:3:7: not valid TOML: x ¦ y\n"
    run = MonitorRun(__import__("pathlib").Path("s.toml"), True, (), err, 1.0, 1.0)
    assert nagios.exit_code(run) == 3 and run.exit_code == 2 and nagios.render(run) == nagios.unknown(err)
    families = {f.name: f for f in text_string_to_metric_families(prometheus.render(run))}
    assert list(families) == ["outmail_settings_file_ok"] and families["outmail_settings_file_ok"].samples[0].value == 0


def test_worst_state_order():
    assert worst([]) == "OK"
    assert worst(["OK", "WARNING"]) == "WARNING"
    assert worst(["WARNING", "UNKNOWN"]) == "UNKNOWN"
    assert worst(["UNKNOWN", "CRITICAL", "OK"]) == "CRITICAL"


def test_load_tenants_needs_a_tenant(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("[console]\ntimeout_seconds = 5\n")
    with pytest.raises(SettingsFileError, match="has no tenant"):
        load_tenants(empty)
    with pytest.raises(SettingsFileError, match="does not exist"):
        load_tenants(tmp_path / "absent.toml")
    run = run_monitor(tmp_path / "absent.toml", all_tenants=True)
    assert run.error.kind == "settings" and run.results == () and run.state == "UNKNOWN"


async def test_one_tenants_crash_is_its_own_unknown(fleet, monkeypatch):
    import tui.diagnostics.monitor as monitor

    entries = dict(load_tenants(fleet.path))
    secret = fleet.sandboxes["wrong_secret"].info.client_secret
    real = monitor.diagnose

    async def diagnose(settings, **kwargs):
        if settings.tenant == "wrong_secret":
            raise RuntimeError(f"boom with {secret}")
        return await real(settings, **kwargs)

    monkeypatch.setattr(monitor, "diagnose", diagnose)
    results = await check_tenants([("wrong_secret", entries["wrong_secret"]), ("healthy", entries["healthy"])])
    assert [r.state for r in results] == ["UNKNOWN", "OK"]
    assert results[0].error.kind == "internal" and secret not in results[0].error.message
    assert results[0].error.message.startswith("RuntimeError: boom with ")

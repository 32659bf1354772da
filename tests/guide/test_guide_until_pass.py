"""`until_pass`: rerun after a change until the check passes. With a fake clock for the rules (limit, stop kinds,
timing), against the sandbox with a fault that clears after a delay (real timers, intervals of a second or less),
and `outmail check --until-pass` in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.diagnostics.report import Report, StepResult
from tui.diagnostics.hints import PROPAGATION_HINTS, by_id
from tui.diagnostics.token import TokenCache
from tui.guide.until_pass import until_pass, waiting_helps
from tui.settings.store import load_settings

ROOT = Path(__file__).resolve().parents[2]


def fake_report(hint_id: str | None) -> Report:
    steps = [StepResult("settings", "Settings", "ok"), StepResult("token", "Token", "ok")]
    if hint_id is None:
        steps.append(StepResult("auth", "AUTH", "ok", detail=["235 2.7.0 Authentication successful"]))
    else:
        steps.append(StepResult("auth", "AUTH", "fail", hint=by_id(hint_id, reply=f"reply for {hint_id}")))
    return Report(steps=steps, transcript=[])


class FakeTime:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def runs(*outcomes: str | None, cost: float = 2.0, clock: FakeTime):
    queue = list(outcomes)

    async def run_once() -> Report:
        clock.now += cost
        return fake_report(queue.pop(0) if len(queue) > 1 else queue[0])

    return run_once


async def test_passes_after_the_change_applies():
    t = FakeTime()
    seen = []
    result = await until_pass(runs("exchange-refused-token", "exchange-refused-token", None, clock=t), every=300,
                              limit=7200, changed_at=t.now - 60, clock=t.clock, sleep=t.sleep, on_status=seen.append)
    assert result.stop == "passed" and result.ok and result.exit_code == 0
    assert [a.number for a in result.attempts] == [1, 2, 3]
    assert [a.ok for a in result.attempts] == [False, False, True]
    assert result.attempts[0].hint_id == "exchange-refused-token"
    assert result.attempts[0].summary == "FAILED at auth: reply for exchange-refused-token"
    assert t.slept == [298.0, 298.0]  # every 300 s from each run's start; each run took 2 s
    phases = [(s.phase, s.attempt) for s in seen]
    assert phases == [("running", 1), ("waiting", 1), ("running", 2), ("waiting", 2), ("running", 3), ("done", 3)]
    waiting = [s for s in seen if s.phase == "waiting"]
    assert waiting[0].next_run_at == 1300.0 and waiting[0].next_run_in == 298.0
    assert waiting[0].since_change == 62.0 and waiting[1].since_change == 362.0
    assert "next run in" in waiting[0].text() and "after the change" in waiting[0].text()
    assert result.text() == "Until pass: passed at attempt 3, 11 min after the change"
    assert seen[-1].stop == "passed"


async def test_stops_at_a_failure_waiting_does_not_fix():
    t = FakeTime()
    result = await until_pass(runs("invalid-secret", clock=t), every=60, limit=600, clock=t.clock, sleep=t.sleep)
    assert result.stop == "not-propagation" and result.exit_code == 1 and len(result.attempts) == 1
    assert t.slept == []
    assert "not one that waiting for Exchange fixes" in result.text()
    # a propagation failure followed by another kind stops there too
    t = FakeTime()
    result = await until_pass(runs("smtp-auth-disabled-mailbox", "connect-refused", clock=t), every=60, limit=600,
                              clock=t.clock, sleep=t.sleep)
    assert result.stop == "not-propagation" and len(result.attempts) == 2


async def test_stops_at_the_limit():
    t = FakeTime()
    result = await until_pass(runs("exchange-refused-token-rbac", clock=t), every=300, limit=1000, clock=t.clock,
                              sleep=t.sleep)
    assert result.stop == "limit" and result.exit_code == 1
    assert [a.started_at - 1000.0 for a in result.attempts] == [0.0, 300.0, 600.0, 900.0]  # 1200 > 1000
    assert "the time limit is reached (--for)" in result.text()
    assert result.to_json()["attempts"] == 4 and result.to_json()["stop"] == "limit"


async def test_a_run_longer_than_the_interval_starts_the_next_at_once():
    t = FakeTime()
    result = await until_pass(runs("sendas-denied", "sendas-denied", None, cost=90.0, clock=t), every=60, limit=600,
                              clock=t.clock, sleep=t.sleep)
    assert result.ok and t.slept == []
    assert [a.started_at - 1000.0 for a in result.attempts] == [0.0, 90.0, 180.0]


async def test_arguments_and_cancel():
    with pytest.raises(ValueError):
        await until_pass(runs(None, clock=FakeTime()), every=0, limit=10)
    with pytest.raises(ValueError):
        await until_pass(runs(None, clock=FakeTime()), every=1, limit=float("inf"))
    waiting = asyncio.Event()

    async def fail_once() -> Report:
        return fake_report("exchange-refused-token")

    task = asyncio.ensure_future(until_pass(fail_once, every=3600, limit=7200,
                                            on_status=lambda s: waiting.set() if s.phase == "waiting" else None))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_propagation_kinds():
    assert waiting_helps(fake_report("exchange-refused-token"))
    assert not waiting_helps(fake_report(None))
    assert not waiting_helps(fake_report("invalid-secret"))
    assert {"exchange-refused-token", "exchange-refused-token-rbac", "smtp-auth-disabled-tenant",
            "smtp-auth-disabled-mailbox", "sendas-denied"} <= PROPAGATION_HINTS


# ---- against the sandbox: a fault that clears after a delay ------------------------------------------------------

EVERY = 0.25  # seconds from one run's start to the next's


def settings_for(sb, **changes):
    return load_settings(sb.info.settings_path, env={}).with_changes(**{"timeout_seconds": 2.0, **changes})


@pytest.mark.parametrize("fault,fixed", [("smtp-auth-disabled-mailbox", None), ("rbac-out-of-scope", "rbac"),
                                         ("no-mailbox-permission", None)])
async def test_waits_until_the_sandbox_fault_clears(sandbox_clean, sandbox_env, fault, fixed):
    from tui.diagnostics.engine import diagnose

    sb = sandbox_clean
    sb.set_fault(fault)
    s = settings_for(sb)
    cache = TokenCache()
    seen = []

    def on_status(status) -> None:
        seen.append(status)
        if status.phase == "waiting" and status.attempt == 2:
            sb.set_fault(fixed)  # Exchange applies the change a while later: after two runs said "not yet"

    result = await until_pass(lambda: diagnose(s, token_cache=cache), every=EVERY, limit=30, on_status=on_status)
    assert result.stop == "passed", [a.summary for a in result.attempts]
    assert len(result.attempts) == 3  # two "not yet", then the pass
    assert all(not a.ok and a.hint_id in PROPAGATION_HINTS for a in result.attempts[:-1])
    assert result.attempts[-1].ok and result.report.ok
    starts = [a.started_at for a in result.attempts]
    assert all(b - a >= EVERY * 0.9 for a, b in zip(starts, starts[1:]))  # real timers between the runs
    assert seen[-1].phase == "done" and seen[-1].stop == "passed"
    assert seen[-1].since_change >= 2 * EVERY * 0.9


async def test_a_wrong_secret_stops_at_once(sandbox_clean, sandbox_env):
    from tui.diagnostics.engine import diagnose

    sb = sandbox_clean
    sb.set_fault("wrong-secret")
    s = settings_for(sb)
    result = await until_pass(lambda: diagnose(s, token_cache=TokenCache()), every=0.5, limit=30)
    assert result.stop == "not-propagation" and len(result.attempts) == 1
    assert result.attempts[0].hint_id == "invalid-secret"


# ---- outmail check --until-pass ----------------------------------------------------------------------------------

def check(*args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("OUTMAIL_CONFIG", None)
    env.pop("REQUESTS_CA_BUNDLE", None)
    return subprocess.Popen([sys.executable, "-m", "tui", "check", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env, **kw)


def test_cli_waits_for_the_fault_to_clear(sandbox_clean):
    sb = sandbox_clean
    sb.set_fault("smtp-auth-disabled-tenant")
    proc = check("--config", str(sb.info.settings_path), "--until-pass", "--every", "1s", "--for", "60s")
    try:
        first = proc.stdout.readline()  # the first attempt's line, once it is waiting
        assert first.startswith("attempt 1, ") and "FAILED at auth: 535 5.7.139" in first, first
        assert "Exchange may not have applied the change yet; next run in" in first
        sb.set_fault(None)  # the change applies
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, first + out + err
    assert "Result: passed" in out
    assert "Until pass: passed at attempt " in out.splitlines()[-1]
    for text in (first, out, err):
        assert sb.info.client_secret not in text


def test_cli_json_and_refusals(sandbox_clean):
    sb = sandbox_clean
    proc = check("--config", str(sb.info.settings_path), "--until-pass", "--every", "1s", "--for", "10s", "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["until_pass"]["stop"] == "passed" and doc["until_pass"]["attempts"] == 1
    assert doc["until_pass"]["every_s"] == 1.0 and doc["until_pass"]["limit_s"] == 10.0

    sb.set_fault("wrong-secret")
    proc = check("--config", str(sb.info.settings_path), "--until-pass", "--every", "1s", "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert json.loads(out)["until_pass"]["stop"] == "not-propagation"

    for args, words in ((["--until-pass", "--all-tenants"], "one tenant"),
                        (["--until-pass", "--format", "nagios"], "text or JSON"),
                        (["--every", "5m"], "go with --until-pass"),
                        (["--until-pass", "--every", "soon"], "not a duration")):
        fmt = [] if "--format" in args else ["--json"]
        proc = check("--config", str(sb.info.settings_path), *args, *fmt)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode in (2, 3), (args, out, err)
        assert words in out + err, (args, out, err)
        if fmt:
            assert json.loads(out)["ok"] is False and json.loads(out)["error"]["kind"] == "arguments"

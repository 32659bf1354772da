"""Pilot tests of "Waiting out propagation" (w) at 80x24 against the sandbox, with intervals of a second or less:
the diagnostics rerun until a fault that clears after the first attempt is gone; w again, x, a failure waiting does not
fix and the limit stop it; the keys keep working and a rerun never takes the focus from the form (the setup guide's own
`w`: tests/console/test_guide_screen.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Label, OptionList

from tests.console.conftest import ready, until
from tests.console.contrast import screen_text
from tui.console import propagation_wait
from tui.console.diagnostics_pane import DiagnosticsPane
from tui.console.launch import build_app
from tui.console.propagation_wait import PropagationWait, countdown, duration_words

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    from tui.diagnostics.token import DEFAULT_TOKEN_CACHE

    DEFAULT_TOKEN_CACHE.clear()


def pane_of(app) -> DiagnosticsPane:
    return app.main_screen.query_one(DiagnosticsPane)


def wait_of(app) -> PropagationWait | None:
    return propagation_wait.waiting(pane_of(app))


def summary(app) -> str:
    return str(pane_of(app).query_one("#diag-summary", Label).render())


def until_pass_workers(app) -> list:
    return [w for w in app.workers if w.group == "until-pass" and not w.is_finished]


async def run_f5(pilot) -> DiagnosticsPane:
    app = pilot.app
    await pilot.press("f5")
    await until(pilot, lambda: bool(app.main_screen.query(DiagnosticsPane)) and pane_of(app).worker is not None,
                what="the pane's worker")
    pane = pane_of(app)
    await asyncio.wait_for(app.workers.wait_for_complete(), 30)
    await until(pilot, lambda: not pane.running, what="the end of the run")
    await pilot.pause()
    return pane


def flat(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines())


def test_words() -> None:
    assert [duration_words(s) for s in (0.4, 42, 89, 90, 720, 5399, 5400, 7200)] == \
        ["0 s", "42 s", "89 s", "2 min", "12 min", "90 min", "1.5 h", "2 h"]
    assert [countdown(s) for s in (299.2, 299.0, 59.5, 0.0, -3, 3725)] == ["5:00", "4:59", "1:00", "0:00", "0:00",
                                                                           "1:02:05"]


async def test_w_reruns_until_the_fault_clears(demo_settings: Path, sandbox_clean, short_intervals,
                                               clears_after_first_attempt) -> None:
    """w after a failure Exchange applies late (535 5.7.3): attempt 1 fails, the two rows show the attempt, the time
    since the change and the next run; the fault clears; attempt 2, run while the admin is on the form, passes
    without taking the focus; the wait ends by itself and says so; the passing run is the guide's evidence."""
    short_intervals(every=1.0, limit=30)
    sandbox_clean.set_fault("no-mailbox-permission")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        assert summary(app).startswith("✖ FAILED at auth")
        first_run = pane.run_id
        await pilot.press("w")
        await until(pilot, lambda: wait_of(app) is not None and wait_of(app).status is not None
                    and wait_of(app).status.phase == "waiting", what="attempt 1 to fail")
        wait = wait_of(app)
        assert wait.status.attempt == 1 and pane.run_id == first_run + 1  # w ran at once: attempt 1
        await until(pilot, lambda: "attempt 1 failed" in screen_text(app), what="the rows to show it")
        text = screen_text(app)
        assert "… Waiting out propagation: attempt 1 failed; next run in 0:0" in text and "(w stops)" in text, text
        assert " s after the change · every 1 s, up to 30 s, until it passes" in text, text
        assert summary(app).startswith("✖ FAILED at auth")  # the attempt's run, shown by the pane as F5's
        # the keys still work while it waits (the wait is an async worker)
        steps = pane.query_one("#diag-steps", OptionList)
        before = steps.highlighted
        await pilot.press("up")
        await pilot.pause()
        assert steps.highlighted == before - 1
        # to the form: attempt 2 runs in the pane behind it and leaves the focus where the admin is
        await pilot.press("f2")
        await pilot.pause()
        focused = app.focused
        assert focused is not None and focused.id == "f-protocol", focused
        await until(pilot, lambda: wait.finished, what="the wait to end")
        assert app.focused is focused, (app.focused, focused)
        assert app.main_screen.current_pane == "settings-pane"
        assert pane.report.ok and pane.run_id == first_run + 2
        said = app.main_screen.message
        assert said.startswith("✔ Waiting out propagation: passed at attempt 2, ") and "after the change" in said, said
        await until(pilot, lambda: not pane.query(PropagationWait) and not until_pass_workers(app),
                    what="the rows and the worker to go")
        assert app.last_run.report is pane.report  # the guide's evidence: the passing run


async def test_w_again_stops_while_waiting(demo_settings: Path, sandbox_clean, short_intervals) -> None:
    short_intervals(every=60, limit=600)
    sandbox_clean.set_fault("no-mailbox-permission")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        await pilot.press("w")
        await until(pilot, lambda: wait_of(app) is not None and wait_of(app).status is not None
                    and wait_of(app).status.phase == "waiting", what="attempt 1 to fail")
        await until(pilot, lambda: "attempt 1 failed" in screen_text(app), what="the rows to show it")
        assert "next run in 0:5" in screen_text(app) or "next run in 1:00" in screen_text(app), screen_text(app)
        run_id = pane.run_id
        await pilot.press("w")
        await until(pilot, lambda: not until_pass_workers(app), what="the wait's worker to end")
        await pilot.pause()
        assert wait_of(app) is None and "Waiting out propagation" not in screen_text(app)
        assert app.main_screen.message == "Stopped waiting out propagation after 1 attempt"
        assert pane.run_id == run_id and not pane.running


async def test_w_again_cancels_the_running_attempt(demo_settings: Path, sandbox_clean, short_intervals) -> None:
    """Stopping while an attempt's run is going cancels that run too (slow replies keep it going)."""
    short_intervals(every=60, limit=600)
    sandbox_clean.set_fault("slow-smtp")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        sandbox_clean.set_fault(None)
        pane = await run_f5(pilot)
        sandbox_clean.set_fault("slow-smtp")
        await pilot.press("w")
        await until(pilot, lambda: wait_of(app) is not None and wait_of(app).status is not None
                    and wait_of(app).status.phase == "running" and pane.running, what="attempt 1 running")
        await until(pilot, lambda: "attempt 1 running" in screen_text(app), what="the rows to show it")
        assert "… Waiting out propagation: attempt 1 running (w stops)" in screen_text(app)
        await pilot.press("w")
        await until(pilot, lambda: not pane.running and not until_pass_workers(app), what="the run and the wait "
                                                                                           "to stop")
        await pilot.pause()
        assert summary(app).startswith("Cancelled after "), summary(app)
        assert app.main_screen.message == "Stopped waiting out propagation after 1 attempt"


async def test_x_cancels_the_attempt_and_ends_the_wait(demo_settings: Path, sandbox_clean, short_intervals) -> None:
    short_intervals(every=60, limit=600)
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        pane = await run_f5(pilot)
        sandbox_clean.set_fault("slow-smtp")
        await pilot.press("w")
        await until(pilot, lambda: wait_of(app) is not None and pane.running, what="attempt 1 running")
        await pilot.press("x")
        await until(pilot, lambda: not until_pass_workers(app) and wait_of(app) is None, what="the wait to end")
        await pilot.pause()
        said = app.main_screen.message
        assert said == "▲ Waiting out propagation stopped after 1 attempt: the run was cancelled (x)" or \
            said == "Waiting out propagation stopped after 1 attempt: the run was cancelled (x)", said


async def test_a_failure_waiting_does_not_fix_stops_at_once(demo_settings: Path, sandbox_clean,
                                                            short_intervals) -> None:
    short_intervals(every=0.5, limit=30)
    sandbox_clean.set_fault("wrong-secret")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        assert summary(app).startswith("✖ FAILED at token")
        await pilot.press("w")
        await until(pilot, lambda: wait_of(app) is None and not until_pass_workers(app)
                    and "Waiting out propagation" in app.main_screen.message, what="the wait to stop")
        said = app.main_screen.message
        assert said == ("Waiting out propagation stopped at attempt 1, " + said.split(", ", 1)[1]), said
        assert said.endswith("after the change: this failure is not one that waiting for Exchange fixes (see its "
                             "fix)"), said
        assert summary(app).startswith("✖ FAILED at token")


async def test_the_limit_stops_it(demo_settings: Path, sandbox_clean, short_intervals) -> None:
    short_intervals(every=0.4, limit=1.0)
    sandbox_clean.set_fault("smtp-auth-disabled-tenant")
    app = build_app(demo_settings, demo=sandbox_clean)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        await pilot.press("w")
        await until(pilot, lambda: wait_of(app) is None and not until_pass_workers(app)
                    and "Waiting out propagation" in app.main_screen.message, what="the wait to stop")
        said = app.main_screen.message
        assert said.startswith("Waiting out propagation stopped after ") and \
            said.endswith("the limit of 1 s is reached and it still fails"), said
        attempts = int(said.split("after ")[1].split()[0])
        assert 2 <= attempts <= 3, said

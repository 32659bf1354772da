"""Provides "Waiting out propagation" (w in the diagnostics pane and the setup guide): the pane's own diagnostics
rerun on a timer after a change in Exchange until they pass (`tui.guide.until_pass`), and the pane's hook that hands
each finished run to the console (`OutmailApp.record_run`, the setup guide's evidence).

Exchange applies a new service principal, permission, RBAC scope, Send As or SMTP AUTH 30 minutes to 2 hours late, so
"fixed but still failing" is normal for a while. `w` mounts a `PropagationWait` under the pane's summary: two rows
(the attempt, the time since the change, the next run; how it stops). Its async worker awaits `until_pass`, whose
`run_once` asks the pane for a run (`DiagnosticsPane.run_diagnostics`, the run F5 makes, on the settings on screen)
and waits for the pane to say it ended (`run_ended`). It stops at the first pass, at a failure waiting does not fix,
at the limit, when the admin presses `w` again (the attempt's run is cancelled too), or when a run is cancelled (`x`).
A run the admin starts meanwhile (F5, r, n) stands in for the attempt that was running.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual import on, work
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui.console.keytext import first_key

EVERY = 300.0  # seconds from one run's start to the next (as `outmail check --until-pass --every 5m`)
LIMIT = 7200.0  # no run starts later than this after the first (`--for 2h`)
CLOCK = time.time  # until_pass's clock (Unix seconds); the status row counts with it too


def duration_words(seconds: float) -> str:
    """`42 s`, `12 min`, `1.5 h`, `2 h`."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f}".removesuffix(".0") + " h"


def countdown(seconds: float) -> str:
    """`4:59`, `1:04:59`; `0:00` once it is due."""
    total = max(0, int(seconds + 0.999))  # 4:59.2 left shows 5:00 until it is 4:59
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunStopped(Exception):
    """An attempt's run ended without a report: cancelled (x) or broken; the wait stops and says why."""


class PropagationWait(Static):
    """Two rows under the diagnostics pane's summary while its runs are repeated until they pass; `w` again removes
    it, which cancels its worker (a node's workers end with it)."""

    DEFAULT_CSS = """
    PropagationWait {
        width: 1fr;
        height: 2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    class RunRequested(Message):
        """The worker wants the next attempt's run (the handler starts it: the worker never touches widgets)."""

    class StatusChanged(Message):
        """until_pass reported a new phase: running, waiting, done."""

    class Ended(Message):
        """until_pass returned (`result`), or an attempt's run ended without a report (`stopped`: why)."""

        def __init__(self, result: Any = None, stopped: str | None = None) -> None:
            super().__init__()
            self.result = result
            self.stopped = stopped

    def __init__(self, *, every: float = EVERY, limit: float = LIMIT) -> None:
        super().__init__("", id="diag-wait", markup=False)
        self.every = float(every)
        self.limit = float(limit)
        self.status: Any = None  # the last tui.guide.UntilPassStatus
        self.started_at = CLOCK()
        self.attempts = 0  # attempts started
        self.finished = False
        self._future: asyncio.Future[Any] | None = None  # the attempt's report, set by run_ended
        self._target_run: int | None = None  # the pane's run_id of the attempt's run
        self.worker: Any = None
        self._stop_key: str | None = None  # read once from the pane's bindings (the rows change every second)

    # ------------------------------------------------------------------------------------------------ the runner

    def on_mount(self) -> None:
        self._refresh_rows()
        self.set_interval(1.0, self._refresh_rows, name="propagation wait countdown")
        self.worker = self._wait()

    @work(exclusive=True, exit_on_error=False, group="until-pass", description="outmail: waiting out propagation")
    async def _wait(self) -> None:
        """until_pass with the pane's runs; its end comes back as a message (nothing here touches widgets)."""
        from tui.guide.until_pass import until_pass

        try:
            result = await until_pass(self._run_once, every=self.every, limit=self.limit, clock=CLOCK,
                                      on_status=self._on_status)
        except asyncio.CancelledError:
            raise
        except RunStopped as exc:
            self.post_message(self.Ended(stopped=str(exc)))
            return
        except Exception as exc:  # the worker boundary: never a crash (the pane shows the run's own error)
            self.post_message(self.Ended(stopped=f"unexpected {type(exc).__name__}"))
            return
        self.post_message(self.Ended(result))

    async def _run_once(self) -> Any:
        """One attempt: ask the pane for a run, then wait until the pane says it ended (run_ended)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._future = future
        self._target_run = None
        self.post_message(self.RunRequested())
        try:
            return await future
        finally:
            self._future = None

    def _on_status(self, status: Any) -> None:
        self.status = status
        self.post_message(self.StatusChanged())

    @on(RunRequested)
    def _start_run(self, message: RunRequested) -> None:
        message.stop()
        pane = self.parent
        if self.finished or pane is None:
            return
        self.attempts += 1
        if getattr(pane, "running", False):  # a run the admin started is going: it is this attempt
            self._target_run = pane.run_id
            return
        sync = getattr(self.app, "sync_form", None)
        if sync is not None:
            sync()  # the values on screen, as F5 takes them
        settings = getattr(self.app, "current_settings", None) or getattr(pane, "_settings", None)
        pane.run_diagnostics(settings, take_focus=self._pane_in_view())
        self._target_run = pane.run_id

    def _pane_in_view(self) -> bool:
        """Whether the admin is looking at the pane (else a run must not take the focus from the form)."""
        main = getattr(self.app, "main_screen", None)
        return self.app.screen is self.screen and getattr(main, "current_pane", None) == "diagnostics-pane"

    def run_ended(self, run_id: int, report: Any, *, complete: bool) -> None:
        """The pane's run `run_id` ended (complete: with a Report; else cancelled or broken)."""
        future = self._future
        if future is None or future.done() or self._target_run is None or run_id < self._target_run:
            return
        if complete:
            future.set_result(report)
        elif report is not None and getattr(report, "cancelled", False):
            pane = self.parent
            cancel = f" ({first_key(pane, 'cancel_run')})" if pane is not None else ""
            future.set_exception(RunStopped(f"the run was cancelled{cancel}"))
        else:
            future.set_exception(RunStopped("the diagnostics stopped with an error (see the pane)"))

    @on(StatusChanged)
    def _status_changed(self, message: StatusChanged) -> None:
        message.stop()
        self._refresh_rows()

    @on(Ended)
    def _ended(self, message: Ended) -> None:
        message.stop()
        if self.finished:
            return
        if message.stopped is not None:
            self._finish(f"Waiting out propagation stopped after {self._attempts_text()}: {message.stopped}",
                         "warning")
            return
        result = message.result
        n = len(result.attempts)
        since = duration_words(result.finished_at - result.changed_at)
        if result.stop == "passed":
            self._finish(f"✔ Waiting out propagation: passed at attempt {n}, {since} after the change")
        elif result.stop == "not-propagation":
            self._finish(f"Waiting out propagation stopped at attempt {n}, {since} after the change: this failure is "
                         "not one that waiting for Exchange fixes (see its fix)", "error")
        else:
            self._finish(f"Waiting out propagation stopped after {n} attempt{'s' if n != 1 else ''}, {since} after "
                         f"the change: the limit of {duration_words(self.limit)} is reached and it still fails",
                         "warning")

    def stop_waiting(self) -> None:
        """w again: stop now; the attempt's run, if one is going, is cancelled too."""
        if self.finished:
            return
        pane = self.parent
        if (self._future is not None and self._target_run is not None and pane is not None
                and getattr(pane, "running", False) and pane.run_id == self._target_run):
            pane.action_cancel_run()
        if self.worker is not None:
            self.worker.cancel()
        self._finish(f"Stopped waiting out propagation after {self._attempts_text()}")

    def _attempts_text(self) -> str:
        return f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"

    def _finish(self, text: str, severity: str = "information") -> None:
        self.finished = True
        app = self.app
        say_everywhere(app, text, severity)
        self.remove()
        tell_guides(app)

    # ------------------------------------------------------------------------------------------------ the rows

    def lines(self) -> tuple[str, str]:
        """The two rows (78 columns): the attempt and the next run, then the time since the change and the rule."""
        now = CLOCK()
        status = self.status
        head = "… Waiting out propagation"
        stops = f"({self.stop_key} stops)"
        if status is None:
            first = f"{head}: starting {stops}"
        elif status.phase == "running":
            first = f"{head}: attempt {status.attempt} running {stops}"
        elif status.phase == "waiting" and status.next_run_at is not None:
            first = f"{head}: attempt {status.attempt} failed; next run in {countdown(status.next_run_at - now)} " \
                    f"{stops}"
        else:
            first = f"{head}: attempt {status.attempt} {stops}"
        since = duration_words(now - (status.changed_at if status is not None else self.started_at))
        second = (f"  {since} after the change · every {duration_words(self.every)}, up to "
                  f"{duration_words(self.limit)}, until it passes")
        return first, second

    @property
    def stop_key(self) -> str:
        """The pane's key that stops the wait (its toggle_wait binding: w)."""
        if self._stop_key is None:
            self._stop_key = first_key(self.parent if self.parent is not None else self, "toggle_wait")
        return self._stop_key

    def _refresh_rows(self) -> None:
        if self.finished:
            return
        first, second = self.lines()
        self.update(Content("\n").join([Content.styled(first, "bold $text-accent"), Content(second)]))
        tell_guides(self.app)


# ---------------------------------------------------------------------------------------------------- the pane's hooks


def waiting(pane: Any) -> PropagationWait | None:
    """The pane's running wait, if any."""
    found = [w for w in pane.query(PropagationWait) if not w.finished]
    return found[0] if found else None


def toggle(pane: Any) -> None:
    """w: start waiting out propagation in `pane` (the first attempt runs at once, or is the run going now), or stop."""
    current = waiting(pane)
    if current is not None:
        current.stop_waiting()
        return
    wait = PropagationWait(every=EVERY, limit=LIMIT)
    summaries = pane.query("#diag-summary")
    pane.mount(wait, after=summaries.first() if summaries else None)


def run_ended(pane: Any, *, complete: bool) -> None:
    """The pane's hook when a run ends: a complete run is the console's last run (the setup guide's evidence), and a
    wait learns its attempt's outcome."""
    report = pane.report
    if complete and report is not None:
        record = getattr(pane.app, "record_run", None)
        if record is not None:
            record(report)
    for wait in pane.query(PropagationWait):
        wait.run_ended(pane.run_id, report, complete=complete)
    tell_guides(pane.app)


def say_everywhere(app: Any, text: str, severity: str = "information") -> None:
    """Say it on the main screen's message line and on an open setup guide's (OutmailApp.say; a toast without one)."""
    said = False
    for screen in list(app.screen_stack):
        say = getattr(screen, "say", None)
        if say is not None:
            say(text, severity)
            said = True
    if not said:
        app.notify(text, severity=severity, markup=False)


def tell_guides(app: Any) -> None:
    """An open setup guide shows the wait's rows and whether a run is going."""
    for screen in list(app.screen_stack):
        changed = getattr(screen, "run_state_changed", None)
        if changed is not None:
            changed()

"""The step bookkeeping of one diagnostics run: start, finish, timing, redaction and the events. No Textual here.

`StepRunner` owns the run's `StepResult`s (in order, declared up front), its `Redactor` and transcript `Recorder`,
and sends every event to the run's `emit` callback (`tui.diagnostics.events`). A step body is an async callable
given a `StepHandle`; `run_step` bounds it by `timeout_seconds` times its round trips and turns whatever it raises
into the step's end:

    body returns                 -> the handle's status: ok, or warn (`h.warn(hint)`)
    raise StepFailed(hint, ...)  -> fail with that hint (`h.fail(hint, *details)` raises it)
    raise StepSkipped(why)       -> skipped, detail [why]
    any other Exception          -> fail with the hint the run's `explain` callable gives (the hint table)
    CancelledError               -> skipped, detail [cancel_reason]; re-raised

Every detail line and every hint is redacted when the step ends; a failing hint's `reply` becomes detail[0] (the
step's summary: what went wrong). The engine (`tui.diagnostics.engine`) builds on this with `Run`
(`tui.diagnostics.run`); the step bodies are in the `steps_*` modules.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Awaitable, Callable, Sequence

from tui.diagnostics.events import StepFinished, StepProgress, StepStarted, TranscriptAdded
from tui.diagnostics.hints import Hint
from tui.diagnostics.redact import Redactor
from tui.diagnostics.report import Status, StepResult
from tui.diagnostics.transcript import Recorder

DEFAULT_TIMEOUT_SECONDS = 20.0  # when settings.timeout_seconds is not a positive number

# explain(exc, handle, expired, budget) -> the hint of a step that raised `exc`; `expired`: the step's own budget
# (`budget` seconds) ran out
Explain = Callable[[BaseException, "StepHandle", bool, float], Awaitable[Hint]]


class StepFailed(Exception):
    """Raised inside a step to end it `fail` with `hint` (None: no hint); `details` are added to its detail."""

    def __init__(self, hint: Hint | None, *details: str) -> None:
        super().__init__(hint.id if hint else "failed")
        self.hint = hint
        self.details = details


class StepSkipped(Exception):
    """Raised inside a step that turns out not to apply: it ends `skipped` with the message as its only detail."""


class StepHandle:
    """What a step body works with: `result` (the step's StepResult, mutable while it runs), `detail(text)`,
    `warn(hint)`, `fail(hint, *details)`, `progress(command, reply)`. `status` is how it will end if the body
    returns (ok or warn); after the step it is how it ended."""

    def __init__(self, runner: "StepRunner", result: StepResult) -> None:
        self._runner = runner
        self.result = result
        self.status: Status = "ok"
        self.hint: Hint | None = None

    def detail(self, text: str) -> None:
        """Add a detail line (redacted)."""
        self.result.detail.append(self._runner.redactor.text(text))

    def warn(self, hint: Hint | None = None) -> None:
        """End the step `warn` (it goes on), optionally with a hint (the first warning's hint is replaced by a later
        one given with a hint)."""
        if self.status != "fail":
            self.status = "warn"
            if hint is not None:
                self.hint = hint

    def fail(self, hint: Hint | None, *details: str) -> None:
        """End the step `fail` now (raises StepFailed)."""
        raise StepFailed(hint, *details)

    def progress(self, command: str, reply: str) -> None:
        """Tell listeners the step did `command` and the server's `reply` lets it go on (`reply` "": the command is
        sent, its reply not in yet): a `StepProgress` event with the step so far (both texts redacted)."""
        redact = self._runner.redactor.text
        self._runner.emit_event(StepProgress(self.result.copy(), redact(command), redact(reply)))


class StepRunner:
    """The steps of one run and their events. `steps`: (id, title) pairs in the run's order, all `pending` until
    they start. `timeout`: `settings.timeout_seconds` (s), DEFAULT_TIMEOUT_SECONDS when not a positive number. The
    redactor knows the settings' client secret and password from the start."""

    def __init__(self, settings: Any, emit: Callable[[Any], None] | None, steps: Sequence[tuple[str, str]]) -> None:
        self.settings = settings
        self._emit = emit
        self.t0 = time.perf_counter()
        self.redactor = Redactor([settings.client_secret.reveal(), settings.password.reveal()])
        self.recorder = Recorder(self.redactor, self.t0, on_line=lambda line: self.emit_event(TranscriptAdded(line)))
        self.steps: list[StepResult] = [StepResult(step_id, title) for step_id, title in steps]
        try:
            self.timeout = float(settings.timeout_seconds)
            if not self.timeout > 0:
                raise ValueError
        except (TypeError, ValueError):
            self.timeout = DEFAULT_TIMEOUT_SECONDS
        self.closed = False  # no more events once the run is closed
        self.cancel_reason = "cancelled"  # the detail of a step cut by cancellation

    def emit_event(self, event: Any) -> None:
        if self._emit is not None and not self.closed:
            self._emit(event)

    def now_ms(self) -> float:
        """Milliseconds since the run started (0.1 ms)."""
        return round((time.perf_counter() - self.t0) * 1000, 1)

    def result(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)

    def first_failed(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "fail"), None)

    def start(self, r: StepResult) -> float:
        """Mark `r` running (StepStarted); returns the perf_counter start for `finish`."""
        r.status = "running"
        r.started_ms = self.now_ms()
        self.emit_event(StepStarted(r.copy()))
        return time.perf_counter()

    def finish(self, r: StepResult, status: Status, t: float, hint: Hint | None = None) -> None:
        """End `r` (StepFinished): duration from `t`, detail and hint redacted, a failing hint's reply first."""
        r.status = status
        r.duration_ms = round((time.perf_counter() - t) * 1000, 1)
        r.detail = [self.redactor.text(d) for d in r.detail]
        r.hint = hint.redacted(self.redactor.text) if hint is not None else None
        if status == "fail" and r.hint is not None and r.hint.reply and (not r.detail or r.detail[0] != r.hint.reply):
            if r.hint.reply in r.detail:
                r.detail.remove(r.hint.reply)
            r.detail.insert(0, r.hint.reply)  # the first detail line is the step's summary: what went wrong
        self.emit_event(StepFinished(r.copy()))

    def skip(self, step_id: str, why: str) -> None:
        """End a step that never started `skipped` with `why` (StepFinished); nothing for a step this run does not
        have or that already started."""
        r = next((s for s in self.steps if s.id == step_id), None)
        if r is None or r.status != "pending":
            return
        r.status = "skipped"
        r.detail.append(self.redactor.text(why))
        self.emit_event(StepFinished(r.copy()))

    async def run_step(self, step_id: str, body: Callable[[StepHandle], Awaitable[None]], *, explain: Explain,
                       round_trips: int = 1) -> bool:
        """Run one step, bounded by `timeout` x `round_trips` seconds; True when it ended ok or warn."""
        r = self.result(step_id)
        handle = StepHandle(self, r)
        t = self.start(r)
        budget = self.timeout * round_trips
        try:
            async with asyncio.timeout(budget) as cm:
                await body(handle)
        except StepFailed as f:
            for d in f.details:
                handle.detail(d)
            handle.status = "fail"
            self.finish(r, "fail", t, f.hint)
            return False
        except StepSkipped as sk:
            r.detail[:] = [str(sk)]
            handle.status = "skipped"
            self.finish(r, "skipped", t)
            return False
        except asyncio.CancelledError:
            r.detail[:] = [self.cancel_reason]
            self.finish(r, "skipped", t)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a hint
            hint = await explain(exc, handle, cm.expired(), budget)
            handle.status = "fail"
            self.finish(r, "fail", t, hint)
            return False
        self.finish(r, handle.status, t, handle.hint)
        return True


async def in_daemon_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking function in a daemon thread; cancelling the await abandons the thread at once (its result is
    dropped; a closed loop is not an error)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    def runner() -> None:
        try:
            result, exc = fn(*args), None
        except BaseException as e:  # noqa: BLE001 - handed to the loop
            result, exc = None, e
        try:
            loop.call_soon_threadsafe(settle, result, exc)
        except RuntimeError:  # loop closed: the run was abandoned
            pass

    threading.Thread(target=runner, name="outmail-token", daemon=True).start()
    return await fut

"""The state of one diagnostics run (or test send) as a screen shows it, built only by applying the engine's events.

No Textual, no clock, no network: pure and synchronous. The console's diagnostics pane and test-send dialog each
keep one `RunProgress` per run and, on every engine event of that run, call `apply` and redraw what it says
changed; the tests feed it recorded or constructed event sequences (tests/diagnostics/test_progress.py).

    progress = RunProgress(begun_ms=now())          # the caller's clock, in ms (time.perf_counter() * 1000)
    change = progress.apply(event, now_ms=now())    # RunStarted, StepStarted, StepProgress, TranscriptAdded,
                                                    # StepFinished, RunFinished (tui.diagnostics.events)
    progress.steps          # StepResult snapshots in the run's order (RunStarted lists every step up front)
    progress.transcript     # TranscriptLine, as they came
    progress.commands       # [(command, reply)] of the send step (StepProgress; the SendReport's at the end)
    progress.selected       # the index of the step to show (see `apply`), or None
    progress.state          # "running", then "ok", "failed" (a step failed, or a test send's message was not sent),
                            # "cancelled" or "broken" (an unexpected error, `error` its redacted text)
    progress.report         # the Report at the end (RunFinished's, or the partial one cancelled()/broke() build)
    progress.running_text("x")      # "… running AUTH (5 of 8 steps done; x cancels)"
    progress.summary()              # ("✖ FAILED at auth in 364 ms", "fail") once ended
    progress.fix_step(index), progress.fix_copy(index), progress.transcript_text()
    progress.sent, progress.send_summary(), progress.send_copy()   # the test send's outcome (`send_outcome`)

Times: the caller passes its clock's time (`now_ms`) to `apply`, `cancelled` and `broke`; `RunProgress` never reads
a clock. Step times in the events are offsets from the engine's start (ms); `elapsed_ms(now_ms)` turns the caller's
clock into that scale (the engine's start is taken as the moment RunStarted was applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tui.diagnostics.run_text import failure_summary, fix_copy, format_ms, running_text, summary_text

if TYPE_CHECKING:
    from tui.diagnostics.report import Report, StepResult
    from tui.diagnostics.transcript import TranscriptLine

State = Literal["running", "ok", "failed", "cancelled", "broken"]
SEND_STEP_ID = "send"  # the test send's extra step (tui.mail.send.SEND_STEP_ID; that module loads with the engine)


def send_outcome(report: Any) -> Any:
    """The test send's SendOutcome (sent, reply, queue_id, commands) of a finished run: the Report's
    `outcomes["send"]` (or a SendReport's `send`); None for a run without a send."""
    if report is None:
        return None
    outcomes = getattr(report, "outcomes", None)
    if outcomes and SEND_STEP_ID in outcomes:
        return outcomes[SEND_STEP_ID]
    return getattr(report, "send", None)


@dataclass(frozen=True)
class Change:
    """What one `apply` changed, so a screen redraws only that.

    `laid_out`: the step list was (re)built (RunStarted: every step, pending); `step`: the index of the step whose
    snapshot changed, or None; `command`: a send command was answered (StepProgress); `line`: the transcript line
    added, or None; `ended`: the run ended (RunFinished); `ignored`: the event changed nothing (a run already over)."""

    laid_out: bool = False
    step: int | None = None
    command: bool = False
    line: "TranscriptLine | None" = None
    ended: bool = False
    ignored: bool = False


IGNORED = Change(ignored=True)


HANDED_OVER = "the message was handed to the server, which may deliver it (look in the mailbox before sending again)"
CANCELLED_AFTER_DATA = f"Cancelled after DATA: {HANDED_OVER}"

class RunProgress:
    """One run's state, from its events in order. See the module docstring for the API.

    The step to show (`selected`): the first step at RunStarted, then the latest step that started or ended (not one
    skipped without starting) until the admin chooses a step (`choose`); at the end the first failed step, else
    (unless the admin chose one) the first warned step.
    """

    def __init__(self, *, begun_ms: float = 0.0) -> None:
        self.begun_ms = begun_ms  # when the run was asked for (caller's clock, ms)
        self.engine_t0_ms: float | None = None  # when RunStarted was applied (caller's clock, ms)
        self.steps: list[StepResult] = []
        self.transcript: list[TranscriptLine] = []
        self.commands: list[tuple[str, str]] = []
        self.report: Report | None = None
        self.state: State = "running"
        self.error: str | None = None
        self.selected: int | None = None
        self.admin_moved = False

    # ------------------------------------------------------------------------------------------------ the events

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def complete(self) -> bool:
        """The run ended with the engine's own Report (RunFinished), not cancelled or broken."""
        return self.state in ("ok", "failed")

    def apply(self, event: Any, *, now_ms: float = 0.0) -> Change:
        """Apply one engine event (tui.diagnostics.events) and say what changed. `now_ms`: the caller's clock (ms),
        read only for RunStarted (the engine's start). Events after the end (a cancelled run's stragglers) change
        nothing; an unknown event type raises TypeError."""
        from tui.diagnostics import events as E  # loaded with the engine, before any event exists

        if not self.running:
            return IGNORED
        if isinstance(event, E.TranscriptAdded):
            self.transcript.append(event.line)
            return Change(line=event.line)
        if isinstance(event, E.StepStarted):
            index = self._store(event.step)
            self._follow(index)
            return Change(step=index)
        if isinstance(event, E.StepFinished):
            index = self._store(event.step)
            if event.step.status != "skipped":
                self._follow(index)
            return Change(step=index)
        if isinstance(event, E.StepProgress):
            if self.commands and self.commands[-1] == (event.command, ""):  # the reply to a command already shown
                self.commands[-1] = (event.command, event.reply)
            else:
                self.commands.append((event.command, event.reply))
            index = self._store(event.step)
            return Change(step=index, command=True)
        if isinstance(event, E.RunStarted):
            self.engine_t0_ms = now_ms
            self.steps = [step.copy() for step in event.steps]
            self.selected = 0 if self.steps else None
            self.admin_moved = False
            return Change(laid_out=True)
        if isinstance(event, E.RunFinished):
            return self._finished(event.report)
        raise TypeError(f"not an engine event: {type(event).__name__}")

    def _store(self, step: StepResult) -> int:
        """Replace the step's snapshot; a step RunStarted did not list (not expected: extra steps are declared up
        front) goes last."""
        for i, known in enumerate(self.steps):
            if known.id == step.id:
                self.steps[i] = step
                return i
        self.steps.append(step)
        return len(self.steps) - 1

    def _follow(self, index: int) -> None:
        if not self.admin_moved:
            self.selected = index

    def _finished(self, report: Report) -> Change:
        self.report = report
        self.steps = [s.copy() for s in report.steps]
        send = send_outcome(report)
        if send is not None:
            self.commands = list(send.commands)
        self.state = "ok" if report.ok and (send is None or send.sent) else "failed"
        chosen = next((i for i, s in enumerate(self.steps) if s.status == "fail"), None)
        if chosen is None and not self.admin_moved:
            chosen = next((i for i, s in enumerate(self.steps) if s.status == "warn"), None)
        if chosen is not None:
            self.selected = chosen
        elif self.selected is not None and self.selected >= len(self.steps):
            self.selected = len(self.steps) - 1 if self.steps else None
        return Change(ended=True)

    # ------------------------------------------------------------------------------------------------ the end

    def cancelled(self, *, now_ms: float) -> Report | None:
        """The run was cancelled at `now_ms` (caller's clock): steps still pending or running end `skipped`
        ("cancelled"), a running one with its duration so far; `report` becomes a partial Report (cancelled=True)
        of the steps and transcript so far. Returns it; None (nothing changes) when the run had already ended."""
        return self._stop("cancelled", "cancelled", now_ms)

    def broke(self, error: str, *, now_ms: float) -> Report | None:
        """The run stopped with an unexpected error at `now_ms`: `error` is its text, already redacted (see
        `redacted_error`); steps still pending or running end `skipped` ("not run: the diagnostics stopped") and
        `report` becomes a partial Report (cancelled=False). Returns it; None when the run had already ended."""
        self.error = error
        return self._stop("broken", "not run: the diagnostics stopped", now_ms)

    def _stop(self, state: State, why: str, now_ms: float) -> Report | None:
        if not self.running:
            return None
        from tui.diagnostics.report import Report

        elapsed = self.elapsed_ms(now_ms)
        for step in self.steps:
            if step.status == "running":  # the engine sends no StepFinished for a step it was cancelled in
                step.duration_ms = round(elapsed - (step.started_ms or 0.0), 1)
            if step.status in ("pending", "running"):
                step.status = "skipped"
                step.detail.append(why)
        self.state = state
        self.report = Report(steps=[s.copy() for s in self.steps], transcript=list(self.transcript),
                             duration_ms=elapsed, cancelled=state == "cancelled")
        return self.report

    def elapsed_ms(self, now_ms: float) -> float:
        """`now_ms` (caller's clock) as an offset from the engine's start (from the request before RunStarted), to
        0.1 ms."""
        start = self.engine_t0_ms if self.engine_t0_ms is not None else self.begun_ms
        return round(now_ms - start, 1)

    def axis_now_ms(self, now_ms: float) -> float | None:
        """While running after RunStarted: `now_ms` on the engine's scale (a running step's bar reaches it); else
        None (the waterfall's axis is the run's duration)."""
        if not self.running or self.engine_t0_ms is None:
            return None
        return (now_ms - self.engine_t0_ms)

    # ------------------------------------------------------------------------------------------------ the selection

    def choose(self, index: int | None) -> None:
        """The admin chose the step at `index`: from now on the selection no longer follows the run (the first
        failed step is still selected at the end)."""
        self.admin_moved = True
        self.selected = index

    def step_at(self, index: int | None) -> StepResult | None:
        if index is None or not 0 <= index < len(self.steps):
            return None
        return self.steps[index]

    @property
    def selected_step(self) -> StepResult | None:
        return self.step_at(self.selected)

    # ------------------------------------------------------------------------------------------------ words

    def running_text(self, cancel_keys: str) -> str:
        """`… running AUTH (5 of 8 steps done; x cancels)`; `cancel_keys` names the key that cancels."""
        return running_text(self.steps, cancel_keys)

    def summary(self) -> tuple[str, str]:
        """(text, kind) once ended: the report's summary (`✔ Passed in 237 ms` "ok", `▲ Passed with 1 warning ...`
        "warn", `✖ FAILED at auth in 364 ms` "fail", `Cancelled after 1.20 s` "cancelled"), or for a broken run
        `✖ FAILED: the diagnostics stopped: <error>` "fail". While running: ("", "running")."""
        if self.state == "broken":
            return f"✖ FAILED: the diagnostics stopped: {self.error or 'unknown error'}", "fail"
        if self.running or self.report is None:
            return "", "running"
        return summary_text(self.report)

    def fix_step(self, index: int | None = None) -> StepResult | None:
        """The step whose fix a copy takes: the step at `index` (the one shown) if it has a hint, else the first
        failed step with a hint, else the first warned one; None when no step has a hint."""
        step = self.step_at(index)
        if step is not None and step.hint is not None:
            return step
        for status in ("fail", "warn"):
            for s in self.steps:
                if s.status == status and s.hint is not None:
                    return s
        return None

    def fix_copy(self, index: int | None = None) -> tuple[str, str] | None:
        """(text, what) of `fix_step(index)`: its PowerShell ("the PowerShell for AUTH (4 lines)") or its fix."""
        step = self.fix_step(index)
        return fix_copy(step) if step is not None else None

    @property
    def has_fix(self) -> bool:
        return any(s.hint is not None for s in self.steps)

    def transcript_text(self) -> str:
        """The transcript to copy: the report's when it has one, else the lines so far; one line each, redacted."""
        if self.report is not None and self.report.transcript:
            return self.report.transcript_text()
        return "".join(line.render() + "\n" for line in self.transcript)

    # ------------------------------------------------------------------------------------------------ the test send

    @property
    def sent(self) -> bool:
        """The test send's message was accepted (a complete SendReport whose `send.sent`)."""
        send = send_outcome(self.report) if self.complete else None
        return bool(send is not None and send.sent)

    @property
    def handed_over(self) -> bool:
        """The test send's DATA went out: from then on the server may deliver the message even if the run stops."""
        return any(command.startswith("DATA") for command, _ in self.commands)

    def what_was_sent(self) -> str:
        """A cancelled test send's outcome in words: "nothing was sent", or, once DATA went out, that the server may
        deliver the message (the dialog's status and the console's message line both say this)."""
        return HANDED_OVER if self.handed_over else "nothing was sent"

    def send_summary(self) -> tuple[str, str]:
        """(text, kind) of a test send's end: `✔ Sent in 1.20 s: queue id <id>` "ok", `✖ Not sent at auth: 535 ...`
        "error", `Cancelled: nothing was sent` "cancelled", `✖ The send stopped: <error>` "error"; while running
        ("", "running")."""
        if self.state == "cancelled":
            return (CANCELLED_AFTER_DATA if self.handed_over else "Cancelled: nothing was sent"), "cancelled"
        if self.state == "broken":
            return f"✖ The send stopped: {self.error or 'unknown error'}", "error"
        report = self.report
        if self.running or report is None:
            return "", "running"
        send = send_outcome(report)
        if send is not None and send.sent:
            queue = f"queue id {send.queue_id}" if send.queue_id else "no queue id in the reply"
            return f"✔ Sent in {format_ms(report.duration_ms)}: {queue}", "ok"
        failed = report.failed_step
        where = f" at {failed.id}" if failed is not None else ""
        reply = send.reply if send is not None else None
        return f"✖ Not sent{where}: {reply or failure_summary(failed)}", "error"

    def send_copy(self) -> tuple[str, str] | None:
        """(text, what) a test send's copy takes: after a success the server's reply, after a failure the failed
        step's PowerShell or fix; None before the end, after a cancel or when there is no fix."""
        if not self.complete or self.report is None:
            return None
        if self.sent:
            return send_outcome(self.report).reply or "", "the server's reply"
        failed = self.report.failed_step
        return fix_copy(failed) if failed is not None else None


def redacted_error(settings: Any, exc: BaseException) -> str:
    """`TypeName: message` of an unexpected error, with the settings' secrets (client secret, password) taken out;
    only the type name when the redactor itself fails."""
    text = f"{type(exc).__name__}: {exc}"
    try:
        from tui.diagnostics.redact import Redactor

        return Redactor([settings.client_secret.reveal(), settings.password.reveal()]).text(text)
    except Exception:  # noqa: BLE001 - without a redactor, only the type is safe to show
        return type(exc).__name__

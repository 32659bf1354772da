"""The events of a diagnostics run, in the order `diagnose(settings, emit=callback)` passes them to `callback`.

Plain frozen dataclasses, no Textual. Every `step` is a snapshot copy of a `StepResult` (mutating it changes nothing
in the run); every text in them is already redacted. One consumer can handle them all (`Event` is their union):

    RunStarted(steps)                 once, first: every step of the run in order, all `pending`, including the
                                      extra steps declared up front (e.g. the test send's `send`, before `quit`)
    StepStarted(step)                 a step began (status `running`, `started_ms` set)
    StepProgress(step, command, reply) a running step did one command and it let the step go on (the test send:
                                      after MAIL FROM, each RCPT TO and DATA); `step` is the step so far, `running`
    TranscriptAdded(line)             one transcript line (C:/S:/I:), as it happens
    StepFinished(step)                a step ended: ok, warn, fail or skipped; once per step, also for steps
                                      skipped without having started (no StepStarted for those)
    RunFinished(report)               once, last: the whole `Report` (not sent when the run is cancelled)
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.diagnostics.report import Report, StepResult
from tui.diagnostics.transcript import TranscriptLine


@dataclass(frozen=True)
class RunStarted:
    """The run began. `steps`: every step of this run in order (id, title, status `pending`), extra steps included,
    so a listener can lay out the whole run before anything happens."""

    steps: tuple[StepResult, ...]


@dataclass(frozen=True)
class StepStarted:
    """`step` began: status `running`, `started_ms` its offset from the run's start (ms)."""

    step: StepResult


@dataclass(frozen=True)
class StepProgress:
    """A running step did one command that lets it go on. `step`: the step so far (status `running`, its detail up
    to and including this command); `command`: the command as sent, redacted ("MAIL FROM:<x> BODY=8BITMIME",
    "RCPT TO:<y>", "DATA (N bytes)"); `reply`: the server's whole reply on one line, redacted ("250 2.1.0 Sender
    OK"). A command that ends the step is reported by its StepFinished instead."""

    step: StepResult
    command: str
    reply: str


@dataclass(frozen=True)
class StepFinished:
    """`step` ended: status ok, warn, fail or skipped, `duration_ms` set (None for a step skipped before it
    started), `detail` and `hint` final."""

    step: StepResult


@dataclass(frozen=True)
class TranscriptAdded:
    """One transcript line (`TranscriptLine(t_ms, direction "C"|"S"|"I", text)`), redacted."""

    line: TranscriptLine


@dataclass(frozen=True)
class RunFinished:
    """The run ended (not cancelled); `report` is what `diagnose` returns, the same object (a test send's outcome is
    `report.outcomes["send"]`; `send_test` returns a SendReport view of this Report)."""

    report: Report


Event = RunStarted | StepStarted | StepProgress | StepFinished | TranscriptAdded | RunFinished

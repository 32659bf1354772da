"""Messages the console posts about settings, named for what already happened."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from tui.settings.model import Settings


class SettingsEdited(Message):
    """The form's values changed (one keystroke, a choice or a toggle); `settings` is the new on-screen value.

    `form` is the form that posted it: after a reload or a tenant switch, late messages of the old form are ignored.
    """

    def __init__(self, settings: Settings, form: object = None) -> None:
        super().__init__()
        self.settings = settings
        self.form = form


class SettingsLoaded(Message):
    """A settings file (or one of its tenants) was loaded into the form."""

    def __init__(self, path: Path, tenant: str) -> None:
        super().__init__()
        self.path = path
        self.tenant = tenant


class SettingsSaved(Message):
    """The settings were written to `path`; `error_count` validation errors were still present."""

    def __init__(self, path: Path, tenant: str, error_count: int) -> None:
        super().__init__()
        self.path = path
        self.tenant = tenant
        self.error_count = error_count


class SaveFailed(Message):
    """A save was refused or failed; `reason` is admin-readable text (never markup)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__()
        self.path = path
        self.reason = reason


class DiagnosticsStarted(Message):
    """A diagnostics run began; `steps` are the engine's StepResults, all pending. `run_id` tells runs apart."""

    def __init__(self, run_id: int, steps: tuple) -> None:
        super().__init__()
        self.run_id = run_id
        self.steps = steps


class StepStarted(Message):
    """A diagnostics step began running; `step` is a snapshot of its engine StepResult."""

    def __init__(self, run_id: int, step: object) -> None:
        super().__init__()
        self.run_id = run_id
        self.step = step


class StepFinished(Message):
    """A diagnostics step ended ok, warn, fail or skipped; `step` is a snapshot with its detail and hint (redacted)."""

    def __init__(self, run_id: int, step: object) -> None:
        super().__init__()
        self.run_id = run_id
        self.step = step


class TranscriptAdded(Message):
    """A redacted transcript line (C:, S: or I:) was recorded during a diagnostics run."""

    def __init__(self, run_id: int, line: object) -> None:
        super().__init__()
        self.run_id = run_id
        self.line = line


class DiagnosticsFinished(Message):
    """A diagnostics run ended: `report` when it ran to the end, else `error` (redacted text) or `cancelled`."""

    def __init__(self, run_id: int, report: object = None, *, error: str | None = None,
                 cancelled: bool = False) -> None:
        super().__init__()
        self.run_id = run_id
        self.report = report
        self.error = error
        self.cancelled = cancelled


class SendCommandAnswered(Message):
    """A test send's SMTP command (MAIL FROM, RCPT TO, DATA) got the server's `reply`; `step` is the send step so far.

    The test-send dialog also reuses DiagnosticsStarted / StepStarted / StepFinished for the diagnostics steps that
    run before the send, tagged with its own `run_id`.
    """

    def __init__(self, run_id: int, command: str, reply: str, step: object) -> None:
        super().__init__()
        self.run_id = run_id
        self.command = command
        self.reply = reply
        self.step = step


class SendFinished(Message):
    """A test send ended: `report` (a SendReport) when it ran to the end, else `error` (redacted text)."""

    def __init__(self, run_id: int, report: object = None, *, error: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.report = report
        self.error = error

"""Messages the console posts about settings and runs, named for what already happened."""

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


class EngineEvent(Message):
    """One engine event (tui.diagnostics.events: RunStarted, StepStarted, StepProgress, TranscriptAdded,
    StepFinished, RunFinished) of the run `run_id`, posted by the worker that runs it to its own node (the
    diagnostics pane, the test-send dialog), which applies it to its `tui.diagnostics.progress.RunProgress`. Events
    of an earlier (cancelled) run are told apart by `run_id`. Every text in `event` is already redacted."""

    bubble = False

    def __init__(self, run_id: int, event: object) -> None:
        super().__init__()
        self.run_id = run_id
        self.event = event


class RunBroke(Message):
    """The run `run_id` stopped with an unexpected error, without a report; `error` is its text with the secrets
    taken out (`tui.diagnostics.progress.redacted_error`)."""

    bubble = False

    def __init__(self, run_id: int, error: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.error = error

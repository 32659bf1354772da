"""Fixtures for the console tests: commented settings files, a frozen cursor, and an app builder; the waits
(`ready`, `until`, `run_from_palette`); short intervals for the propagation wait and a fault that clears after
its first attempt (used by test_propagation_wait.py and test_guide_screen.py). Helpers that are not fixtures
or waits (type_into, run_f5, FakeSandbox, canned_diagnose) are in tests/console/helpers.py."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

import pytest
from textual.widgets import Input

from tui.settings.fields import ENV_CLIENT_SECRET, ENV_CONFIG, ENV_PASSWORD

CLIENT_ID = "11111111-2222-3333-4444-555555555555"

COMMENTED_M365 = f"""\
# Outgoing Email for the LogicalDOC production server.
# Owner: mail team. Do not remove these comments.

[tenants.default.smtp]
protocol = "smtpmicrosoft365"   # LogicalDOC: default.smtp.protocol
host = "smtp.office365.com"     # Exchange Online
port = 587                      # submission
connectionSecurity = 1
authEncrypted = true
username = "noreply@contoso.com"  # the mailbox
password = ""
clientId = "{CLIENT_ID}"
clientTenant = "contoso.onmicrosoft.com"
clientSecret = "abc~not-a-real-secret"
sender = "noreply@contoso.com"
userasfrom = false
save.folderId = "4"             # a key outmail does not know: kept

# outmail's own options.
[console]
timeout_seconds = 20
"""

TWO_TENANTS = f"""\
# two tenants
[tenants.acme.smtp]
protocol = "smtpmicrosoft365"
host = "smtp.office365.com"
port = 587
username = "noreply@acme.com"
sender = "noreply@acme.com"
clientId = "{CLIENT_ID}"
clientTenant = "acme.onmicrosoft.com"
clientSecret = "acme~secret"

[tenants.globex.smtp]
protocol = "smtp"
host = "mail.globex.test"
port = 25
connectionSecurity = 0
username = ""
sender = "noreply@globex.test"
"""


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret or config from the developer's environment, no cursor blink, truecolor whatever TERM says (the
    console adapts its colours to 16 colours, tui/console/readable.py): stable snapshots."""
    import textual.constants

    for name in (ENV_CLIENT_SECRET, ENV_PASSWORD, ENV_CONFIG, "OUTMAIL_TEST_CRASH", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "truecolor")


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365, encoding="utf-8")
    return path


@pytest.fixture
def two_tenant_path(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(TWO_TENANTS, encoding="utf-8")
    return path


async def ready(pilot) -> None:
    """Wait until the editable form has replaced the first frame's preview, and the app is idle."""
    await pilot.app.form_ready.wait()
    await pilot.pause()


@pytest.fixture
def demo_settings(sandbox_clean, sandbox_env, tmp_path: Path) -> Path:
    """The sandbox's settings file, copied to tmp_path (so saved reports land there)."""
    path = tmp_path / "settings.toml"
    shutil.copy(sandbox_clean.info.settings_path, path)
    path.chmod(0o600)
    return path


@pytest.fixture
def short_intervals(monkeypatch: pytest.MonkeyPatch):
    """Injects the wait's intervals in seconds (the console's defaults are 5 min and 2 h)."""
    from tui.console import propagation_wait

    def set_intervals(every: float, limit: float) -> None:
        monkeypatch.setattr(propagation_wait, "EVERY", every)
        monkeypatch.setattr(propagation_wait, "LIMIT", limit)

    return set_intervals


@pytest.fixture
def clears_after_first_attempt(monkeypatch: pytest.MonkeyPatch, sandbox_clean):
    """The sandbox fault goes away (Exchange applied the change) as soon as the first attempt has failed."""
    from tui.console.propagation_wait import PropagationWait

    original = PropagationWait._on_status

    def on_status(self, status) -> None:
        if status.phase == "waiting" and status.attempt == 1:
            sandbox_clean.set_fault(None)
        original(self, status)

    monkeypatch.setattr(PropagationWait, "_on_status", on_status)


async def help_text(pilot) -> str:
    """Open F1 help once the form is there, and return its text."""
    from textual.widgets import Static

    await ready(pilot)
    await pilot.press("f1")
    await pilot.pause()
    return str(pilot.app.screen.query_one("#help-text", Static).render())


async def until(pilot, condition: Callable[[], object], timeout: float = 30.0, what: str = "condition",
                describe: Callable[[], str] | None = None) -> None:
    """Let the app run until condition() holds: bounded polling (10 ms steps), no fixed sleep. On timeout the test
    fails naming `what` and showing `describe()` (default: the screen's text)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            if describe is None:
                from tests.console.contrast import screen_text

                describe = lambda: f"screen:\n{screen_text(pilot.app)}"  # noqa: E731
            raise AssertionError(f"timed out waiting for {what}; {describe()}")
        await pilot.pause(0.01)


def _palette_first(app) -> str:
    from textual.command import CommandList, CommandPalette

    screen = app.screen
    if not isinstance(screen, CommandPalette):
        return ""
    options = screen.query_one(CommandList)
    if not options.option_count:
        return ""
    return str(options.get_option_at_index(0).prompt)


async def run_from_palette(pilot, query: str) -> None:
    """ctrl+p, type `query`, wait until the palette's first entry is the one the query names (every word of it in
    the entry's title: the palette searches in the background), then Enter."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    words = query.lower().split()
    await until(pilot, lambda: all(w in _palette_first(pilot.app).lower() for w in words), timeout=10,
                what=f"the palette's entry for {query!r}", describe=lambda: _palette_first(pilot.app))
    await pilot.press("enter")

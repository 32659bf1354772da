"""Real engine event sequences for RunProgress's tests and the console's plain tests: each run once per test session
against the session's sandbox (`recorded`), and applied to a RunProgress in order (`applied`)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.diagnostics.progress import RunProgress

T0 = 1_000_000.0  # the caller's clock (ms) when the run was asked for; RunStarted is applied 5 ms later


@dataclass
class Recording:
    """One real run against the sandbox: the events `emit` got, in order, and what the call returned."""

    events: list[Any] = field(default_factory=list)
    result: Any = None


def sandbox_settings(sandbox):
    """The session sandbox's settings file, loaded (its secrets from the file, not the environment)."""
    from tui.settings.store import load_settings

    return load_settings(Path(sandbox.info.settings_path), env={})


async def _run(sandbox, name: str, recording: Recording) -> None:
    from tui.diagnostics.engine import diagnose
    from tui.diagnostics.token import TokenCache
    from tui.mail.message import build_message
    from tui.mail.send import send_test

    settings = sandbox_settings(sandbox)
    emit = recording.events.append
    if name in ("passed", "auth-failed"):
        recording.result = await diagnose(settings, emit=emit, token_cache=TokenCache())
    elif name == "sent":
        message = build_message(settings, ["alice@example.com", "bob@example.com"], "progress", "hello\n")
        recording.result = await send_test(settings, message, emit=emit, token_cache=TokenCache())
    elif name == "send-as-denied":
        message = build_message(settings, ["alice@example.com"], "progress", "hello\n", send_as="bob@contoso.test")
        recording.result = await send_test(settings, message, emit=emit, token_cache=TokenCache())
    elif name == "send-auth-failed":
        message = build_message(settings, ["alice@example.com"], "progress", "hello\n")
        recording.result = await send_test(settings, message, emit=emit, token_cache=TokenCache())
    else:
        raise KeyError(name)


FAULTS = {"auth-failed": "no-mailbox-permission", "send-auth-failed": "no-mailbox-permission"}


def recorded(sandbox, name: str) -> Recording:
    """The events of one real run against the session's sandbox, recorded on first use and kept on the sandbox
    (the console's plain tests reuse them): "passed" (check, no fault), "auth-failed" (no-mailbox-permission:
    535 5.7.3 at AUTH), "sent" (a test send to two recipients), "send-as-denied" (Send As bob@contoso.test: 554
    5.2.252 after DATA), "send-auth-failed" (a test send refused at AUTH). The sandbox's fault is put back to none."""
    runs = sandbox.__dict__.setdefault("_progress_recordings", {})
    if name not in runs:
        recording = Recording()
        saved = {key: os.environ.pop(key) for key in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if key in os.environ}
        sandbox.set_fault(FAULTS.get(name))
        try:
            asyncio.run(_run(sandbox, name, recording))
        finally:
            sandbox.set_fault(None)
            os.environ.update(saved)
        runs[name] = recording
    return runs[name]


def applied(events: list[Any], *, progress: RunProgress | None = None) -> RunProgress:
    """A RunProgress with `events` applied in order: the run asked for at T0, RunStarted at T0 + 5 ms, each next
    event a millisecond later."""
    progress = progress or RunProgress(begun_ms=T0)
    for i, event in enumerate(events):
        progress.apply(event, now_ms=T0 + 5 + i)
    return progress

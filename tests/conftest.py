"""Shared fixtures.

`sandbox` (session scope): one started `tui.sandbox.Sandbox` for the whole test run (offline Entra ID token service and
Exchange Online SMTP server on 127.0.0.1, a fresh tenant, client id and secret, its own CA in `sandbox.info.ca_file`).
Use it through `sandbox_clean` when a test changes the fault: that fixture yields the same Sandbox with no fault and a
short slow-fault delay (0.3 s), and resets both after the test, so one test's fault never leaks into the next.

    def test_token(sandbox_clean):
        sandbox_clean.set_fault("wrong-secret")
        ...

`sandbox_env` clears REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE for the test: requests lets them override msal's
`verify=<ca_file>` (reference section 10), so a machine that exports them would distrust the sandbox's CA.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox():
    """One Sandbox for the session; stopped (threads joined, temp folder removed) at the end."""
    from tui.sandbox import Sandbox

    with Sandbox(delay_seconds=0.3) as sb:
        yield sb


@pytest.fixture
def sandbox_clean(sandbox):
    """The session Sandbox with no fault and a 0.3 s delay; both restored after the test."""
    sandbox.set_fault(None)
    sandbox.delay_seconds = 0.3
    try:
        yield sandbox
    finally:
        sandbox.set_fault(None)
        sandbox.delay_seconds = 0.3


@pytest.fixture
def sandbox_env(monkeypatch):
    """No REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment for this test."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

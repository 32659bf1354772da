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

Parallel runs (pytest-xdist, `scripts/test` runs `-n 4 --dist loadgroup`): every worker is its own process with its
own session fixtures, so each has its own sandbox (free ports chosen by the OS, its own temp folder; it starts in
some 0.1 s). What must not be set up on several workers is grouped here (`pytest_collection_modifyitems`): a test
using a module- or class-scoped fixture runs with the rest of its module on one worker (the fixture is set up once),
and every test using a fixture of `ONE_WORKER` (Postfix + Dovecot, tests/verdict/conftest.py) runs on one worker.
xdist hands out the biggest groups first, so these long ones do not end the run alone. Other shared things are safe
per worker as they are: the tmux tests use a server socket per test (`tmux -L` with the pid and a counter) in a
private TMUX_TMPDIR; temp files go to pytest's per-worker tmp_path or mkdtemp; the servers bind port 0 or ports
checked free; the Hypothesis database (.hypothesis/, or $HYPOTHESIS_STORAGE_DIRECTORY) is shared on purpose, so a
failing example is replayed whichever worker runs the test next: each test has its own key folder and runs on one
worker at a time, and Hypothesis writes each entry to a temp file renamed into place.
"""

from __future__ import annotations

import pytest

# Session fixtures too slow or too big to set up on every worker: their tests share one worker (group name).
ONE_WORKER = {"mail_servers": "mail_servers"}


def xdist_group_of(item: pytest.Item) -> str | None:
    """The xdist group an item needs, or None: `ONE_WORKER`'s group for a test using one of those fixtures, else
    the module (or class) nodeid for a test using a module-, class- or package-scoped fixture."""
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return None
    for name in item.fixturenames:
        if name in ONE_WORKER:
            return ONE_WORKER[name]
    for name in item.fixturenames:
        defs = fixtures.name2fixturedefs.get(name)
        if defs and defs[-1].scope in ("module", "class", "package"):
            return item.nodeid.split("::")[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that must share a worker with `xdist_group` (used by `--dist loadgroup`; a no-op without
    xdist)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = xdist_group_of(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))


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

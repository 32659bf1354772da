"""Fixtures for the tests against real mail servers (tests/servers).

`mail_servers` (session scope): one started `tests.servers.mailservers.MailServers` for the whole run: our own
Postfix with Dovecot SASL on 127.0.0.1, every listener in `mail_servers.ports` (names and behaviour in
tests/servers/mailservers.py), the private CA in `mail_servers.ca_file`, the SASL users `mail_servers.email_user` /
`mail_servers.sasl_user` with their passwords. Stopped (processes ended, temp dir removed) at the end. It fails, never
skips, when Postfix, Dovecot or root rights are missing.

The LogicalDOC stand-in needs no fixture: `tests.servers.standin.run_logicaldoc_sender(cases)`. Its Java class is
compiled (about 4 s) in the background while the servers start (about 3 s); a compile error is raised by the first
test that runs the stand-in.

Under pytest-xdist every test of this folder is in one `xdist_group` ("mail_servers", added in tests/conftest.py), so
one worker starts the servers once and runs them all while the other workers run the rest.
"""

from __future__ import annotations

import subprocess
import threading

import pytest

from tests.servers.mailservers import MailServers
from tests.servers.standin import StandinError, compile_standin


def _compile_quietly() -> None:
    try:
        compile_standin()
    except (StandinError, OSError, subprocess.SubprocessError):
        pass  # the first test that runs the stand-in compiles again and fails with the compiler's words


@pytest.fixture(scope="session")
def mail_servers():
    """Postfix + Dovecot SASL on 127.0.0.1 for the session (and the stand-in compiled meanwhile)."""
    compiling = threading.Thread(target=_compile_quietly, name="compile-standin", daemon=True)
    compiling.start()
    with MailServers() as servers:
        yield servers

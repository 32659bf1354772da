"""Fixtures for the tests against real mail servers (tests/servers).

`mail_servers` (session scope): one started `tests.servers.mailservers.MailServers` for the whole run: our own
Postfix with Dovecot SASL on 127.0.0.1, every listener in `mail_servers.ports` (names and behaviour in
tests/servers/mailservers.py), the private CA in `mail_servers.ca_file`, the SASL users `mail_servers.email_user` /
`mail_servers.sasl_user` with their passwords. Stopped (processes ended, temp dir removed) at the end. It fails, never
skips, when Postfix, Dovecot or root rights are missing.

The LogicalDOC stand-in needs no fixture: `tests.servers.standin.run_logicaldoc_sender(cases)`.
"""

from __future__ import annotations

import pytest

from tests.servers.mailservers import MailServers


@pytest.fixture(scope="session")
def mail_servers():
    """Postfix + Dovecot SASL on 127.0.0.1 for the session."""
    with MailServers() as servers:
        yield servers

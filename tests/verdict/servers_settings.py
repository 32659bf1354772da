"""Settings pointed at the suite's own Postfix + Dovecot (`tests/servers/`): one listener, LogicalDOC's plain SMTP
fields, the servers' CA; shared by the verdict tests."""

from __future__ import annotations

from tui.secret import Secret
from tui.settings.model import Settings

SENDER = "logicaldoc@example.test"
OUTSIDE = "someone@external.test"


def settings(servers, listener: str, **changes) -> Settings:
    """Settings for `listener` (a key of `servers.ports`): STARTTLS, no secure authentication, no user, a 3 s timeout,
    the servers' CA; `changes` override any of it. A `username` of the servers' users gets its password unless
    `changes` gives one."""
    base = dict(protocol="smtp", host=servers.host, port=servers.ports[listener], connection_security=1,
                auth_encrypted=False, username="", sender=SENDER, timeout_seconds=3.0, ca_file=str(servers.ca_file))
    base.update(changes)
    user = base["username"]
    if user and "password" not in changes:
        base["password"] = Secret(servers.users[user])
    return Settings(**base)

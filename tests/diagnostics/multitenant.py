"""A settings file with several tenants, each pointing at its own sandbox (one fault per tenant).

    with tenant_sandboxes(tmp_path, {"healthy": None, "wrong_secret": "wrong-secret"}, timeout=2.0) as fleet:
        fleet.path                  # the settings file: [tenants.<name>.smtp] + [tenants.<name>.microsoft365] each
        fleet.sandboxes["healthy"]  # the started Sandbox of that tenant
        fleet.secrets               # every sandbox's client secret and password (never in any output)

`[console] ca_file` is one setting for the whole file, so it names a bundle of every sandbox's CA. `extra` is TOML
appended before `[console]` (e.g. a tenant whose table cannot be used). The sandboxes start one after another (each
in well under a second) and are stopped on exit.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tui.sandbox import Sandbox


@dataclass
class Fleet:
    path: Path
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)

    @property
    def secrets(self) -> list[str]:
        return [s for sb in self.sandboxes.values() for s in (sb.info.client_secret, sb.info.password)]


def _q(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def tenant_table(name: str, sb: Sandbox) -> str:
    i = sb.info
    return f"""
[tenants.{name}.smtp]
protocol = "smtpmicrosoft365"
host = {_q(i.smtp_host)}
port = {i.smtp_port}
connectionSecurity = 1
authEncrypted = true
username = {_q(i.mailbox)}
sender = {_q(i.mailbox)}
clientId = {_q(i.client_id)}
clientTenant = {_q(i.tenant_id)}
clientSecret = {_q(i.client_secret)}

[tenants.{name}.microsoft365]
authority_host = {_q(i.authority_host)}
scope = {_q(i.scope)}
"""


@contextlib.contextmanager
def tenant_sandboxes(directory: Path, faults: dict[str, str | None], *, timeout: float = 2.0,
                     delay: float = 0.3, extra: str = "") -> Iterator[Fleet]:
    directory = Path(directory)
    fleet = Fleet(directory / "settings.toml")
    with contextlib.ExitStack() as stack:
        for name, fault in faults.items():
            fleet.sandboxes[name] = stack.enter_context(Sandbox(fault=fault, delay_seconds=delay))
        bundle = directory / "ca-bundle.pem"
        bundle.write_text("".join(Path(sb.info.ca_file).read_text() for sb in fleet.sandboxes.values()))
        text = "".join(tenant_table(name, sb) for name, sb in fleet.sandboxes.items()) + extra
        text += f"\n[console]\ntimeout_seconds = {timeout:g}\nca_file = {_q(str(bundle))}\n"
        fleet.path.write_text(text)
        fleet.path.chmod(0o600)
        yield fleet

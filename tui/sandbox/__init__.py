"""The built-in offline Microsoft 365 sandbox: a local Entra ID token service and Exchange Online SMTP server.

```python
from tui.sandbox import Sandbox, FAULTS
with Sandbox(directory=None, fault=None) as sb:   # 127.0.0.1 only, OS-chosen ports, starts in well under a second
    sb.info            # SandboxInfo (authority_host, tenant_id, client_id, client_secret, smtp_host, smtp_port, ...)
    sb.set_fault("wrong-secret"); sb.set_fault(None)
    sb.messages()      # accepted mail, oldest first (email.message.EmailMessage)
    sb.smtp_events()   # what the SMTP server saw: {"peer", "command", "tls", "reply", ...}, AUTH arguments redacted
```
Never contacts anything but 127.0.0.1; no Textual here.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable

from tui.sandbox.certs import make_certs
from tui.sandbox.faults import FAULT_TABLE, FAULTS, FAULTS_BY_NAME, UnknownFaultError, check_fault
from tui.sandbox.identity import SCOPE_EXCHANGE, SandboxIdentity
from tui.sandbox.smtp_server import IDLE_TIMEOUT, SmtpServer
from tui.sandbox.token_service import TokenService
from tui.sandbox.tokens import TokenIssuer
from tui.xoauth2 import XOAuth2Error, build_xoauth2, parse_xoauth2
from tui.settings.toml_text import toml_string

__all__ = ["Sandbox", "SandboxInfo", "FAULTS", "FAULT_TABLE", "FAULTS_BY_NAME", "UnknownFaultError",
           "build_xoauth2", "parse_xoauth2", "XOAuth2Error", "DEFAULT_DELAY", "ENV_DELAY"]

ENV_DELAY = "OUTMAIL_SANDBOX_DELAY"
DEFAULT_DELAY = 1.0


@dataclass(frozen=True)
class SandboxInfo:
    """Everything a client needs to use the sandbox. `as_json()` gives a JSON-ready dict (paths as strings)."""

    authority_host: str  # "https://127.0.0.1:<port>"; the authority is f"{authority_host}/{tenant_id}"
    tenant_id: str
    client_id: str
    client_secret: str
    smtp_host: str
    smtp_port: int
    ca_file: Path
    mailbox: str  # the XOAUTH2 user= and the From that is always allowed
    password: str  # the mailbox's password, for protocol smtp (AUTH LOGIN/PLAIN)
    object_id: str  # the service principal's object id: the token's oid
    settings_path: Path
    mail_dir: Path
    tenant_domain: str = "contoso.test"  # the tenant may also be given as this domain
    sendas_address: str = "shared@contoso.test"  # another From the app was granted Send As on
    scope: str = SCOPE_EXCHANGE
    directory: Path | None = None
    app_object_id: str = ""  # the App registration's object id (not the one Exchange wants)

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def settings_text(info: SandboxInfo) -> str:
    """A ready-made outmail settings file pointing at the sandbox."""
    s = toml_string
    return f"""\
# outmail settings for the offline Microsoft 365 sandbox (`outmail sandbox`); valid only while it runs.
# The sandbox listens on 127.0.0.1 only; its certificates come from the CA in [console] ca_file.

[tenants.default.smtp]
protocol = "smtpmicrosoft365"
host = {s(info.smtp_host)}
port = {info.smtp_port}
connectionSecurity = 1
authEncrypted = true
username = {s(info.mailbox)}
password = ""
sender = {s(info.mailbox)}
userasfrom = false
clientId = {s(info.client_id)}
clientTenant = {s(info.tenant_id)}
clientSecret = {s(info.client_secret)}

[tenants.default.microsoft365]
authority_host = {s(info.authority_host)}
scope = {s(info.scope)}

[console]
timeout_seconds = 20
ca_file = {s(str(info.ca_file))}
"""


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds the sandbox's client secret and password): tui.files, atomic
    and 0600 from its first byte."""
    from tui.files import atomic_write

    atomic_write(path, text, private=True)


class Sandbox:
    """The two local services plus their certificates, identities and mail folder.

    `directory`: where ca.pem, settings.toml and mail/ go; default a fresh temporary folder, removed by `stop()`
    (a given folder is kept). `fault`: a name from FAULTS or None. `delay_seconds`: the delay of the slow-smtp and
    slow-token faults (default $OUTMAIL_SANDBOX_DELAY, else 1.0); `reply_delays`, e.g. {"RCPT": 30.0}: under slow-smtp,
    the delay of the replies to those commands (first word, upper case) instead, read as each reply goes out.
    `idle_timeout`: SMTP idle timeout per connection;
    `request_timeout`: the token service's socket timeout. `on_event(service, event)`: called from the services'
    threads with each finished event ("token" or "smtp", the same dicts as token_events()/smtp_events()).
    """

    def __init__(self, directory: str | os.PathLike | None = None, fault: str | None = None, *,
                 delay_seconds: float | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 request_timeout: float = 30.0,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self._fault = check_fault(fault)
        self._on_event = on_event
        if delay_seconds is None:
            try:
                delay_seconds = float(os.environ.get(ENV_DELAY, DEFAULT_DELAY))
            except ValueError:
                delay_seconds = DEFAULT_DELAY
        self.delay_seconds = float(delay_seconds)
        self.reply_delays: dict[str, float] = {}
        self._given_dir = Path(directory).expanduser() if directory is not None else None
        self._idle_timeout = idle_timeout
        self._request_timeout = request_timeout
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._created_dir = False
        self._token: TokenService | None = None
        self._smtp: SmtpServer | None = None
        self._info: SandboxInfo | None = None
        self.identity = SandboxIdentity()
        self.issuer: TokenIssuer | None = None

    # -- life cycle ---------------------------------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._info is not None

    def start(self) -> "Sandbox":
        if self._info is not None:
            return self
        if self._given_dir is not None:
            self._given_dir.mkdir(parents=True, exist_ok=True)
            self._dir, self._created_dir = self._given_dir.resolve(), False
        else:
            self._dir, self._created_dir = Path(tempfile.mkdtemp(prefix="outmail-sandbox-")), True
        try:
            mail_dir = self._dir / "mail"
            mail_dir.mkdir(exist_ok=True)
            certs = make_certs(self._dir)
            self.issuer = TokenIssuer(self.identity)
            self._token = TokenService(self.identity, self.issuer, certs.trusted, get_fault=self.get_fault,
                                       get_delay=lambda: self.delay_seconds, request_timeout=self._request_timeout,
                                       on_event=self._listener("token"))
            self._token.start()
            self._smtp = SmtpServer(self.identity, self.issuer, certs, mail_dir, get_fault=self.get_fault,
                                    get_delay=self._reply_delay, idle_timeout=self._idle_timeout,
                                    on_event=self._listener("smtp"))
            self._smtp.start()
            ident = self.identity
            info = SandboxInfo(
                authority_host=self._token.base_url, tenant_id=ident.tenant_id, client_id=ident.client_id,
                client_secret=ident.client_secret, smtp_host="127.0.0.1", smtp_port=self._smtp.port,
                ca_file=certs.ca_file, mailbox=ident.mailbox, password=ident.password,
                object_id=ident.sp_object_id, settings_path=self._dir / "settings.toml", mail_dir=mail_dir,
                tenant_domain=ident.tenant_domain, sendas_address=ident.sendas_address, directory=self._dir,
                app_object_id=ident.app_object_id,
            )
            _write_private(info.settings_path, settings_text(info))
            self._info = info
        except BaseException:
            self.stop()
            raise
        return self

    def _listener(self, service: str) -> Callable[[dict[str, Any]], None] | None:
        if self._on_event is None:
            return None
        callback = self._on_event
        return lambda event: callback(service, event)

    def stop(self) -> None:
        """Stop both services, end their threads, remove the folder if the sandbox made it. Safe to call twice."""
        token, smtp = self._token, self._smtp
        self._token = self._smtp = None
        self._info = None
        if smtp is not None:
            smtp.stop()
        if token is not None:
            token.stop()
        if self._created_dir and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._created_dir = False

    @property
    def info(self) -> SandboxInfo:
        if self._info is None:
            raise RuntimeError("the sandbox is not running")
        return self._info

    # -- faults -------------------------------------------------------------------------------------------------------
    def set_fault(self, name: str | None) -> None:
        """Switch the fault (None: none); applies to the next token request and the next SMTP connection."""
        checked = check_fault(name)
        with self._lock:
            self._fault = checked

    def get_fault(self) -> str | None:
        with self._lock:
            return self._fault

    @property
    def fault(self) -> str | None:
        return self.get_fault()

    # -- what happened ------------------------------------------------------------------------------------------------
    def messages(self) -> list[EmailMessage]:
        """Accepted messages, oldest first."""
        if self._dir is None:
            return []
        paths = sorted((self._dir / "mail").glob("*.eml"))
        out = []
        for path in paths:
            with path.open("rb") as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.default))
        return out

    def message_files(self) -> list[Path]:
        if self._dir is None:
            return []
        return sorted((self._dir / "mail").glob("*.eml"))

    def smtp_events(self) -> list[dict[str, Any]]:
        """The SMTP server's record, oldest first: {"peer", "connection", "command", "tls", "reply", "replies",
        "time", optional "detail"}. Commands include "(connect)" (reply: the banner, None when silent), "(tls)"
        (the handshake) and "(end of data)". AUTH arguments and continuation lines are never recorded."""
        return self._smtp.events() if self._smtp is not None else []

    def _reply_delay(self, command: str = "") -> float:
        """slow-smtp's delay for the reply to `command` (its first word): `reply_delays`, else `delay_seconds`."""
        word = command.split(" ", 1)[0].split(":", 1)[0].upper()
        return self.reply_delays.get(word, self.delay_seconds)

    def smtp_closed_connections(self) -> set[int]:
        """The SMTP connections (their "connection" id in smtp_events()) that have ended, closed by either side:
        a test waits on this instead of sleeping to know a client hung up."""
        return self._smtp.closed_connections() if self._smtp is not None else set()

    def token_events(self) -> list[dict[str, Any]]:
        """The token service's record: {"method", "path", "status", "error_codes", ...}; no secrets."""
        return self._token.events() if self._token is not None else []

    def make_token(self, **kwargs: Any) -> str:
        """A token signed by the sandbox (for tests): TokenIssuer.issue(audience=..., roles=..., lifetime=..., ...)."""
        if self.issuer is None:
            raise RuntimeError("the sandbox is not running")
        return self.issuer.issue(**kwargs)

"""The sandbox's Exchange Online: an SMTP submission server on 127.0.0.1 that speaks like smtp.office365.com:587.

Built on aiosmtpd's SMTP protocol with Exchange's banner, EHLO lists, reply texts and rules:
- before STARTTLS the EHLO list offers STARTTLS and no AUTH; after it, AUTH LOGIN XOAUTH2 and no STARTTLS;
- AUTH before STARTTLS: 504 5.7.4; MAIL before AUTH: 530 5.7.57; TLS 1.0/1.1 after STARTTLS: 421 4.7.66, then close;
- AUTH XOAUTH2 (initial response or after 334) checks the token's signature, expiry, audience, tenant and the
  service principal's object id, then either authorization model (`SandboxIdentity.authorize_smtp`): classic (the
  SMTP.SendAsApp role and FullAccess on the user= mailbox) or RBAC for Applications (no role needed; an
  `Application SMTP.SendAsApp` role assignment whose management scope contains the user= mailbox);
  AUTH LOGIN (and, unadvertised, PLAIN) take the mailbox's password, for protocol smtp;
- RCPT TO an address in the tenant's domain that no recipient has: 550 5.1.10 RecipientNotFound (others pass);
- a From the mailbox may not send as (itself, a Send As grant, or for XOAUTH2 an address in the app's RBAC scope) is
  accepted at MAIL FROM and refused after DATA with 554 5.2.252 SendAsDenied;
- accepted messages (DATA, or BDAT chunks as CHUNKING is advertised) are written to the mail folder as .eml files
  and answered `250 2.0.0 OK <message id> [Hostname=...]` (the message's Message-ID, as Exchange does).
The fault in force when a connection opens applies to the whole connection, and so does the tenant as that fault
sets it up (`SandboxIdentity.configured_for`). Every connection has an idle timeout.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto as sslproto
import base64
import binascii
import collections
import itertools
import logging
import re
import secrets
import threading
import time
import weakref
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any, Callable

from aiosmtpd.smtp import SMTP, TLSSetupException

from tui.files import PRIVATE_MODE, atomic_write
from tui.sandbox.certs import SandboxCerts
from tui.sandbox.identity import SandboxIdentity
from tui.sandbox.tokens import TokenIssuer
from tui.xoauth2 import XOAuth2Error, parse_xoauth2

log = logging.getLogger(__name__)

SERVER_NAME = "SBX0P281CA0001.outlook.sandbox.test"
SIZE_LIMIT = 157286400
IDLE_TIMEOUT = 60.0
TLS_HANDSHAKE_TIMEOUT = 15.0

R_STARTTLS = "220 2.0.0 SMTP server ready"
R_AUTH_OK = "235 2.7.0 Authentication successful"
R_NO_TLS_AUTH = "504 5.7.4 Unrecognized authentication type"
R_NOT_AUTHENTICATED = "530 5.7.57 Client not authenticated to send mail."
R_BAD_XOAUTH2 = "501 5.5.124 Invalid XOAUTH2 auth data"
R_DISABLED_TENANT = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
                     "Visit https://aka.ms/smtp_auth_disabled for more information.")
R_DISABLED_MAILBOX = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. "
                      "Visit https://aka.ms/smtp_auth_disabled for more information.")
R_MAIL_OK = "250 2.1.0 Sender OK"
R_RCPT_OK = "250 2.1.5 Recipient OK"
R_RCPT_NOT_FOUND = "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {} not found by SMTP address lookup"
R_DATA = "354 Start mail input; end with <CRLF>.<CRLF>"
R_QUIT = "221 2.0.0 Service closing transmission channel"
R_TLS_LEGACY = ("421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. "
                "Visit https://aka.ms/smtp_auth_tls")
SENDAS_DIAGNOSTIC = ("0.35250:0A006585, 1.36674:0A000000, 1.61250:00000000, 1.45378:02000000, 1.44866:0A000000, "
                     "1.36674:0A000000, 1.61250:00000000, 1.45378:4F000000, 1.44866:A0010000, 16.55847:4C0F0000")

# aiosmtpd's stock texts that the protocol code pushes itself, and what Exchange says instead.
_EXCHANGE_TEXT = {
    "503 Error: send HELO first": "503 5.5.2 Send hello first",
    "503 Error: send EHLO first": "503 5.5.2 Send hello first",
    "503 Error: need MAIL command": "503 5.5.2 Need mail command",
    "503 Error: need RCPT command": "503 5.5.2 Need rcpt command",
    "503 Error: nested MAIL command": "503 5.5.2 Sender already specified",
    "354 End data with <CR><LF>.<CR><LF>": R_DATA,
    "500 Error: bad syntax": "500 5.3.3 Unrecognized command",
    "553 5.1.3 Error: malformed address": "501 5.1.7 Invalid address",
    "552 Error: Too much mail data": "552 5.3.4 Message size exceeds fixed maximum message size",
    "552 Error: message size exceeds fixed maximum message size":
        "552 5.3.4 Message size exceeds fixed maximum message size",
    "500 Command line too long": "500 5.5.6 Command line too long",
}


_DSN_MAIL = re.compile(r"\s+(?:RET=\S*|ENVID=\S*|BODY=BINARYMIME)(?=\s|$)", re.IGNORECASE)
_DSN_RCPT = re.compile(r"\s+(?:NOTIFY|ORCPT)=\S*", re.IGNORECASE)


def _hex_id() -> str:
    return secrets.token_hex(8).upper()


def failure_suffix() -> str:
    """Exchange's suffix on failure replies: '[HOST 2024-03-20T10:27:56.998Z 08DC48BEE95C08E5]'."""
    now = datetime.now(timezone.utc)
    return f"[{SERVER_NAME} {now.strftime('%Y-%m-%dT%H:%M:%S.')}{now.microsecond // 1000:03d}Z {_hex_id()}]"


def auth_unsuccessful() -> str:
    return f"535 5.7.3 Authentication unsuccessful {failure_suffix()}"


def sendas_denied(auth: str, sender: str) -> str:
    return (f"554 5.2.252 SendAsDenied; {auth} not allowed to send as {sender}; "
            "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message "
            "due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. "
            f"{SENDAS_DIAGNOSTIC} [Hostname={SERVER_NAME}]")


def _redact(command: str, arg: str | None) -> str:
    if command == "AUTH" and arg:
        mech, _, rest = arg.partition(" ")
        return f"AUTH {mech}" + (" <redacted>" if rest.strip() else "")
    return command if arg is None else f"{command} {arg}"


class _Dispatch(dict):
    """aiosmtpd's command table, with every command (unknown ones included) routed through the recorder."""

    def __init__(self, methods: dict, protocol: "ExchangeSMTP") -> None:
        super().__init__(methods)
        self._protocol = weakref.ref(protocol)

    def get(self, command, default=None):  # noqa: D401 - dict API
        protocol = self._protocol()
        method = super().get(command)
        if protocol is None:
            return method
        return protocol.recorded(command, method)


class SmtpServer:
    """Runs the protocol on its own thread and event loop; holds the event record and writes the mail folder."""

    def __init__(self, identity: SandboxIdentity, issuer: TokenIssuer, certs: SandboxCerts, mail_dir: Path, *,
                 get_fault: Callable[[], str | None], get_delay: Callable[..., float],
                 idle_timeout: float = IDLE_TIMEOUT,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.identity = identity
        self.on_event = on_event
        self.issuer = issuer
        self.certs = certs
        self.mail_dir = mail_dir
        self.get_fault = get_fault
        self.get_delay = get_delay
        self.idle_timeout = idle_timeout
        self.port = 0
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._closed: set[int] = set()  # connection ids whose TCP connection has ended (either side)
        self._conn_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._protocols: "weakref.WeakSet[ExchangeSMTP]" = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None

    # -- life cycle ---------------------------------------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(lambda: ExchangeSMTP(self, loop), host="127.0.0.1", port=0))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - handed to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="sandbox-smtp", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join(1)
            self._thread = None
            raise failure[0]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for protocol in list(self._protocols):
                protocol.abort()
            loop.stop()

        try:
            loop.call_soon_threadsafe(shutdown)
        except RuntimeError:  # loop already closed
            pass
        thread.join(timeout=5)

    # -- record -------------------------------------------------------------------------------------------------------
    def next_connection_id(self) -> int:
        return next(self._conn_ids)

    def register(self, protocol: "ExchangeSMTP") -> None:
        self._protocols.add(protocol)

    def connection_closed(self, conn_id: int) -> None:
        with self._lock:
            self._closed.add(conn_id)

    def closed_connections(self) -> set[int]:
        """The ids ("connection" in events()) of the connections that have ended, closed by either side."""
        with self._lock:
            return set(self._closed)

    def record(self, event: dict[str, Any], *, complete: bool = True) -> None:
        with self._lock:
            self._events.append(event)
        if complete:
            self._notify(event)

    def _notify(self, event: dict[str, Any]) -> None:
        if self.on_event is not None:
            try:
                self.on_event(dict(event, replies=list(event["replies"])))
            except Exception:  # noqa: BLE001 - a listener never breaks the server
                pass

    def add_reply(self, event: dict[str, Any], reply: str) -> None:
        with self._lock:
            event["replies"].append(reply)
            event["reply"] = reply

    def update(self, event: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            event.update(changes)

    def finish(self, event: dict[str, Any], *, split_data: bool) -> None:
        """End a command's event; DATA becomes two events: DATA (354) and "(end of data)" (the final reply)."""
        end = None
        with self._lock:
            replies = event["replies"]
            if split_data and len(replies) > 1 and replies[0].startswith("354"):
                end = dict(event, command="(end of data)", reply=replies[-1], replies=replies[1:])
                event["reply"], event["replies"] = replies[0], [replies[0]]
                self._events.append(end)
        self._notify(event)
        if end is not None:
            self._notify(end)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e, replies=list(e["replies"])) for e in self._events]

    # -- the mail folder ----------------------------------------------------------------------------------------------
    def save(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> Path:
        seq = next(self._seq)
        # Time first, so that names sort oldest first even across runs sharing one --dir.
        name = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S.%f')}-{seq:05d}-{secrets.token_hex(4)}.eml"
        head = f"Return-Path: <{mail_from}>\r\nX-Sandbox-Rcpt-To: {', '.join(rcpt_tos)}\r\n".encode()
        path = self.mail_dir / name
        # Whole or not at all, readable by the owner only (a test message may be private), never over another file.
        atomic_write(path, head + content, mode=PRIVATE_MODE, exclusive=True)
        return path


class _Handler:
    """aiosmtpd hooks for the envelope commands and the end of DATA."""

    async def handle_MAIL(self, server: "ExchangeSMTP", session, envelope, address: str, options: list[str]) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return R_MAIL_OK

    async def handle_RCPT(self, server: "ExchangeSMTP", session, envelope, address: str, options: list[str]) -> str:
        if not server.identity.knows_recipient(address):
            return R_RCPT_NOT_FOUND.format(address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return R_RCPT_OK

    async def handle_DATA(self, server: "ExchangeSMTP", session, envelope) -> str:
        return server.end_of_data(envelope)

    async def handle_NOOP(self, server, session, envelope, arg) -> str:
        return "250 2.0.0 OK"

    async def handle_RSET(self, server, session, envelope) -> str:
        return "250 2.0.0 Resetting"

    async def handle_QUIT(self, server, session, envelope) -> str:
        return R_QUIT


_HANDLER = _Handler()


class ExchangeSMTP(SMTP):
    """One connection, speaking as Exchange Online does."""

    # AUTH XOAUTH2 carries a JWT of one to three kilobytes on one line: allow long command lines.
    line_length_limit = 32768
    command_size_limit = 512

    def __init__(self, owner: SmtpServer, loop: asyncio.AbstractEventLoop) -> None:
        self.owner = owner
        self.fault = owner.get_fault()  # fixed for this connection
        self.identity = owner.identity.configured_for(self.fault)  # the tenant's grants, as the fault sets them up
        self.conn_id = owner.next_connection_id()
        self.peer_text = "?"
        self.auth_user: str | None = None
        self.auth_app_id: str | None = None  # the token's appid after AUTH XOAUTH2 (its RBAC scope decides Send As)
        self._current: dict[str, Any] | None = None
        self._deferred: list[dict[str, Any]] = []  # pseudo-events announced after the current command's
        self._banner_sent = False
        self._chunks = []
        self._chunk_bytes = 0
        stamp = format_datetime(datetime.now(timezone.utc))
        super().__init__(
            _HANDLER,
            hostname=SERVER_NAME,
            ident=f"Microsoft ESMTP MAIL Service ready at {stamp} [{_hex_id()}]",
            tls_context=owner.certs.trusted,
            require_starttls=False,
            timeout=owner.idle_timeout,
            auth_required=False,
            auth_require_tls=True,
            enable_SMTPUTF8=True,
            data_size_limit=SIZE_LIMIT,
            loop=loop,
        )
        self._smtp_methods = _Dispatch(self._smtp_methods, self)
        self.command_size_limits = collections.defaultdict(lambda: 512, {"AUTH": 20000, "MAIL": 1024, "RCPT": 1024})
        owner.register(self)

    # -- connection ---------------------------------------------------------------------------------------------------
    @property
    def tls_active(self) -> bool:
        return self.session is not None and self.session.ssl is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is None:
            peer = transport.get_extra_info("peername")
            if peer:
                self.peer_text = f"{peer[0]}:{peer[1]}"
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.connection_closed(self.conn_id)
        super().connection_lost(exc)

    def abort(self) -> None:
        for transport in (self.transport, self._original_transport):
            if transport is not None:
                try:
                    transport.abort()
                except Exception:  # noqa: BLE001 - best effort at shutdown
                    pass

    async def _handle_client(self) -> None:
        if self.fault == "silent-server":
            # Accept and say nothing; the idle timeout (or the sandbox stopping) closes the connection.
            self._event("(connect)", None)
            return
        await super()._handle_client()

    # -- recording ----------------------------------------------------------------------------------------------------
    def _event(self, command: str, reply: str | None, *, complete: bool = True, **extra: Any) -> dict[str, Any]:
        event = {"peer": self.peer_text, "connection": self.conn_id, "command": command, "tls": self.tls_active,
                 "reply": reply, "replies": [] if reply is None else [reply], "time": time.time(), **extra}
        defer = complete and self._current is not None
        self.owner.record(event, complete=complete and not defer)
        if defer:
            self._deferred.append(event)
        return event

    def recorded(self, command: str, method: Callable | None) -> Callable:
        async def run(arg: str | None) -> None:
            event = self._event(_redact(command, arg), None, complete=False)
            self._current = event
            try:
                if method is None:
                    await self.push(f"500 5.3.3 Unrecognized command '{command}' [{SERVER_NAME}]")
                else:
                    await method(arg)
            finally:
                self._current = None
                self.owner.finish(event, split_data=(command == "DATA"))
                deferred, self._deferred = self._deferred, []
                for later in deferred:
                    self.owner._notify(later)
        return run

    async def push(self, status: str | bytes) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        if text.startswith("501 Syntax:"):
            text = "501 5.5.4 Invalid arguments"
        text = _EXCHANGE_TEXT.get(text, text)
        # slow-smtp: the delay in force when the reply goes out, for this command (Sandbox.reply_delays)
        delay = self.owner.get_delay(str(self._current["command"]) if self._current is not None else "")
        if self.fault == "slow-smtp" and delay > 0:
            await asyncio.sleep(delay)
        reply = "\n".join(text.split("\r\n"))
        if self._current is not None:
            self.owner.add_reply(self._current, reply)
        else:
            self._event("(connect)" if not self._banner_sent else "(server)", reply)
        self._banner_sent = True
        if self.transport is None or self.transport.is_closing():
            return
        await super().push(text)

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            return "454 4.7.0 TLS negotiation failed"
        log.error("sandbox SMTP: unexpected error on connection %s", self.conn_id, exc_info=error)
        return f"451 4.3.0 Temporary server error. Please try again later. {failure_suffix()}"

    async def check_auth_needed(self, caller_method: str) -> bool:
        assert self.session is not None
        if not self.session.authenticated:
            await self.push(R_NOT_AUTHENTICATED)
            return True
        return False

    async def _read_line(self) -> bytes | None:
        try:
            line = await self._reader.readline()
        except (ConnectionError, asyncio.IncompleteReadError):
            return None
        if not line:
            return None
        return line.strip()

    # -- commands -----------------------------------------------------------------------------------------------------
    async def smtp_HELO(self, hostname: str) -> None:
        if not hostname:
            await self.push("501 5.5.4 Invalid domain name")
            return
        self._set_rset_state()
        assert self.session is not None
        self.session.extended_smtp = False
        self.session.host_name = hostname
        await self.push(f"250 {SERVER_NAME} Hello [{self.peer_text.rsplit(':', 1)[0]}]")

    async def smtp_EHLO(self, hostname: str) -> None:
        if not hostname:
            await self.push("501 5.5.4 Invalid domain name")
            return
        self._set_rset_state()
        assert self.session is not None
        self.session.extended_smtp = True
        self.session.host_name = hostname
        lines = [f"{SERVER_NAME} Hello [{self.peer_text.rsplit(':', 1)[0]}]", f"SIZE {SIZE_LIMIT}", "PIPELINING",
                 "DSN", "ENHANCEDSTATUSCODES"]
        if self.tls_active:
            lines.append("AUTH LOGIN XOAUTH2")
        elif self.fault != "no-starttls":
            lines.append("STARTTLS")
        lines += ["8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"]
        await self.push("\r\n".join(f"250-{line}" for line in lines[:-1]) + f"\r\n250 {lines[-1]}")

    async def smtp_MAIL(self, arg: str | None) -> None:
        # DSN parameters and BODY=BINARYMIME (advertised) are accepted and ignored; aiosmtpd would refuse them.
        await super().smtp_MAIL(_DSN_MAIL.sub("", arg) if arg else arg)

    def _set_post_data_state(self) -> None:
        super()._set_post_data_state()
        self._chunks: list[bytes] = []
        self._chunk_bytes = 0

    async def smtp_BDAT(self, arg: str | None) -> None:
        """CHUNKING (RFC 3030), advertised by Exchange: BDAT <size> [LAST]; the chunk is read before any check."""
        parts = (arg or "").split()
        if not parts or not parts[0].isdigit() or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() != "LAST"):
            await self.push("501 5.5.4 Invalid arguments")
            return
        size, last = int(parts[0]), len(parts) == 2
        chunk = bytearray()
        remaining = size
        try:
            while remaining:
                piece = await self._reader.readexactly(min(remaining, 65536))
                remaining -= len(piece)
                if self._chunk_bytes + len(chunk) + len(piece) <= SIZE_LIMIT:
                    chunk += piece
                else:
                    self._chunk_bytes = SIZE_LIMIT + 1  # too big: keep reading, drop the data
        except asyncio.IncompleteReadError:
            return
        assert self.session is not None and self.envelope is not None
        if not self.session.host_name:
            await self.push("503 5.5.2 Send hello first")
        elif not self.session.authenticated:
            await self.push(R_NOT_AUTHENTICATED)
        elif not self.envelope.mail_from:
            await self.push("503 5.5.2 Need mail command")
        elif not self.envelope.rcpt_tos:
            await self.push("503 5.5.2 Need rcpt command")
        elif self._chunk_bytes > SIZE_LIMIT:
            self._set_post_data_state()
            await self.push("552 5.3.4 Message size exceeds fixed maximum message size")
        elif not last:
            self._chunks.append(bytes(chunk))
            self._chunk_bytes += len(chunk)
            await self.push(f"250 2.0.0 {size} bytes received")
        else:
            content = b"".join(self._chunks) + bytes(chunk)
            self.envelope.original_content = self.envelope.content = content
            status = self.end_of_data(self.envelope)
            self._set_post_data_state()
            await self.push(status)

    async def smtp_RCPT(self, arg: str | None) -> None:
        await super().smtp_RCPT(_DSN_RCPT.sub("", arg) if arg else arg)

    async def smtp_STARTTLS(self, arg: str) -> None:
        if self.fault == "no-starttls" or self.tls_active or self._tls_protocol is not None:
            await self.push(f"500 5.3.3 Unrecognized command 'STARTTLS' [{SERVER_NAME}]")
            return
        if arg:
            await self.push("501 5.5.4 Invalid arguments")
            return
        await self.push(R_STARTTLS)
        if self.fault == "drop-during-starttls":
            assert self.transport is not None
            self.transport.close()
            self._event("(tls)", None, detail="connection dropped by the server (fault drop-during-starttls)")
            return
        context = self.owner.certs.untrusted if self.fault == "untrusted-cert" else self.owner.certs.trusted
        waiter = self.loop.create_future()
        self._tls_protocol = sslproto.SSLProtocol(self.loop, self, context, waiter, server_side=True,
                                                  ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT)
        self._original_transport = self.transport
        assert self._original_transport is not None
        self._original_transport.set_protocol(self._tls_protocol)
        self.transport = self._tls_protocol._app_transport
        self._tls_protocol.connection_made(self._original_transport)
        try:
            await waiter
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._event("(tls)", None, detail=f"handshake failed: {error}")
            raise TLSSetupException() from error
        ssl_object = self.transport.get_extra_info("ssl_object")
        cipher = ssl_object.cipher() if ssl_object else None
        version = ssl_object.version() if ssl_object else "?"
        self._event("(tls)", f"{version} {cipher[0] if cipher else ''}".strip())
        if version in ("TLSv1", "TLSv1.1"):
            # Exchange completes the handshake, then answers the client's next command with 421 4.7.66 and closes.
            await self.push(R_TLS_LEGACY)
            self._event("(tls)", R_TLS_LEGACY, detail=f"{version} refused: TLS 1.2 or newer is needed")
            assert self.transport is not None
            self.transport.close()

    async def smtp_AUTH(self, arg: str | None) -> None:
        assert self.session is not None
        if not self.session.host_name:
            await self.push("503 5.5.2 Send hello first")
            return
        if not self.tls_active:
            await self.push(R_NO_TLS_AUTH)
            return
        if self.session.authenticated:
            await self.push("503 5.5.2 Already authenticated")
            return
        if not arg:
            await self.push("501 5.5.4 Invalid arguments")
            return
        mechanism, _, initial = arg.partition(" ")
        mechanism, initial = mechanism.upper(), initial.strip()
        if mechanism == "XOAUTH2":
            await self._auth_xoauth2(initial)
        elif mechanism in ("LOGIN", "PLAIN"):
            await self._auth_password(mechanism, initial)
        else:
            await self.push(R_NO_TLS_AUTH)

    def _policy_refusal(self) -> str | None:
        if self.fault == "smtp-auth-disabled-tenant":
            return R_DISABLED_TENANT
        if self.fault == "smtp-auth-disabled-mailbox":
            return R_DISABLED_MAILBOX
        return None

    async def _auth_xoauth2(self, initial: str) -> None:
        if initial and initial != "=":
            data: bytes | None = initial.encode("ascii", "replace")
        else:
            await self.push("334 ")
            data = await self._read_line()
            if data is None:
                return
            if data == b"*":
                await self.push("501 5.7.0 Authentication aborted")
                return
        try:
            user, token = parse_xoauth2(data)
        except XOAuth2Error as exc:
            self._note(f"malformed XOAUTH2: {exc}")
            await self.push(R_BAD_XOAUTH2)
            return
        refusal = self._policy_refusal()
        if refusal:
            self._note(f"SMTP AUTH disabled ({self.fault})")
            await self.push(refusal)
            return
        if self.fault == "no-mailbox-permission":
            self._note("no service principal / mailbox permission (fault no-mailbox-permission)")
            await self.push(auth_unsuccessful())
            return
        claims, why = self.owner.issuer.verify_for_exchange(token)
        if claims is None:
            self._note(why)
            await self.push(auth_unsuccessful())
            return
        decision = self.identity.authorize_smtp(claims, user)
        if not decision.ok:
            self._note(decision.reason)
            await self.push(auth_unsuccessful())  # Microsoft publishes no distinct text for the RBAC refusal
            return
        self.auth_app_id = str(claims.get("appid") or "")
        await self._authenticated(user, "XOAUTH2", decision.reason)

    async def _auth_password(self, mechanism: str, initial: str) -> None:
        def b64(data: bytes) -> bytes | None:
            try:
                return base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                return None

        username: bytes | None
        password: bytes | None
        if mechanism == "LOGIN":
            if initial:
                username = b64(initial.encode("ascii", "replace"))
            else:
                await self.push("334 VXNlcm5hbWU6")
                line = await self._read_line()
                if line is None:
                    return
                username = b64(line)
            if username is None:
                await self.push("501 5.5.2 Cannot Decode base64 response")
                return
            await self.push("334 UGFzc3dvcmQ6")
            line = await self._read_line()
            if line is None:
                return
            password = b64(line)
            if password is None:
                await self.push("501 5.5.2 Cannot Decode base64 response")
                return
        else:
            if initial and initial != "=":
                blob = b64(initial.encode("ascii", "replace"))
            else:
                await self.push("334 ")
                line = await self._read_line()
                if line is None:
                    return
                blob = b64(line)
            parts = blob.split(b"\x00") if blob is not None else []
            if len(parts) != 3:
                await self.push("501 5.5.2 Cannot Decode base64 response")
                return
            username, password = parts[1], parts[2]
        refusal = self._policy_refusal()
        if refusal:
            self._note(f"SMTP AUTH disabled ({self.fault})")
            await self.push(refusal)
            return
        ident = self.identity
        user = username.decode("utf-8", "replace")
        if user.lower() != ident.mailbox.lower() or password.decode("utf-8", "replace") != ident.password:
            self._note("wrong user name or password")
            await self.push(auth_unsuccessful())
            return
        await self._authenticated(user, mechanism)

    async def _authenticated(self, user: str, mechanism: str, why: str = "") -> None:
        assert self.session is not None
        self.session.authenticated = True
        self.auth_user = user
        self._note(f"authenticated as {user} with {mechanism}" + (f" ({why})" if why else ""))
        await self.push(R_AUTH_OK)

    def _note(self, detail: str) -> None:
        if self._current is not None:
            self.owner.update(self._current, detail=detail)

    # -- end of DATA: Send As, then the mail folder --------------------------------------------------------------------
    def end_of_data(self, envelope) -> str:
        content: bytes = envelope.original_content or b""
        auth = self.auth_user or ""
        headers = BytesHeaderParser().parsebytes(content)
        header_from = [addr for _, addr in getaddresses(headers.get_all("From", [])) if addr]
        senders = header_from + ([envelope.mail_from] if envelope.mail_from else [])
        for sender in senders:
            if self.fault == "sendas-denied" or not self.identity.may_send_as(auth, sender, self.auth_app_id):
                self._note(f"{auth} may not send as {sender}")
                return sendas_denied(auth, sender)
        self.owner.save(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        message_id = (headers.get("Message-ID") or "").strip().strip("<>") or f"{_hex_id()}@{SERVER_NAME}"
        return f"250 2.0.0 OK <{message_id}> [Hostname={SERVER_NAME}]"

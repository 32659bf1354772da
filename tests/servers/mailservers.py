"""Our own Postfix (SMTP) and Dovecot (SASL only) on 127.0.0.1, started in a private temporary directory.

Debian's `postfix` and `dovecot-core` are used as they are; the system's own instances are never touched (their
config dirs, queue, base_dir and ports are not used). Everything runs as root (Postfix's master must), listens on
127.0.0.1 only, on free ports chosen at start, and nothing ever leaves the machine: every transport is `discard:`,
there is no relayhost and no DNS. A mail that Postfix accepts is queued, then discarded; the log says so
(`status=sent (... outmail-test-discarded)`), see `MailServers.wait_for_delivery`.

Listeners (`MailServers.ports[name]`, every one a `smtpd` service `127.0.0.1:PORT` in master.cf):

- `relay_noauth`: a port-25-style internal relay: no TLS, no AUTH offered, relays for 127.0.0.0/8 (mynetworks).
  What LogicalDOC uses with an empty Username (its default is localhost:25 without a user).
- `starttls_optional`: STARTTLS offered (`smtpd_tls_security_level=may`), AUTH PLAIN LOGIN offered only after
  STARTTLS (`smtpd_tls_auth_only=yes`), relays only for SASL-authenticated clients: an unauthenticated client gets
  `554 5.7.1 <rcpt>: Relay access denied` at RCPT TO. Like a submission port 587.
- `starttls_required`: as `starttls_optional` but TLS is mandatory (`encrypt`): MAIL FROM before STARTTLS gets
  `530 5.7.0 Must issue a STARTTLS command first`.
- `smtps`: implicit TLS from the first byte (`smtpd_tls_wrappermode=yes`), AUTH PLAIN LOGIN, relay for
  authenticated clients only. Like port 465.
- `plain_only`, `login_only`: as `starttls_optional`, but EHLO announces AUTH PLAIN only, resp. LOGIN only
  (`smtpd_sasl_mechanism_filter`, which filters the announcement: a client using the other mechanism unannounced
  is still served; Jakarta Mail and smtplib choose among the announced ones).
- `auth_in_clear`: no TLS at all (no STARTTLS), AUTH PLAIN LOGIN offered in clear, relay for authenticated only.
- `tls13_only`: as `starttls_optional`, but TLS 1.3 only (`smtpd_tls_protocols` and
  `smtpd_tls_mandatory_protocols` `>=TLSv1.3`): a client limited to TLS 1.2 (LogicalDOC's "TLSv1.1 TLSv1.2")
  fails the handshake.
- `smtps_tls13_only`: as `smtps`, TLS 1.3 only.
- `starttls_optional_selfsigned`, `starttls_required_selfsigned`, `smtps_selfsigned`: as their namesakes, with a
  self-signed certificate (`MailServers.selfsigned_cert_file`) instead of the private CA's.
- `starttls_optional_wrongname`, `smtps_wrongname`: as their namesakes, with a certificate from the private CA
  whose only name is `mail.wrong-name.test` (neither 127.0.0.1 nor localhost): trusted, but the wrong name.

Certificates: the default one is issued by a private CA (trustme) for 127.0.0.1 and localhost; its PEM is
`MailServers.ca_file` (what outmail's `[console] ca_file` takes).

SASL (Dovecot, passwd-file, mechanisms PLAIN and LOGIN): `EMAIL_USER` / `EMAIL_PASSWORD` (an email-shaped
login) and `SASL_USER` / `SASL_PASSWORD` (a plain service name), also on the instance (`users`).
Logs: `MailServers.log_text()` (Postfix's `maillog_file` and Dovecot's log).
"""

from __future__ import annotations

import atexit
import datetime
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"

EMAIL_USER = "ldoc@example.test"
EMAIL_PASSWORD = "Ldoc pass #1 &x"
SASL_USER = "svc-ldoc"
SASL_PASSWORD = "svc;Pa55-w0rd!"

DISCARD_REASON = "outmail-test-discarded"

# name -> (overrides for master.cf, certificate set). The docstring above describes each one.
_SASL = {"smtpd_sasl_auth_enable": "yes",
         "smtpd_relay_restrictions": "permit_sasl_authenticated,reject_unauth_destination"}
_LISTENERS: dict[str, tuple[dict[str, str], str]] = {
    "relay_noauth": ({"smtpd_sasl_auth_enable": "no", "smtpd_tls_security_level": "none",
                      "smtpd_relay_restrictions": "permit_mynetworks,reject_unauth_destination"}, "ca"),
    "starttls_optional": ({**_SASL, "smtpd_tls_security_level": "may", "smtpd_tls_auth_only": "yes"}, "ca"),
    "starttls_required": ({**_SASL, "smtpd_tls_security_level": "encrypt", "smtpd_tls_auth_only": "yes"}, "ca"),
    "smtps": ({**_SASL, "smtpd_tls_wrappermode": "yes", "smtpd_tls_security_level": "encrypt"}, "ca"),
    "plain_only": ({**_SASL, "smtpd_tls_security_level": "may", "smtpd_tls_auth_only": "yes",
                    "smtpd_sasl_mechanism_filter": "plain"}, "ca"),
    "login_only": ({**_SASL, "smtpd_tls_security_level": "may", "smtpd_tls_auth_only": "yes",
                    "smtpd_sasl_mechanism_filter": "login"}, "ca"),
    "auth_in_clear": ({**_SASL, "smtpd_tls_security_level": "none", "smtpd_tls_auth_only": "no"}, "ca"),
    "tls13_only": ({**_SASL, "smtpd_tls_security_level": "may", "smtpd_tls_auth_only": "yes",
                    "smtpd_tls_protocols": ">=TLSv1.3", "smtpd_tls_mandatory_protocols": ">=TLSv1.3"}, "ca"),
    "smtps_tls13_only": ({**_SASL, "smtpd_tls_wrappermode": "yes", "smtpd_tls_security_level": "encrypt",
                          "smtpd_tls_protocols": ">=TLSv1.3", "smtpd_tls_mandatory_protocols": ">=TLSv1.3"}, "ca"),
    "starttls_optional_selfsigned": ({**_SASL, "smtpd_tls_security_level": "may", "smtpd_tls_auth_only": "yes"},
                                     "selfsigned"),
    "starttls_required_selfsigned": ({**_SASL, "smtpd_tls_security_level": "encrypt",
                                      "smtpd_tls_auth_only": "yes"}, "selfsigned"),
    "smtps_selfsigned": ({**_SASL, "smtpd_tls_wrappermode": "yes", "smtpd_tls_security_level": "encrypt"},
                         "selfsigned"),
    "starttls_optional_wrongname": ({**_SASL, "smtpd_tls_security_level": "may", "smtpd_tls_auth_only": "yes"},
                                    "wrongname"),
    "smtps_wrongname": ({**_SASL, "smtpd_tls_wrappermode": "yes", "smtpd_tls_security_level": "encrypt"},
                        "wrongname"),
}
LISTENER_NAMES = tuple(_LISTENERS)
IMPLICIT_TLS = frozenset(n for n, (o, _) in _LISTENERS.items() if o.get("smtpd_tls_wrappermode") == "yes")

WRONG_NAME = "mail.wrong-name.test"

_POSTFIX_SERVICES = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class MailServersError(RuntimeError):
    """The servers could not be prepared, started or reached; the message carries the logs' tails."""


@dataclass
class MailServers:
    """Postfix + Dovecot SASL on 127.0.0.1 in a private temp dir. Use as a context manager, or start()/stop().

    Attributes after start(): `ports` (listener name -> port), `host`, `ca_file` (the private CA's PEM),
    `selfsigned_cert_file`, `users` (SASL login -> password), `base` (the temp dir).
    """

    startup_timeout: float = 30.0
    users: dict[str, str] = field(default_factory=lambda: {EMAIL_USER: EMAIL_PASSWORD, SASL_USER: SASL_PASSWORD})
    ports: dict[str, int] = field(default_factory=dict)
    base: Path | None = None

    host = HOST
    email_user = EMAIL_USER
    email_password = EMAIL_PASSWORD
    sasl_user = SASL_USER
    sasl_password = SASL_PASSWORD

    def __post_init__(self) -> None:
        self._postfix: subprocess.Popen | None = None
        self._dovecot: subprocess.Popen | None = None
        self._registered = False

    # ---- paths -------------------------------------------------------------------------------------------------
    @property
    def conf_dir(self) -> Path:
        return self._base / "postfix"

    @property
    def queue_dir(self) -> Path:
        return self._base / "queue"

    @property
    def postfix_log(self) -> Path:
        return self._base / "postfix.log"

    @property
    def dovecot_log(self) -> Path:
        return self._base / "dovecot.log"

    @property
    def ca_file(self) -> Path:
        """The private CA's certificate (PEM): trusting it verifies every listener except the self-signed ones."""
        return self._base / "tls" / "ca.pem"

    @property
    def selfsigned_cert_file(self) -> Path:
        """The self-signed certificate (PEM) of the `*_selfsigned` listeners (CN and SANs 127.0.0.1, localhost)."""
        return self._base / "tls" / "selfsigned.pem"

    @property
    def _base(self) -> Path:
        if self.base is None:
            raise MailServersError("MailServers is not started")
        return self.base

    # ---- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> MailServers:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Write the configs, start Postfix and Dovecot, and return once every listener answers its banner and
        Postfix reaches Dovecot. Ports are free ones picked just before; should one be taken in between (Postfix
        then fails to bind it), the start is tried again with new ports, up to three times."""
        for attempt in range(3):
            try:
                self._start_once()
                return
            except MailServersError as e:
                if "Address already in use" not in str(e) or attempt == 2:
                    raise

    def _start_once(self) -> None:
        for tool in ("postfix", "postconf", "dovecot"):
            if shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
                raise MailServersError(f"{tool} is not installed (Debian packages postfix and dovecot-core)")
        if os.geteuid() != 0:
            raise MailServersError("Postfix's master must run as root: run the tests as root (CI does)")
        self.base = Path(tempfile.mkdtemp(prefix="outmail-mailservers-"))
        # Dovecot's auth process (user dovecot) reads the passwd-file: the tree must be traversable.
        self.base.chmod(0o755)
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True
        try:
            self._write_certificates()
            self.ports = _free_ports(LISTENER_NAMES)
            self._write_postfix_config()
            self._write_dovecot_config()
            # Postfix's start runs its own checks (post-install create-missing makes the queue); Dovecot needs
            # private/ for its socket now, so it is made here as Postfix would (owner postfix, mode 0700).
            private = self.queue_dir / "private"
            private.mkdir(mode=0o700)
            shutil.chown(private, "postfix", "postfix")
            self._start_postfix()
            self._start_dovecot()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop Postfix and Dovecot together (SIGTERM; SIGKILL to their process groups if they linger) and remove
        the temp dir. Safe to call twice, and after a failed start."""
        # Postfix's master runs in its own session (it calls setsid()); on SIGTERM it stops its children, and the
        # postfix-script shell we started exits with it. Without a pid file yet, the shell itself is told.
        master_pid = self._master_pid() if self._postfix is not None else None
        if master_pid is not None:
            _signal(master_pid, signal.SIGTERM)
        elif self._postfix is not None and self._postfix.poll() is None:
            _signal(self._postfix.pid, signal.SIGTERM)
        if self._dovecot is not None and self._dovecot.poll() is None:
            _signal(self._dovecot.pid, signal.SIGTERM)
        if self._postfix is not None:
            _wait_or_kill(self._postfix, master_pid)
            self._postfix = None
        if self._dovecot is not None:
            _wait_or_kill(self._dovecot)
            self._dovecot = None
        master_pid = self._master_pid() if self.base is not None else None
        if master_pid is not None and _is_postfix_master(master_pid):
            _killpg(master_pid)
        if self.base is not None and self.base.exists():
            shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    # ---- logs --------------------------------------------------------------------------------------------------
    def log_text(self) -> str:
        """Postfix's log then Dovecot's, as text ("" for a log not written yet)."""
        parts = []
        for path in (self.postfix_log, self.dovecot_log):
            try:
                parts.append(path.read_text(errors="replace"))
            except FileNotFoundError:
                parts.append("")
        return "\n".join(parts)

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """The first match of the regex `pattern` in Postfix's log, waiting up to `timeout` s for it to appear."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = rx.search(self.postfix_log.read_text(errors="replace"))
            except FileNotFoundError:
                m = None
            if m:
                return m
            if time.monotonic() > deadline:
                raise MailServersError(f"no log line matches {pattern!r} after {timeout} s\n{self._tails()}")
            time.sleep(0.02)

    def wait_for_delivery(self, queue_id: str, timeout: float = 10.0) -> str:
        """The log line saying the message `queue_id` (from `250 2.0.0 Ok: queued as <id>`) was accepted and then
        discarded (the proof it went all the way through Postfix); raises if it does not appear in time."""
        m = self.wait_for_log(rf"(?m)^.*\b{re.escape(queue_id)}: to=<[^>]*>.*status=sent.*{DISCARD_REASON}.*$",
                              timeout)
        return m.group(0)

    def session_log(self, queue_id: str, timeout: float = 10.0) -> list[str]:
        """The Postfix log lines of the SMTP session that queued `queue_id`, from its `connect from` to its
        `disconnect from` (TLS version, SASL method and username are there); waits for the disconnect line."""
        m = self.wait_for_log(rf"(?m)^.* (postfix/[\w-]+/smtpd\[\d+\]): {re.escape(queue_id)}: client=", timeout)
        process = m.group(1)
        start = m.start()
        self.wait_for_log(rf"(?s){re.escape(process)}: {re.escape(queue_id)}: client=.*?{re.escape(process)}: "
                          rf"disconnect from", timeout)
        text = self.postfix_log.read_text(errors="replace")
        before = [ln for ln in text[:start].splitlines() if f" {process}: " in ln]
        first = max((i for i, ln in enumerate(before) if ": connect from " in ln), default=0)
        lines = before[first:]
        for ln in text[start:].splitlines():
            if f" {process}: " in ln:
                lines.append(ln)
                if ": disconnect from " in ln:
                    break
        return lines

    def _tails(self, lines: int = 40) -> str:
        out = []
        for path in (self._base / "postfix.out", self.postfix_log, self._base / "dovecot.out", self.dovecot_log):
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except (FileNotFoundError, MailServersError):
                text = ["(no log)"]
            out.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(out)

    # ---- configuration -----------------------------------------------------------------------------------------
    def _write_certificates(self) -> None:
        import trustme

        tls = self._base / "tls"
        tls.mkdir(mode=0o755)
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(tls / "ca.pem"))
        for name, identities in (("server", ("127.0.0.1", "localhost")), ("wrongname", (WRONG_NAME,))):
            leaf = ca.issue_cert(*identities)
            leaf.private_key_pem.write_to_path(str(tls / f"{name}.key"))
            (tls / f"{name}.key").chmod(0o600)
            with open(tls / f"{name}.pem", "wb") as f:
                for blob in leaf.cert_chain_pems:
                    f.write(blob.bytes())
        key_pem, cert_pem = _self_signed(("127.0.0.1", "localhost"))
        (tls / "selfsigned.key").write_bytes(key_pem)
        (tls / "selfsigned.key").chmod(0o600)
        (tls / "selfsigned.pem").write_bytes(cert_pem)

    def _chain(self, cert_set: str) -> str:
        tls = self._base / "tls"
        name = {"ca": "server", "selfsigned": "selfsigned", "wrongname": "wrongname"}[cert_set]
        return f"{tls / (name + '.key')},{tls / (name + '.pem')}"

    def _write_postfix_config(self) -> None:
        conf = self.conf_dir
        conf.mkdir(mode=0o755)
        self.queue_dir.mkdir(mode=0o755)
        main = f"""\
# outmail test instance: {self._base}. Everything stays on 127.0.0.1; accepted mail is discarded.
compatibility_level = 3.6
queue_directory = {self.queue_dir}
data_directory = {self._base / "data"}
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.outmail.test
mydomain = outmail.test
myorigin = $myhostname
mydestination =
relay_domains =
local_recipient_maps =
relay_recipient_maps =
alias_maps =
alias_database =
relayhost =
default_transport = discard:{DISCARD_REASON}
relay_transport = discard:{DISCARD_REASON}
local_transport = discard:{DISCARD_REASON}
virtual_transport = discard:{DISCARD_REASON}
inet_interfaces = {HOST}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
biff = no
notify_classes =
maillog_file = {self.postfix_log}
maillog_file_prefixes = {self._base}
smtpd_banner = $myhostname ESMTP outmail-test
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_tls_chain_files = {self._chain("ca").replace(",", ", ")}
smtpd_tls_loglevel = 1
# no sleeping after an error reply (tests make errors on purpose)
smtpd_error_sleep_time = 0
smtpd_tls_security_level = none
smtpd_tls_auth_only = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
"""
        (conf / "main.cf").write_text(main)
        lines = [_POSTFIX_SERVICES]
        for name, (overrides, cert_set) in _LISTENERS.items():
            opts = {"syslog_name": f"postfix/{name}", **overrides}
            if cert_set != "ca":
                opts["smtpd_tls_chain_files"] = self._chain(cert_set)
            lines.append(f"{HOST}:{self.ports[name]} inet n - n - - smtpd\n")
            lines.extend(f"  -o {k}={v}\n" for k, v in opts.items())
        (conf / "master.cf").write_text("".join(lines))
        # Postfix reads no configuration file changed in the last second or two (it could be half written): it
        # sleeps and reads again, some 2 s at every start. These files are complete: dated a minute back.
        minute_ago = time.time() - 60
        for written in (conf / "main.cf", conf / "master.cf"):
            os.utime(written, (minute_ago, minute_ago))

    def _write_dovecot_config(self) -> None:
        d = self._base / "dovecot"
        d.mkdir(mode=0o755)
        users = d / "users"
        users.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
        users.chmod(0o644)
        (d / "dovecot.conf").write_text(f"""\
# outmail test instance: SASL for Postfix only, no mail protocols.
instance_name = outmail-test-{os.getpid()}-{self._base.name}
base_dir = {d / "run"}
state_dir = {d / "state"}
log_path = {self.dovecot_log}
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# no 2 s penalty after a failed login: the tests try wrong passwords on purpose
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
# no growing penalty (2, 4, 8, 15 s) for the client IP after failed logins: every test client is 127.0.0.1
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  unix_listener {self.queue_dir / "private" / "auth"} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
""")

    # ---- processes ---------------------------------------------------------------------------------------------
    def _start_dovecot(self) -> None:
        conf = self._base / "dovecot" / "dovecot.conf"
        with open(self._base / "dovecot.out", "wb") as out:
            self._dovecot = subprocess.Popen(["dovecot", "-F", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=subprocess.STDOUT, env=_sbin_env(),
                                             start_new_session=True)
        socket_path = self.queue_dir / "private" / "auth"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._dovecot.poll() is not None:
                raise MailServersError(f"dovecot exited ({self._dovecot.returncode})\n{self._tails()}")
            if _dovecot_handshake(socket_path):
                return
            if time.monotonic() > deadline:
                raise MailServersError(f"dovecot's auth socket {socket_path} did not answer\n{self._tails()}")
            time.sleep(0.02)

    def _start_postfix(self) -> None:
        with open(self._base / "postfix.out", "wb") as out:
            self._postfix = subprocess.Popen(["postfix", "-c", str(self.conf_dir), "start-fg"],
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                             env=_sbin_env(), start_new_session=True)

    def _master_pid(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError, MailServersError):
            return None

    def _why_postfix_died(self) -> str:
        """What can be found out after the master died at start (its own fatal message goes to postlogd, which it
        had not started yet): ports taken by someone else, and postconf's complaints about the configuration."""
        taken = [f"{name} ({port}): Address already in use" for name, port in self.ports.items()
                 if not _bindable(port)]
        postconf = subprocess.run(["postconf", "-c", str(self.conf_dir), "-M", "-n"], capture_output=True,
                                  text=True, env=_sbin_env())
        return "".join(f"\n{line}" for line in [*taken, *postconf.stderr.splitlines()])

    def _wait_ready(self) -> None:
        """Every listener answers `220` (after the TLS handshake for implicit TLS), and AUTH is announced where
        Dovecot is needed (proves smtpd reaches the auth socket)."""
        deadline = time.monotonic() + self.startup_timeout
        pending = dict(self.ports)
        while pending:
            if self._postfix is not None and self._postfix.poll() is not None:
                raise MailServersError(f"postfix exited ({self._postfix.returncode}){self._why_postfix_died()}\n"
                                       f"{self._tails()}")
            for name, port in list(pending.items()):
                if _banner_ok(port, name in IMPLICIT_TLS):
                    del pending[name]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise MailServersError(f"no SMTP banner from {sorted(pending)}\n{self._tails()}")
            time.sleep(0.02)
        with smtplib.SMTP(HOST, self.ports["auth_in_clear"], timeout=5) as s:
            s.ehlo("ready.check")
            if not s.has_extn("auth"):
                raise MailServersError(f"auth_in_clear does not offer AUTH: Postfix cannot reach Dovecot\n"
                                       f"{self._tails()}")


# ---- helpers -------------------------------------------------------------------------------------------------------
def _sbin_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    env.pop("MAIL_CONFIG", None)
    return env


def _free_ports(names: tuple[str, ...]) -> dict[str, int]:
    """A distinct port free on 127.0.0.1 right now for each name (all held open together, then released)."""
    socks = []
    try:
        for _ in names:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return {name: s.getsockname()[1] for name, s in zip(names, socks)}
    finally:
        for s in socks:
            s.close()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def _self_signed(names: tuple[str, ...]) -> tuple[bytes, bytes]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "outmail self-signed test")])
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _dovecot_handshake(path: Path) -> bool:
    """True when Dovecot's auth-client socket at `path` sends its handshake up to DONE."""
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(path))
            s.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
            data = b""
            while b"DONE\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                data += chunk
            return data.startswith(b"VERSION\t1\t")
    except OSError:
        return False


def _banner_ok(port: int, implicit_tls: bool) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2) as raw:
            sock: socket.socket = raw
            if implicit_tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                sock = ctx.wrap_socket(raw)
            data = b""
            while b"\n" not in data:
                chunk = sock.recv(1024)
                if not chunk:
                    return False
                data += chunk
            return data.startswith(b"220 ")
    except (OSError, ssl.SSLError):
        return False


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _killpg(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _is_postfix_master(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"/master")
    except OSError:
        return False


def _wait_or_kill(proc: subprocess.Popen, also_group: int | None = None, timeout: float = 10.0) -> None:
    """Wait for a process already told to stop; SIGKILL its process group (it was started in its own session),
    and `also_group`, if it lingers."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(proc.pid)
        if also_group is not None:
            _killpg(also_group)
        proc.wait(timeout=timeout)

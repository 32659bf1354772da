"""Run the LogicalDOC stand-in (java/LogicalDocSender.java: LogicalDOC's EMailSender properties on Debian's Jakarta
Mail 2.0.0) over a batch of cases in one JVM; its result for a case is what LogicalDOC would do: the oracle for
outmail's verdict.

    results = run_logicaldoc_sender([
        StandinCase(host="127.0.0.1", port=servers.ports["relay_noauth"]),
        StandinCase(host="127.0.0.1", port=servers.ports["starttls_optional"], connection_security=1,
                    username=servers.sasl_user, password=servers.sasl_password),
    ])
    assert results[0].ok and results[1].ok

Many cases can run at once in that JVM (`threads`); the results come back in the cases' order.
The class is compiled once per process (with the JRE's own compiler module, `java -m jdk.compiler/...`, so a
JRE is enough) into a temporary directory removed at exit. Plain dicts with the same field names work as cases.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).parent / "java" / "LogicalDocSender.java"
JARS = (Path("/usr/share/java/jakarta-mail.jar"), Path("/usr/share/java/jakarta-activation.jar"))


class StandinError(RuntimeError):
    """Java or Jakarta Mail is missing, the class does not compile, or the JVM did not answer every case."""


@dataclass(frozen=True)
class StandinCase:
    """One send as LogicalDOC would make it, with its Outgoing Email settings (protocol smtp).

    `connection_security` 0 None, 1 STARTTLS (enable), 2 TLS (starttls.required), 3 SSL (implicit TLS);
    `auth_encrypted` is "Use secure authentication" (transport smtps); an empty `username` means no AUTH.
    `trust_ca`: a PEM file added to the JVM's default trust store for this case. `timeout_ms`: connect and read.
    """

    host: str
    port: int
    connection_security: int = 0
    auth_encrypted: bool = False
    username: str = ""
    password: str = ""
    sender: str = "logicaldoc@example.test"
    to: tuple[str, ...] = ("someone@external.test",)
    subject: str = "Hello from LogicalDOC"
    body: str = "This is a test email from LogicalDOC"
    timeout_ms: int = 4000
    trust_ca: str | None = None
    debug: bool = False

    def encoded(self) -> str:
        fields = {"host": self.host, "port": str(self.port), "connectionSecurity": str(self.connection_security),
                  "authEncrypted": "true" if self.auth_encrypted else "false", "username": self.username,
                  "password": self.password, "sender": self.sender, "to": ",".join(self.to),
                  "subject": self.subject, "body": self.body, "timeout": str(self.timeout_ms),
                  "debug": "true" if self.debug else "false"}
        if self.trust_ca:
            fields["trustCa"] = str(self.trust_ca)
        return urllib.parse.urlencode(fields, quote_via=urllib.parse.quote)


@dataclass(frozen=True)
class StandinResult:
    """What LogicalDOC's sender did: `ok`, or the exception (class and message), its nested chain
    (`MessagingException.getNextException()` / `getCause()`, as (class, message) pairs), the last server reply,
    and Jakarta Mail's debug transcript (only with `debug=True`; AUTH lines are not traced)."""

    ok: bool
    exception: str | None = None
    message: str | None = None
    chain: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)
    reply: str | None = None
    transcript: str = ""

    @property
    def classes(self) -> tuple[str, ...]:
        """The exception's class then every nested one."""
        return tuple(c for c in (self.exception, *(c for c, _ in self.chain)) if c)

    @property
    def text(self) -> str:
        """Every class and message of the failure, one per line (for `in` checks)."""
        lines = [f"{self.exception}: {self.message}"] if self.exception else []
        lines += [f"{c}: {m}" for c, m in self.chain]
        return "\n".join(lines)


_compiled: Path | None = None
_compiling = threading.Lock()


def compile_standin() -> Path:
    """Compile LogicalDocSender.java once per process; the directory holding its classes. Thread-safe (a fixture
    may compile in the background while the mail servers start): a second caller waits for the first; after a
    failure the next call compiles again and raises `StandinError` itself."""
    with _compiling:
        return _compile_once()


def _compile_once() -> Path:
    global _compiled
    if _compiled is not None:
        return _compiled
    java = shutil.which("java")
    if java is None:
        raise StandinError("java is not installed (Debian package default-jre-headless)")
    for jar in JARS:
        if not jar.is_file():
            raise StandinError(f"{jar} is missing (Debian package libjakarta-mail-java)")
    out = Path(tempfile.mkdtemp(prefix="outmail-standin-"))
    atexit.register(shutil.rmtree, out, True)
    proc = subprocess.run([java, "-m", "jdk.compiler/com.sun.tools.javac.Main", "-nowarn", "-encoding", "UTF-8",
                           "-d", str(out), "-cp", _classpath(), str(SOURCE)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise StandinError(f"compiling {SOURCE.name} failed:\n{proc.stdout}{proc.stderr}")
    _compiled = out
    return out


def run_logicaldoc_sender(cases, *, timeout: float = 120.0, threads: int = 1) -> list[StandinResult]:
    """Each case's result, in order, from one JVM. Cases are `StandinCase`s or dicts of its fields.

    `threads`: how many cases the JVM runs at once (each its own Jakarta Mail Session and connection; consecutive
    cases with the same `trust_ca` share the JVM's default trust store, set between batches). `timeout`: seconds for
    the whole batch. Raises `StandinError` when the JVM does not answer every case."""
    cases = [c if isinstance(c, StandinCase) else StandinCase(**c) for c in cases]
    if not cases:
        return []
    classes = compile_standin()
    stdin = "".join(c.encoded() + "\n" for c in cases)
    proc = subprocess.run(["java", "-cp", f"{classes}:{_classpath()}", "LogicalDocSender", str(max(1, threads))],
                          input=stdin, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or len(lines) != len(cases):
        raise StandinError(f"the stand-in answered {len(lines)} of {len(cases)} cases (exit {proc.returncode}):\n"
                           f"{proc.stderr[-4000:]}")
    results = []
    for line in lines:
        d = json.loads(line)
        results.append(StandinResult(ok=d["ok"], exception=d["exception"], message=d["message"],
                                     chain=tuple((x["class"], x["message"]) for x in d["chain"]),
                                     reply=d["reply"], transcript=d["transcript"]))
    return results


def _classpath() -> str:
    return ":".join(map(str, JARS))


__all__ = ["StandinCase", "StandinError", "StandinResult", "compile_standin", "run_logicaldoc_sender"]

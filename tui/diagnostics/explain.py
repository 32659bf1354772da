"""`outmail explain`: the cause, setup step and fix for error text an admin pasted, from the same hint table as the
diagnostics. No Textual here; the CLI and the console's Explain dialog both call `explain()`.

What it reads (each line of the paste is looked at; a Java stack trace counts as one error):
- a bare SMTP reply (`535 5.7.3 Authentication unsuccessful [...]`), also inside a Java message, a transcript line
  (`S: ...`, `<<< ...`) or a bounce (`Diagnostic-Code: smtp; 550 5.7.708 ...`, `Remote Server returned '...'`);
- an Entra ID error (`AADSTS7000215: ...`), also as LogicalDOC's `IOException("<error> - <error_description>")`;
- Jakarta Mail's and Java's own messages in a LogicalDOC log (`MailConnectException`, `SSLHandshakeException` with
  `PKIX path building failed`, `UnknownHostException`, `SocketTimeoutException`, `AuthenticationFailedException`,
  "STARTTLS is required but host does not support STARTTLS", ...), with the nested exception of a wrapper winning
  over the wrapper (`MessagingException: Could not convert socket to TLS` + `SSLHandshakeException: PKIX ...`).

Several errors in one paste are explained each, in order; a repeated one once. Text with an SMTP reply that the table
does not know gets its class (4.x.x temporary, 5.x.x permanent) and says so; text with nothing known gets "not known",
never a guess. Secrets in the paste (a client secret, a bearer token, a base64 AUTH line) are redacted before
anything is matched or shown (`redact.redact_pasted`).

    result = explain(text, settings=None)     # Explanation; settings (a Settings) fill the PowerShell and host
    result.findings                           # list[Finding]: line number, matched line, kind, hint, class
    result.ok                                 # something was found and every finding is known
    result.to_text() / result.to_json()
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from tui.diagnostics import hints as H
from tui.diagnostics.hints import Hint, HintContext
from tui.diagnostics.redact import redact_pasted

MAX_LINE = 300  # a matched line is shown up to this many characters

# An SMTP reply: the code, an enhanced status code, the text. Either at the start of a line (after a transcript
# prefix) or anywhere with an enhanced code (inside a Java message or a bounce).
_REPLY_START_RE = re.compile(r"^\s*(?:S:\s*|<<<\s*|\d+\s+S:\s*|Diagnostic-Code:\s*smtp;\s*)?([45]\d\d)[ -](\S.*)$")
_REPLY_ANY_RE = re.compile(r"(?<![\w.])([45]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3}\b.*)$")
_AADSTS_RE = re.compile(r"AADSTS(\d+)")
_UNKNOWN_HOST_RE = re.compile(r"(?:Unknown SMTP host:|UnknownHostException:)\s*([A-Za-z0-9.-]+)")
# A bounce names the server it talked to: "host mx.example.org[203.0.113.5] said: ..." (Postfix), "connect to
# mx2.example.org[198.51.100.7]:25: ..." and "Remote-MTA: dns; mx.example.org".
_BOUNCE_HOST_RE = re.compile(r"\bhost ([A-Za-z0-9.-]+)\[[^\]]*\] said:|\bconnect to ([A-Za-z0-9.-]+)\[[^\]]*\]:(\d+)|"
                             r"^Remote-MTA:\s*dns;\s*([A-Za-z0-9.-]+)", re.IGNORECASE | re.MULTILINE)
# The mechanism Jakarta Mail used ("Using mechanism LOGIN" in its debug output) or the AUTH command itself.
_MECHANISM_RE = re.compile(r"Using mechanism (\w[\w-]*)|\bAUTH (XOAUTH2|PLAIN|LOGIN)\b(?! PLAIN| LOGIN| XOAUTH2)",
                           re.IGNORECASE)
# Jakarta Mail names the server as "host: H, port: P" (Could not connect to SMTP host) or "host, port: H, P"
# (MailConnectException: Couldn't connect to host, port: H, P).
_HOST_PORT_RE = re.compile(r"host[:,]?\s*\"?([A-Za-z0-9.-]+)\"?,\s*port[:,]?\s*(\d{1,5})|"
                           r"host, port:\s*([A-Za-z0-9.-]+),\s*(\d{1,5})", re.IGNORECASE)
_CONTINUATION_RE = re.compile(r"^(\s+at\s|\s*Caused by:|\s*\.\.\.\s*\d+\s+more|\s*nested exception is:|\s+\S)")
_EXCEPTION_LINE_RE = re.compile(r"^\s*(?:Caused by:\s*)?[\w$.]+(?:Exception|Error)\b")
_LOG_START_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")

# Jakarta Mail's and Java's messages without an SMTP reply: (pattern, exception kind, specificity). A nested cause
# is more specific than its wrapper, so it wins within one error.
_JAVA_SIGNATURES: tuple[tuple[re.Pattern[str], str, int], ...] = tuple(
    (re.compile(p, re.IGNORECASE), kind, score) for p, kind, score in (
        (r"not sent because of the config parameter smtp\.nosend", "nosend", 3),
        (r"PKIX path building failed|unable to find valid certification path|certificate_unknown|"
         r"CertificateException|signature check failed", "tls-verify", 3),
        (r"No subject alternative (DNS )?names? matching|No name matching|hostname .* not verified", "tls-hostname", 3),
        (r"Unsupported or unrecognized SSL message|plaintext connection\?", "implicit-tls-plain-port", 3),
        (r"Received fatal alert: protocol_version|No appropriate protocol|protocol is disabled or cipher suites",
         "tls-version-mismatch", 3),
        (r"STARTTLS is required but host does not support STARTTLS", "starttls-required-missing", 3),
        (r"No authentication mechanisms supported by both server and client", "auth-no-common-mechanism", 3),
        (r"no password specified", "auth-no-password", 3),
        (r"UnknownHostException", "dns", 3),
        (r"Connection refused", "connection-refused", 3),
        (r"connect timed out|Connection timed out", "connect-timeout", 3),
        (r"Read timed out|SocketTimeoutException", "read-timeout", 2),
        (r"Connection reset|Broken pipe|Remote host terminated the handshake|\[EOF\]|Connection closed by "
         r"foreign host|SMTPServerDisconnected", "disconnected", 2),
        (r"SSLHandshakeException|Could not convert socket to TLS", "tls-handshake", 1),
        (r"AuthenticationFailedException", "auth-failed", 1),
        (r"Couldn't connect to host|Could not connect to SMTP host|MailConnectException", "connect-failed", 1),
    ))


@dataclass
class Finding:
    """One error found in the paste: where (1-based line), the matched line (redacted, cut), what kind of text
    it is ("smtp-reply", "aadsts", "exception", "unknown"), the hint (None when not known) and, for an SMTP reply,
    its class ("temporary" for 4.x.x, "permanent" for 5.x.x)."""

    line: int
    matched: str
    kind: str
    hint: Hint | None
    klass: str | None = None
    score: int = 0

    @property
    def known(self) -> bool:
        return self.hint is not None and self.hint.id not in ("smtp-temporary", "smtp-permanent", "token-error")

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "matched": self.matched, "kind": self.kind, "class": self.klass,
                "known": self.known, "hint": self.hint.to_json() if self.hint else None}


@dataclass
class Explanation:
    """Every error found, in the order of the paste. `ok`: something was found and every finding is known."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.known for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """{"ok", "findings": [{"line", "matched", "kind", "class", "known", "hint"}]}."""
        return {"ok": self.ok, "findings": [f.to_json() for f in self.findings]}

    def to_text(self) -> str:
        if not self.findings:
            return ("outmail explain: not known: no SMTP reply, Entra ID error or known Java exception in this text. "
                    "Paste the lines around the error (the log entry and its stack trace), or run `outmail check`.\n")
        n = len(self.findings)
        out = [f"outmail explain: {n} error{'' if n == 1 else 's'} found"]
        for i, f in enumerate(self.findings, 1):
            out.append(f"[{i}] line {f.line}: {f.matched}")
            if f.hint is None:
                out.append("    not known: outmail's table has no explanation for this text")
                continue
            if not f.known:
                out.append(f"    not known: a {f.klass or 'server'} error outmail's table does not have")
            out.extend("    " + line for line in f.hint.lines() if not line.startswith("Reply: "))
        return "\n".join(out) + "\n"


def context_for(settings: Any | None, text: str) -> HintContext:
    """The values hints are filled with: the settings' when given; the host and port Jakarta Mail names in the text
    otherwise; the server kind and the mechanism as the text shows them."""
    ctx = HintContext.from_settings(settings) if settings is not None else HintContext()
    # the server the paste names wins over the settings: the error is about what LogicalDOC talked to
    if (m := _HOST_PORT_RE.search(text)) is not None:
        ctx = replace(ctx, host=m.group(1) or m.group(3), port=m.group(2) or m.group(4))
    elif (m := _UNKNOWN_HOST_RE.search(text)) is not None:
        ctx = replace(ctx, host=m.group(1), port=ctx.port if settings is not None else "")
    elif (m := _BOUNCE_HOST_RE.search(text)) is not None:
        ctx = replace(ctx, host=m.group(1) or m.group(2) or m.group(4), port=m.group(3) or "25")
    said = H.server_kind(said=text) if H.EXCHANGE_TEXT_RE.search(text) else ""
    if said:
        ctx = replace(ctx, server=said)
    elif not ctx.server and ctx.host:
        ctx = replace(ctx, server=H.server_kind(host=ctx.host))
    if (m := _MECHANISM_RE.search(text)) is not None:  # what the log says was used wins over a guess
        ctx = replace(ctx, mechanism=(m.group(1) or m.group(2)).upper())
    elif not ctx.mechanism:
        if getattr(settings, "is_m365", False):
            ctx = replace(ctx, mechanism="XOAUTH2")
        elif settings is not None and getattr(settings, "username", "").strip():
            ctx = replace(ctx, mechanism="LOGIN")  # LogicalDOC's Jakarta Mail tries LOGIN first
    return ctx


def _phase(line: str) -> str:
    low = line.lower()
    if "auth" in low:
        return "auth"
    if "rcpt" in low or "recipient" in low or "addressfailed" in low:
        return "rcpt"
    if "mail from" in low or "sender address" in low:
        return "mail"
    if "data" in low or "message" in low and "sendfailed" in low:
        return "data"
    return ""


def _reply_in(line: str) -> tuple[int, str] | None:
    m = _REPLY_START_RE.match(line) or _REPLY_ANY_RE.search(line)
    if not m:
        return None
    text = m.group(2).strip().rstrip("'\"")
    return int(m.group(1)), text


def _finding(number: int, line: str, ctx: HintContext, settings: Any | None) -> Finding | None:
    """The most specific thing one line says, or None."""
    shown = line.strip()[:MAX_LINE] + ("…" if len(line.strip()) > MAX_LINE else "")
    if (m := _AADSTS_RE.search(line)) is not None:
        code = int(m.group(1))
        hint = H.for_aadsts(code, ctx, reply=line.strip()[:MAX_LINE])
        return Finding(number, shown, "aadsts", hint, score=4)
    if (reply := _reply_in(line)) is not None:
        code, text = reply
        phase = ctx.phase or _phase(line)
        hint = H.for_smtp_reply(code, text, replace(ctx, phase=phase))
        klass = "temporary" if 400 <= code < 500 else "permanent" if code >= 500 else None
        return Finding(number, shown, "smtp-reply", hint, klass, score=4)
    for pattern, kind, score in _JAVA_SIGNATURES:
        if pattern.search(line):
            extra = {"why": "'Use secure authentication' (smtps) or Connection Security SSL",
                     "plain_fix": "set Connection Security to STARTTLS (or TLS) and turn 'Use secure authentication' "
                                  "off",
                     "mechanisms": "(see the server's EHLO)", "security": "None, STARTTLS or TLS", "where": ""}
            if kind == "tls-verify":
                # LogicalDOC checks certificates only with SMTP Microsoft 365 or 'Use secure authentication', both
                # against its Java trust store: the fix is there, not in outmail's ca_file
                kind = "tls-verify-logicaldoc"
            hint = H.for_exception(kind, line.strip()[:MAX_LINE], ctx, extra=extra)
            return Finding(number, shown, "exception", hint, score=score)
    return None


def _blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    """Lines grouped into errors: a log entry with its stack trace ("at ...", "Caused by:", "nested exception is:"
    and the exception lines of the trace) is one block; every other line is a block of its own."""
    blocks: list[list[tuple[int, str]]] = []
    in_trace = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            in_trace = False
            continue
        starts_log = bool(_LOG_START_RE.match(line))
        is_exception = bool(_EXCEPTION_LINE_RE.match(line))
        continuation = blocks and not starts_log and (
            _CONTINUATION_RE.match(line) is not None or (is_exception and in_trace))
        if continuation and _is_folded_reply(blocks[-1][-1][1], line):
            # a reply wrapped onto an indented line (bounces fold long lines): one line for matching
            blocks[-1][-1] = (blocks[-1][-1][0], blocks[-1][-1][1].rstrip() + " " + line.strip())
        elif continuation:
            blocks[-1].append((number, line))
        else:
            blocks.append([(number, line)])
        in_trace = starts_log or is_exception or bool(continuation)
    return blocks


def _is_folded_reply(previous: str, line: str) -> bool:
    """`line` continues the SMTP reply on `previous` (an indented fold, not a stack frame or a nested exception)."""
    if not line[:1].isspace() or _EXCEPTION_LINE_RE.match(line):
        return False
    if re.match(r"\s+(at\s|\.\.\.|Caused by|nested exception)", line):
        return False
    return _reply_in(previous) is not None


def explain(text: str, settings: Any | None = None) -> Explanation:
    """Every error in `text` explained with the diagnostics' hint table (see the module docstring).

    settings: a tui.settings.model.Settings or None; its secrets are redacted from the paste and its values fill
    the fixes (client id, mailbox, host and port)."""
    secrets = []
    if settings is not None:
        secrets = [settings.client_secret.reveal(), settings.password.reveal()]
    clean = redact_pasted(text or "", secrets)
    ctx = context_for(settings, clean)
    found: list[Finding] = []
    seen: set[tuple[str, ...]] = set()
    for block in _blocks(clean.splitlines()):
        best: Finding | None = None
        for number, line in block:
            f = _finding(number, line, ctx, settings)
            if f is not None and (best is None or f.score >= best.score):
                best = f  # the deepest of the most specific: a nested cause beats its wrapper
        if best is None:
            continue
        key = _same_error_key(best)
        if key in seen:
            continue  # the same error again (a log line repeating it, a bounce's human and machine parts)
        seen.add(key)
        found.append(best)
    return Explanation(found)


def _same_error_key(f: Finding) -> tuple[str, ...]:
    """What makes two findings the same error: the hint, the reply's code and status, the addresses it names."""
    reply = f.hint.reply if f.hint is not None and f.hint.reply else f.matched
    code = re.search(r"(?<![\w.])([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})?", reply)
    addresses = tuple(sorted(set(re.findall(r"<([^<>\s]+@[^<>\s]+)>", reply))))
    return (f.hint.id if f.hint else f.matched, code.group(0) if code else reply.split(" [")[0], *addresses)

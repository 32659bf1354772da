"""`outmail send --to ADDR [--to ADDR ...] [--subject S] [--body TEXT | --body-file F] [--from ADDR] [--config PATH]
[--tenant NAME] [--json]`: `outmail check`'s steps, then the test message on the authenticated connection.

Output as `check` (the same Report rendering, `send_text`), plus a last line `Sent: 250 2.0.0 OK <id> [...] (queue id <id>)` or
`Not sent.`; `--json` prints check's document, whose `send` step also carries `reply` and `queue_id`.
Exit 0 sent, 1 a step failed (nothing or not everything sent), 2 unusable settings file or arguments (nothing sent,
no connection made): stderr says why and, with `--json`, stdout carries {"ok": false, "error": {"kind": "settings" |
"arguments", "message", "path", "line", "column"}} (`tui.diagnostics.unusable`; path, line, column where known).

- Each `--to` is one address (syntax checked with email-validator; .local, .test and other special-use domains are
  valid). CR or LF in any header field or address is refused before anything connects.
- `--body-file -` reads the body from standard input (UTF-8); a file that cannot be read is exit 2. Without `--body`
  or `--body-file` the body names this host, the time and the settings file (`tui.mail.message.default_body`).
- `--from ADDR` is the Send-as address: the From a LogicalDOC user's own email would give with "Use user's email as
  sender" (userasfrom) on. When userasfrom is off LogicalDOC never sends From another address; the test still runs
  (it tells whether Send As is granted, which the admin may be about to need) with a warning on stderr and a note in
  the send step.
"""

from __future__ import annotations

import sys
from typing import Any

from tui.diagnostics.cli import print_report, report_unusable
from tui.diagnostics.unusable import Unusable
from tui.exitcodes import EXIT_INTERRUPTED

PROG = "outmail send"


def _unusable(args: Any, err: Unusable) -> int:
    """stderr says why; with --json stdout carries {"ok": false, "error": {...}}; exit 2."""
    return report_unusable(err, "json" if getattr(args, "json", False) else "text", PROG)


def _message_unusable(exc: Exception, settings: Any) -> Unusable:
    """A message that cannot be built: the settings' Sender Email ("settings", naming the file) or an argument."""
    text = f"{str(exc).rstrip('.')}; nothing was sent"
    if str(exc).startswith(("Sender Email", "From: Sender Email")):
        path = getattr(settings, "source_path", None)
        return Unusable("settings", text, str(path) if path is not None else None)
    return Unusable.arguments(text)


def read_body(args: Any) -> str | None:
    """--body, else --body-file (`-` = stdin), else None (the default body). OSError/UnicodeDecodeError propagate."""
    if getattr(args, "body", None) is not None:
        return args.body
    path = getattr(args, "body_file", None)
    if path is None:
        return None
    if path == "-":
        return sys.stdin.buffer.read().decode("utf-8")
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def run_send(args: Any, invocation: Any) -> int:
    """`outmail send`; `invocation` (tui.invocation.Invocation): the tenant loaded by the top-level CLI, or why the
    file cannot be used."""
    from tui.mail.message import DEFAULT_SUBJECT, MessageError, build_message

    if invocation.error is not None:
        return _unusable(args, invocation.error)
    settings = invocation.settings

    try:
        body = read_body(args)
    except OSError as exc:
        return _unusable(args, Unusable.arguments(f"--body-file {args.body_file}: {exc.strerror or exc}"))
    except UnicodeDecodeError as exc:
        return _unusable(args, Unusable.arguments(
            f"--body-file {args.body_file}: not UTF-8 text ({exc.reason} at byte {exc.start})"))

    subject = args.subject if getattr(args, "subject", None) is not None else DEFAULT_SUBJECT
    send_as = getattr(args, "from_addr", None)
    try:
        test = build_message(settings, list(getattr(args, "to", None) or []), subject, body, send_as=send_as)
    except MessageError as exc:
        return _unusable(args, _message_unusable(exc, settings))
    if send_as and not settings.userasfrom and test.envelope_from.lower() != settings.sender.strip().lower():
        print(f"{PROG}: warning: 'Use user's email as sender' (userasfrom) is off, so LogicalDOC sends From "
              f"{settings.sender.strip() or '(empty Sender Email)'}; testing From {test.envelope_from} anyway",
              file=sys.stderr)

    from tui.mail.send import send_test_sync

    try:
        report = send_test_sync(settings, test, fresh_token=bool(getattr(args, "fresh_token", False)))
    except MessageError as exc:
        return _unusable(args, _message_unusable(exc, settings))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return print_report(report, as_json=getattr(args, "json", False), render=send_text)


def send_text(report: Any, *, verbose: bool = False) -> str:
    """A SendReport as `outmail send` prints it: check's text (`text.report_text`) headed "outmail send: <target>",
    then "Sent: <the server's whole reply> (queue id <id>)" or "Not sent."; ends with a newline."""
    from tui.diagnostics.text import report_text

    text = report_text(report, verbose=verbose, command=PROG)
    send = report.send
    if send.sent:
        text += f"Sent: {send.reply}" + (f" (queue id {send.queue_id})" if send.queue_id else "")
    else:
        text += "Not sent."
    return text + "\n"

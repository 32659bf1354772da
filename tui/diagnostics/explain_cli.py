"""`outmail explain [TEXT ... | -] [--config PATH] [--tenant NAME] [--json]`: the cause, setup step and fix for a
pasted error (a bare SMTP reply, an AADSTS message, a LogicalDOC log excerpt with its stack trace, a bounce).

The text comes from the arguments, or from standard input with `-` or when no text is given and stdin is not a
terminal. The settings file, when there is one (--config, $OUTMAIL_CONFIG, ./settings.toml), fills the fixes with the
admin's own values and its secrets are redacted from the paste too; an explicitly named file that cannot be used is
an error (exit 2). Exit 0 when every error found is explained, 1 when something was not known (or nothing found),
2 when the arguments or the named settings file cannot be used. With --json: one document, also on exit 2
({"ok": false, "error": {"kind", "message"}}).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tui.diagnostics.explain import explain

from tui.exitcodes import EXIT_FAILED as EXIT_NOT_KNOWN, EXIT_OK
MAX_INPUT = 1_000_000  # characters: a whole log excerpt, not a whole log


def _error(err: Any, as_json: bool) -> int:
    """Say why explain cannot run: stderr, and with --json the same {"ok": false, "error"} document check prints."""
    from tui.diagnostics.cli import report_unusable

    return report_unusable(err, "json" if as_json else "text", "outmail explain")


def run_explain(args: Any, invocation: Any) -> int:
    """`invocation` (tui.invocation.Invocation): the settings file, loaded by the top-level CLI when it is named or
    ./settings.toml exists; its error (a named file that cannot be used) is exit 2."""
    from tui.diagnostics.unusable import Unusable

    as_json = bool(getattr(args, "json", False))
    words = list(getattr(args, "text", None) or [])
    if words in ([], ["-"]):
        if not words and sys.stdin.isatty():
            return _error(Unusable.arguments("paste the error text as an argument, or pipe it in "
                                             "(outmail explain - < log)"), as_json)
        text = sys.stdin.read(MAX_INPUT + 1)
    else:
        text = " ".join(words)
    if len(text) > MAX_INPUT:
        return _error(Unusable.arguments(f"the text is longer than {MAX_INPUT} characters: paste the lines around "
                                         "the error, not the whole log"), as_json)
    if not text.strip():
        return _error(Unusable.arguments("nothing to explain: the text is empty"), as_json)
    if invocation.error is not None:
        return _error(invocation.error, as_json)
    result = explain(text, invocation.settings)  # None: no settings file, the fixes keep their <placeholders>
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.to_text())
    return EXIT_OK if result.ok else EXIT_NOT_KNOWN

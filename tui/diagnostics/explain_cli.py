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
import os
import sys
from typing import Any

from tui.diagnostics.explain import explain

from tui.exitcodes import EXIT_FAILED as EXIT_NOT_KNOWN, EXIT_OK
MAX_INPUT = 1_000_000  # characters: a whole log excerpt, not a whole log


def _error(err: Any, as_json: bool) -> int:
    """Say why explain cannot run: stderr, and with --json the same {"ok": false, "error"} document check prints."""
    from tui.diagnostics.cli import report_unusable

    return report_unusable(err, "json" if as_json else "text", "outmail explain")


def _settings(args: Any, as_json: bool) -> tuple[Any, int | None]:
    from tui.settings.location import ENV_CONFIG, resolve_config_path
    from tui.diagnostics.unusable import Unusable
    from tui.settings.store import SettingsFileError, load_settings

    explicit = getattr(args, "config", None) or os.environ.get(ENV_CONFIG)
    path = resolve_config_path(getattr(args, "config", None))
    if not explicit and not path.is_file():
        return None, None  # no settings: the fixes keep their <placeholders>
    try:
        return load_settings(path, tenant=getattr(args, "tenant", None)), None
    except SettingsFileError as exc:
        return None, _error(Unusable.from_settings_error(exc), as_json)
    except OSError as exc:
        return None, _error(Unusable.from_os_error(path, exc), as_json)


def run_explain(args: Any) -> int:
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
    settings, failed = _settings(args, as_json)
    if failed is not None:
        return failed
    result = explain(text, settings)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.to_text())
    return EXIT_OK if result.ok else EXIT_NOT_KNOWN

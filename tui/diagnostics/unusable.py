"""Why the settings or the arguments of a headless command cannot be used: one value, rendered as the `error` object of
every JSON document printed with exit 2 (`check --json`, `send --json`), as Nagios's UNKNOWN text and as stderr's line.

    err = Unusable.from_settings_error(exc)      # a tui.settings.store.SettingsFileError
    err = Unusable.arguments("--rcpt x: ...")    # an argument that cannot be used
    err.to_json()   # {"kind": "settings"|"arguments"|"internal", "message": str,
                    #   "path": str, "line": int, "column": int}: path, line, column only where known (1-based)
    err.text()      # "path:line:column: message" (the form the console and stderr use), or the message alone
    error_document(err)   # {"ok": false, "error": err.to_json()}: the whole JSON document on exit 2

Kinds: "settings" (the settings file does not exist, cannot be read, is not TOML, has a wrong type, an unknown
protocol or tenant, or no tenant at all) and "arguments" (the command line: argparse's errors, a bad --rcpt or --to,
an unreadable --body-file, options that do not go together); in a monitoring run also "internal" (outmail itself
failed in one tenant's check, a bug: that tenant's result is unknown, the message is redacted). Messages never hold a
secret: SettingsFileError names a secret key without its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["settings", "arguments", "internal"]


@dataclass(frozen=True)
class Unusable:
    """What cannot be used and where: `message` is the admin-readable reason without the location; `path` the
    settings file it is about, `line`/`column` 1-based where known. An argument's message names the option itself
    ("--body-file /x: No such file or directory")."""

    kind: Kind
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None

    @classmethod
    def from_settings_error(cls, exc: Any) -> "Unusable":
        """From a `tui.settings.store.SettingsFileError` (its `.message`, `.path`, `.line`, `.column`)."""
        path = getattr(exc, "path", None)
        return cls("settings", str(getattr(exc, "message", exc)), str(path) if path is not None else None,
                   getattr(exc, "line", None), getattr(exc, "column", None))

    @classmethod
    def from_os_error(cls, path: Any, exc: OSError, kind: Kind = "settings") -> "Unusable":
        """A file that could not be read (`exc.strerror`, e.g. "Permission denied")."""
        return cls(kind, str(exc.strerror or exc), str(path))

    @classmethod
    def arguments(cls, message: str) -> "Unusable":
        """The command line cannot be used."""
        return cls("arguments", message)

    def to_json(self) -> dict[str, Any]:
        """{"kind", "message"} plus "path", "line", "column" where known."""
        doc: dict[str, Any] = {"kind": self.kind, "message": self.message}
        for key in ("path", "line", "column"):
            value = getattr(self, key)
            if value is not None:
                doc[key] = value
        return doc

    def text(self) -> str:
        """"path:line:column: message" with the parts that are known; the message alone without a path."""
        if self.path is None:
            return self.message
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


def error_document(err: Unusable) -> dict[str, Any]:
    """The JSON document of a command that cannot run: {"ok": false, "error": {...}} (exit 2)."""
    return {"ok": False, "error": err.to_json()}

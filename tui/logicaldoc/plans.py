"""What an import or an export would do (a plan), its warnings and changes, and the bridge's errors.

A plan is made without writing anything (`exporting.plan_export*`, `importing.plan_import*`), shown (`diff`,
`warnings`, `changes`, `preview_text`: secrets as `***`), and applied only when the admin agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tui.logicaldoc.properties import PropertiesFile
from tui.logicaldoc.redaction import display_lines, display_text, redact_properties, redact_toml

Severity = Literal["warning", "note"]


class BridgeError(Exception):
    """The bridge cannot go on (unknown tenant, file changed on disk, ...); `str()` is admin-readable."""


@dataclass(frozen=True)
class BridgeWarning:
    """Something that matters on a real LogicalDOC. Never holds a secret value."""

    message: str
    tenant: str | None = None
    severity: Severity = "warning"
    key: str | None = None  # the property key it is about, when one

    def __str__(self) -> str:
        prefix = f"tenant {self.tenant}: " if self.tenant else ""
        return f"{self.severity}: {prefix}{self.message}"


@dataclass(frozen=True)
class Change:
    """One value the plan changes. `old`/`new` are display strings (secrets redacted); None = absent."""

    tenant: str
    attr: str  # the Settings attribute, or `smtp.<name>` for a key outside the field table
    key: str  # property key (export) or TOML key path (import)
    old: str | None
    new: str
    action: Literal["set", "add", "remove"] = "set"

    def __str__(self) -> str:
        if self.action == "remove":
            return f"{self.key}: remove {self.old!r} ({self.new})"
        if self.old is None:
            return f"{self.key}: add {self.new!r}"
        return f"{self.key}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class ExportPlan:
    """What export would write into context.properties."""

    path: Path | None
    old_bytes: bytes
    new_bytes: bytes
    diff: str  # unified diff, secrets redacted ("" when nothing changes)
    warnings: tuple[BridgeWarning, ...]
    changes: tuple[Change, ...]
    tenants: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.new_bytes != self.old_bytes

    @property
    def changed_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.changes)

    @property
    def new_text(self) -> str:
        """The new file as text (UTF-8 reading where valid). Holds the secrets: show `preview_text` instead."""
        return display_text(self.new_bytes)

    @property
    def preview_text(self) -> str:
        """The whole new file for display, secrets shown as ***."""
        return display_lines(redact_properties(PropertiesFile(self.new_bytes)))


@dataclass(frozen=True)
class ImportPlan:
    """What import would write into outmail's settings file."""

    config_path: Path | None
    config_exists: bool
    old_text: str
    new_text: str  # secrets included: write it, never show it
    diff: str  # unified diff, secrets redacted
    warnings: tuple[BridgeWarning, ...]
    changes: tuple[Change, ...]
    tenants: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text or not self.config_exists

    @property
    def preview_text(self) -> str:
        """The whole new settings file for display, secrets shown as "***"."""
        return redact_toml(self.new_text)


def read_config(config_path: Path, *, must_exist: bool) -> tuple[str, bool, dict[str, Any]]:
    """(the settings file's text, whether it exists, its parsed data) for a plan to start from; a missing file is the
    example (`settings.example.toml`'s text), or SettingsFileError when `must_exist`. Raises SettingsFileError for a
    file that cannot be read or parsed (with its line and column)."""
    from tui.settings import store

    text = store.read_text(Path(config_path))
    exists = text is not None
    if text is None:
        if must_exist:
            raise store.SettingsFileError("does not exist", Path(config_path))
        from tui.settings.example import render_example

        text = render_example()
    return text, exists, store.parse(text, Path(config_path))

"""The immutable Settings value: one tenant's Outgoing Email fields plus outmail's own token and console options."""

from __future__ import annotations

from dataclasses import dataclass, field, fields as dc_fields, replace
from pathlib import Path

from tui.secret import Secret
from tui.settings.fields import FIELDS, PROTOCOL_M365


@dataclass(frozen=True)
class Settings:
    """What one diagnostic run or one save works from. Form edits make a new Settings (`with_changes`)."""

    protocol: str = PROTOCOL_M365
    host: str = "smtp.office365.com"
    port: int = 587
    connection_security: int = 1
    auth_encrypted: bool = True
    username: str = ""
    password: Secret = field(default_factory=Secret)
    client_id: str = ""
    client_tenant: str = ""
    client_secret: Secret = field(default_factory=Secret)
    sender: str = ""
    userasfrom: bool = False
    authority_host: str = "https://login.microsoftonline.com"
    scope: str = "https://outlook.office365.com/.default"
    timeout_seconds: float = 20.0
    ca_file: str = ""
    tenant: str = "default"
    # Where each secret came from: "file", "env:<NAME>" or "" (unset). Shown to the admin, never the value.
    secret_sources: tuple[tuple[str, str], ...] = ()
    # LogicalDOC keys the settings file leaves out (their values above are outmail's defaults): shown, since
    # LogicalDOC's own default for a missing key can differ (verdict.md, Missing keys)
    unset_keys: tuple[str, ...] = ()
    source_path: Path | None = None

    @property
    def is_m365(self) -> bool:
        return self.protocol == PROTOCOL_M365

    def with_changes(self, **changes: object) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)

    def secret_source(self, attr: str) -> str:
        return dict(self.secret_sources).get(attr, "")

    def values(self) -> dict[str, object]:
        """The field-table values by attribute name (secrets stay wrapped)."""
        return {f.attr: getattr(self, f.attr) for f in FIELDS}


def setting_attrs() -> tuple[str, ...]:
    """The attributes that map to the field table (not tenant, sources or path)."""
    return tuple(f.name for f in dc_fields(Settings)
                 if f.name not in {"tenant", "secret_sources", "source_path", "unset_keys"})

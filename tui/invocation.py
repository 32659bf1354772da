"""What the top-level command line hands a subcommand: the settings file it resolved and what loading it gave.

`tui.cli` resolves the file once (`--config PATH`, else $OUTMAIL_CONFIG, else ./settings.toml:
`tui.settings.location.resolve_config_path`) and loads what the command needs (`tui.cli.SETTINGS_NEEDS`); the
subcommand gets an `Invocation` and never resolves or loads the file itself, nor imports `tui.cli`:

    run_send(args, invocation)      # invocation.settings: the tenant's Settings, or invocation.error
    run_check(args, invocation)     # invocation.tenants: every tenant with --all-tenants
    run_export(args, invocation)    # invocation.path only: the bridge reads the file its own (lossless) way

A file that cannot be used is `error` (a `tui.diagnostics.unusable.Unusable`: kind "settings", the message, the
path, line and column where known), never an exception: each command renders it in the format asked for (text,
JSON, Nagios UNKNOWN, Prometheus metrics) with exit code 2 (3 for Nagios), `tui.exitcodes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """The settings file of one command run.

    - `path`: the resolved file (it may not exist: `edit` offers to create it, `import` writes it).
    - `explicit`: True when named by --config or $OUTMAIL_CONFIG (not the ./settings.toml default); `explain` uses
      the default file only when it exists, a named one must be usable.
    - `tenant`: --tenant as given (None: 'default', or the only one).
    - `settings`: the loaded tenant (a `tui.settings.model.Settings`) for commands that need one; None otherwise.
    - `tenants`: with `check --all-tenants`, every tenant in file order as (name, Settings or Unusable): one tenant
      that cannot be used does not hide the others.
    - `error`: why the file cannot be used (`Unusable`), when loading failed; then `settings` is None.
    """

    path: Path
    explicit: bool = False
    tenant: str | None = None
    settings: Any = None
    tenants: tuple[tuple[str, Any], ...] = ()
    error: Any = None


def load_tenants(path: Path, env: Mapping[str, str] | None = None) -> list[tuple[str, Any]]:
    """Every tenant of the settings file in file order: (name, Settings), or (name, Unusable) for a tenant whose
    table cannot be used. A tenant is a `[tenants.<name>]` table (its `smtp` and `microsoft365` tables).

    Raises `tui.settings.store.SettingsFileError` when the file as a whole cannot be used: it does not exist, cannot
    be read, is not TOML, or has no tenant.
    """
    import os

    from tui.diagnostics.unusable import Unusable
    from tui.settings.store import SettingsFileError, parse, read_text, settings_from_data, tenant_names

    path = Path(path)
    text = read_text(path)
    if text is None:
        raise SettingsFileError("does not exist; create it with `outmail` (the console starts from the example) or "
                                "copy settings.example.toml", path)
    data = parse(text, path)
    names = tenant_names(data)
    if not names:
        raise SettingsFileError("has no tenant: add a [tenants.<name>.smtp] table", path)
    env = os.environ if env is None else env
    out: list[tuple[str, Any]] = []
    for name in names:
        try:
            out.append((name, settings_from_data(data, name, text=text, path=path, env=env)))
        except SettingsFileError as exc:
            out.append((name, Unusable.from_settings_error(exc)))
    return out


def load_invocation(path: Path, need: str, *, explicit: bool = False, tenant: str | None = None,
                    all_tenants: bool = False) -> Invocation:
    """Load what a command needs from the settings file at `path` (already resolved):

    - "path": nothing (the console, import, export read the file their own way);
    - "tenant": one tenant, `tenant` or 'default' or the only one (`tui.settings.store.load_settings`);
    - "tenants": as "tenant", or every tenant with `all_tenants` (`load_tenants`);
    - "if-any": as "tenant" when the file is `explicit` or exists, else nothing (the fixes keep placeholders).

    Never raises for a file that cannot be used: that is `Invocation.error` (kind "settings").
    """
    if need == "path" or (need == "if-any" and not explicit and not Path(path).is_file()):
        return Invocation(path, explicit, tenant)
    from tui.diagnostics.unusable import Unusable
    from tui.settings.store import SettingsFileError, load_settings

    try:
        if need == "tenants" and all_tenants:
            return Invocation(path, explicit, tenant, tenants=tuple(load_tenants(path)))
        return Invocation(path, explicit, tenant, settings=load_settings(path, tenant=tenant))
    except SettingsFileError as exc:
        return Invocation(path, explicit, tenant, error=Unusable.from_settings_error(exc))
    except OSError as exc:
        return Invocation(path, explicit, tenant, error=Unusable.from_os_error(path, exc))

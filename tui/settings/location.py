"""Which settings file a command works on: `--config PATH`, else $OUTMAIL_CONFIG, else ./settings.toml.

Shared by the top-level CLI and every subcommand (which never import `tui.cli`)."""

from __future__ import annotations

import os
from pathlib import Path

from tui.settings.fields import ENV_CONFIG

__all__ = ["ENV_CONFIG", "resolve_config_path"]


def resolve_config_path(arg: str | None) -> Path:
    """`--config PATH`, else $OUTMAIL_CONFIG, else ./settings.toml (relative to the working directory)."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    return Path("settings.toml")

"""`outmail demo`: the console against the built-in offline Microsoft 365 sandbox, so every screen works anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

from tui.exitcodes import EXIT_UNUSABLE

DEMO_MARKER = "# outmail demo settings"


def _write_demo_config(target: Path, text: str) -> str | None:
    """Write the sandbox's settings to `target`; refuse to replace a file that is not an earlier demo file."""
    from tui.files import atomic_write
    from tui.settings.store import read_text

    existing = read_text(target)
    if existing is not None and not existing.startswith(DEMO_MARKER):
        return f"{target} exists and is not an outmail demo file; name a new path with --config"
    atomic_write(target, f"{DEMO_MARKER}: they point at a sandbox that lives only while `outmail demo` runs.\n{text}",
                 private=True)  # it holds the sandbox's client secret
    return None


def run_demo(args) -> int:
    """Start the sandbox (with an optional fault), write a settings file that points at it, open the console."""
    from tui.sandbox import FAULTS, Sandbox

    if args.fault and args.fault not in FAULTS:
        print(f"outmail demo: unknown fault '{args.fault}'; see `outmail sandbox --list-faults`", file=sys.stderr)
        return EXIT_UNUSABLE
    with Sandbox(fault=args.fault) as sandbox:
        path = Path(sandbox.info.settings_path)
        if args.config:
            path = Path(args.config).expanduser()
            problem = _write_demo_config(path, Path(sandbox.info.settings_path).read_text())
            if problem:
                print(f"outmail demo: {problem}", file=sys.stderr)
                return EXIT_UNUSABLE
        from tui.console.launch import run_console

        return run_console(path, tenant=None, theme=getattr(args, "theme", None), demo=sandbox)

"""Starts the console: loads the settings file first, so an unusable file is reported without starting Textual."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.console.app import OutmailApp

EXIT_UNUSABLE = 2


def build_app(path: Path, tenant: str | None = None, demo: object = None) -> OutmailApp:
    """The console for `path`; raises SettingsFileError for a file that cannot be used (before Textual starts)."""
    from tui.settings.store import DEFAULT_TENANT, open_settings_file, parse, read_text, tenant_names

    path = Path(path)
    pick_tenant = False
    if tenant is None:
        text = read_text(path)
        names = tenant_names(parse(text, path)) if text is not None else ()
        if len(names) > 1 and DEFAULT_TENANT not in names:
            # Several tenants and none named: open the first and ask which one on start.
            tenant, pick_tenant = names[0], True
    settings_file, settings = open_settings_file(path, tenant)

    from tui.console.app import OutmailApp

    return OutmailApp(settings_file, settings, pick_tenant=pick_tenant, demo=demo)


def run_console(path: Path, tenant: str | None = None, theme: str | None = None, demo: object = None) -> int:
    """Run the settings console on `path`; the exit code (2: the file cannot be used, 1: a crash).

    The cyclic garbage collector is off from here until the editable, validated form is on screen
    (`OutmailApp.startup_finished`): start-up makes ~110,000 objects that live as long as the console (Textual's
    modules, the form's widgets), and collecting while they are made walked them again and again: ~35 ms of CPU
    on this project's 2-core VM, 25 of them between the first frame and the editable form. Then `gc.freeze()`
    moves them out of every later collection (O(1)) and collection resumes; the ~1.5 MB of garbage start-up leaves
    is freed when the first diagnostics run ends (the pane's `gc.unfreeze()`), or with the process.
    """
    from tui.settings.store import SettingsFileError

    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            app = build_app(path, tenant, demo)
        except SettingsFileError as exc:
            print(f"outmail: {exc}", file=sys.stderr)
            print("outmail: the file was not changed.", file=sys.stderr)
            return EXIT_UNUSABLE
        if theme:
            if theme not in app.available_themes:
                print(f"outmail: unknown theme '{theme}'; choose one of: {', '.join(sorted(app.available_themes))}",
                      file=sys.stderr)
                return EXIT_UNUSABLE
            app.theme = theme
        if collecting:
            app.startup_finished = _resume_collection
        app.run()
        return app.return_code or 0
    finally:
        if collecting:
            gc.enable()


def _resume_collection() -> None:
    """Start collecting again once start-up's objects are made, without ever walking them (see run_console)."""
    gc.freeze()
    gc.enable()

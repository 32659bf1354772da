"""`outmail import` and `outmail export`: the LogicalDOC bridge on the command line.

Exit codes: 0 done (or nothing to do, or --dry-run), 1 nothing written because the admin declined, 2 unusable input
(a file that cannot be read or parsed, an unknown tenant, no terminal to confirm on without --yes, a file changed
on disk meanwhile). Warnings go to standard error; the diff (secrets shown as ***) to standard output.
"""

from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any, TextIO

from tui.logicaldoc.exporting import apply_export, plan_export
from tui.logicaldoc.importing import apply_import, plan_import
from tui.logicaldoc.plans import BridgeError, BridgeWarning
from tui.logicaldoc.properties import PropertiesError

from tui.exitcodes import EXIT_FAILED as EXIT_DECLINED, EXIT_OK, EXIT_UNUSABLE


def _errors() -> tuple[type[Exception], ...]:
    from tui.settings.store import SettingsFileError

    return (PropertiesError, SettingsFileError, BridgeError, OSError)


def counted(n: int, word: str) -> str:
    """`1 value`, `2 values`, `0 changes`: no `(s)` in what an admin reads."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _print_warnings(warnings: tuple[BridgeWarning, ...], err: TextIO) -> None:
    for w in warnings:
        print(str(w), file=err)


def _tenants(args) -> list[str] | None:
    value = getattr(args, "tenant", None)
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _preview(command: str, make_plan: Callable[[], Any], target: Path, nothing: str, unit: str, args,
             out: TextIO, err: TextIO) -> Any:
    """Plan, then show its warnings (standard error) and diff (standard output). Returns the plan to apply, or the
    exit code when there is nothing more to do: unusable input, no change, or --dry-run."""
    try:
        plan = make_plan()
    except _errors() as exc:
        print(f"outmail {command}: {exc}", file=err)
        return EXIT_UNUSABLE
    _print_warnings(plan.warnings, err)
    if not plan.changed:
        print(f"{target} already has these values (tenants: {', '.join(plan.tenants)}); {nothing}.", file=out)
        return EXIT_OK
    out.write(plan.diff)
    if getattr(args, "dry_run", False):
        print(f"Dry run: {counted(len(plan.changes), unit)}, nothing written.", file=out)
        return EXIT_OK
    return plan


def run_import(args, invocation: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Read PROPERTIES' smtp keys into the settings file `invocation.path` (resolved by the top-level CLI; no
    question asked: the settings file is outmail's own; --dry-run prints the diff and writes nothing)."""
    out = out or sys.stdout
    err = err or sys.stderr
    config = Path(invocation.path)
    plan = _preview("import", lambda: plan_import(args.properties, config, _tenants(args)), config, "nothing written",
                    "value", args, out, err)
    if isinstance(plan, int):
        return plan
    try:
        apply_import(plan)
    except _errors() as exc:
        print(f"outmail import: {exc}", file=err)
        return EXIT_UNUSABLE
    print(f"Wrote {config} ({counted(len(plan.changes), 'value')}, tenants: {', '.join(plan.tenants)}).", file=out)
    return EXIT_OK


def _confirm(question: str, stdin: TextIO, out: TextIO) -> bool:
    out.write(question)
    out.flush()
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run_export(args, invocation: Any, out: TextIO | None = None, err: TextIO | None = None,
               stdin: TextIO | None = None) -> int:
    """Write the values of the settings file `invocation.path` (resolved by the top-level CLI) into PROPERTIES after
    showing the diff and asking (unless --yes)."""
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    config = Path(invocation.path)
    path = Path(args.properties)
    plan = _preview("export", lambda: plan_export(config, path, _tenants(args)), path, "nothing to write",
                    "change", args, out, err)
    if isinstance(plan, int):
        return plan
    if not getattr(args, "yes", False):
        if not stdin.isatty():
            print("outmail export: not a terminal and no --yes: nothing written (review the diff, then run again "
                  "with --yes)", file=err)
            return EXIT_UNUSABLE
        if not _confirm(f"Write these changes to {path}? [y/N] ", stdin, out):
            print("Nothing written.", file=out)
            return EXIT_DECLINED
    try:
        backup = apply_export(plan)
    except _errors() as exc:
        print(f"outmail export: {exc}", file=err)
        return EXIT_UNUSABLE
    print(f"Wrote {path} ({counted(len(plan.changes), 'change')}); backup: {backup}.", file=out)
    print("Restart LogicalDOC to use them (until then, a save in LogicalDOC's own settings screens rewrites the "
          "file from its memory and undoes this export).", file=out)
    return EXIT_OK

"""The `outmail` command line: argument parsing and dispatch; each subcommand calls one package.

Exit codes for every command: 0 success, 1 a check or send failed, 2 the settings file or the arguments cannot be used.
Textual is imported only when the console starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tui import __version__
from tui.settings.fields import ENV_CONFIG

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE = 2


def resolve_config_path(arg: str | None) -> Path:
    """`--config PATH`, else $OUTMAIL_CONFIG, else ./settings.toml."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    return Path("settings.toml")


def _add_config(p: argparse.ArgumentParser, top: bool = False) -> None:
    # On subcommands the options default to SUPPRESS so `outmail --config X check` keeps the top-level value.
    default = None if top else argparse.SUPPRESS
    p.add_argument("--config", metavar="PATH", default=default,
                   help=f"settings file (default: ${ENV_CONFIG}, else ./settings.toml)")
    p.add_argument("--tenant", metavar="NAME", default=default,
                   help="LogicalDOC tenant (default: 'default', or the only one)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outmail",
        description="Edit, prove and test LogicalDOC's Outgoing Email settings for Microsoft 365 SMTP OAuth 2.0.",
    )
    parser.add_argument("--version", action="version", version=f"outmail {__version__}")
    _add_config(parser, top=True)
    parser.add_argument("--theme", help="Textual theme, e.g. ansi-dark for the terminal's own 16 colours")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("edit", help="open the console (the default when no command is given)")
    _add_config(p)
    p.add_argument("--theme", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    p = sub.add_parser("demo", help="start the offline Microsoft 365 sandbox and open the console against it")
    _add_config(p)
    p.add_argument("--fault", metavar="NAME", help="start the sandbox with this fault (see `outmail sandbox --list-faults`)")
    p.add_argument("--theme", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    p = sub.add_parser("sandbox", help="run the offline Microsoft 365 sandbox in the foreground")
    p.add_argument("--fault", metavar="NAME", help="start with this fault")
    p.add_argument("--dir", metavar="DIR", help="folder for certificates, the mailbox and the settings file")
    p.add_argument("--list-faults", action="store_true", help="list the faults, one line each, and exit")

    p = sub.add_parser("check", help="prove the settings step by step (token, connect, EHLO, STARTTLS, AUTH, "
                                     "envelope); nothing is sent")
    _add_config(p)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--rcpt", metavar="ADDR", default="",
                   help="recipient for the envelope step's RCPT TO (default: the Sender Email itself); nothing is sent")
    p.add_argument("--fresh-token", action="store_true", help="ask Entra ID for a new token (never a cached one)")

    p = sub.add_parser("send", help="send a test message through the same steps as check")
    _add_config(p)
    p.add_argument("--to", action="append", metavar="ADDR", required=True, help="recipient (repeatable)")
    p.add_argument("--subject", help="subject (default: 'Test message from outmail')")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="TEXT", help="message body")
    body.add_argument("--body-file", metavar="F", help="read the body from a file ('-' for standard input)")
    p.add_argument("--from", dest="from_addr", metavar="ADDR", help="send as this address (a LogicalDOC user's, with userasfrom)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--fresh-token", action="store_true", help="ask Entra ID for a new token (never a cached one)")

    p = sub.add_parser("import", help="read LogicalDOC's context.properties smtp.* keys into the settings file")
    p.add_argument("properties", metavar="PROPERTIES", help="path of LogicalDOC's conf/context.properties")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="settings file to write")
    p.add_argument("--tenant", action="append", metavar="NAME", default=argparse.SUPPRESS,
                   help="only this tenant (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the diff and write nothing")

    p = sub.add_parser("export", help="write the settings back into LogicalDOC's context.properties")
    p.add_argument("properties", metavar="PROPERTIES", help="path of LogicalDOC's conf/context.properties")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="settings file to read")
    p.add_argument("--tenant", action="append", metavar="NAME", default=argparse.SUPPRESS,
                   help="only this tenant (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the diff and write nothing")
    p.add_argument("--yes", action="store_true", help="write without asking")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("import", "export") and isinstance(args.tenant, str):
        args.tenant = [args.tenant]  # `outmail --tenant t export ...` names one tenant
    command = args.command or "edit"
    if command == "edit":
        from tui.ui.launch import run_console

        return run_console(resolve_config_path(args.config), tenant=args.tenant, theme=args.theme)
    if command == "demo":
        from tui.demo import run_demo

        return run_demo(args)
    if command == "sandbox":
        from tui.sandbox.cli import run_sandbox

        return run_sandbox(args)
    if command == "check":
        from tui.diagnostics.cli import run_check

        return run_check(args)
    if command == "send":
        from tui.mail.cli import run_send

        return run_send(args)
    if command in ("import", "export"):
        from tui.logicaldoc import cli as ld_cli

        return ld_cli.run_import(args) if command == "import" else ld_cli.run_export(args)
    parser.error(f"unknown command {command}")
    return EXIT_UNUSABLE


def console_main() -> None:
    """The `outmail` executable and `python -m tui`: run, then exit without a final garbage collection.

    The process ends right away, so walking every object msal, requests and asyncio made is wasted work (about
    100 ms of a ~400 ms `check` on a small VM); `gc.freeze()` skips it. In-process callers use `main()`.
    """
    code = main()
    sys.stdout.flush()
    import gc

    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console_main()

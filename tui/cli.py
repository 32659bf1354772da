"""The `outmail` command line: argument parsing and dispatch; each subcommand calls one package.

Exit codes for every command: 0 success, 1 a check or send failed, 2 the settings file or the arguments cannot be used
(`check --format nagios`: the monitoring plugin codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
Textual is imported only when the console starts.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Callable

from tui import __version__
from tui.exitcodes import EXIT_UNUSABLE

if TYPE_CHECKING:
    from tui.invocation import Invocation
from tui.settings.location import ENV_CONFIG, resolve_config_path  # noqa: F401 - re-exported for callers

# What each command reads from the settings file. The settings are resolved and loaded here, once; a subcommand gets
# them as a `tui.invocation.Invocation` and never resolves or loads the file itself.
#   path       the resolved path only (the console, import and export read the file their own way)
#   tenant     one tenant, loaded (--tenant, else 'default' or the only one)
#   tenants    one tenant, or every tenant with --all-tenants
#   if-any     one tenant when the file is named (--config, $OUTMAIL_CONFIG) or ./settings.toml exists; else none
SETTINGS_NEEDS = {"edit": "path", "import": "path", "export": "path", "check": "tenants", "send": "tenant",
                  "guide": "tenant", "explain": "if-any"}


def _add_config(p: argparse.ArgumentParser, top: bool = False) -> None:
    # On subcommands the options default to SUPPRESS so `outmail --config X check` keeps the top-level value.
    default = None if top else argparse.SUPPRESS
    p.add_argument("--config", metavar="PATH", default=default,
                   help=f"settings file (default: ${ENV_CONFIG}, else ./settings.toml)")
    p.add_argument("--tenant", metavar="NAME", default=default,
                   help="LogicalDOC tenant (default: 'default', or the only one)")


class _ArgumentsError(Exception):
    """argparse's error, raised instead of exiting so that `check`/`send` can still print their JSON or Nagios
    document (see `main`)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentsError(self, message)


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The subcommands, each one's parser built only when it is the command given: building all of them (~60
    arguments, each asking gettext for translations and the terminal for its width) took ~5 ms of every start, the
    console's too. The top-level help lists every command with its help as argparse does."""

    def add_command(self, name: str, arguments: Callable[[argparse.ArgumentParser], None], help: str) -> None:
        """Declare `name`: `arguments(parser)` adds its arguments when it is chosen (or its help is asked for)."""
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        self._name_parser_map[name] = arguments  # type: ignore[assignment]  # a parser once chosen (__call__)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        name = values[0]
        arguments = self._name_parser_map.get(name)
        if arguments is not None and not isinstance(arguments, argparse.ArgumentParser):
            del self._name_parser_map[name]
            arguments(self.add_parser(name))
        super().__call__(parser, namespace, values, option_string)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


_VALUED_TOP_OPTIONS = ("--config", "--tenant", "--theme")


def _wanted_output(argv: list[str]) -> tuple[str | None, str]:
    """(command, format) read from raw arguments that argparse refused: the first word that is not an option (or a
    top-level option's value) is the command; --json means json (whatever --format says), else --format X means X.
    Best effort: used only to print check's and send's documents for argparse's errors."""
    command = None
    fmt = "text"
    as_json = False
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            break
        if command is None and word in _VALUED_TOP_OPTIONS:
            i += 2
            continue
        if command is None and not word.startswith("-"):
            command = word
        elif word == "--json":
            as_json = True
        elif word == "--format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif word.startswith("--format="):
            fmt = word.split("=", 1)[1]
        i += 1
    return command, "json" if as_json else fmt


def _edit_arguments(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument("--theme", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument("--fault", metavar="NAME", help="start the sandbox with this fault (see `outmail sandbox --list-faults`)")
    p.add_argument("--theme", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _sandbox_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fault", metavar="NAME", help="start with this fault")
    p.add_argument("--dir", metavar="DIR", help="folder for certificates, the mailbox and the settings file")
    p.add_argument("--list-faults", action="store_true", help="list the faults, one line each, and exit")


def _check_arguments(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument("--json", action="store_true", help="print one JSON document (the same as --format json)")
    p.add_argument("--format", choices=("text", "json", "nagios", "prometheus"), default=None,
                   help="text (default), json, nagios (a monitoring plugin's status line, perfdata and exit code "
                        "0/1/2/3) or prometheus (the text exposition format for node_exporter's textfile collector)")
    p.add_argument("--all-tenants", action="store_true",
                   help="check every tenant of the settings file, concurrently (see --jobs)")
    p.add_argument("--jobs", type=_positive_int, metavar="N", default=None,
                   help="with --all-tenants: tenants checked at the same time (default 4)")
    p.add_argument("--deadline", type=_positive_float, metavar="SECONDS", default=None,
                   help="end each tenant's run after this long, its running step failed (every network step is "
                        "bounded by [console] timeout_seconds anyway)")
    p.add_argument("--output", metavar="PATH", default=None,
                   help="with --format prometheus: write the metrics to PATH atomically (e.g. "
                        "/var/lib/node_exporter/textfile_collector/outmail.prom) instead of stdout")
    p.add_argument("--rcpt", metavar="ADDR", default="",
                   help="recipient for the envelope step's RCPT TO (default: the Sender Email itself); nothing is sent")
    p.add_argument("--fresh-token", action="store_true", help="ask Entra ID for a new token (never a cached one)")
    from tui.guide.durations import argument_duration

    p.add_argument("--until-pass", action="store_true",
                   help="after a change in Exchange: rerun until the check passes, a failure waiting does not fix, "
                        "or --for is over (one tenant; text or JSON)")
    p.add_argument("--every", type=argument_duration, metavar="DURATION", default=None,
                   help="with --until-pass: time between runs, e.g. 30s, 5m (default 5m)")
    p.add_argument("--for", dest="until_for", type=argument_duration, metavar="DURATION", default=None,
                   help="with --until-pass: give up after this long, e.g. 2h (default 2h)")


def _send_arguments(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument("--to", action="append", metavar="ADDR", required=True, help="recipient (repeatable)")
    p.add_argument("--subject", help="subject (default: 'Test message from outmail')")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="TEXT", help="message body")
    body.add_argument("--body-file", metavar="F", help="read the body from a file ('-' for standard input)")
    p.add_argument("--from", dest="from_addr", metavar="ADDR", help="send as this address (a LogicalDOC user's, with userasfrom)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--fresh-token", action="store_true", help="ask Entra ID for a new token (never a cached one)")


def _guide_arguments(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument("--model", choices=("classic", "rbac"), default=None,
                   help="classic (SMTP.SendAsApp and FullAccess, as LogicalDOC's guide) or rbac (RBAC for "
                        "Applications, least privilege); default: what the last token showed, else classic")
    p.add_argument("--json", action="store_true", help="print one JSON document (the scripts included)")
    p.add_argument("--no-run", action="store_true", help="do not run the diagnostics first")
    p.add_argument("--verify", metavar="FILE", help="the verification script's JSON ('-' reads stdin)")
    p.add_argument("--from", dest="from_addresses", action="append", metavar="ADDR", default=None,
                   help="a From address besides the Sender Email (with 'Use user's email as sender': a user's "
                        "address; repeatable)")
    p.add_argument("--script", choices=("setup", "verify"), default=None,
                   help="print the setup PowerShell (every step not proven) or the read-only verification PowerShell")
    p.add_argument("--output", metavar="PATH", default=None, help="write to PATH (atomically, 0600) instead of stdout")


def _explain_arguments(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument("text", nargs="*", metavar="TEXT", help="the error text; '-' or nothing (with a pipe) reads stdin")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("properties", metavar="PROPERTIES", help="path of LogicalDOC's conf/context.properties")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="settings file to write")
    p.add_argument("--tenant", action="append", metavar="NAME", default=argparse.SUPPRESS,
                   help="only this tenant (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the diff and write nothing")


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("properties", metavar="PROPERTIES", help="path of LogicalDOC's conf/context.properties")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="settings file to read")
    p.add_argument("--tenant", action="append", metavar="NAME", default=argparse.SUPPRESS,
                   help="only this tenant (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the diff and write nothing")
    p.add_argument("--yes", action="store_true", help="write without asking")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="outmail",
        description="Edit, prove and test LogicalDOC's Outgoing Email settings for Microsoft 365 SMTP OAuth 2.0.",
    )
    parser.add_argument("--version", action="version", version=f"outmail {__version__}")
    _add_config(parser, top=True)
    parser.add_argument("--theme", help="Textual theme, e.g. ansi-dark for the terminal's own 16 colours")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=_Commands)
    sub.add_command("edit", _edit_arguments, "open the console (the default when no command is given)")
    sub.add_command("demo", _demo_arguments,
                    "start the offline Microsoft 365 sandbox and open the console against it")
    sub.add_command("sandbox", _sandbox_arguments, "run the offline Microsoft 365 sandbox in the foreground")
    sub.add_command("check", _check_arguments, "prove the settings step by step (token, connect, EHLO, STARTTLS, "
                                               "AUTH, envelope); nothing is sent")
    sub.add_command("send", _send_arguments, "send a test message through the same steps as check")
    sub.add_command("guide", _guide_arguments, "the Microsoft 365 setup steps as a checklist, each proven from the "
                                               "diagnostics and a pasted verification, with the PowerShell filled in")
    sub.add_command("explain", _explain_arguments, "explain a pasted error: an SMTP reply, an AADSTS message, a "
                                                   "LogicalDOC log excerpt with its stack trace, a bounce")
    sub.add_command("import", _import_arguments,
                    "read LogicalDOC's context.properties smtp.* keys into the settings file")
    sub.add_command("export", _export_arguments, "write the settings back into LogicalDOC's context.properties")
    return parser


def load_invocation(command: str, args: argparse.Namespace) -> "Invocation":
    """Resolve the settings file of `command` and load what it needs (`SETTINGS_NEEDS`,
    `tui.invocation.load_invocation`): a file that cannot be used is `Invocation.error`, for the command to render
    in its format."""
    import os

    from tui.invocation import load_invocation as load

    config = getattr(args, "config", None)
    tenant = getattr(args, "tenant", None)
    return load(resolve_config_path(config), SETTINGS_NEEDS.get(command, "path"),
                explicit=bool(config or os.environ.get(ENV_CONFIG)), tenant=tenant if isinstance(tenant, str) else None,
                all_tenants=bool(getattr(args, "all_tenants", False)))


def main(argv: list[str] | None = None) -> int:
    """Parse and dispatch; returns the exit code. argparse's errors print the usage and exit 2 as ever (SystemExit);
    for `check` and `send` with --json (or check --format json/nagios) the error is also that format's document on
    stdout, returned as 2 (3 for nagios) instead."""
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(raw)
    except _ArgumentsError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        command, fmt = _wanted_output(raw)
        if (command == "check" and fmt in ("json", "nagios")) or \
                (command in ("send", "guide", "explain") and fmt == "json"):
            from tui.diagnostics.cli import arguments_error

            return arguments_error(exc.message, fmt)
        raise SystemExit(EXIT_UNUSABLE) from None
    if args.command in ("import", "export") and isinstance(args.tenant, str):
        args.tenant = [args.tenant]  # `outmail --tenant t export ...` names one tenant
    command = args.command or "edit"
    if command in ("edit", "demo"):
        # The console will run: keys typed while it loads reach it as typed (tui/terminal.py).
        from tui.terminal import keys_as_typed

        with keys_as_typed():
            if command == "demo":
                from tui.demo import run_demo

                return run_demo(args)
            from tui.console.launch import run_console

            return run_console(load_invocation(command, args).path, tenant=args.tenant, theme=args.theme)
    if command == "sandbox":
        from tui.sandbox.cli import run_sandbox

        return run_sandbox(args)
    if command == "check":
        from tui.diagnostics.cli import run_check

        return run_check(args, load_invocation(command, args))
    if command == "send":
        from tui.mail.cli import run_send

        return run_send(args, load_invocation(command, args))
    if command == "guide":
        from tui.guide.cli import run_guide

        return run_guide(args, load_invocation(command, args))
    if command == "explain":
        from tui.diagnostics.explain_cli import run_explain

        return run_explain(args, load_invocation(command, args))
    if command in ("import", "export"):
        from tui.logicaldoc import cli as ld_cli

        invocation = load_invocation(command, args)
        return ld_cli.run_import(args, invocation) if command == "import" else ld_cli.run_export(args, invocation)
    print(f"outmail: error: unknown command {command}", file=sys.stderr)
    return EXIT_UNUSABLE


def console_main() -> None:
    """The `outmail` executable and `python -m tui`: run, then exit without a final garbage collection.

    The process ends right away, so walking every object msal, requests and asyncio made is wasted work (about
    100 ms of a ~400 ms `check` on a small VM); `gc.freeze()` skips it. In-process callers use `main()`.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`outmail sandbox --list-faults | head -2`): no traceback; the rest of the output goes
        # nowhere (Python's documented recipe: https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        import os

        from tui.exitcodes import EXIT_BROKEN_PIPE

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    import gc

    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console_main()

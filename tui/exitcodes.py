"""The exit codes of every `outmail` command, in one place (README "Command line").

0 success; 1 a check or send failed (`explain`: something was not known; `export`: the admin declined); 2 the settings
file or the arguments cannot be used; 130 interrupted with ctrl+c. `check --format nagios` uses the monitoring plugin codes instead
(`tui.diagnostics.nagios.EXIT_CODES`: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE = 2
EXIT_INTERRUPTED = 130  # ctrl+c (SIGINT): the shell's 128 + 2
EXIT_BROKEN_PIPE = 141  # the reader of standard output went away (`outmail ... | head`): as SIGPIPE would, 128 + 13

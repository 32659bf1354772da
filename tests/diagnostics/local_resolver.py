"""`outmail` with a resolver stand-in that never sends a DNS query: run as a script, it takes the command line of
`outmail` (`python tests/diagnostics/local_resolver.py check --config …`).

The stand-in answers as RFC 6761 section 6.4 asks of resolvers for the `.invalid` TLD (a negative answer at once:
socket.gaierror EAI_NONAME, "Name or service not known", what glibc's getaddrinfo raises for a name no server
knows), passes address literals and localhost to the real getaddrinfo, and refuses every other name with an error
that names it, so a test using it cannot send DNS traffic anywhere. asyncio's loop.getaddrinfo calls
socket.getaddrinfo, so the connect step's lookups all come here.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _is_literal(host: object) -> bool:
    try:
        ipaddress.ip_address(host if isinstance(host, str) else "")
        return True
    except ValueError:
        return False


def resolver(real):
    """A getaddrinfo that answers `.invalid` itself, passes literals and localhost to `real`, refuses the rest."""

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.rstrip(".").lower().endswith(".invalid"):
            # the idna codec runs first in the real getaddrinfo too: a name it refuses never reaches a resolver
            host.encode("idna")
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host is None or _is_literal(host) or host == "localhost":
            return real(host, *args, **kwargs)
        raise AssertionError(f"test resolver: no lookup of {host!r} outside this machine")

    return getaddrinfo


def install() -> None:
    """Replace socket.getaddrinfo in this process (the script's use; a test uses `resolver` with monkeypatch)."""
    socket.getaddrinfo = resolver(socket.getaddrinfo)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    install()
    from tui.cli import console_main

    sys.argv[0] = "outmail"
    console_main()

"""Durations on the command line: `--every 5m`, `--for 2h`, `--every 30s`, `--for 1h30m`, `--every 90` (seconds).

    parse_duration("1h30m") -> 5400.0       # ValueError for anything else, with the accepted forms
    argument_duration(text)                  # the same for argparse (ArgumentTypeError)
"""

from __future__ import annotations

import argparse
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms]?)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}


def parse_duration(text: str) -> float:
    """Seconds from "90", "30s", "5m", "2h", "1h30m", "1.5h" (units h, m, s; a bare number is seconds); more than
    zero and at most a week."""
    raw = text.strip().lower()
    pos, total, parts = 0, 0.0, 0
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if m is None or (m.group(2) == "" and (m.end() != len(raw) or parts)):
            raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 2h, 1h30m)")
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos, parts = m.end(), parts + 1
    if parts == 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 2h, 1h30m)")
    if not 0 < total <= 7 * 86400:
        raise ValueError(f"{text!r} must be more than 0 and at most a week")
    return total


def argument_duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None

"""The Nagios plugin output grammar of the Monitoring Plugins Development Guidelines
(https://nagios-plugins.org/doc/guidelines.html, "Plugin Output" and "Performance data"), written here from the
guidelines rather than from outmail's code, to check what `outmail check --format nagios` prints."""

from __future__ import annotations

import re

# The Monitoring Plugins guidelines (https://nagios-plugins.org/doc/guidelines.html): `SERVICE STATUS - text | perf`,
# perf items `'label'=value[UOM];[warn];[crit];[min];[max]` separated by spaces, value in [-0-9.] (or U).
STATUS_RE = re.compile(r"^OUTMAIL (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.*))?$")
PERF_ITEM_RE = re.compile(r" *(('(?:[^']|'')+'|[^'= ]+)=(-?[0-9.]+|U)(us|ms|s|%|B|KB|MB|TB|c)?"
                          r"(?:;-?[0-9.:~@]*){0,4})(?= |$)")


def split_perf(text: str) -> list[str]:
    """Performance data items, each matched whole by the guidelines' grammar (quoted labels may hold spaces)."""
    items, pos = [], 0
    while pos < len(text):
        m = PERF_ITEM_RE.match(text, pos)
        assert m, text[pos:]
        items.append(m.group(1))
        pos = m.end()
    return items


def parse_nagios(text: str) -> tuple[str, str, list[str], list[str]]:
    """(state, summary, long output lines, perf items) per the guidelines; asserts the grammar."""
    assert text.endswith("\n")
    lines = text.splitlines()
    m = STATUS_RE.match(lines[0])
    assert m, lines[0]
    perf = split_perf(m.group(3) or "")
    long_lines = lines[1:]
    for line in long_lines:
        assert "|" not in line, line  # a `|` would start performance data
    return m.group(1), m.group(2), long_lines, perf

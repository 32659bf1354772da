"""tui/addresses.py: email-validator's Unicode-wide patterns are compiled on first use, and every verdict is the
library's own (compared with a fresh import of email-validator in a subprocess, where nothing is deferred)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tui.addresses import AddressError, check_address

SAMPLES = [
    "noreply@contoso.com", "Alice.Smith+tag@relay.local", "user@localhost", "jösé@bücher.example",
    "用户@例子.广告", "\"quoted local\"@example.com", "a b@example.com", "no-at-sign", "x@-bad-.example",
    "dots..twice@example.com", "ü@xn--bcher-kva.example", "tab\t@example.com", "é\u0301@example.com",
    "x" * 65 + "@example.com", "user@[192.0.2.1]", "user@exa_mple.com",
]


def verdicts_of_the_library_itself() -> dict[str, str]:
    code = (
        "import json, sys, email_validator\n"
        "email_validator.SPECIAL_USE_DOMAIN_NAMES = []\n"
        "out = {}\n"
        "for a in json.loads(sys.stdin.read()):\n"
        "    try:\n"
        "        out[a] = 'ok ' + email_validator.validate_email(a, check_deliverability=False,\n"
        "            globally_deliverable=False, allow_smtputf8=True).normalized\n"
        "    except email_validator.EmailNotValidError as e:\n"
        "        out[a] = 'error ' + str(e)\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(SAMPLES), capture_output=True, text=True,
                          check=True, timeout=60)
    return json.loads(proc.stdout)


def ours(address: str) -> str:
    try:
        return "ok " + check_address(address)
    except AddressError as exc:
        return "error " + str(exc)


def test_every_verdict_is_the_librarys():
    expected = verdicts_of_the_library_itself()
    assert {a: ours(a) for a in SAMPLES} == expected
    assert sum(v.startswith("ok") for v in expected.values()) >= 5  # both kinds are in the sample
    assert sum(v.startswith("error") for v in expected.values()) >= 5


def test_the_wide_patterns_wait_for_their_first_use():
    code = (
        "import re, tui.addresses, email_validator.rfc_constants as r\n"
        "names = ('ATEXT_INTL_DOT_RE', 'DOT_ATOM_TEXT_INTL', 'ATEXT_HOSTNAME_INTL', 'QTEXT_INTL')\n"
        "print(sorted(n for n in names if not isinstance(getattr(r, n), re.Pattern)))\n"
        "print(isinstance(r.DOT_ATOM_TEXT, re.Pattern), (re.compile.__module__, re.compile.__name__) == ('re', 'compile'))\n"
        "tui.addresses.check_address('jösé@bücher.example')\n"
        "print(r.DOT_ATOM_TEXT_INTL._compiled is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60).stdout.splitlines()
    assert out[0] == "['ATEXT_HOSTNAME_INTL', 'ATEXT_INTL_DOT_RE', 'DOT_ATOM_TEXT_INTL', 'QTEXT_INTL']"
    assert out[1] == "True True"  # ASCII patterns compiled as ever; re.compile itself is back
    assert out[2] == "True"  # an internationalized address compiled what it needed


@pytest.mark.parametrize("address", ["", "  ", "a@b.example\r\nRCPT TO:<x@y>"])
def test_empty_and_line_breaks_are_refused_before_the_library(address):
    with pytest.raises(AddressError):
        check_address(address)

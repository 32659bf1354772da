"""tui/addresses.py: email-validator's Unicode-wide patterns are compiled narrowed (the same language, written so that
`re` compiles it at once), and every verdict is the library's own (compared with a fresh import of email-validator in
a subprocess, where nothing is changed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tui.addresses import AddressError, check_address, narrowed

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


WIDE_NAMES = ("ATEXT_INTL_DOT_RE", "DOT_ATOM_TEXT_INTL", "ATEXT_HOSTNAME_INTL", "QTEXT_INTL")


def the_librarys_own_patterns() -> dict[str, str]:
    """The four Unicode-wide patterns as email-validator itself compiles them (a fresh import, nothing changed)."""
    code = ("import json, email_validator.rfc_constants as r\n"
            f"print(json.dumps({{n: getattr(r, n).pattern for n in {WIDE_NAMES!r}}}))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(proc.stdout)


def test_the_wide_patterns_are_compiled_narrowed_and_re_compile_is_back():
    import email_validator.rfc_constants as r

    for name in WIDE_NAMES:
        pattern = getattr(r, name)
        assert isinstance(pattern, re.Pattern)
        assert "\U0010FFFF" not in pattern.pattern and "\\U0010FFFF" not in pattern.pattern, name
        assert "[^\\x00-\\x7f]" in pattern.pattern, name
    assert r.DOT_ATOM_TEXT.pattern == "[" + r.ATEXT + "]+(?:\\.[" + r.ATEXT + r"]+)*\Z"  # ASCII ones untouched
    assert (re.compile.__module__, re.compile.__name__) == ("re", "compile")


# Every ASCII character, the range's ends and neighbours, surrogates, and characters from several planes.
PROBES = [chr(c) for c in range(0x80)] + [chr(c) for c in (
    0x80, 0x81, 0xA0, 0xFF, 0x100, 0x301, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFF,
    0x10000, 0x1F600, 0x2FFFF, 0xE0001, 0x10FFFE, 0x10FFFF)]
WORDS = ["abc", "a.b", "a..b", ".a", "a.", "jösé", "用户", "a b", "ü.x", "\u0080\U0010FFFF", "x\x7fy", "", "é\u0301",
         "a{b}|c~", "a\\b", "a\"b", "\ud800.\udfff"]


def test_a_narrowed_pattern_matches_exactly_what_the_librarys_matches():
    import email_validator.rfc_constants as r

    for name, original in the_librarys_own_patterns().items():
        theirs, ours = re.compile(original), getattr(r, name)
        for text in PROBES + WORDS:
            assert bool(theirs.fullmatch(text)) == bool(ours.fullmatch(text)), (name, text)
            assert bool(theirs.match(text)) == bool(ours.match(text)), (name, text)


@pytest.mark.parametrize("pattern", [
    "[^a-z\u0080-\U0010FFFF]",  # negated: the alternative would not mean the same
    "[\\[\u0080-\U0010FFFF]x",  # an escaped bracket inside: left as written
    "\\[a\u0080-\U0010FFFF]",  # an escaped opener: not a class
    "[a\u0080-\U0010FFFFb]",  # the range not at the class's end
])
def test_a_pattern_of_another_shape_is_left_as_written(pattern):
    assert narrowed(pattern) == pattern


def test_a_class_holding_only_the_wide_range_becomes_not_ascii():
    assert narrowed("x[\u0080-\U0010FFFF]+") == "x[^\\x00-\\x7f]+"


@pytest.mark.parametrize("address", ["", "  ", "a@b.example\r\nRCPT TO:<x@y>"])
def test_empty_and_line_breaks_are_refused_before_the_library(address):
    with pytest.raises(AddressError):
        check_address(address)

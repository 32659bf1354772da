"""Generated properties files: render is byte-identical, `set` changes only its value, `get` reads what Java reads."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from tests.logicaldoc.conftest import FIXTURE, FIXTURE_CRLF, java_load, reference_load, require_java
from tui.logicaldoc.properties import PropertiesError, PropertiesFile

SETTINGS = settings(max_examples=int(os.environ.get("LOGICALDOC_HYPOTHESIS_EXAMPLES", "100")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

EOL = st.sampled_from(["\n", "\r\n", "\r"])
BLANKS = st.text(alphabet=" \t\f", max_size=3)
KEY_START = st.sampled_from(list("abcxyzSMTP0123._-") + ["\u00e9", "\u65e5"])
KEY_PART = st.one_of(
    st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789._-~") + ["\u00e9", "\u00fc", "\u65e5"]),
    st.sampled_from(["\\ ", "\\=", "\\:", "\\\\", "\\t", "\\u00e9", "\\u0041", "\\#", "\\!"]),
)
VALUE_PART = st.one_of(
    st.sampled_from(list("abc xyz=:#!/@.-0123456789~") + ["\u00e9", "\u65e5", "\U0001F600", "\t"]),
    st.sampled_from(["\\\\", "\\=", "\\:", "\\n", "\\t", "\\u00e9", "\\uD83D\\uDE00", "\\ ", "\\x"]),
)
SEPARATOR = st.sampled_from(["=", ":", " ", " = ", "\t:\t", "  ", " =", ": "])


@st.composite
def entry_line(draw) -> str:
    key = draw(KEY_START) + "".join(draw(st.lists(KEY_PART, max_size=6)))
    parts = draw(st.lists(st.text(alphabet="", max_size=0) | st.just("") | VALUE_PART, max_size=8))
    value = ""
    for part in parts:
        if draw(st.integers(0, 9)) == 0:  # continuation: odd backslash, line break, indented next line
            value += "\\" + draw(EOL) + draw(BLANKS)
        value += part
    value = value.rstrip("\\") if (len(value) - len(value.rstrip("\\"))) % 2 else value
    return draw(BLANKS) + key + draw(SEPARATOR) + value


@st.composite
def comment_line(draw) -> str:
    return draw(BLANKS) + draw(st.sampled_from("#!")) + draw(st.text(alphabet="abc =:\\\u00e9", max_size=10))


@st.composite
def properties_text(draw) -> str:
    lines = draw(st.lists(st.one_of(entry_line(), comment_line(), BLANKS), min_size=1, max_size=15))
    text = "".join(line + draw(EOL) for line in lines)
    if draw(st.booleans()):  # end without a terminator
        text = text.rstrip("\r\n")
        if (len(text) - len(text.rstrip("\\"))) % 2:
            text += "x"
    return text


def _bytes(text: str) -> bytes:
    return text.encode("utf-8")  # raw UTF-8, as a hand-edited file has it (read back as ISO-8859-1)


@SETTINGS
@given(properties_text())
def test_render_is_identical_and_get_matches_reference(text: str) -> None:
    data = _bytes(text)
    p = PropertiesFile(data)
    assert p.render() == data
    assert p.as_dict() == reference_load(data.decode("latin-1"))


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_round_trip(data: bytes) -> None:
    try:
        p = PropertiesFile(data)
    except PropertiesError:
        assume(False)
    assert p.render() == data


NEW_VALUE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1F64F) | st.sampled_from(" \\=:#!\t\n\r\f"),
    max_size=20,
)


@SETTINGS
@given(properties_text(), st.data(), NEW_VALUE)
def test_set_changes_only_the_target(text: str, data, new_value: str) -> None:
    raw = _bytes(text)
    p = PropertiesFile(raw)
    assume(p.entries)
    key = data.draw(st.sampled_from(p.keys()))
    before = p.as_dict()
    e = p.entry(key)
    p.set(key, new_value)
    out = p.render()
    assert p.get(key) == new_value
    expected = dict(before)
    expected[key] = new_value
    assert reference_load(out.decode("latin-1")) == expected
    assert PropertiesFile(out).as_dict() == expected
    # Every byte before the value and after it is the same.
    assert out[:e.value_start] == raw[:e.value_start] or out[:e.value_start + 1] == raw[:e.value_start] + b"="
    tail = len(raw) - e.value_end
    assert out[len(out) - tail:] == raw[e.value_end:]


def test_java_reads_what_we_read() -> None:
    """The real-shaped fixtures, random files over the awkward characters, and files after `set`, read by
    java.util.Properties itself (one JVM for all)."""
    require_java()
    import tempfile
    from pathlib import Path

    rng = random.Random(20261129)
    alphabet = list("ab=: \t\f\\#!u0eE9\n\r\u00e9") + ["\\u00e9", "\\uD83D\\uDE00", "\r\n", "\\\n", "\\\r\n"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(400)]
    edited: list[tuple[str, str, str]] = []
    for i in range(150):
        line = rng.choice(["k.smtp.host=old \\\n  value", "k.smtp.host=\\\r  old", "k.smtp.host = \\\r\n\tv",
                           "k.smtp.host", "k.smtp.host:", "k.smtp.host   old\\\\"])
        t = "".join(rng.choice(alphabet[:-5]) for _ in range(rng.randint(1, 30))) + "\n" + line + rng.choice(
            ["\n", "\r\n", "\r", ""]) + rng.choice(["", "next=1\n", "\\\n", "  # c\n"])
        new = "".join(rng.choice(list(" =:#!\\\t\n\u00e9\u65e5x") + ["\U0001F600"]) for _ in range(rng.randint(0, 8)))
        edited.append((t, "k.smtp.host", new))
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        ours: list[dict[str, str] | str] = []
        for n, text in enumerate(texts):
            path = Path(tmp) / f"r{n}.properties"
            path.write_bytes(text.encode("utf-8"))
            paths.append(path)
            try:
                ours.append(PropertiesFile(path.read_bytes()).as_dict())
            except PropertiesError:
                ours.append("ERR")
        for n, (text, key, new) in enumerate(edited):
            try:
                p = PropertiesFile(text.encode("utf-8"))
            except PropertiesError:
                continue
            if key not in p:  # the random prefix ended in a continuation that swallowed the key
                continue
            p.set(key, new)
            path = Path(tmp) / f"e{n}.properties"
            path.write_bytes(p.render())
            paths.append(path)
            ours.append(p.as_dict())
        theirs = java_load([FIXTURE, FIXTURE_CRLF, *paths])
    lf, crlf = theirs[:2]
    theirs = theirs[2:]
    assert lf == PropertiesFile.read(FIXTURE).as_dict()
    assert crlf == lf
    mismatches = []
    for path, mine, java in zip(paths, ours, theirs):
        java_norm = "ERR" if isinstance(java, str) else java
        if mine != java_norm:
            mismatches.append((path.name, path.name.startswith("r") and texts[int(path.name[1:].split(".")[0])],
                               mine, java))
    assert not mismatches, mismatches[:3]

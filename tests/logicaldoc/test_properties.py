"""The lossless properties model on the real-shaped fixture and on hand-picked edge cases."""

from __future__ import annotations

import pytest

from tests.logicaldoc.conftest import FIXTURE, FIXTURE_CRLF, changed_region, reference_load
from tui.logicaldoc.properties import PropertiesError, PropertiesFile, escape


@pytest.fixture(scope="module")
def fixture_props() -> PropertiesFile:
    return PropertiesFile.read(FIXTURE)


def test_fixture_is_real_shaped(fixture_props: PropertiesFile) -> None:
    assert len(fixture_props.entries) > 400
    text = FIXTURE.read_bytes().decode("latin-1")
    shipped = [line for line in text.splitlines() if line.startswith("default.smtp.")]
    assert shipped[0] == "default.smtp.protocol=smtp" and len(shipped) == 14


@pytest.mark.parametrize("path", [FIXTURE, FIXTURE_CRLF], ids=["lf", "crlf"])
def test_render_is_byte_identical(path) -> None:
    data = path.read_bytes()
    assert PropertiesFile(data).render() == data


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("jdbc.url", "jdbc:mysql://db.internal:3306/logicaldoc?useSSL=false&characterEncoding=UTF-8"),
        ("jdbc.password", "S3cr=t:pa\\ss"),
        ("index.dir", "C:\\LogicalDOC\\repository\\index"),  # key: value form
        ("index.batch", "200"),  # key value form
        ("index.excludes", "*.tmp, *.bak"),
        ("gui.welcome", "Welcome to LogicalDOC, the document management system. Have a nice day!"),
        ("ocr.cmd", "/usr/bin/tesseract --psm 3 -l eng+ita+deu"),
        ("empty.continued", ""),
        ("default.company", "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"),
        ("default.city", "Z\u00c3\u00bcrich"),  # raw UTF-8 read as ISO-8859-1, like LogicalDOC does
        ("gui.emoji", "\U0001F600 smile"),
        ("key with spaces", "value with spaces"),
        ("key=with:seps", "a=b:c"),
        ("indented.key", "leading blanks skipped, trailing kept   "),
        ("novalue", ""),
        ("hash.in.value", "#not a comment"),
        ("after.comment", "1"),  # a comment's trailing backslash does not continue it
        ("acme.smtp.clientTenant", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
        ("acme.smtp.clientSecret", "Abc8Q~x=y:z!#secret"),
        ("acme.smtp.connectionSecurity", "1"),
        ("acme.smtp.port", "587"),
        ("last.key", "no newline at the end"),
    ],
)
def test_values_read_as_java_does(fixture_props: PropertiesFile, key: str, value: str) -> None:
    assert fixture_props.get(key) == value


def test_crlf_reads_the_same(fixture_props: PropertiesFile) -> None:
    assert PropertiesFile.read(FIXTURE_CRLF).as_dict() == fixture_props.as_dict()
    assert PropertiesFile.read(FIXTURE_CRLF).newline == "\r\n"


def test_reference_decoder_agrees_on_fixture(fixture_props: PropertiesFile) -> None:
    assert reference_load(fixture_props.text) == fixture_props.as_dict()


@pytest.mark.parametrize("path", [FIXTURE, FIXTURE_CRLF], ids=["lf", "crlf"])
def test_set_touches_only_that_value(path) -> None:
    data = path.read_bytes()
    p = PropertiesFile(data)
    assert p.set("acme.smtp.host", "smtp.example.org")
    new = p.render()
    assert changed_region(data, new) == (b"office365.com", b"example.org")
    before = PropertiesFile(data).as_dict()
    after = p.as_dict()
    assert {k for k in before if before[k] != after.get(k)} == {"acme.smtp.host"}
    # The separator " = " and the line ending stay.
    assert b"acme.smtp.host = smtp.example.org" + (b"\r\n" if b"\r\n" in data else b"\n") in new


def test_set_same_value_changes_nothing(fixture_props: PropertiesFile) -> None:
    p = PropertiesFile(fixture_props.render())
    assert not p.set("acme.smtp.clientSecret", "Abc8Q~x=y:z!#secret")
    assert p.render() == FIXTURE.read_bytes()


def test_set_collapses_only_the_continued_value() -> None:
    data = b"a=1\nacme.smtp.clientTenant=\\\n    old-\\\n  tenant\nocr=x \\\n  y\n"
    p = PropertiesFile(data)
    assert p.get("acme.smtp.clientTenant") == "old-tenant"
    p.set("acme.smtp.clientTenant", "new-tenant")
    # The changed value's lines become one; the other continued value stays as it was.
    assert p.render() == b"a=1\nacme.smtp.clientTenant=new-tenant\nocr=x \\\n  y\n"
    assert p.get("acme.smtp.clientTenant") == "new-tenant"
    assert p.get("ocr") == "x y"


def test_set_escapes_like_java_store() -> None:
    p = PropertiesFile(b"k=v\n")
    value = " lead = colon: hash# bang! back\\slash tab\t nl\n \u00e9 \u65e5 \U0001F600 trail "
    p.set("k", value)
    assert p.render().isascii()
    assert p.get("k") == value
    assert PropertiesFile(p.render()).get("k") == value
    assert escape(" a b") == "\\ a b"
    assert escape("a b", is_key=True) == "a\\ b"
    assert escape("x=y:z#!") == "x\\=y\\:z\\#\\!"
    assert escape("\u00e9") == "\\u00E9"
    assert escape("\U0001F600") == "\\uD83D\\uDE00"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"novalue\n", b"novalue=x\n"),  # a key alone needs a separator first
        (b"k=\n", b"k=x\n"),
        (b"k   \n", b"k   x\n"),  # blanks already separate
        (b"k:", b"k:x"),  # no terminator at the end stays without one
        (b"k=old\r\n", b"k=x\r\n"),
        (b"k=a\\\n\n", b"k=x\n"),  # continuation then blank line
        (b"k=\\\ra\nz=\n", b"k=x\nz=\n"),  # a continuation before the value goes with it
        (b"k = \\\n   v\n", b"k = x\n"),
    ],
)
def test_set_value_spans(data: bytes, expected: bytes) -> None:
    p = PropertiesFile(data)
    p.set("k" if not data.startswith(b"novalue") else "novalue", "x")
    assert p.render() == expected


def test_empty_value_after_a_continuation_does_not_join_the_next_line() -> None:
    """Found by hypothesis: `b=\\<CR>a<LF>` set to "" must not leave `b=\\<CR><LF>` (a CRLF continuation)."""
    p = PropertiesFile(b"b=\\\ra\na=\n")
    p.set("b", "")
    assert p.render() == b"b=\na=\n" and p.as_dict() == {"b": "", "a": ""}


def test_last_occurrence_wins_and_is_the_one_edited() -> None:
    p = PropertiesFile(b"k=1\nother=2\nk=3\n")
    assert p.get("k") == "3"
    assert [e.line for e in p.occurrences("k")] == [1, 3]
    p.set("k", "4")
    assert p.render() == b"k=1\nother=2\nk=4\n"


def test_insert_after_and_append_keep_line_endings() -> None:
    p = PropertiesFile(b"a.smtp.host=h\r\nz=1")
    p.insert_after("a.smtp.host", [("a.smtp.port", "587")])
    assert p.render() == b"a.smtp.host=h\r\na.smtp.port=587\r\nz=1"
    p.append([("b.smtp.host", "x y")], comment="tenant b")
    assert p.render() == b"a.smtp.host=h\r\na.smtp.port=587\r\nz=1\r\n\r\n# tenant b\r\nb.smtp.host=x y\r\n"
    p.insert(len(p.text), [("key with space", "v")])
    assert p.get("key with space") == "v"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"a=1\nb=2\njdbc.url=x\\uZZ12\n", 3),
        (b"a=1\r\n# ok \\uZZZZ in a comment\r\nkey\\u12=v\r\n", 3),
        (b"a=1\nb=multi \\\n   line \\u00\n", 3),  # the bad escape is on the continuation line
        (b"a=\\u00e", 1),  # too short at the end of the file
        (b"a=1\nb=\x00\n", 2),
    ],
)
def test_malformed_reports_the_line(data: bytes, line: int) -> None:
    with pytest.raises(PropertiesError) as info:
        PropertiesFile(data, "conf/context.properties")
    assert info.value.line == line
    assert f"conf/context.properties, line {line}:" in str(info.value)


def test_unreadable_file(tmp_path) -> None:
    with pytest.raises(PropertiesError, match="cannot read"):
        PropertiesFile.read(tmp_path / "missing.properties")


def test_utf8_detection(fixture_props: PropertiesFile) -> None:
    assert fixture_props.looks_utf8("default.city") == "Z\u00fcrich"
    assert fixture_props.looks_utf8("default.company") is None  # \u escapes: fine as they are
    assert fixture_props.looks_utf8("jdbc.url") is None


def test_a_malformed_escape_in_a_secret_does_not_show_the_secret() -> None:
    data = b"a=1\ndefault.smtp.clientSecret=Qx8\\uQ~s3cr3tTail\n"
    with pytest.raises(PropertiesError) as info:
        PropertiesFile(data, "conf/context.properties")
    message = str(info.value)
    assert info.value.line == 2 and "malformed \\uXXXX escape" in message
    assert "Q~s3" not in message and "s3cr3t" not in message and "Qx8" not in message

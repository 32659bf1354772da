"""The test message: headers, UTF-8, From/Sender as LogicalDOC sets them, refused addresses and header injection."""

from __future__ import annotations

import email
from email import policy

import pytest

from tui.mail.message import DEFAULT_SUBJECT, MessageError, build_message, split_recipients
from tui.settings.model import Settings

SETTINGS = Settings(username="noreply@contoso.test", sender="noreply@contoso.test", host="smtp.office365.com")


def parsed(message):
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def test_headers_and_envelope():
    built = build_message(SETTINGS, ["alice@contoso.test", "bob@relay.local"])
    msg = parsed(built.message)
    assert msg["From"] == "noreply@contoso.test" and msg["Sender"] is None
    assert msg["To"] == "alice@contoso.test, bob@relay.local"
    assert msg["Subject"] == DEFAULT_SUBJECT
    assert msg["Date"] and msg["Message-ID"].endswith("@contoso.test>")
    assert built.envelope_from == "noreply@contoso.test"
    assert built.recipients == ("alice@contoso.test", "bob@relay.local")
    body = msg.get_content()
    assert "smtp.office365.com" in body and "Settings file" in body


def test_utf8_subject_and_body_survive():
    built = build_message(SETTINGS, ["a@contoso.test"], subject="Grüße – テスト ✓", body="Körper: naïve café ✓\n")
    msg = parsed(built.message)
    assert msg["Subject"] == "Grüße – テスト ✓"
    assert msg.get_content() == "Körper: naïve café ✓\n"
    assert msg.get_content_charset() == "utf-8"


def test_send_as_another_user_sets_from_and_keeps_sender():
    built = build_message(SETTINGS, ["a@contoso.test"], send_as="jane@contoso.test")
    msg = parsed(built.message)
    assert msg["From"] == "jane@contoso.test" and msg["Sender"] == "noreply@contoso.test"
    assert built.envelope_from == "jane@contoso.test"


@pytest.mark.parametrize("to,words", [
    ([], "at least one recipient"),
    (["not-an-address"], "To 'not-an-address' is not a valid email address"),
    (["a@contoso.test\r\nBcc: victim@evil.test"], "line break"),
])
def test_bad_recipients_are_refused(to, words):
    with pytest.raises(MessageError, match=words):
        build_message(SETTINGS, to)


@pytest.mark.parametrize("field", ["subject", "send_as"])
def test_header_injection_is_refused(field):
    with pytest.raises(MessageError, match="line break"):
        build_message(SETTINGS, ["a@contoso.test"], **{field: "x@contoso.test\nBcc: victim@evil.test"})


def test_split_recipients():
    assert split_recipients("a@x.test, b@y.test;c@z.test  d@w.test") == ["a@x.test", "b@y.test", "c@z.test", "d@w.test"]

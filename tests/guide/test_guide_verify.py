"""The verification summary pasted back: complete, partial, malformed and hostile input; what each section decides."""

from __future__ import annotations

import json
import time

import pytest

from tui.guide.evidence import decide
from tui.guide.values import GuideValues
from tui.guide.verify import (MAX_BYTES, MAX_ITEMS, MAX_STRING, REQUIRED_KEYS, VerificationError, load_verification,
                              parse_verification, verification_evidence)

APP = "11111111-2222-3333-4444-555555555555"
OID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
APP_REG_OID = "99999999-8888-7777-6666-555555555555"
NOW = time.time()


def complete(**changes) -> dict:
    doc = {
        "outmail_verify": 1,
        "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 60)),
        "client_id": APP,
        "object_id": OID,
        "mailbox": "noreply@contoso.com",
        "from_addresses": ["shared@contoso.com"],
        "service_principal": {"found": True, "app_id": APP, "object_id": OID, "display_name": "LogicalDOC"},
        "mailbox_info": {"found": True, "primary_smtp_address": "noreply@contoso.com", "smtp_auth_disabled": None},
        "transport_config": {"smtp_auth_disabled": False},
        "full_access": {"granted": True},
        "send_as": [{"address": "shared@contoso.com", "granted": True}],
        "rbac": [{"resource": "noreply@contoso.com", "role": "Application SMTP.SendAsApp", "scope": "outmail-smtp",
                  "in_scope": True}],
        "errors": [],
    }
    doc.update(changes)
    return doc


def values(**changes) -> GuideValues:
    base = dict(client_id=APP, tenant="contoso.com", object_id=OID, object_id_source="token",
                mailbox="noreply@contoso.com", sender="shared@contoso.com", from_addresses=("shared@contoso.com",),
                protocol="smtpmicrosoft365", host="smtp.office365.com", port="587", m365=True)
    base.update(changes)
    return GuideValues(**base)


def judged(doc: dict, vals: GuideValues | None = None) -> dict[str, str]:
    v = parse_verification(json.dumps(doc), now=NOW)
    vals = vals or values()
    items = verification_evidence(v, vals)
    out = {}
    for step in ("S5", "S6", "S7", "S8", "R1", "R2", "R3"):
        subjects = vals.from_addresses if step == "S7" and vals.from_addresses else ()
        out[step] = decide(step, items, needed_subjects=subjects)[0]
    return out


# ---- complete --------------------------------------------------------------------------------------------------

def test_complete_summary_parses_and_proves_the_exchange_side():
    v = parse_verification(json.dumps(complete()), now=NOW)
    assert v.client_id == APP and v.object_id == OID and v.mailbox == "noreply@contoso.com"
    assert v.service_principal.found and v.service_principal.object_id == OID
    assert v.full_access is True and v.tenant_smtp_auth_disabled is False and v.transport_known
    assert v.send_as[0].granted is True and v.rbac[0].in_scope is True
    assert v.ignored == () and v.errors == ()
    assert abs(v.collected_at - (NOW - 60)) < 1.5
    assert judged(complete()) == dict.fromkeys(("S5", "S6", "S7", "S8", "R1", "R2", "R3"), "proven")


def test_compact_line_inside_a_pasted_console_transcript():
    line = json.dumps(complete(), separators=(",", ":"))
    paste = (f"PS C:\\> .\\outmail-verify.ps1\noutmail: paste the JSON line below into the guide\n{line}\n"
             f"PS C:\\> ")
    assert parse_verification(paste, now=NOW).client_id == APP


def test_utf16_file_from_windows_powershell(tmp_path):
    path = tmp_path / "verify.json"
    path.write_bytes(b"\xff\xfe" + (json.dumps(complete()) + "\r\n").encode("utf-16-le"))
    assert load_verification(path, now=NOW).mailbox == "noreply@contoso.com"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(complete()).encode())
    assert load_verification(path, now=NOW).mailbox == "noreply@contoso.com"
    path.write_bytes(json.dumps(complete()).encode("utf-16-le"))  # no byte order mark: not guessed
    with pytest.raises(VerificationError, match="UTF-16 without a byte order mark"):
        load_verification(path, now=NOW)


def test_unknown_keys_are_ignored_and_named():
    doc = complete(future_field=1)
    doc["service_principal"]["extra"] = "x"
    v = parse_verification(json.dumps(doc), now=NOW)
    assert v.ignored == ("future_field", "service_principal.extra")


def test_null_sections_are_not_known_with_the_scripts_reason():
    doc = complete(rbac=None, full_access=None, errors=[{"check": "rbac", "message": "Access denied.\r\nLine 2"}])
    v = parse_verification(json.dumps(doc), now=NOW)
    assert v.rbac is None and v.full_access is None and v.errors[0].message == "Access denied. Line 2"
    st = judged(doc)
    assert st["S6"] == "unknown" and st["R1"] == st["R2"] == st["R3"] == "unknown"
    items = verification_evidence(v, values())
    assert any("could not run: Access denied. Line 2" in e.text for e in items if e.step == "R3")


# ---- what each section decides -----------------------------------------------------------------------------------

def test_service_principal_missing_or_made_with_the_wrong_object_id():
    assert judged(complete(service_principal={"found": False}))["S5"] == "failed"
    doc = complete(service_principal={"found": True, "app_id": APP, "object_id": APP_REG_OID})
    assert judged(doc)["S5"] == "failed"
    # no token and no filled-in object id: reported, not judged
    doc = complete(object_id="")
    assert judged(doc, values(object_id="", object_id_source=""))["S5"] == "unknown"


@pytest.mark.parametrize("mailbox,tenant,state", [
    (False, True, "proven"),     # the mailbox's own setting wins
    (True, False, "failed"),
    (None, True, "failed"),      # the mailbox follows the tenant
    (None, False, "proven"),
    (None, None, "unknown"),
])
def test_smtp_auth_mailbox_wins_over_tenant(mailbox, tenant, state):
    doc = complete(mailbox_info={"found": True, "primary_smtp_address": "noreply@contoso.com",
                                 "smtp_auth_disabled": mailbox},
                   transport_config={"smtp_auth_disabled": tenant})
    assert judged(doc)["S8"] == state


def test_rbac_rows():
    out = judged(complete(rbac=[]))
    assert out["R2"] == "failed" and out["R3"] == "failed" and out["R1"] == "unknown"
    row = {"resource": "noreply@contoso.com", "role": "Application SMTP.SendAsApp", "scope": "others",
           "in_scope": False}
    out = judged(complete(rbac=[row]))
    assert out["R2"] == "proven" and out["R1"] == "failed" and out["R3"] == "failed"
    other_role = dict(row, role="Application Mail.Read", in_scope=True)
    assert judged(complete(rbac=[other_role]))["R2"] == "failed"


def test_send_as_per_address_and_the_rbac_scope():
    vals = values(from_addresses=("shared@contoso.com", "sales@contoso.com"))
    doc = complete(from_addresses=["shared@contoso.com", "sales@contoso.com"],
                   send_as=[{"address": "shared@contoso.com", "granted": True},
                            {"address": "sales@contoso.com", "granted": False}])
    assert judged(doc, vals)["S7"] == "failed"
    doc["rbac"].append({"resource": "sales@contoso.com", "role": "Application SMTP.SendAsApp",
                        "scope": "outmail-smtp", "in_scope": True})
    assert judged(doc, vals)["S7"] == "proven"
    doc = complete(send_as=[{"address": "shared@contoso.com", "granted": None}])
    assert judged(doc)["S7"] == "unknown"


def test_a_username_that_is_no_mailbox():
    doc = complete(mailbox_info={"found": False})
    out = judged(doc)
    assert out["S6"] == "failed" and out["R1"] == "failed"


# ---- partial -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_each_missing_required_key_is_named(key):
    doc = complete()
    del doc[key]
    with pytest.raises(VerificationError) as err:
        parse_verification(json.dumps(doc), now=NOW)
    assert err.value.missing == (key,)
    assert key in str(err.value) and "incomplete" in str(err.value)


def test_every_missing_key_is_named_at_once():
    doc = {"outmail_verify": 1, "client_id": APP}
    with pytest.raises(VerificationError) as err:
        parse_verification(json.dumps(doc), now=NOW)
    assert set(err.value.missing) == set(REQUIRED_KEYS) - {"outmail_verify", "client_id"}


def test_missing_nested_keys_are_named():
    doc = complete(service_principal={"found": True, "app_id": APP})
    with pytest.raises(VerificationError) as err:
        parse_verification(json.dumps(doc), now=NOW)
    assert err.value.missing == ("service_principal.object_id",)
    doc = complete(send_as=[{"address": "shared@contoso.com"}])
    with pytest.raises(VerificationError) as err:
        parse_verification(json.dumps(doc), now=NOW)
    assert err.value.missing == ("send_as[0].granted",)


def test_a_cut_off_paste():
    text = json.dumps(complete())
    with pytest.raises(VerificationError, match="not complete JSON.*cut off"):
        parse_verification(text[: len(text) // 2], now=NOW)


# ---- malformed ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("paste,words", [
    ("", "empty"),
    ("   \n", "empty"),
    ("hello", "no verification summary found"),
    ("[1, 2]", "no verification summary found"),
    ("{}", "missing outmail_verify"),
    ('{"outmail_verify": 2}', "this outmail reads version 1"),
    ('{"outmail_verify": true}', "this outmail reads version 1"),
])
def test_not_a_summary(paste, words):
    with pytest.raises(VerificationError, match=words):
        parse_verification(paste, now=NOW)


@pytest.mark.parametrize("change,path", [
    ({"client_id": "not-a-guid"}, "client_id"),
    ({"client_id": 7}, "client_id"),
    ({"object_id": "x"}, "object_id"),
    ({"mailbox": ""}, "mailbox"),
    ({"collected_at": "yesterday"}, "collected_at"),
    ({"collected_at": "2026-07-01T10:00:00"}, "collected_at"),  # no time zone
    ({"full_access": {"granted": "True"}}, "full_access.granted"),  # a string is not a boolean
    ({"full_access": {"granted": 1}}, "full_access.granted"),
    ({"send_as": {"address": "a"}}, "send_as"),  # PowerShell's unwrapped one-element array: not guessed
    ({"rbac": [{"resource": "a", "role": "r", "scope": "s", "in_scope": None}]}, "rbac[0].in_scope"),
    ({"service_principal": "yes"}, "service_principal"),
    ({"errors": [{"check": 1, "message": "m"}]}, "errors[0].check"),
])
def test_wrong_types_name_their_key(change, path):
    with pytest.raises(VerificationError) as err:
        parse_verification(json.dumps(complete(**change)), now=NOW)
    assert err.value.path == path, str(err.value)
    assert path.split("[")[0].split(".")[0] in str(err.value)


# ---- hostile -----------------------------------------------------------------------------------------------------

def test_size_limit():
    doc = complete(padding="x" * MAX_BYTES)
    with pytest.raises(VerificationError, match="longer than"):
        parse_verification(json.dumps(doc), now=NOW)
    with pytest.raises(VerificationError, match="at most"):
        parse_verification(json.dumps(doc).encode(), now=NOW)


def test_long_strings_and_many_items():
    with pytest.raises(VerificationError, match="characters long"):
        parse_verification(json.dumps(complete(mailbox="a" * (MAX_STRING + 1))), now=NOW)
    many = [{"address": f"u{i}@contoso.com", "granted": True} for i in range(MAX_ITEMS + 1)]
    with pytest.raises(VerificationError, match="entries"):
        parse_verification(json.dumps(complete(send_as=many)), now=NOW)


def test_deep_nesting():
    deep = '{"outmail_verify": 1, "x": ' + "[" * 100000 + "]" * 100000 + "}"
    with pytest.raises(VerificationError):
        parse_verification(deep[:MAX_BYTES - 10], now=NOW)
    nested = '{"outmail_verify": 1, "x": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(VerificationError, match="nested too deeply|missing"):
        parse_verification(nested, now=NOW)


def test_duplicate_keys_nan_and_huge_numbers():
    text = json.dumps(complete())
    with pytest.raises(VerificationError, match="appears twice"):
        parse_verification(text[:-1] + ', "client_id": "' + APP + '"}', now=NOW)
    with pytest.raises(VerificationError, match="NaN"):
        parse_verification(text[:-1] + ', "x": NaN}', now=NOW)
    with pytest.raises(VerificationError, match="out of range"):
        parse_verification(text[:-1] + ', "x": 1e999}', now=NOW)
    with pytest.raises(VerificationError, match="cannot be read"):
        parse_verification(text[:-1] + ', "x": ' + "9" * 5000 + "}", now=NOW)


def test_terminal_escapes_and_control_characters_are_refused():
    for bad in ("\x1b]52;c;ZXZpbA==\x07", "\x1b[2J", "a\x00b", "x\u2028y"):
        doc = complete()
        doc["service_principal"]["display_name"] = bad
        with pytest.raises(VerificationError, match="control characters"):
            parse_verification(json.dumps(doc), now=NOW)


def test_two_summaries_or_a_time_in_the_future():
    line = json.dumps(complete())
    with pytest.raises(VerificationError, match="more than one"):
        parse_verification(line + "\n" + line, now=NOW)
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + 86400))
    with pytest.raises(VerificationError, match="in the future"):
        parse_verification(json.dumps(complete(collected_at=future)), now=NOW)


def test_nothing_is_evaluated():
    """Values that look like code stay text: JSON decoding only, and the values end up in evidence as words."""
    doc = complete(mailbox="$(Remove-Mailbox -Identity x)@contoso.com", from_addresses=["__import__('os')@x.com"])
    v = parse_verification(json.dumps(doc), now=NOW)
    assert v.mailbox == "$(Remove-Mailbox -Identity x)@contoso.com"
    assert v.mismatch(values()) is not None  # and it is not about these settings


def test_load_errors(tmp_path):
    with pytest.raises(VerificationError, match="No such file"):
        load_verification(tmp_path / "missing.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_BYTES + 10))
    with pytest.raises(VerificationError, match="at most"):
        load_verification(big)

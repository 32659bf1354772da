"""Validation errors and setup-guide lints, by field."""

from __future__ import annotations

import pytest

from tui.secret import Secret
from tui.settings.model import Settings
from tui.settings.validate import errors, validate

GUID = "0b5d6f1e-3c2a-4d8e-9f10-2a3b4c5d6e7f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def good_m365(**changes) -> Settings:
    base = Settings(
        username="noreply@contoso.com", sender="noreply@contoso.com", client_id=GUID, client_tenant=TENANT,
        client_secret=Secret("abc8Q~not-a-guid-value"),
    )
    return base.with_changes(**changes)


def by_attr(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for p in validate(settings):
        found.setdefault(p.attr, []).append((p.severity, p.message))
    return found


def test_good_microsoft365_settings_have_no_problems():
    assert validate(good_m365()) == []


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(port):
    assert by_attr(good_m365(port=port))["port"][0][0] == "error"
    assert "between 1 and 65535" in by_attr(good_m365(port=port))["port"][0][1]


def test_port_other_than_587_is_a_warning_for_exchange():
    [(severity, message)] = by_attr(good_m365(port=465))["port"]
    assert severity == "warning" and "587" in message and "465" in message
    assert "587 only" not in message  # Microsoft documents 25 too (devices)
    assert message == ("Exchange Online accepts client submission on port 587 (recommended) and on 25, both with "
                       "STARTTLS; 465 (implicit TLS) is not offered")
    [(_, message)] = by_attr(good_m365(port=25))["port"]
    assert message.endswith("on 25, both with STARTTLS; outgoing port 25 is often blocked by providers")
    [(_, message)] = by_attr(good_m365(port=2525))["port"]
    assert message.endswith("; port 2525 is not offered")


@pytest.mark.parametrize("timeout", [0, -1, 601])
def test_timeout_message_says_what_is_allowed(timeout):
    [(severity, message)] = by_attr(good_m365(timeout_seconds=timeout))["timeout_seconds"]
    assert severity == "error" and message == "Timeout must be a number of seconds more than 0 and at most 600"
    assert "timeout_seconds" not in by_attr(good_m365(timeout_seconds=600))


def test_port_rule_is_exchange_only():
    assert "port" not in by_attr(good_m365(host="relay.contoso.local", port=2525))


@pytest.mark.parametrize("host,reason", [
    ("", "required"), ("https://smtp.office365.com", "not a URL"), ("smtp.office365.com:587", "port"),
    ("bad host", "not a valid host name"), (" smtp.office365.com", "spaces"),
])
def test_bad_hosts(host, reason):
    [(severity, message)] = by_attr(good_m365(host=host))["host"]
    assert severity == "error" and reason in message


@pytest.mark.parametrize("address", ["relay@mail.local", "noreply@contoso.test", "root@localhost", "a@intranet"])
def test_internal_and_special_use_domains_are_valid(address):
    assert "sender" not in by_attr(good_m365(sender=address, username=address))


@pytest.mark.parametrize("address", ["no-at-sign", "a b@contoso.com", "x@@contoso.com"])
def test_invalid_addresses(address):
    found = by_attr(good_m365(sender=address, username="noreply@contoso.com"))["sender"]
    assert ("error", found[0][1]) == found[0] and "not a valid email address" in found[0][1]


def test_client_secret_that_is_a_guid_is_the_secret_id():
    [(severity, message)] = by_attr(good_m365(client_secret=Secret(GUID)))["client_secret"]
    assert severity == "error"
    assert "looks like the secret's ID; paste the secret's Value" in message


def test_microsoft365_needs_all_three_fields():
    found = by_attr(good_m365(client_id="", client_tenant="", client_secret=Secret("")))
    assert {a for a, ps in found.items() if any(s == "error" for s, _ in ps)} >= {"client_id", "client_tenant", "client_secret"}


@pytest.mark.parametrize("tenant,ok", [(TENANT, True), ("contoso.onmicrosoft.com", True), ("contoso", False), ("not a tenant", False)])
def test_tenant_is_guid_or_domain(tenant, ok):
    assert ("client_tenant" not in by_attr(good_m365(client_tenant=tenant))) is ok


def test_client_id_must_be_guid():
    assert by_attr(good_m365(client_id="my-app"))["client_id"][0][0] == "error"


def test_smtp_protocol_ignores_microsoft365_fields():
    settings = Settings(protocol="smtp", host="mail.example.org", port=25, connection_security=1,
                        username="u@example.org", password=Secret("pw"), sender="u@example.org")
    assert errors(validate(settings)) == []


def test_lint_sender_differs_from_username():
    [(severity, message)] = by_attr(good_m365(sender="other@contoso.com"))["sender"]
    assert severity == "warning" and "Send As" in message


def test_lint_userasfrom_with_microsoft365():
    [(severity, message)] = by_attr(good_m365(userasfrom=True))["userasfrom"]
    assert severity == "warning" and "Send As" in message


def test_lint_basic_auth_against_office365():
    settings = Settings(protocol="smtp", username="u@contoso.com", password=Secret("pw"), sender="u@contoso.com")
    [(severity, message)] = by_attr(settings)["protocol"]
    assert severity == "warning" and "December 2026" in message


def test_lint_exchange_needs_starttls_with_basic_auth():
    settings = Settings(protocol="smtp", connection_security=3, username="u@contoso.com",
                        password=Secret("pw"), sender="u@contoso.com")
    assert by_attr(settings)["connection_security"][0][0] == "warning"


def test_scope_must_end_in_default():
    assert by_attr(good_m365(scope="https://outlook.office365.com/SMTP.Send"))["scope"][0][0] == "error"
    assert "Graph" in by_attr(good_m365(scope="https://graph.microsoft.com/.default"))["scope"][0][1]


def test_authority_host_must_be_https_host():
    assert by_attr(good_m365(authority_host="http://login.microsoftonline.com"))["authority_host"][0][0] == "error"
    assert by_attr(good_m365(authority_host="https://login.microsoftonline.com/tenant"))["authority_host"][0][0] == "error"


def test_sovereign_cloud_warns_that_logicaldoc_cannot_use_it():
    found = by_attr(good_m365(authority_host="https://login.microsoftonline.us", scope="https://outlook.office365.us/.default"))
    assert found["authority_host"][0][0] == "warning" and "LogicalDOC" in found["authority_host"][0][1]


def test_missing_ca_file_is_an_error(tmp_path):
    assert by_attr(good_m365(ca_file=str(tmp_path / "nope.pem")))["ca_file"][0][0] == "error"
    (tmp_path / "ca.pem").write_text("x")
    assert "ca_file" not in by_attr(good_m365(ca_file=str(tmp_path / "ca.pem")))
    plain = Settings(protocol="smtp", host="relay.example.net", port=25, connection_security=0, auth_encrypted=False,
                     sender="u@example.net", ca_file=str(tmp_path / "nope.pem"))
    assert by_attr(plain)["ca_file"][0][0] == "warning"  # a plain relay never uses it: LogicalDOC sends anyway


@pytest.mark.parametrize("security,port,words", [
    (1, 587, "Connection Security STARTTLS is then ignored"),
    (2, 2525, "Connection Security TLS is then ignored"),
    (0, 587, "port 587 usually speaks STARTTLS"),
])
def test_lint_use_secure_authentication_means_implicit_tls(security, port, words):
    settings = Settings(protocol="smtp", host="mail.example.net", port=port, connection_security=security,
                        auth_encrypted=True, username="svc-ldoc", password=Secret("pw"), sender="u@example.net")
    found = [p for p in validate(settings) if p.attr == "auth_encrypted"]
    assert len(found) == 1 and found[0].severity == "warning" and words in found[0].message
    assert not [p for p in validate(settings.with_changes(auth_encrypted=False, port=465, connection_security=3))
                if p.attr == "auth_encrypted"]


@pytest.mark.parametrize("username", ["svc-ldoc", "DOMAIN\\ldoc", "ldoc@example.net"])
def test_plain_smtp_username_is_any_sasl_name(username):
    settings = Settings(protocol="smtp", host="mail.example.net", port=587, connection_security=1,
                        auth_encrypted=False, username=username, password=Secret("pw"), sender="u@example.net")
    assert not [p for p in validate(settings) if p.severity == "error"]
    m365 = Settings(username="svc-ldoc", sender="u@example.net")
    assert any(p.attr == "username" and p.severity == "error" for p in validate(m365))


def test_keys_the_file_leaves_out_are_named_with_logicaldocs_default(tmp_path):
    """protocol smtp without authEncrypted / connectionSecurity: outmail proves its preset (implicit TLS, STARTTLS),
    LogicalDOC runs with its own defaults (off, None): the settings step says so (found by a new-user trial)."""
    from tui.settings.store import load_settings

    path = tmp_path / "s.toml"
    path.write_text('[tenants.default.smtp]\nprotocol = "smtp"\nhost = "relay.example.net"\nport = 25\n'
                    'sender = "ldoc@example.net"\n')
    found = {p.attr: p.message for p in validate(load_settings(path, env={})) if p.severity == "warning"}
    assert "outmail uses on, while LogicalDOC without the key uses off" in found["auth_encrypted"]
    assert "outmail uses STARTTLS, while LogicalDOC without the key uses None" in found["connection_security"]
    path.write_text(path.read_text() + "authEncrypted = false\nconnectionSecurity = 0\n")
    found = {p.attr: p.message for p in validate(load_settings(path, env={})) if p.severity == "warning"}
    assert "not in the settings file" not in " ".join(found.values())


@pytest.mark.parametrize("host,reason", [
    ("a" * 300, f"Server '{'a' * 300}' is not a valid host name: a label is 300 characters long (at most 63, RFC "
                "1035)"),
    ("a" * 5000, "a label is 5000 characters long (at most 63, RFC 1035)"),
    ("a" * 64 + ".example.com", "a label is 64 characters long (at most 63, RFC 1035)"),
    (("a" * 60 + ".") * 4 + "abcdefghij.com", "the name is 258 characters long (at most 253, RFC 1035)"),
    ("mail..example.com", "Server 'mail..example.com' is not a valid host name: it has an empty label (two dots in a "
                          "row, or a dot at the start)"),
    (".example.com", "empty label"),
    ("mail.example.com..", "empty label"),
    ("mail\u3002\u3002example.com", "empty label"),  # the ideographic full stop is a dot to IDNA and the resolver
    ("smtp,office365.com", "it has characters a host name cannot have (','); a host name has letters, digits, '-' "
                           "and '.'"),
    ("mail\x00.example.com", "Server 'mail\\x00.example.com' is not a valid host name: it has characters a host name "
                              "cannot have ('\\x00')"),
    ("-mail.example.com", "a label starts or ends with '-'"),
    ("\u0627b.example", "the label '\u0627b' cannot be encoded as an internationalized name (IDNA: Violation of BIDI "
                        "requirement 2)"),
    ("\u00e4" * 60 + ".de", "is longer than 63 characters once encoded for DNS (IDNA)"),
    ("[::1", "Server '[::1' is not a valid IPv6 address"), ("1:2:3", "not a valid IPv6 address"),
    ("[192.0.2.1]", "brackets only go around an IPv6 address"),
    # Java does not convert an internationalized name before the lookup (Python does): LogicalDOC cannot connect
    ("b\u00fccher.example", "Server 'b\u00fccher.example' is not a valid host name: LogicalDOC's sender (Java) looks "
                            "the name up as written and does not convert an internationalized name; write it in its "
                            "ASCII form: xn--bcher-kva.example"),
    ("mail.\u4f8b\u5b50.\u5e7f\u544a", "write it in its ASCII form: mail.xn--fsqu00a.xn--4rr70v"),
])
def test_a_server_the_resolver_cannot_look_up_is_a_field_error(host, reason):
    """Everything getaddrinfo or a resolver refuses (its idna codec before any lookup, RFC 1035's limits) is an error
    under Server with the reason, for protocol smtp as for Microsoft 365: nothing validation passes makes the connect
    step fail before the lookup (tests/diagnostics/test_host_lookup.py)."""
    for settings in (good_m365(host=host), good_m365(protocol="smtp", host=host)):
        [(severity, message)] = by_attr(settings)["host"]
        assert severity == "error" and reason in message, message


@pytest.mark.parametrize("host", [
    "smtp.office365.com", "smtp.office365.com.", "localhost", "relay", "mail_relay.corp.local", "xn--bcher-kva.example",
    "192.0.2.10", "::1", "[::1]", "2001:db8::25", "[2001:db8::25]", "a" * 63 + ".example.com",
    ("a" * 62 + ".") * 4 + "a", "deadbeef",
])
def test_usable_servers_stay_valid(host):
    """Host names (single-label and absolute ones included), internationalized names in their ASCII form, IPv4 and
    IPv6 addresses bare or in brackets, labels of exactly 63 and names of exactly 253 characters. Each one also
    passes the codec getaddrinfo applies."""
    assert "host" not in by_attr(good_m365(protocol="smtp", host=host))
    host.strip("[]").encode("idna")

"""The verification script's JSON summary, pasted back: parsed strictly, then judged step by step.

    v = parse_verification(text_or_bytes, now=time.time())   # VerificationError: what is wrong or missing
    v = load_verification(path)                                # the same from a file (at most MAX_BYTES)
    v.mismatch(values)                                         # None, or why it is about another app or mailbox
    items = verification_evidence(v, values, model)            # list[evidence.Evidence] for S5-S8, R1-R3

The document (`tui.guide.scripts.verify_script` prints it; version 1). Keys marked * are required; a missing one is an
error that names it, an unknown one is ignored and named in `Verification.ignored`; a section whose check could not
run is null, and the script says why in `errors`:

    {"outmail_verify": 1*,                       # the schema version
     "collected_at": "2026-07-01T10:50:12Z"*,    # when the script ran (UTC, ISO 8601)
     "client_id": "<GUID>"*, "object_id": "<GUID>" | "",  # the values the script was filled with
     "mailbox": "noreply@contoso.com"*, "from_addresses": ["shared@contoso.com"],
     "service_principal": {"found": bool*, "app_id": str, "object_id": str, "display_name": str} | null*,
     "mailbox_info": {"found": bool*, "primary_smtp_address": str, "smtp_auth_disabled": bool | null} | null*,
     "transport_config": {"smtp_auth_disabled": bool | null*} | null*,
     "full_access": {"granted": bool*} | null*,
     "send_as": [{"address": str*, "granted": bool | null*}] | null*,
     "rbac": [{"resource": str*, "role": str*, "scope": str*, "in_scope": bool*}] | null*,
     "errors": [{"check": str*, "message": str*}]}

Safety: at most MAX_BYTES; UTF-8 (a UTF-8 or UTF-16 byte order mark is honoured: Windows PowerShell 5.1's `>` writes
UTF-16); only JSON is decoded (nothing is evaluated); duplicate keys, NaN and Infinity, nesting deeper than the
schema, strings over MAX_STRING characters and control characters (terminal escapes) are refused; GUID fields must be
GUIDs; `collected_at` must not lie in the future. The summary may sit inside pasted console text: the one object
that starts with `{"outmail_verify"` is taken; two of them are an error.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.diagnostics.setup_steps import RBAC_ROLE
from tui.guide.evidence import Evidence, clock_text
from tui.guide.values import GuideValues

SCHEMA_VERSION = 1
MAX_BYTES = 256 * 1024
MAX_STRING = 2048
MAX_ITEMS = 500
FUTURE_SLACK_SECONDS = 600
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MARKER_RE = re.compile(r'\{\s*"outmail_verify"\s*:')
REQUIRED_KEYS = ("outmail_verify", "collected_at", "client_id", "mailbox", "service_principal", "mailbox_info",
                 "transport_config", "full_access", "send_as", "rbac")
OPTIONAL_KEYS = ("object_id", "from_addresses", "errors")


class VerificationError(ValueError):
    """The paste cannot be used. `missing`: the keys it lacks (dotted paths, e.g. "service_principal.found");
    `path`: the key a wrong value sits at. `str()` is the admin-readable message."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = (), path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing
        self.path = path


@dataclass(frozen=True)
class ServicePrincipal:
    found: bool
    app_id: str = ""
    object_id: str = ""
    display_name: str = ""


@dataclass(frozen=True)
class MailboxInfo:
    found: bool
    primary_smtp_address: str = ""
    smtp_auth_disabled: bool | None = None  # None: the mailbox follows the tenant


@dataclass(frozen=True)
class SendAsGrant:
    address: str
    granted: bool | None  # None: could not be read (see errors)


@dataclass(frozen=True)
class RbacRow:
    """One row of Test-ServicePrincipalAuthorization -Identity <client id> -Resource <resource>."""

    resource: str
    role: str
    scope: str
    in_scope: bool


@dataclass(frozen=True)
class CheckError:
    check: str
    message: str


@dataclass(frozen=True)
class Verification:
    """A parsed summary. A section is None when its check could not run (`errors` says why). Times are Unix
    seconds."""

    version: int
    collected_at: float
    client_id: str
    object_id: str
    mailbox: str
    from_addresses: tuple[str, ...]
    service_principal: ServicePrincipal | None
    mailbox_info: MailboxInfo | None
    tenant_smtp_auth_disabled: bool | None
    transport_known: bool
    full_access: bool | None
    send_as: tuple[SendAsGrant, ...] | None
    rbac: tuple[RbacRow, ...] | None
    errors: tuple[CheckError, ...] = ()
    ignored: tuple[str, ...] = ()

    def mismatch(self, values: GuideValues) -> str | None:
        """Why this summary is not about these settings (another client id or mailbox), or None."""
        if values.client_id and self.client_id.lower() != values.client_id.lower():
            return (f"the verification is about client id {self.client_id}, but the settings' Client ID is "
                    f"{values.client_id}: run the verification script made for these settings")
        if values.mailbox and self.mailbox.lower() != values.mailbox.lower():
            return (f"the verification is about the mailbox {self.mailbox}, but the settings' Username is "
                    f"{values.mailbox}: run the verification script made for these settings")
        return None

    def rows_for(self, resource: str) -> list[RbacRow]:
        """The rows of the SMTP role (Application SMTP.SendAsApp) for one resource."""
        return [r for r in (self.rbac or ()) if r.resource.lower() == resource.lower()
                and r.role.lower() == RBAC_ROLE.lower()]

    def to_json(self) -> dict[str, Any]:
        from tui.guide.evidence import iso_utc

        return {"collected_at": iso_utc(self.collected_at), "client_id": self.client_id, "object_id": self.object_id,
                "mailbox": self.mailbox, "from_addresses": list(self.from_addresses),
                "errors": [{"check": e.check, "message": e.message} for e in self.errors],
                "ignored": list(self.ignored)}


# ------------------------------------------------------------------------------------------------------ decoding

def decode_bytes(data: bytes) -> str:
    """Text from bytes: a UTF-8 or UTF-16 byte order mark decides; otherwise UTF-8, strictly."""
    if len(data) > MAX_BYTES:
        raise VerificationError(f"the paste is {len(data)} bytes; a verification summary is at most {MAX_BYTES}")
    if data.startswith(b"\xef\xbb\xbf"):
        codec, data = "utf-8", data[3:]
    elif data.startswith(b"\xff\xfe"):
        codec, data = "utf-16-le", data[2:]
    elif data.startswith(b"\xfe\xff"):
        codec, data = "utf-16-be", data[2:]
    else:
        codec = "utf-8"
        if b"\x00" in data:
            raise VerificationError("the paste holds NUL bytes: UTF-16 without a byte order mark? Save it as UTF-8, "
                                    "or with PowerShell's Out-File, which writes the mark")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        hint = " (UTF-16 without a byte order mark?)" if b"\x00" in data else ""
        raise VerificationError(f"the paste is not {codec.upper()} text{hint}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise VerificationError(f"the key {key!r} appears twice", path=key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise VerificationError(f"{name} is not a value a verification summary holds")


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise VerificationError(f"the number {text[:20]} is out of range")
    return value


def _locate(text: str) -> str:
    found = list(_MARKER_RE.finditer(text))
    if len(found) > 1:
        raise VerificationError("the paste holds more than one verification summary: paste one")
    if found:
        return text[found[0].start():]
    stripped = text.strip()
    if not stripped:
        raise VerificationError("the paste is empty: paste the one line of JSON the verification script printed")
    if not stripped.startswith("{"):
        raise VerificationError('no verification summary found: it is the JSON line that starts with '
                                '{"outmail_verify": printed by the verification script')
    return stripped


def _load_json(text: str) -> Any:
    doc_text = _locate(text)
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_float=_finite)
    try:
        doc, _end = decoder.raw_decode(doc_text)
    except VerificationError:
        raise
    except json.JSONDecodeError as exc:
        raise VerificationError(f"the summary is not complete JSON: {exc.msg} at line {exc.lineno} column "
                                f"{exc.colno} (was it cut off when pasting?)") from None
    except RecursionError:
        raise VerificationError("the JSON is nested too deeply to be a verification summary") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise VerificationError(f"the JSON holds a value that cannot be read: {exc}") from None
    return doc


# ------------------------------------------------------------------------------------------------------ checking

class _Reader:
    def __init__(self) -> None:
        self.ignored: list[str] = []

    def obj(self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise VerificationError(f"{path or 'the summary'} must be a JSON object, not {_kind(value)}", path=path)
        missing = tuple(f"{path}.{k}" if path else k for k in required if k not in value)
        if missing:
            raise VerificationError(f"the summary is incomplete: missing {', '.join(missing)} (paste the whole "
                                    f"line the verification script printed)", missing=missing, path=path or None)
        for key in value:
            name = f"{path}.{key}" if path else key
            if key not in required and key not in optional and name not in self.ignored:
                self.ignored.append(name)
        return value

    def string(self, value: Any, path: str, *, multiline: bool = False) -> str:
        if not isinstance(value, str):
            raise VerificationError(f"{path} must be a string, not {_kind(value)}", path=path)
        if len(value) > MAX_STRING:
            raise VerificationError(f"{path} is {len(value)} characters long; at most {MAX_STRING}", path=path)
        if multiline:
            value = re.sub(r"[\r\n\t]+", " ", value)
        if _CONTROL_RE.search(value):
            raise VerificationError(f"{path} holds control characters, which a verification summary never has",
                                    path=path)
        return value.strip()

    def guid(self, value: Any, path: str, *, empty: bool = False) -> str:
        text = self.string(value, path)
        if text == "" and empty:
            return ""
        if not _GUID_RE.match(text):
            raise VerificationError(f"{path} must be a GUID, not {text[:60]!r}", path=path)
        return text

    def boolean(self, value: Any, path: str, *, null: bool = False) -> bool | None:
        if value is None and null:
            return None
        if not isinstance(value, bool):
            raise VerificationError(f"{path} must be true or false{' or null' if null else ''}, not {_kind(value)}",
                                    path=path)
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise VerificationError(f"{path} must be a JSON array, not {_kind(value)}", path=path)
        if len(value) > MAX_ITEMS:
            raise VerificationError(f"{path} has {len(value)} entries; at most {MAX_ITEMS}", path=path)
        return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def parse_verification(data: str | bytes, *, now: float | None = None) -> Verification:
    """Parse a pasted verification summary (see the module docstring). Raises VerificationError naming what is
    missing or wrong; never guesses a value."""
    text = decode_bytes(data) if isinstance(data, (bytes, bytearray)) else data
    if not isinstance(text, str):
        raise VerificationError("the paste must be text")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise VerificationError(f"the paste is longer than {MAX_BYTES} bytes; a verification summary is far shorter")
    doc = _load_json(text)
    rd = _Reader()
    if isinstance(doc, dict) and "outmail_verify" in doc:  # the version decides the schema: checked first
        version = doc["outmail_verify"]
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise VerificationError(f"outmail_verify is {version!r}: this outmail reads version {SCHEMA_VERSION} "
                                    f"(make the verification script with this outmail)", path="outmail_verify")
    top = rd.obj(doc, "", REQUIRED_KEYS, OPTIONAL_KEYS)
    stamp = rd.string(top["collected_at"], "collected_at")
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00") if stamp.endswith("Z") else stamp)
    except ValueError:
        raise VerificationError(f"collected_at {stamp[:40]!r} is not an ISO 8601 time", path="collected_at") from None
    if parsed.tzinfo is None:
        raise VerificationError("collected_at has no time zone (the script writes UTC, ending in Z)",
                                path="collected_at")
    collected_at = parsed.timestamp()
    now = time.time() if now is None else now
    if collected_at > now + FUTURE_SLACK_SECONDS:
        raise VerificationError(f"collected_at {stamp} lies in the future: check this machine's clock and the "
                                f"paste", path="collected_at")

    client_id = rd.guid(top["client_id"], "client_id")
    object_id = rd.guid(top.get("object_id", ""), "object_id", empty=True)
    mailbox = rd.string(top["mailbox"], "mailbox")
    if not mailbox:
        raise VerificationError("mailbox is empty", path="mailbox")
    froms = tuple(rd.string(a, f"from_addresses[{i}]")
                  for i, a in enumerate(rd.array(top.get("from_addresses", []), "from_addresses")))

    sp = None
    if top["service_principal"] is not None:
        o = rd.obj(top["service_principal"], "service_principal", ("found",), ("app_id", "object_id", "display_name"))
        found = bool(rd.boolean(o["found"], "service_principal.found"))
        if found:
            o = rd.obj(o, "service_principal", ("found", "app_id", "object_id"), ("display_name",))
            sp = ServicePrincipal(True, rd.guid(o["app_id"], "service_principal.app_id"),
                                  rd.guid(o["object_id"], "service_principal.object_id"),
                                  rd.string(o.get("display_name", ""), "service_principal.display_name"))
        else:
            sp = ServicePrincipal(False)

    mb = None
    if top["mailbox_info"] is not None:
        o = rd.obj(top["mailbox_info"], "mailbox_info", ("found",), ("primary_smtp_address", "smtp_auth_disabled"))
        found = bool(rd.boolean(o["found"], "mailbox_info.found"))
        if found:
            o = rd.obj(o, "mailbox_info", ("found", "smtp_auth_disabled"), ("primary_smtp_address",))
        mb = MailboxInfo(found, rd.string(o.get("primary_smtp_address", ""), "mailbox_info.primary_smtp_address"),
                         rd.boolean(o.get("smtp_auth_disabled"), "mailbox_info.smtp_auth_disabled", null=True))

    tenant_off: bool | None = None
    transport_known = top["transport_config"] is not None
    if transport_known:
        o = rd.obj(top["transport_config"], "transport_config", ("smtp_auth_disabled",), ())
        tenant_off = rd.boolean(o["smtp_auth_disabled"], "transport_config.smtp_auth_disabled", null=True)

    full_access = None
    if top["full_access"] is not None:
        o = rd.obj(top["full_access"], "full_access", ("granted",), ())
        full_access = rd.boolean(o["granted"], "full_access.granted")

    send_as = None
    if top["send_as"] is not None:
        items = []
        for i, item in enumerate(rd.array(top["send_as"], "send_as")):
            o = rd.obj(item, f"send_as[{i}]", ("address", "granted"), ())
            items.append(SendAsGrant(rd.string(o["address"], f"send_as[{i}].address"),
                                     rd.boolean(o["granted"], f"send_as[{i}].granted", null=True)))
        send_as = tuple(items)

    rbac = None
    if top["rbac"] is not None:
        rows = []
        for i, item in enumerate(rd.array(top["rbac"], "rbac")):
            o = rd.obj(item, f"rbac[{i}]", ("resource", "role", "scope", "in_scope"), ())
            rows.append(RbacRow(rd.string(o["resource"], f"rbac[{i}].resource"), rd.string(o["role"], f"rbac[{i}].role"),
                                rd.string(o["scope"], f"rbac[{i}].scope"),
                                bool(rd.boolean(o["in_scope"], f"rbac[{i}].in_scope"))))
        rbac = tuple(rows)

    errors = []
    for i, item in enumerate(rd.array(top.get("errors", []), "errors")):
        o = rd.obj(item, f"errors[{i}]", ("check", "message"), ())
        errors.append(CheckError(rd.string(o["check"], f"errors[{i}].check"),
                                 rd.string(o["message"], f"errors[{i}].message", multiline=True)))

    return Verification(SCHEMA_VERSION, collected_at, client_id, object_id, mailbox, froms, sp, mb, tenant_off,
                        transport_known, full_access, send_as, rbac, tuple(errors), tuple(rd.ignored))


def load_verification(path: str | Path, *, now: float | None = None) -> Verification:
    """Read and parse a saved summary ('-' reads standard input). Raises VerificationError (OSError included,
    with its reason)."""
    import sys

    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise VerificationError(f"{path}: {exc.strerror or exc}") from None
    return parse_verification(data, now=now)


# ------------------------------------------------------------------------------------------------------ judging

def verification_evidence(v: Verification, values: GuideValues) -> list[Evidence]:
    """What the summary proves or disproves, for S5, S6, R1-R3, S7 and S8 (both models: the guide shows the steps
    of the one chosen). The object id to compare with is the token's oid (`values.object_id`), else the one the
    script was filled with; without either, a found service principal is only reported ("info")."""
    at = v.collected_at
    when = clock_text(at)
    out: list[Evidence] = []

    def add(step: str, verdict: str, text: str, subject: str = "") -> None:
        out.append(Evidence(step, verdict, f"verification at {when}: {text}", at, at, "verification",  # type: ignore[arg-type]
                            subject))

    not_read = {e.check.split()[0]: e.message for e in v.errors}

    # S5: the service principal, made with the Enterprise application's object id (the token's oid)
    expected = values.object_id or v.object_id
    sp = v.service_principal
    if sp is None:
        add("S5", "info", f"Get-ServicePrincipal could not run: {not_read.get('service_principal', 'no reason given')}")
    elif not sp.found:
        add("S5", "failed", f"Get-ServicePrincipal finds no service principal for app id {v.client_id}")
    elif expected and sp.object_id.lower() != expected.lower():
        add("S5", "failed", f"the service principal was made with object id {sp.object_id}, but the "
                            f"{'token' if values.object_id else 'script'}'s object id is {expected}: the App "
                            f"registration's Object ID instead of the Enterprise application's? Remove it "
                            f"(Remove-ServicePrincipal -Identity {v.client_id}) and make it again (S5)")
    elif expected:
        whose = "the token's oid" if values.object_id else "the one the script expects"
        add("S5", "proven", f"the service principal for {v.client_id} has object id {sp.object_id}, {whose}")
    else:
        add("S5", "info", f"a service principal exists for {v.client_id} with object id {sp.object_id}; no token "
                          f"yet to compare it with (run the diagnostics)")

    # the mailbox itself
    mb = v.mailbox_info
    if mb is not None and not mb.found:
        text = (f"Get-CASMailbox finds no mailbox {v.mailbox}: Username must be the mailbox's address "
                f"(a UPN that is not a mailbox gets 535 5.7.3)")
        add("S6", "failed", text)
        add("R1", "failed", text)
    elif mb is not None and mb.primary_smtp_address and mb.primary_smtp_address.lower() != v.mailbox.lower():
        add("S6", "info", f"{v.mailbox} is an alias or UPN of the mailbox {mb.primary_smtp_address}; Exchange "
                          f"matches the primary SMTP address best")

    # S6 (classic): FullAccess on the mailbox
    if v.full_access is True:
        add("S6", "proven", f"Get-MailboxPermission: the service principal has FullAccess on {v.mailbox}")
    elif v.full_access is False:
        add("S6", "failed", f"Get-MailboxPermission: the service principal has no FullAccess on {v.mailbox}")
    else:
        add("S6", "info", f"Get-MailboxPermission could not run: {not_read.get('full_access', 'no reason given')}")

    # R1-R3 (RBAC for Applications): Test-ServicePrincipalAuthorization for the mailbox
    if v.rbac is None:
        add("R3", "info", f"Test-ServicePrincipalAuthorization could not run: "
                          f"{not_read.get('rbac', 'no reason given')}")
    else:
        rows = v.rows_for(v.mailbox)
        in_scope = [r for r in rows if r.in_scope]
        if in_scope:
            text = f"Test-ServicePrincipalAuthorization: {RBAC_ROLE} on scope {in_scope[0].scope} covers {v.mailbox}"
            for step in ("R1", "R2", "R3"):
                add(step, "proven", text)
        elif rows:
            scopes = ", ".join(sorted({r.scope for r in rows}))
            add("R2", "proven", f"Test-ServicePrincipalAuthorization: {RBAC_ROLE} is assigned (scope {scopes})")
            text = f"Test-ServicePrincipalAuthorization: {v.mailbox} is outside the scope {scopes} (InScope False)"
            add("R1", "failed", text)
            add("R3", "failed", text)
        else:
            text = f"Test-ServicePrincipalAuthorization: the app has no {RBAC_ROLE} role assignment"
            add("R2", "failed", text)
            add("R3", "failed", text)

    # S7: Send As on every From address (or, under RBAC, the address in the scope)
    grants = {g.address.lower(): g for g in (v.send_as or ())}
    for address in values.from_addresses:
        grant = grants.get(address.lower())
        scoped = [r for r in v.rows_for(address) if r.in_scope]
        if grant is not None and grant.granted:
            add("S7", "proven", f"Get-RecipientPermission: Send As on {address}", address)
        elif scoped:
            add("S7", "proven", f"Test-ServicePrincipalAuthorization: {address} is in the scope {scoped[0].scope}",
                address)
        elif grant is not None and grant.granted is False:
            add("S7", "failed", f"Get-RecipientPermission: no Send As on {address}", address)
        elif grant is None and v.send_as is not None:
            add("S7", "info", f"the script was made without {address}: make it again to check it", address)

    # S8: SMTP AUTH; the mailbox's setting wins over the tenant's
    mailbox_off = mb.smtp_auth_disabled if mb is not None and mb.found else None
    if mb is not None and mb.found and mailbox_off is False:
        add("S8", "proven", f"Get-CASMailbox: SMTP AUTH is enabled for {v.mailbox} (the mailbox's setting wins)")
    elif mb is not None and mb.found and mailbox_off is True:
        add("S8", "failed", f"Get-CASMailbox: SMTP AUTH is disabled for {v.mailbox}")
    elif mb is not None and mb.found and v.transport_known and v.tenant_smtp_auth_disabled is True:
        add("S8", "failed", "Get-TransportConfig: SMTP AUTH is disabled for the tenant, and the mailbox follows it")
    elif mb is not None and mb.found and v.transport_known and v.tenant_smtp_auth_disabled is False:
        add("S8", "proven", "Get-TransportConfig: SMTP AUTH is enabled for the tenant, and the mailbox follows it")
    return out


def verification_summary(v: Verification) -> str:
    """One line for the guide's header: "verification at 10:50 (2 checks could not run: rbac, full_access)"."""
    text = f"verification at {clock_text(v.collected_at)}"
    if v.errors:
        text += f" ({len(v.errors)} check{'s' if len(v.errors) > 1 else ''} could not run: " \
                f"{', '.join(e.check for e in v.errors)})"
    if v.ignored:
        text += f"; ignored unknown keys: {', '.join(v.ignored[:5])}{' ...' if len(v.ignored) > 5 else ''}"
    return text



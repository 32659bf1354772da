"""The guide's step states from real sandbox runs: each fault marks the step it stands for failed, the happy path
proves S1-S6 (and S8, S9), and a pasted verification names the one cause of a 535 5.7.3."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.guide.verification import verification_for
from tui.diagnostics.token import TokenCache
from tui.diagnostics.text import report_text
from tui.guide import LastRun, build_guide, parse_verification
from tui.guide.evidence import split_steps
from tui.mail.message import build_message
from tui.mail.send import send_test
from tui.sandbox.faults import FAULTS_BY_NAME
from tui.settings.store import load_settings

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


def settings_for(sb, **changes):
    s = load_settings(sb.info.settings_path, env={})
    return s.with_changes(**{"timeout_seconds": 2.0, **changes})


async def last_run(settings):
    from tui.diagnostics.engine import diagnose

    report = await diagnose(settings, token_cache=TokenCache())
    return LastRun(report, time.time())


def states(guide):
    return {s.id: s.state for s in guide.steps}


def assert_no_secret(sb, *texts):
    for text in texts:
        assert sb.info.client_secret not in text
        assert sb.info.password not in text
        assert not JWT_RE.search(text), "a whole token leaked"


def everything(guide) -> str:
    return json.dumps(guide.to_json()) + guide.to_text() + guide.setup_script() + guide.verify_script()


async def test_happy_path_proves_s1_to_s6(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    s = settings_for(sb)
    last = await last_run(s)
    guide = build_guide(s, last_run=last)
    st = states(guide)
    assert guide.model == "classic" and guide.model_source == "token"
    assert [x.id for x in guide.steps] == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]
    assert all(st[i] == "proven" for i in ("S1", "S2", "S3", "S4", "S5", "S6", "S8", "S9")), st
    assert st["S7"] == "not-needed"
    assert guide.ok and guide.cause is None and guide.pending == ()
    s1 = guide.step("S1").decisive
    assert s1 is not None and s1.source == "token" and re.fullmatch(r"token issued at \d\d:\d\d: S1 and S2 work",
                                                                     s1.text)
    s5 = guide.step("S5").decisive
    assert s5 is not None and re.fullmatch(r"235 at \d\d:\d\d: S5, S6 and S8 work", s5.text)
    assert guide.values.object_id == sb.info.object_id and guide.values.object_id_source == "token"
    assert guide.privilege is not None and guide.privilege.ok
    assert "outmail: every step is proven; nothing to do." in guide.setup_script()
    assert_no_secret(sb, everything(guide))


# fault -> (model to view it in, steps the run marks failed at least)
FAULT_STEPS = {
    "wrong-secret": (None, {"S2"}),
    "expired-secret": (None, {"S2"}),
    "unknown-client": (None, {"S1"}),
    "unknown-tenant": (None, {"S1"}),
    "no-smtp-role": ("classic", {"S3", "S4"}),
    "no-mailbox-permission": (None, {"S5", "S6"}),
    "smtp-auth-disabled-tenant": (None, {"S8"}),
    "smtp-auth-disabled-mailbox": (None, {"S8"}),
    "no-starttls": (None, {"S9"}),
    "drop-during-starttls": (None, {"S9"}),
    "untrusted-cert": (None, {"S9"}),
    "silent-server": (None, {"S9"}),
    "token-hang": (None, {"S9"}),
    "rbac-out-of-scope": (None, {"R1", "R3"}),
}


@pytest.mark.parametrize("fault", sorted(FAULT_STEPS))
async def test_each_fault_marks_its_step_failed(sandbox_clean, sandbox_env, fault):
    sb = sandbox_clean
    sb.set_fault(fault)
    model, expected = FAULT_STEPS[fault]
    s = settings_for(sb, timeout_seconds=1.0)
    last = await last_run(s)
    guide = build_guide(s, last_run=last, model=model)
    st = states(guide)
    failed = {i for i, state in st.items() if state == "failed"}
    # the fault table's own setup steps are among the failed ones (those of the model shown)
    table = {i for i in split_steps(FAULTS_BY_NAME[fault].setup_step) if i in st}
    assert table and table <= failed, (fault, st)
    assert expected <= failed, (fault, st)
    assert not guide.ok
    for step_id in failed:
        step = guide.step(step_id)
        assert step.decisive is not None and step.decisive.verdict == "failed"
        assert step.decisive.observed_at == last.finished_at
    # nothing the run could not prove is marked proven: only steps before the failure
    if fault in ("wrong-secret", "expired-secret", "unknown-client", "unknown-tenant", "token-hang"):
        assert not any(state == "proven" for i, state in st.items() if i not in ("S7",)), st
    assert_no_secret(sb, everything(guide))


async def test_token_proves_entra_steps_when_exchange_refuses(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("no-mailbox-permission")
    s = settings_for(sb)
    guide = build_guide(s, last_run=await last_run(s))
    st = states(guide)
    assert {i: st[i] for i in ("S1", "S2", "S3", "S4", "S9")} == dict.fromkeys(("S1", "S2", "S3", "S4", "S9"), "proven")
    assert st["S5"] == st["S6"] == "failed" and st["S8"] == "unknown"
    # two candidates: the cause is the hint's, naming both
    assert guide.cause_steps == ("S5", "S6") and "FullAccess" in guide.cause and "service principal" in guide.cause
    # the setup script does the pending steps in order, filled with the token's oid
    script = guide.setup_script()
    assert script.index("# ---- S5") < script.index("# ---- S6") < script.index("# ---- S8")
    assert f"$ObjectId = '{sb.info.object_id}'" in script and f"$AppId = '{sb.info.client_id}'" in script
    assert "# ---- S1" not in script and "# ---- S3" not in script


async def test_no_smtp_role_default_model_is_rbac_classic_names_s3_s4(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("no-smtp-role")
    s = settings_for(sb)
    last = await last_run(s)
    rbac = build_guide(s, last_run=last)
    assert rbac.model == "rbac" and rbac.model_source == "token"
    assert [x.id for x in rbac.steps] == ["S1", "S2", "S5", "R1", "R2", "R3", "S7", "S8", "S9"]
    assert {i for i, st in states(rbac).items() if st == "failed"} == {"S5", "R1", "R2", "R3"}
    classic = build_guide(s, last_run=last, model="classic")
    st = states(classic)
    assert classic.model_source == "chosen"
    assert st["S3"] == st["S4"] == "failed" and st["S5"] == "unknown" and st["S6"] == "unknown"
    assert classic.cause_steps == ("S3", "S4") and "no SMTP.SendAsApp role" in classic.cause
    assert any(e.verdict == "info" for e in classic.step("S5").evidence)


async def test_rbac_happy_path(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("rbac")
    s = settings_for(sb)
    guide = build_guide(s, last_run=await last_run(s))
    st = states(guide)
    assert guide.model == "rbac"
    assert all(st[i] == "proven" for i in ("S1", "S2", "S5", "R1", "R2", "R3", "S8", "S9")), st
    assert "S3" not in st and "S6" not in st
    assert re.fullmatch(r"235 at \d\d:\d\d: S5, R1, R2, R3 and S8 work", guide.step("R1").decisive.text)
    assert guide.privilege is not None and guide.privilege.ok and guide.privilege.roles == ()
    assert guide.privilege.scope_filter == f"PrimarySmtpAddress -eq '{sb.info.mailbox}'"


async def test_over_privileged_lists_each_extra_role_with_its_removal(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("over-privileged")
    s = settings_for(sb)
    last = await last_run(s)
    guide = build_guide(s, last_run=last)
    assert guide.ok and guide.model == "classic"
    p = guide.privilege
    assert p is not None and not p.ok
    assert [e.role for e in p.extra] == ["full_access_as_app", "IMAP.AccessAsApp", "Mail.Read", "Mail.Send"]
    fa = p.extra[0]
    assert "every mailbox" in fa.allows
    assert "API permissions > Office 365 Exchange Online > full_access_as_app > Remove permission" in fa.remove
    text = guide.to_text()
    assert "full_access_as_app: lets the app have full access to every mailbox" in text
    # with RBAC for Applications even SMTP.SendAsApp is more than SMTP needs; the scope holds only the sender
    rbac = build_guide(s, last_run=last, model="rbac", from_addresses=("shared@contoso.test",))
    assert [e.role for e in rbac.privilege.extra][-1] == "SMTP.SendAsApp"
    assert rbac.privilege.scope_addresses == (sb.info.mailbox, "shared@contoso.test")
    assert rbac.privilege.scope_command == (
        'New-ManagementScope -Name "outmail-smtp" -RecipientRestrictionFilter "PrimarySmtpAddress -eq '
        f"'{sb.info.mailbox}' -or PrimarySmtpAddress -eq 'shared@contoso.test'\"")


async def test_send_as_needs_a_test_send(sandbox_clean, sandbox_env):
    """Exchange checks Send As after DATA: check's envelope proves nothing, a test send does."""
    sb = sandbox_clean
    s = settings_for(sb, sender="shared@contoso.test")
    last = await last_run(s)
    guide = build_guide(s, last_run=last)
    assert last.report.ok and states(guide)["S7"] == "unknown"
    assert guide.step("S7").command == (f'Add-RecipientPermission "shared@contoso.test" -Trustee '
                                        f"{sb.info.object_id} -AccessRights SendAs")

    test = build_message(s, [sb.info.mailbox], "guide test", "body")
    report = await send_test(s, test, token_cache=TokenCache())
    assert report.ok, report_text(report)
    sent = build_guide(s, last_run=LastRun(report, time.time()))
    assert states(sent)["S7"] == "proven"
    assert "Exchange took mail From shared@contoso.test" in sent.step("S7").decisive.text

    sb.set_fault("sendas-denied")
    report = await send_test(s, test, token_cache=TokenCache())
    assert not report.ok
    denied = build_guide(s, last_run=LastRun(report, time.time()))
    assert states(denied)["S7"] == "failed"
    assert "SendAsDenied" in denied.step("S7").decisive.text
    assert denied.cause_steps == ("S7",)


async def test_bad_scope_points_at_no_setup_step(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("bad-scope")
    s = settings_for(sb)
    guide = build_guide(s, last_run=await last_run(s))
    assert guide.ok  # no setup step failed ...
    assert all(st == "unknown" for i, st in states(guide).items() if i != "S7")
    assert guide.cause is not None and "AADSTS1002012" in guide.cause  # ... but the run's own cause is named


# ---- a verification pasted back names the one cause of a 535 5.7.3 ----------------------------------------------

async def test_verification_names_the_rbac_scope_as_the_cause(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("rbac-out-of-scope")
    s = settings_for(sb)
    last = await last_run(s)
    before = build_guide(s, last_run=last)
    assert {i for i, st in states(before).items() if st == "failed"} == {"S5", "R1", "R2", "R3"}
    doc = verification_for(sb, "rbac-out-of-scope", collected_at=last.finished_at + 2)
    v = parse_verification(json.dumps(doc))
    guide = build_guide(s, last_run=last, verification=v)
    st = states(guide)
    assert st["S5"] == "proven" and st["R2"] == "proven"
    assert st["R1"] == "failed" and st["R3"] == "failed" and st["S8"] == "proven"
    assert guide.cause_steps == ("R1",)
    assert "outside the scope outmail-smtp" in guide.cause
    assert guide.step("R1").decisive.source == "verification"


async def test_verification_names_fullaccess_as_the_cause(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("no-mailbox-permission")
    s = settings_for(sb)
    last = await last_run(s)
    v = parse_verification(json.dumps(verification_for(sb, "no-mailbox-permission",
                                                       collected_at=last.finished_at + 2)))
    guide = build_guide(s, last_run=last, verification=v)
    st = states(guide)
    assert st["S5"] == "proven" and st["S6"] == "failed"
    assert guide.cause_steps == ("S6",) and "no FullAccess" in guide.cause


async def test_verification_all_in_place_means_not_applied_yet(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    sb.set_fault("no-mailbox-permission")
    s = settings_for(sb)
    last = await last_run(s)
    v = parse_verification(json.dumps(verification_for(sb, None, collected_at=last.finished_at + 2)))
    guide = build_guide(s, last_run=last, verification=v)
    assert states(guide)["S5"] == states(guide)["S6"] == "proven"
    assert guide.cause.startswith("not applied yet") and "--until-pass" in guide.cause
    assert guide.cause_steps == ("S5", "S6")


async def test_service_principal_with_the_wrong_object_id(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    s = settings_for(sb)
    last = await last_run(s)
    doc = verification_for(sb, None, collected_at=last.finished_at + 2)
    doc["service_principal"]["object_id"] = sb.info.app_object_id  # the App registration's Object ID
    guide = build_guide(s, last_run=last, verification=parse_verification(json.dumps(doc)))
    s5 = guide.step("S5")
    assert s5.state == "failed" and "App registration's Object ID" in s5.decisive.text
    assert sb.info.app_object_id in s5.decisive.text and sb.info.object_id in s5.decisive.text


async def test_an_older_verification_does_not_override_a_newer_run(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    s = settings_for(sb)
    last = await last_run(s)  # AUTH 235: S6 proven
    doc = verification_for(sb, "no-mailbox-permission", collected_at=last.finished_at - 3600)
    guide = build_guide(s, last_run=last, verification=parse_verification(json.dumps(doc)))
    s6 = guide.step("S6")
    assert s6.state == "proven" and s6.decisive.source == "auth"
    assert [e.source for e in s6.evidence][:1] == ["auth"]  # newest first
    assert any(e.source == "verification" and e.verdict == "failed" for e in s6.evidence)


async def test_verification_without_a_run(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    s = settings_for(sb, sender="shared@contoso.test")
    doc = verification_for(sb, "rbac", collected_at=time.time() - 5, from_addresses=("shared@contoso.test",))
    guide = build_guide(s, verification=parse_verification(json.dumps(doc)), model="rbac")
    st = states(guide)
    assert guide.values.object_id == sb.info.object_id and guide.values.object_id_source == "verification"
    assert st["S5"] == "proven" and st["R1"] == st["R2"] == st["R3"] == "proven"
    assert st["S7"] == "proven" and st["S8"] == "proven"
    assert st["S1"] == st["S2"] == st["S9"] == "unknown"  # only a run proves those


async def test_verification_for_another_app_is_refused(sandbox_clean, sandbox_env):
    from tui.guide import VerificationError

    sb = sandbox_clean
    s = settings_for(sb)
    doc = verification_for(sb, None, collected_at=time.time())
    doc["client_id"] = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(VerificationError, match="client id 11111111"):
        build_guide(s, verification=parse_verification(json.dumps(doc)))


async def test_basic_auth_to_exchange_starts_with_the_move_to_oauth(sandbox_clean, sandbox_env):
    sb = sandbox_clean
    s = settings_for(sb, protocol="smtp", host="smtp.office365.com", port=587, connection_security=1,
                     auth_encrypted=False)
    guide = build_guide(s)  # no run needed: the settings say it
    assert guide.applicable and guide.steps[0].id == "S0"
    assert guide.steps[0].state == "failed" and "basic authentication" in guide.steps[0].decisive.text
    assert any("end of December 2026" in n for n in guide.notes)
    assert [x.id for x in guide.steps][1:] == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]
    assert guide.setup_script().index("# ---- S0") < guide.setup_script().index("# ---- S1")
    # a relay that is not Exchange Online has no Microsoft steps
    relay = build_guide(settings_for(sb, protocol="smtp", host="mail.example.org"))
    assert not relay.applicable and relay.steps == () and relay.ok
    assert "needs no Microsoft setup step" in relay.notes[0] and relay.to_text().startswith("outmail guide: smtp")


async def test_protocol_smtp_run_against_the_exchange_like_sandbox(sandbox_clean, sandbox_env):
    """The sandbox greets as Exchange Online: a basic-auth run there is recognised from the banner."""
    sb = sandbox_clean
    s = settings_for(sb, protocol="smtp", password=__import__("tui.secret", fromlist=["Secret"]).Secret(
        sb.info.password), connection_security=2, auth_encrypted=False)
    last = await last_run(s)
    guide = build_guide(s, last_run=last)
    assert guide.applicable and guide.steps[0].id == "S0" and guide.steps[0].state == "failed"
    assert all(st == "unknown" for i, st in states(guide).items() if i not in ("S0", "S7"))
    assert_no_secret(sb, everything(guide))


async def test_userasfrom_needs_the_users_addresses_named(sandbox_clean, sandbox_env):
    """With 'Use user's email as sender' every user's address sends: S7 is proven only for addresses named."""
    sb = sandbox_clean
    s = settings_for(sb, userasfrom=True)
    test = build_message(s, [sb.info.mailbox], "guide test", "body", send_as="shared@contoso.test")
    report = await send_test(s, test, token_cache=TokenCache())
    assert report.ok, report_text(report)
    last = LastRun(report, time.time())
    unnamed = build_guide(s, last_run=last)
    assert states(unnamed)["S7"] == "unknown"
    named = build_guide(s, last_run=last, from_addresses=("shared@contoso.test",))
    assert states(named)["S7"] == "proven"
    more = build_guide(s, last_run=last, from_addresses=("shared@contoso.test", "alice@contoso.test"))
    assert states(more)["S7"] == "unknown"  # alice's address has no evidence yet

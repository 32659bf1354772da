"""outmail's verdict against LogicalDOC's own sender, on real Postfix + Dovecot servers (verdict.md section 1).

For every combination of listener (STARTTLS optional or required, SMTPS, AUTH PLAIN only, LOGIN only, AUTH in clear,
no AUTH, TLS 1.3 only; certificates from a private CA, self-signed, or naming another host), Connection Security
(0-3), 'Use secure authentication' and Username (empty, or a plain SASL name), the stand-in of LogicalDOC's
EMailSender (tests/servers/java, Jakarta Mail with LogicalDOC's properties) sends one message to an outside address,
and `outmail check` judges the same settings with `--rcpt` that address. The rule:

- outmail passes exactly where LogicalDOC's sender sends, and fails where it fails;
- except where LogicalDOC would expose the password (in clear under opportunistic STARTTLS, or over a session whose
  certificate cannot be verified): then outmail fails and its hint says so (`refuse-cleartext-auth`,
  `refuse-unverified-tls`).

outmail's ca_file is the private CA; the stand-in's JVM trusts the same CA (`trust_ca`), which is what an admin who
set ca_file for outmail has done for LogicalDOC's Java. Also: outmail never sends AUTH outside a verified TLS session,
except with Connection Security None (the admin's explicit choice).

Time: the cases that wait out a timeout (a plain client on an implicit-TLS port waits for a banner that never comes)
dominate, so both sides run many cases at once: the stand-in's JVM `STANDIN_THREADS` at a time, outmail
`OUTMAIL_AT_ONCE` at a time, and the two side by side. `TIMEOUT` is generous (a loaded machine still answers every
working case in time) because the waits overlap: it costs about one TIMEOUT per wave, not one per case.
"""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.servers.standin import StandinCase, run_logicaldoc_sender
from tui.diagnostics.engine import diagnose
from tui.diagnostics.token import TokenCache
from tui.secret import Secret
from tui.settings.model import Settings

LISTENERS = ("relay_noauth", "starttls_optional", "starttls_required", "smtps", "plain_only", "login_only",
             "auth_in_clear", "tls13_only", "starttls_optional_selfsigned", "starttls_required_selfsigned",
             "smtps_selfsigned", "starttls_optional_wrongname", "smtps_wrongname", "smtps_tls13_only")
SENDER = "logicaldoc@example.test"
RCPT = "someone@external.test"
REFUSED_TO_EXPOSE = {"refuse-cleartext-auth", "refuse-unverified-tls"}
TIMEOUT = 4.0  # seconds, connect and each read, on both sides
STANDIN_THREADS = 64
OUTMAIL_AT_ONCE = 64


@dataclass(frozen=True)
class Case:
    listener: str
    security: int
    auth_encrypted: bool
    user: str

    def label(self) -> str:
        return (f"{self.listener} cs={self.security} secureauth={'on' if self.auth_encrypted else 'off'} "
                f"user={self.user or '(none)'}")


def cases(servers) -> list[Case]:
    users = ("", servers.sasl_user)
    return [Case(*c) for c in itertools.product(LISTENERS, (0, 1, 2, 3), (False, True), users)]


def settings_for(servers, case: Case) -> Settings:
    return Settings(protocol="smtp", host=servers.host, port=servers.ports[case.listener],
                    connection_security=case.security, auth_encrypted=case.auth_encrypted, username=case.user,
                    password=Secret(servers.users[case.user]) if case.user else Secret(), sender=SENDER,
                    timeout_seconds=TIMEOUT, ca_file=str(servers.ca_file))


async def outmail_verdicts(servers, all_cases: list[Case]):
    gate = asyncio.Semaphore(OUTMAIL_AT_ONCE)

    async def one(case: Case):
        async with gate:
            return await diagnose(settings_for(servers, case), token_cache=TokenCache(), rcpt=RCPT)

    return await asyncio.gather(*(one(c) for c in all_cases))


def test_outmail_verdict_equals_logicaldocs_sender(mail_servers):
    all_cases = cases(mail_servers)
    standin_cases = [
        StandinCase(host=mail_servers.host, port=mail_servers.ports[c.listener], connection_security=c.security,
                    auth_encrypted=c.auth_encrypted, username=c.user,
                    password=mail_servers.users[c.user] if c.user else "", sender=SENDER, to=(RCPT,),
                    timeout_ms=int(TIMEOUT * 1000), trust_ca=str(mail_servers.ca_file))
        for c in all_cases]
    with ThreadPoolExecutor(1) as pool:  # the JVM runs its cases while outmail runs its own
        standin_future = pool.submit(run_logicaldoc_sender, standin_cases, timeout=600, threads=STANDIN_THREADS)
        reports = asyncio.run(outmail_verdicts(mail_servers, all_cases))
        standin = standin_future.result()

    mismatches, counts = [], {"same": 0, "refused to expose": 0}
    for case, ldoc, report in zip(all_cases, standin, reports):
        failed = report.failed_step
        hint = failed.hint.id if failed is not None and failed.hint is not None else None
        if ldoc.ok == report.ok:
            counts["same"] += 1
        elif ldoc.ok and not report.ok and hint in REFUSED_TO_EXPOSE:
            counts["refused to expose"] += 1
            assert "outmail does not send" in failed.hint.cause, case.label()
        else:
            mismatches.append(f"{case.label()}: LogicalDOC {'sends' if ldoc.ok else 'fails: ' + ldoc.text[:160]}"
                              f" | outmail {'passes' if report.ok else f'fails at {failed.id} ({hint})'}")
        # outmail's own rule: no credential in clear (except Connection Security None) or over an unverified session
        sent_auth = any(l.direction == "C" and l.text.upper().startswith("AUTH") for l in report.transcript)
        if sent_auth:
            tls_steps = "\n".join(report.step("connect").detail + report.step("starttls").detail)
            assert "hostname verified" in tls_steps or (case.security == 0 and not case.auth_encrypted), \
                f"{case.label()}: AUTH sent outside a verified TLS session"
    summary = f"{len(all_cases)} cases: {counts}"
    print(summary, "LogicalDOC sends in", sum(r.ok for r in standin))
    assert not mismatches, summary + "\n" + "\n".join(mismatches)
    # the matrix really covers both outcomes and the refusals
    assert sum(r.ok for r in standin) >= 20 and sum(not r.ok for r in standin) >= 20, summary
    assert counts["refused to expose"] >= 4, summary

"""End to end: the installed `outmail demo` in tmux at 80x24; F5 proves the sandbox settings, then a fault chosen in
the sandbox panel (F7) makes the next run fail at AUTH with its fix; a token refused at AUTH is never reused."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env

STATES = ("✔ ok", "▲ warn", "✖ FAIL", "… running", "· pending", "– skipped")
STEP_TITLES = ["Settings", "Token", "Connect", "Banner and EHLO", "STARTTLS", "AUTH", "Envelope", "QUIT"]
# a step's duration as the pane prints it (format_ms): "12 ms" under a second, "1.25 s" / "12.5 s" above; which one
# a row shows depends on the machine's speed, so the tests accept either
DURATION_RE = re.compile(r"\s(\d+ ms|\d+\.\d+ s)\s")


def step_rows(screen: str) -> dict[str, str]:
    """The step list's rows by title: {"AUTH": "✖ FAIL     AUTH    5 ms  ██", ...}."""
    rows: dict[str, str] = {}
    for line in screen.splitlines():
        text = line.strip()
        state = next((s for s in STATES if text.startswith(s)), None)
        if state is None:
            continue
        rest = text[len(state):].strip()
        for title in STEP_TITLES:
            if rest.startswith(title) and title not in rows:
                rows[title] = text
    return rows


@pytest.fixture
def short_folder() -> Iterator[Path]:
    """A folder with a short path under /tmp (pytest's tmp_path is some 70 characters long)."""
    folder = Path(tempfile.mkdtemp(prefix="om-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_demo_f5_passes_then_a_fault_fails_at_auth(tmux: Tmux, tmp_path: Path) -> None:
    env = base_env(OUTMAIL_SANDBOX_DELAY="0.3")
    # cwd: a private folder, so nothing the demo or a saved report writes lands in the repository
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo"], env)
    tmux.wait_for("✔ no problems")
    tmux.wait_for("F7 Sandbox")
    tmux.keys("F5")
    screen = tmux.wait_for("✔ Passed in", timeout=30)
    rows = step_rows(screen)
    assert set(rows) == set(STEP_TITLES), screen
    assert all(row.startswith("✔ ok") and DURATION_RE.search(row) for row in rows.values()), screen
    assert "x Cancel" in screen and "c Copy fix" in screen and "y Copy transcript" in screen

    # the sandbox panel: choose no-mailbox-permission (the seventh fault, after "no fault"); Enter chooses and
    # closes it, and the line above the keys says which fault is on (no toast over the panel)
    tmux.keys("F7")
    tmux.wait_for("Sandbox fault (Enter chooses")
    tmux.keys(*["Down"] * 7)
    tmux.wait_for("no-mailbox-permission (smtp)")
    tmux.keys("Enter")
    screen = tmux.wait_for("Sandbox fault: no-mailbox-permission")
    assert "Sandbox fault (Enter chooses" not in screen and "F5 runs the diagnostics." in flat(screen), screen
    tmux.wait_for("F5 Diagnose")

    tmux.keys("F5")
    screen = tmux.wait_for("✖ FAILED at auth in", timeout=30)
    rows = step_rows(screen)
    assert rows["AUTH"].startswith("✖ FAIL"), screen
    assert rows["Token"].startswith("✔ ok") and "(from cache)" in rows["Token"], screen  # a rerun: cached token
    assert "535 5.7.3 Authentication unsuccessful" in screen
    assert "Why:" in screen

    # t: the transcript, secrets redacted; the 535 reply, longer than 80 columns, wraps under its text (not cut)
    tmux.keys("t")
    reply_535 = " ms  S: 535 5.7.3 Authentication unsuccessful"
    # the title comes first, the lines as the view fills: wait for the reply's line itself
    screen = tmux.wait_until("the 535 reply in the transcript",
                             lambda text: "Transcript:" in text and reply_535 in text)
    assert "secrets redacted" in screen
    rows = screen.splitlines()
    at = next(i for i, row in enumerate(rows) if reply_535 in row)
    column = rows[at].index("535 5.7.3")
    continued = " ".join(row[column:].strip() for row in rows[at + 1:at + 3] if not row[:column].strip())
    assert re.search(r"\d{4}-\d\d-\d\dT[\d:.]+Z [0-9A-F]+\]", continued), screen
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)


def test_demo_failure_in_16_colours_without_colour(tmux: Tmux, short_folder: Path) -> None:
    """TERM=xterm and NO_COLOR=1: every state still reads in words; c copies the PowerShell and says so; s saves the
    report where the demo was started (a short folder, as an admin's: the message names the whole path)."""
    tmp_path = short_folder
    env = base_env(TERM="xterm", NO_COLOR="1", OUTMAIL_SANDBOX_DELAY="0.3")
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo --fault no-mailbox-permission"], env)
    tmux.wait_for("✔ no problems")
    tmux.keys("F5")
    screen = tmux.wait_for("✖ FAILED at auth in", timeout=30)
    rows = step_rows(screen)
    assert rows["AUTH"].startswith("✖ FAIL") and rows["QUIT"].startswith("✔ ok"), screen
    assert rows["Envelope"].startswith("– skipped"), screen  # no MAIL FROM after a failed AUTH
    assert "AUTH  ✖ FAIL" in screen and "Setup step: S5 Exchange service principal" in screen
    tmux.keys("c")
    screen = tmux.wait_for("Copied the PowerShell for AUTH")
    assert "Setup step: S5 Exchange service principal" in screen and "c Copy fix" in screen  # nothing covered
    tmux.keys("PageDown")
    tmux.wait_for("New-ServicePrincipal -AppId")
    # s: not in the sandbox's own folder (removed when the demo ends) but where the demo was started, and said so
    tmux.keys("s")
    screen = tmux.wait_until("the report's path", lambda sc: "Saved the report" in sc and "when it ends)" in sc)
    said = flat(screen)
    said = said[said.index("Saved the report"):].replace(" ", "")
    assert said.startswith(f"Savedthereport(secretsredacted,readablebyyouonly)to{tmp_path}/outmail-report-"
                           .replace(" ", "")), screen
    assert "(not next to the settings: the demo's folder is removed when it ends)" in flat(screen), screen
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)
    reports = list(tmp_path.glob("outmail-report-*.txt"))
    assert len(reports) == 1 and "FAILED at auth" in reports[0].read_text()


def flat(screen: str) -> str:
    """The screen's lines joined by spaces: a detail line wrapped at 80 columns reads as one sentence."""
    return " ".join(line.strip() for line in screen.splitlines())


def token_row(screen: str) -> str:
    return step_rows(screen).get("Token", "")


def test_demo_token_refused_at_auth_is_renewed_not_reused(tmux: Tmux, tmp_path: Path) -> None:
    """The issue's sequence: `outmail demo --fault no-smtp-role`, F5 fails at AUTH (535 5.7.3, the RBAC fix); the
    sandbox panel (F7) switches to no fault; F5 passes with a renewed token, never `Token (from cache)` with the
    refused one; r takes the good token from the cache; n asks Entra ID for a new one, and so does shift+F5 from the
    form."""
    env = base_env(OUTMAIL_SANDBOX_DELAY="0.3")
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo --fault no-smtp-role"], env)
    tmux.wait_for("✔ no problems")
    tmux.wait_for("F7 Sandbox")
    tmux.keys("F5")
    screen = tmux.wait_for("✖ FAILED at auth in", timeout=30)
    rows = step_rows(screen)
    assert rows["AUTH"].startswith("✖ FAIL") and rows["Envelope"].startswith("– skipped"), screen
    assert rows["Token"].startswith("✔ ok") and "(from cache)" not in rows["Token"], screen
    assert "AUTH  ✖ FAIL" in screen and "535 5.7.3 Authentication unsuccessful" in screen
    assert "Why: The token has no SMTP.SendAsApp role, so only RBAC for Applications" in flat(screen)
    assert "n rerun with a new token" in screen  # the pane's key line
    # the token step (four rows up from AUTH): no roles claim is not its failure; it names the model
    tmux.keys("Up", "Up", "Up", "Up")
    screen = tmux.wait_for("Token  ✔ ok")
    assert "(n: a new token)" in screen
    assert "authorization model: RBAC for Applications (Exchange role assignment)" in flat(screen), screen

    # F7: no fault (n in the panel), close it, F5 again
    tmux.keys("F7")
    tmux.wait_for("Sandbox fault (Enter chooses")
    tmux.keys("n")
    tmux.wait_for("Sandbox fault: none")
    tmux.wait_for("F5 Diagnose")
    tmux.keys("F5")
    screen = tmux.wait_until("a passing run with a renewed token",
                             lambda sc: "✔ Passed in" in sc and "(renewed)" in token_row(sc), timeout=30)
    assert "from cache" not in screen and "✖ FAIL" not in screen, screen
    assert all(row.startswith("✔ ok") for row in step_rows(screen).values()), screen
    tmux.keys(*["Up"] * 6)  # QUIT (selected at the end of a run) up to Token
    tmux.wait_for("Token (renewed)  ✔ ok")
    screen = tmux.wait_until("the token's reason on screen", lambda sc: (
        "new token: the last one was refused at AUTH (535 5.7.3 Authentication unsuccessful)" in flat(sc)))
    assert "token from the identity provider, expires in " in screen

    # r: the new token was good, so it comes from the cache now
    tmux.keys("r")
    screen = tmux.wait_until("a rerun from the cache",
                             lambda sc: "✔ Passed in" in sc and "(from cache)" in token_row(sc), timeout=30)
    assert token_row(screen).startswith("✔ ok"), screen

    # n: rerun with a new token
    tmux.keys("n")
    tmux.wait_until("a rerun with a new token",
                    lambda sc: "✔ Passed in" in sc and "(renewed)" in token_row(sc), timeout=30)
    tmux.keys(*["Up"] * 6)
    tmux.wait_for("Token (renewed)  ✔ ok")
    tmux.wait_until("the fresh token's reason", lambda sc: "new token: a fresh token was asked for" in flat(sc))

    # shift+F5 from the form: the same (r first, so the renewed row can only come from the new run)
    tmux.keys("r")
    tmux.wait_until("a rerun from the cache",
                    lambda sc: "✔ Passed in" in sc and "(from cache)" in token_row(sc), timeout=30)
    tmux.keys("F2")
    tmux.wait_for("Protocol ")
    tmux.keys("S-F5")
    tmux.wait_until("shift+F5's run with a new token",
                    lambda sc: "✔ Passed in" in sc and "(renewed)" in token_row(sc), timeout=30)
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)


def test_f5_in_the_sandbox_panel_runs_with_the_highlighted_fault(tmux: Tmux, tmp_path: Path) -> None:
    """F7, a fault highlighted, F5: the panel closes, the diagnostics run with that fault, and the message line
    names it while the pane shows the run."""
    env = base_env(OUTMAIL_SANDBOX_DELAY="0.05")
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo"], env)
    tmux.wait_for("✔ no problems")
    tmux.keys("F7")
    tmux.wait_for("Sandbox fault (Enter chooses")
    tmux.keys(*["Down"] * 7)
    tmux.wait_for("no-mailbox-permission (smtp)")
    tmux.keys("F5")
    screen = tmux.wait_for("✖ FAILED at auth in", timeout=30)
    assert "Sandbox fault (Enter chooses" not in screen
    assert "Sandbox fault: no-mailbox-permission" in screen and "AUTH  ✖ FAIL" in screen, screen
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)

"""End to end: the installed `outmail demo` in tmux at 80x24; F5 proves the sandbox settings, then a fault chosen in
the sandbox panel (F7) makes the next run fail at AUTH with its fix."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_tmux_settings import OUTMAIL, Tmux, base_env, tmux  # noqa: F401 - tmux is a fixture

STATES = ("✔ ok", "▲ warn", "✖ FAIL", "… running", "· pending", "– skipped")
STEP_TITLES = ["Settings", "Token", "Connect", "Banner and EHLO", "STARTTLS", "AUTH", "QUIT"]


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


def test_demo_f5_passes_then_a_fault_fails_at_auth(tmux: Tmux, tmp_path: Path) -> None:  # noqa: F811
    env = base_env(OUTMAIL_SANDBOX_DELAY="0.3")
    # cwd: a private folder, so nothing the demo or a saved report writes lands in the repository
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo"], env)
    tmux.wait_for("✔ no problems")
    tmux.wait_for("F7 Sandbox")
    tmux.keys("F5")
    screen = tmux.wait_for("✔ Passed in", timeout=30)
    rows = step_rows(screen)
    assert set(rows) == set(STEP_TITLES), screen
    assert all(row.startswith("✔ ok") and " ms" in row for row in rows.values()), screen
    assert "x Cancel" in screen and "c Copy fix" in screen and "y Copy transcript" in screen

    # the sandbox panel: choose no-mailbox-permission (the seventh fault, after "no fault") with Enter, close it
    tmux.keys("F7")
    tmux.wait_for("Sandbox fault (Enter chooses")
    tmux.keys(*["Down"] * 7)
    tmux.wait_for("no-mailbox-permission (smtp)")
    tmux.keys("Enter")
    tmux.wait_for("Sandbox fault: no-mailbox-permission")
    tmux.keys("q")
    tmux.wait_for("F5 Diagnose")

    tmux.keys("F5")
    screen = tmux.wait_for("✖ FAILED at auth in", timeout=30)
    rows = step_rows(screen)
    assert rows["AUTH"].startswith("✖ FAIL"), screen
    assert rows["Token"].startswith("✔ ok") and "(from cache)" in rows["Token"], screen  # a rerun: cached token
    assert "535 5.7.3 Authentication unsuccessful" in screen
    assert "Why:" in screen

    # t: the transcript, secrets redacted
    tmux.keys("t")
    screen = tmux.wait_for("Transcript:")
    assert "secrets redacted" in screen
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)


def test_demo_failure_in_16_colours_without_colour(tmux: Tmux, tmp_path: Path) -> None:  # noqa: F811
    """TERM=xterm and NO_COLOR=1: every state still reads in words; c copies the PowerShell and says so."""
    env = base_env(TERM="xterm", NO_COLOR="1", OUTMAIL_SANDBOX_DELAY="0.3")
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo --fault no-mailbox-permission"], env)
    tmux.wait_for("✔ no problems")
    tmux.keys("F5")
    screen = tmux.wait_for("✖ FAILED at auth in", timeout=30)
    rows = step_rows(screen)
    assert rows["AUTH"].startswith("✖ FAIL") and rows["QUIT"].startswith("✔ ok"), screen
    assert "AUTH  ✖ FAIL" in screen and "Setup step: S5 Exchange service principal" in screen
    tmux.keys("c")
    screen = tmux.wait_for("Copied the PowerShell for AUTH")
    assert "New-ServicePrincipal -AppId" in screen.replace("\n", " ")
    tmux.keys("s")  # next to the demo's settings file, in the sandbox's own folder (removed when the demo ends)
    tmux.wait_for("Saved the report")
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)

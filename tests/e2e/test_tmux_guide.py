"""End to end: the installed `outmail demo --fault rbac-out-of-scope` in tmux at 80x24, TERM=xterm and NO_COLOR=1: F5
fails at AUTH; F12 asks the model once (RBAC for Applications preselected from the token) and shows the steps with
their state in words and evidence, and the cause; c copies a step's PowerShell, s saves both scripts (0600), w waits
out propagation and w again stops; Esc returns to the pane."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env


def flat(screen: str) -> str:
    return " ".join(line.strip() for line in screen.splitlines())


def dialog_words(screen: str) -> str:
    """The words inside a dialog's box (between its borders), as one line."""
    inside = [line[line.index("│") + 1:line.rindex("│")].strip() for line in screen.splitlines()
              if line.count("│") >= 2]
    return " ".join(part for part in inside if part)


def test_guide_in_16_colours_without_colour(tmux: Tmux, tmp_path: Path) -> None:
    env = base_env(TERM="xterm", NO_COLOR="1", OUTMAIL_SANDBOX_DELAY="0.3")
    # cwd: a private folder; the demo saves there (its own settings folder goes when it ends)
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo --fault rbac-out-of-scope"], env)
    tmux.wait_for("✔ no problems")
    tmux.keys("F5")
    tmux.wait_for("✖ FAILED at auth in", timeout=30)

    tmux.keys("F12")
    screen = tmux.wait_for("Setup guide: which authorization model?")
    assert "Preselected: RBAC for Applications, from the last token (it has no SMTP.SendAsApp role)" in \
        dialog_words(screen), screen
    assert "Classic (c)" in screen and "RBAC for Applications (r)" in screen
    tmux.keys("Enter")
    screen = tmux.wait_for("Setup guide · RBAC for Applications, as chosen (m) · tenant default")
    lines = [line.strip() for line in screen.splitlines()]
    assert any(line.startswith("✔ proven     S1  App registration") and "token issued at " in line
               for line in lines), screen
    for start in ("✖ FAILED     S5  Exchange service prin", "✖ FAILED     R1  Management scope",
                  "– not needed S7  Send As", "· not known  S8  SMTP AUTH enabled", "✔ proven     S9  Network and TLS"):
        assert any(line.startswith(start) for line in lines), (start, screen)
    assert "Evidence: run ✖ FAILED at auth at " in screen and "no verification (p pastes it)" in screen
    assert "Result: 3 proven, 4 FAILED, 1 not known, 1 not needed" in screen
    assert "Cause: The token has no SMTP.SendAsApp role" in flat(screen)
    assert "S5 Exchange service principal  ✖ FAILED" in screen  # the first failed step, selected
    assert all(len(line) <= 80 for line in screen.splitlines())

    # c copies the selected step's PowerShell and says so; PgDn brings it into view
    tmux.keys("c")
    tmux.wait_for("Copied the PowerShell for S5 (3 lines)")
    screen = tmux.screen()
    for _page in range(4):
        if "New-ServicePrincipal -AppId" in screen:
            break
        before = screen
        tmux.keys("PageDown")
        # The next page once it is drawn (comparing at once raced the redraw and paged past the PowerShell).
        screen = tmux.wait_until("the page to move", lambda sc, before=before: sc != before and "S5 Exchange" in sc)
    tmux.wait_for("New-ServicePrincipal -AppId")

    # s: both scripts, private, where the demo was started; the path on screen
    tmux.keys("s")
    screen = tmux.wait_until("the saved paths", lambda sc: "Saved the setup script" in sc and "by you only" in sc)
    said = flat(screen).replace(" ", "")
    setup = sorted(tmp_path.glob("outmail-setup-*.ps1"))
    verify = sorted(tmp_path.glob("outmail-verify-*.ps1"))
    assert len(setup) == 1 and len(verify) == 1, list(tmp_path.iterdir())
    assert f"Savedthesetupscript{setup[0]}andtheverificationscript{verify[0].name},readablebyyouonly" in said, screen
    for path in setup + verify:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = setup[0].read_text()
    assert "$Model = 'rbac'" in text and "New-ManagementScope" in text and "clientSecret" not in text

    # w: waiting out propagation (attempt 1 runs at once and fails), w again stops it
    tmux.keys("w")
    screen = tmux.wait_for("… Waiting out propagation: attempt 1 failed; next run in", timeout=30)
    assert "after the change · every 5 min, up to 2 h, until it passes" in screen
    tmux.keys("w")
    tmux.wait_for("Stopped waiting out propagation after 1 attempt")

    # Esc: back to the pane, the run's failure as it was
    tmux.keys("Escape")
    screen = tmux.wait_for("✖ FAILED at auth in")
    assert "Setup guide" not in screen
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)

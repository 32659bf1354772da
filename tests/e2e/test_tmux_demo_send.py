"""End to end: the installed `outmail demo` in tmux at 80x24; ctrl+t opens the test-send dialog, a recipient is typed,
ctrl+t sends, and the sandbox's queue id is on screen."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env


def test_demo_ctrl_t_sends_and_shows_the_queue_id(tmux: Tmux, tmp_path: Path) -> None:
    env = base_env(OUTMAIL_SANDBOX_DELAY="0.3")
    # cwd: a private folder, so nothing the demo writes lands in the repository
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo"], env)
    tmux.wait_for("✔ no problems")
    tmux.wait_for("F7 Sandbox")
    tmux.keys("C-t")
    screen = tmux.wait_for("Send (ctrl+t)")
    assert "Test send: the settings on screen" in screen
    assert "From" in screen and "(Sender Email)" in screen
    assert "Subject" in screen and "Test message from outmail" in screen
    assert "Cancel (Esc)" in screen
    tmux.keys("alice@example.com")
    tmux.wait_for("alice@example.com")
    tmux.keys("C-t")
    screen = tmux.wait_for("✔ Sent in", timeout=30)
    assert "queue id " in screen
    assert "250 2.0.0 OK" in screen
    assert "Close (Esc)" in screen
    # the mailbox of the sandbox panel (F8) has it: close the dialog first (Esc), then F8
    tmux.keys("Escape")
    tmux.wait_for("F5 Diagnose")
    tmux.keys("F8")
    screen = tmux.wait_for("alice@example.com")
    tmux.keys("q")
    tmux.wait_for("F5 Diagnose")
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)

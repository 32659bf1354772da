"""End to end: the installed `outmail` in tmux at 80x24 on a server-like account (no ~/Downloads): the palette's
Screenshot saves next to the settings file and says where; the palette's Keys panel closes with Esc; one Quit."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env
from tests.console.conftest import COMMENTED_M365


def flat(screen: str) -> str:
    return " ".join(line.strip() for line in screen.splitlines())


def test_screenshot_without_downloads_and_the_keys_panel(tmux: Tmux, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env(HOME=str(home), TERM="xterm"))
    tmux.wait_for("✔ no problems")

    tmux.keys("C-p")
    tmux.wait_for("Search for commands")
    tmux.keys("screenshot")
    tmux.wait_for("Screenshot")
    tmux.keys("Enter")
    screen = tmux.wait_until("the screenshot's message", lambda sc: "Saved a screenshot to" in sc and "here)" in sc)
    [shot] = list(tmp_path.glob("*.svg"))
    said = flat(screen)
    said = said[said.index("Saved a screenshot to"):]
    assert said.replace(" ", "").startswith(f"Savedascreenshotto{shot}".replace(" ", "")), screen
    assert "(no ~/Downloads here)" in said, screen
    assert stat.S_IMODE(shot.stat().st_mode) == 0o600 and "</svg>" in shot.read_text()

    tmux.keys("C-p")
    tmux.wait_for("Search for commands")
    tmux.keys("quit")
    screen = tmux.wait_for("Quit; asks Save / Discard / Cancel")
    assert "as soon as possible" not in screen
    assert [line.strip() for line in screen.splitlines()].count("Quit") == 1, screen  # one entry titled Quit
    tmux.keys("Escape")
    tmux.wait_until("the palette closed", lambda sc: "🔎" not in sc)

    tmux.keys("C-p")
    tmux.wait_for("Search for commands")
    tmux.keys("keys")
    tmux.wait_for("Show help for the focused widget")
    tmux.keys("Enter")
    tmux.wait_for("Focus Next")  # Textual's keys panel, docked on the right
    tmux.keys("Escape")
    screen = tmux.wait_until("Esc closed the keys panel", lambda sc: "Focus Next" not in sc)
    assert "Protocol" in screen and "✔ no problems" in screen
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)

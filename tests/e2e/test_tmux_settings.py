"""End to end: the installed `outmail` in tmux at 80x24 edits the port, saves with ctrl+s, and the file changes."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from tests.console.conftest import COMMENTED_M365
from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env


def test_edit_port_and_save_in_tmux(tmux: Tmux, tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env())
    tmux.wait_for("Protocol")
    tmux.wait_for("✔ no problems")
    screen = tmux.wait_for("F1 Help")
    assert "SMTP Microsoft 365" in screen
    # Protocol has the focus (its help is under the form); Tab twice reaches Port, whose text is selected on focus:
    # typing replaces it.
    tmux.wait_for("Protocol: ")
    tmux.keys("Tab")
    tmux.wait_for("Server: The SMTP server")
    tmux.keys("Tab")
    tmux.wait_for("Port: TCP port")
    tmux.keys("2", "5", "2", "5")
    tmux.wait_for("● unsaved changes")
    tmux.keys("C-s")
    tmux.wait_for("✔ saved")
    text = path.read_text()
    assert "port = 2525                     # submission\n" in text
    assert text.replace("port = 2525 ", "port = 587  ", 1) == COMMENTED_M365
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0")


def test_keys_typed_at_once_after_launch_reach_the_form(tmux: Tmux, tmp_path: Path) -> None:
    """An admin who types before the editable form has replaced the first frame loses nothing."""
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env())
    tmux.keys("Tab", "Tab", "2", "5", "2", "5")  # no wait: these arrive before or during the first frame
    # The field shows each key as it lands; the status line follows once the app has validated the value.
    screen = tmux.wait_until("Port 2525, validated", lambda screen: "● unsaved changes" in screen and any(
        line.split()[:2] == ["Port", "2525"] for line in screen.splitlines()))
    assert "Port: TCP port" in screen, screen
    tmux.keys("C-s")
    tmux.wait_for("✔ saved")
    assert "port = 2525                     # submission\n" in path.read_text()
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0")


def terminal_modes(tmux: Tmux) -> str:
    """`stty -a` of the pane's terminal, as its program has set it."""
    tty = tmux.run("display-message", "-p", "-t", "e2e", "#{pane_tty}").strip()
    return subprocess.run(["stty", "-F", tty, "-a"], capture_output=True, text=True, check=True, timeout=10).stdout


def test_keys_typed_while_the_console_loads_arrive_as_typed_and_the_terminal_is_put_back(tmux: Tmux,
                                                                                         tmp_path: Path) -> None:
    """ctrl+u, ctrl+s and ctrl+q typed while the console is still loading (Textual not imported yet) act as typed
    slowly: outmail takes the terminal out of its line editing and flow control first thing (tui/terminal.py), where
    before the kernel ate them (ctrl+u erased the Tab before it, ctrl+s stopped output). After the console ends the
    terminal has its own modes back."""
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env())
    deadline = time.monotonic() + 15
    while not re.search(r"(?<![-\w])-icanon\b", terminal_modes(tmux)):  # outmail has taken the terminal
        assert time.monotonic() < deadline, terminal_modes(tmux)
    # Textual's driver has not started yet (it enters the alternate screen first): the window this test is about.
    assert tmux.run("display-message", "-p", "-t", "e2e", "#{alternate_on}").strip() == "0"
    tmux.keys("Tab", "C-u", "m", "x", "Tab", "7", "7", "C-s")
    tmux.wait_until("the save", lambda screen: "port = 77 " in path.read_text())
    assert 'host = "mx"' in path.read_text()
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0")
    modes = terminal_modes(tmux).split()
    assert {"icanon", "echo", "isig", "iexten", "icrnl"} <= set(modes), modes  # the shell's cooked mode again


def test_keys_that_arrive_together_each_reach_the_field_focused_by_the_one_before(tmux: Tmux, tmp_path: Path) -> None:
    """Typed ahead over a slow SSH link, keys arrive in one read: Tab must have moved the focus before the next key
    is handed out, and ctrl+u (a binding) must clear the field before the letters after it are inserted."""
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env())
    tmux.wait_for("Protocol: ")
    tmux.keys("Tab", "C-u", "mail.example.test", "Tab", "77")  # one send-keys: one write to the terminal
    screen = tmux.wait_until("Port 77, validated", lambda screen: "● unsaved changes" in screen and any(
        line.split()[:2] == ["Port", "77"] for line in screen.splitlines()))
    assert any(line.split()[:2] == ["Server", "mail.example.test"] for line in screen.splitlines()), screen
    tmux.keys("C-s")
    tmux.wait_for("✔ saved")
    text = path.read_text()
    assert 'host = "mail.example.test"' in text and "port = 77 " in text
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0")


def test_state_is_shown_in_words_without_colour(tmux: Tmux, tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365.replace('clientId = "11111111-2222-3333-4444-555555555555"', 'clientId = "x"'))
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env(TERM="xterm", NO_COLOR="1"))
    screen = tmux.wait_for("✖ error: Client ID must be a GUID")
    assert "✖ 1 error" in screen
    assert "✔ saved" in screen
    assert "(ignored by LogicalDOC with SMTP Microsoft 365)" in screen
    assert "[X] yes" in screen and "[ ] no" in screen
    assert "hidden" in screen
    tmux.wait_for("Protocol: ")
    tmux.keys("Tab")
    tmux.wait_for("Server: The SMTP server")
    tmux.keys("Tab")
    tmux.wait_for("Port: TCP port")
    tmux.keys("9")
    screen = tmux.wait_for("● unsaved changes")
    assert "▲ warning: Exchange Online accepts client" in screen, screen
    tmux.keys("C-q")
    screen = tmux.wait_for("Discard (d)")
    assert "Save (s)" in screen and "Cancel (c)" in screen
    tmux.keys("d")
    tmux.wait_for("OUTMAIL-EXIT=0")
    assert 'clientId = "x"' in path.read_text() and "port = 587 " in path.read_text()


def test_malformed_file_exits_2_and_is_kept(tmux: Tmux, tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    broken = COMMENTED_M365.replace("port = 587 ", "port = = 587 ")
    path.write_text(broken)
    tmux.start([str(OUTMAIL), "--config", str(path)], base_env())
    screen = tmux.wait_for("OUTMAIL-EXIT=2")
    assert f"{path}:7:" in screen.replace("\n", "")
    assert path.read_text() == broken

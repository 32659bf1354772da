"""What must fit 80x24: the header keeps the settings file's name, a long pasted value is cut in its error with its
length named, and F1's key column holds every key."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import Input, Static

from tests.console import contrast as C
from tests.console.conftest import COMMENTED_M365, help_text, ready
from tui.console.launch import build_app
from tui.console.shorten import cut_value, cut_words, fit_path

SIZE = (80, 24)


def test_fit_path_keeps_the_file_name_and_shortens_the_folders() -> None:
    path = "/tmp/outmail-sandbox-zx1vkg2o/settings.toml"
    assert fit_path(path, 80) == path
    assert fit_path(path, 40) == "…/outmail-sandbox-zx1vkg2o/settings.toml"
    assert fit_path(path, 37) == "…tmail-sandbox-zx1vkg2o/settings.toml"
    assert fit_path(path, 16) == "…/settings.toml"[-16:] or fit_path(path, 16).endswith("/settings.toml")
    assert fit_path("/a/very-long-settings-file-name.toml", 12) == "…e-name.toml"
    assert fit_path("/etc/outmail/settings.toml", 24) == "…/outmail/settings.toml"
    for width in range(1, 50):
        assert len(fit_path(path, width)) <= width
        if width > len("settings.toml") + 1:
            assert fit_path(path, width).endswith("settings.toml")


def test_cut_value_names_the_length_and_keeps_the_reason() -> None:
    pasted = "x" * 5000
    text = cut_value(f"Server '{pasted}' is not a valid host name", pasted)
    assert text == f"Server '{'x' * 40}… (5,000 characters, cut)' is not a valid host name"
    assert cut_value("Server 'short' is not a valid host name", "short") == "Server 'short' is not a valid host name"
    assert cut_words("a " + "y" * 300 + " b") == "a " + "y" * 120 + "… (300 characters, cut) b"


async def test_the_header_keeps_the_file_name(tmp_path: Path) -> None:
    """A settings file in a long folder: the status line shows `…/<folder>/settings.toml`, never `…/setting…`."""
    folder = tmp_path / "outmail-sandbox-zx1vkg2o"
    folder.mkdir()
    path = folder / "settings.toml"
    path.write_text(COMMENTED_M365)
    assert len(str(path)) > 45
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        header = C.screen_text(app).splitlines()[0]
        assert "sandbox-zx1vkg2o/settings.toml " in header and header.startswith(" …"), header
        assert "tenant default" in header and "✔ saved" in header
        assert app.query_one("#status").tooltip == str(path)  # the whole path on hover


async def test_a_long_pasted_value_is_cut_in_its_error(settings_path: Path) -> None:
    """5,000 characters pasted into Server: the error under the field stays a few lines, names the length and still
    says why the value is wrong; the screen is not filled with the value."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        server = app.query_one("#f-host", Input)
        server.focus()
        server.value = "mail!" + "a" * 5000
        await pilot.pause()
        problem = str(app.query_one("#p-host", Static).render())
        assert problem == (f"✖ error: Server 'mail!{'a' * 35}… (5,005 characters, cut)' is not a valid host name: "
                           "a label is 5005 characters long (at most 63, RFC 1035)"), problem
        assert len(problem) < 240, problem
        assert app.query_one("#p-host", Static).size.height <= 5  # the cut value, then why: a label over 63
        assert "Protocol" in C.screen_text(app)  # the form around it is still there


async def test_a_long_pasted_value_is_cut_in_the_settings_step(settings_path: Path, monkeypatch) -> None:
    """F5 with the pasted Server: the settings step's detail cuts the long run too (copies keep it whole)."""
    from tui.console.diagnostics_pane import DiagnosticsPane

    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        server = app.query_one("#f-host", Input)
        server.focus()
        server.value = "mail!" + "a" * 3000
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        pane = app.query_one(DiagnosticsPane)
        deadline = time.monotonic() + 30  # a bound for a stuck run, not the expected time: wait for the end itself
        while pane.running or pane.report is None:
            assert time.monotonic() < deadline, "the run did not end"
            await pilot.pause(0.01)
        detail = str(pane.query_one("#diag-detail", Static).render())
        assert "characters, cut)" in detail and "a" * 200 not in detail, detail[:400]
        settings_step = pane.report.step("settings")
        whole = [*settings_step.detail, settings_step.hint.cause if settings_step.hint else ""]
        assert any("a" * 3000 in line for line in whole)  # the report (copied, saved) keeps the value whole


async def test_help_key_column_holds_every_key(settings_path: Path) -> None:
    """F1: every description starts in the same column, `Esc, ctrl+g` and `Tab, shift+Tab` included, and no line
    is wider than the help's text area (80x24)."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        text = await help_text(pilot)
        lines = text.splitlines()
        body = app.screen.query_one("#help-body")
        assert max(len(line) for line in lines) <= body.scrollable_content_region.width
        key_rows = [line for line in lines[:lines.index("Fields (LogicalDOC label, TOML key)")]
                    if line.startswith("  ") and line[2] != " "]
        starts = {len(line) - len(line[2:].split("  ", 1)[1].lstrip(" ")) for line in key_rows if "  " in line[2:]}
        assert len(starts) == 1, sorted((len(line) - len(line[2:].split("  ", 1)[1].lstrip(" ")), line)
                                        for line in key_rows if "  " in line[2:])[:3]
        for keys in ("Esc, ctrl+g", "Tab, shift+Tab"):
            assert any(line.startswith(f"  {keys} ") for line in key_rows), keys

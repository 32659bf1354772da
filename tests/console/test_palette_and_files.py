"""The console's smaller things: one Quit in the palette, Esc closes the palette's Keys panel, a screenshot without a
Downloads folder lands where reports go and says where, and `outmail demo` keeps a saved report."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from tests.console.conftest import ready
from tests.console.helpers import FakeSandbox, canned_diagnose, run_f5
from tui.console.launch import build_app

SIZE = (80, 24)


async def palette_titles(pilot, query: str) -> list[str]:
    """The palette's entries for `query`, as shown (ctrl+p, the query typed)."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    for _ in range(100):  # the palette searches in the background
        await pilot.pause(0.02)
        palette = pilot.app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one(OptionList)
        if options.option_count:
            break
    titles = [str(options.get_option_at_index(i).prompt).split("\n")[0] for i in range(options.option_count)]
    await pilot.press("escape")
    await pilot.pause()
    return titles


async def test_the_palette_has_one_quit(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = await palette_titles(pilot, "quit")
        assert titles.count("Quit") == 1, titles
        assert not any("as soon as possible" in t for t in titles), titles
        assert "Keys" in await palette_titles(pilot, "keys")  # Textual's other commands stay


async def test_esc_closes_the_palettes_keys_panel(settings_path: Path) -> None:
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.action_show_help_panel()
        await pilot.pause()
        assert app.screen.query("HelpPanel")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")
        assert app.is_running  # and Esc with no panel does nothing
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.screen is app.main_screen


async def test_a_screenshot_without_downloads_lands_next_to_the_settings(settings_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Most servers have no ~/Downloads: the palette's Screenshot goes next to the settings file, readable by you
    only, and the message line names the path and why."""
    home = settings_path.parent / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        saved = app.deliver_screenshot()  # what the palette's Screenshot calls
        await pilot.pause()
        assert saved is not None
        shot = Path(saved)
        assert shot.parent == settings_path.parent and shot.suffix == ".svg", shot
        assert stat.S_IMODE(shot.stat().st_mode) == 0o600 and "<svg" in shot.read_text()
        said = app.main_screen.message
        assert said == f"✔ Saved a screenshot to {shot} (no ~/Downloads here)", said
        assert not app._notifications
        # with a Downloads folder it goes there, as Textual does
        (home / "Downloads").mkdir()
        saved = app.deliver_screenshot()
        assert saved is not None and Path(saved).parent == home / "Downloads"


async def test_the_demo_saves_a_report_where_it_was_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`outmail demo` without --config: the settings file lives in the sandbox's own folder, removed when the demo
    ends, so `s` saves the report in the folder the demo was started from and says why."""
    from tests.console.conftest import COMMENTED_M365
    from tui.diagnostics import engine

    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    sandbox_folder = tmp_path / "outmail-sandbox-x1"
    sandbox_folder.mkdir()
    started_in = tmp_path / "admin"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    settings = sandbox_folder / "settings.toml"
    settings.write_text(COMMENTED_M365)

    class Info:
        settings_path = str(settings)

    demo = FakeSandbox()
    demo.info = Info()  # type: ignore[attr-defined]
    app = build_app(settings, demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_f5(pilot)
        await pilot.press("s")
        await pilot.pause()
        [report] = list(started_in.glob("outmail-report-*.txt"))
        assert not list(sandbox_folder.glob("outmail-report-*"))
        assert app.main_screen.message == (f"✔ Saved the report (secrets redacted, readable by you only) to {report} "
                                           "(not next to the settings: the demo's folder is removed when it ends)")

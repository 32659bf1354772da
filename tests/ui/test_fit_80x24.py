"""What must fit 80x24: the header keeps the settings file's name."""

from __future__ import annotations

from pathlib import Path

from tests.ui import contrast as C
from tests.ui.conftest import COMMENTED_M365, ready
from tui.ui.launch import build_app
from tui.ui.shorten import fit_path

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
        assert app.query_one("#status-path").tooltip == str(path)  # the whole path on hover

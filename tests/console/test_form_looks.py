"""What the admin sees in the settings form as the focus moves, as the mouse clicks and as secrets are typed, at
80x24 (and 60x20 where it is narrower): columns that stay put, placeholders and help that are not cut mid-word,
notes that say what is true, the Microsoft 365 preset said in words, long values shown from their start.
(Contrast of the boxes and placeholders: tests/console/test_readability.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select

from tests.console.conftest import COMMENTED_M365, ready, until
from tests.console.contrast import screen_text
from tests.console.helpers import type_into
from tui.console.form import FieldRow
from tui.console.launch import build_app
from tui.settings.fields import FIELDS, PROTOCOL_M365, PROTOCOL_SMTP

SIZE = (80, 24)
FROM_ENV = COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"', 'clientSecret = ""')


def columns(app, mark: str) -> dict[str, int]:
    """The column of `mark` on each screen row that has it, by the row's first word (its field's label)."""
    found = {}
    for line in screen_text(app).splitlines():
        if mark in line and line.split():
            found[line.split()[0]] = line.index(mark)
    return found


async def test_the_right_hand_column_stays_put_as_the_focus_moves(settings_path: Path) -> None:
    """Tab through every field: the help line is one or two lines, the form scrolls or not, and every ▼ and
    hidden/SHOWN keeps its column (the form keeps its scroll bar's gutter)."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        arrows, states, heights = {}, {}, set()
        for _ in range(len(FIELDS) + 1):
            for label, column in columns(app, "▼").items():
                arrows.setdefault(label, set()).add(column)
            for label, column in columns(app, "hidden").items():
                states.setdefault(label, set()).add(column)
            heights.add(app.query_one("#help-line").size.height)
            await pilot.press("tab")
            await pilot.pause()
        assert heights == {1, 2}, heights  # the help line did change height under the form
        assert {"Protocol", "Connection"} <= set(arrows) and {"Password", "Client"} <= set(states)
        moved = {label: cols for label, cols in {**arrows, **states}.items() if len(cols) > 1}
        assert not moved, moved


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_a_secret_from_the_environment_says_where_it_comes_from_uncut(size, tmp_path: Path,
                                                                           monkeypatch) -> None:
    """The placeholder names the variable whole (at 80x24 "from $OUTMAIL_CLIENT_SECRET", at 60x20 the variable
    alone), never cut mid-word before the field's state."""
    monkeypatch.setenv("OUTMAIL_CLIENT_SECRET", "env~value-from-environment")
    path = tmp_path / "settings.toml"
    path.write_text(FROM_ENV)
    app = build_app(path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        app.form.scroll_to_widget(app.query_one("#row-client_secret"), animate=False)
        await pilot.pause()
        line = next(line for line in screen_text(app).splitlines() if line.strip().startswith("Client secret"))
        words = line.split()
        assert words[-1] == "hidden", line
        expected = "from $OUTMAIL_CLIENT_SECRET" if size[0] >= 80 else "$OUTMAIL_CLIENT_SECRET"
        assert " ".join(words[2:-1]) == expected, line


async def test_the_secrets_note_says_what_is_true_as_it_is_typed_and_saved(tmp_path: Path, monkeypatch) -> None:
    """From the environment: the note says so; once a value is typed, that it replaces the variable when saved;
    emptied again, the environment's once more; saved, the file holds it: no note of the environment, and the
    empty field's placeholder says "empty"."""
    monkeypatch.setenv("OUTMAIL_CLIENT_SECRET", "env~value-from-environment")
    path = tmp_path / "settings.toml"
    path.write_text(FROM_ENV)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        row = app.query_one("#row-client_secret", FieldRow)
        secret = app.query_one("#f-client_secret", Input)
        assert row.note == "from $OUTMAIL_CLIENT_SECRET (not written to the file unless you type one)"
        await type_into(pilot, "f-client_secret", "typed~secret")
        assert row.note == "replaces $OUTMAIL_CLIENT_SECRET when saved"
        app.form.scroll_to_widget(row, animate=False)
        await pilot.pause()
        assert "replaces $OUTMAIL_CLIENT_SECRET when saved" in screen_text(app)
        assert "not written to the file" not in screen_text(app)
        await type_into(pilot, "f-client_secret", "")
        assert secret.value == ""
        assert row.note.startswith("from $OUTMAIL_CLIENT_SECRET")
        await type_into(pilot, "f-client_secret", "typed~secret")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: 'clientSecret = "typed~secret"' in path.read_text(), what="the save")
        await until(pilot, lambda: row.note == "", what="the note after the save")
        assert "OUTMAIL_CLIENT_SECRET" not in screen_text(app).split("Client secret", 1)[1].split("Sender", 1)[0]
        await type_into(pilot, "f-client_secret", "")
        assert secret.placeholder == "empty"
        assert row.note == ""


async def test_choosing_m365_says_what_the_preset_changed(settings_path: Path) -> None:
    """SMTP Microsoft 365 sets Server, Port, Connection Security and secure authentication as LogicalDOC does: the
    message line names what it set and what was there; nothing is said when the values were already those."""
    settings_path.write_text(COMMENTED_M365.replace('"smtpmicrosoft365"', '"smtp"').replace(
        '"smtp.office365.com"', '"127.0.0.1"').replace("port = 587", "port = 37369").replace(
        "connectionSecurity = 1", "connectionSecurity = 0").replace("authEncrypted = true", "authEncrypted = false"))
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter", "down", "enter")
        await until(pilot, lambda: app.current_settings.protocol == PROTOCOL_M365, what="Microsoft 365 chosen")
        await pilot.pause()
        said = ("SMTP Microsoft 365 sets Server smtp.office365.com, Port 587, STARTTLS and secure authentication, "
                "as LogicalDOC does (was 127.0.0.1:37369, Connection Security None, no secure authentication)")
        assert app.main_screen.message == said  # the preset's own edits did not clear it
        assert "SMTP Microsoft 365 sets Server smtp.office365.com" in screen_text(app)
        await pilot.press("tab")  # another field: the message goes
        await pilot.pause()
        assert app.main_screen.message == ""
        # Back to SMTP (the preset stays), then Microsoft 365 again: nothing changed, nothing said.
        app.query_one("#f-protocol", Select).value = PROTOCOL_SMTP
        await until(pilot, lambda: app.current_settings.protocol == PROTOCOL_SMTP, what="SMTP chosen")
        await pilot.pause()
        app.query_one("#f-protocol", Select).value = PROTOCOL_M365
        await until(pilot, lambda: app.current_settings.protocol == PROTOCOL_M365, what="Microsoft 365 again")
        await pilot.pause()
        assert app.main_screen.message == ""
        # Only the port differs: only the port is named.
        await type_into(pilot, "f-port", "25")
        app.query_one("#f-protocol", Select).value = PROTOCOL_SMTP
        await pilot.pause()
        app.query_one("#f-protocol", Select).value = PROTOCOL_M365
        await until(pilot, lambda: app.current_settings.port == 587, what="the preset's port")
        await pilot.pause()
        assert app.main_screen.message == "SMTP Microsoft 365 sets Port 587, as LogicalDOC does (was Port 25)"


async def test_a_click_on_a_label_focuses_its_field_and_beside_a_box_toggles_nothing(settings_path: Path) -> None:
    """Clicking a field's label focuses the field; the blank right of "[ ] no" is the row's (focus, no toggle);
    clicking the box toggles it."""
    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for attr in ("host", "connection_security", "userasfrom"):
            row = app.query_one(f"#row-{attr}", FieldRow)
            await pilot.click(row, offset=(3, 0))  # on the label
            await pilot.pause()
            assert app.focused is app.query_one(f"#f-{attr}"), (attr, app.focused)
        box = app.query_one("#f-userasfrom", Checkbox)
        assert box.size.width <= len("[ ] no ")  # Textual draws one blank cell after the word
        assert not box.value
        row = app.query_one("#row-userasfrom", FieldRow)
        await pilot.click(row, offset=(row.size.width - 5, 0))  # far right of "[ ] no"
        await pilot.pause()
        assert not box.value and app.focused is box
        await pilot.click(box, offset=(1, 0))
        await pilot.pause()
        assert box.value


async def test_a_field_left_shows_its_long_value_from_the_start(settings_path: Path) -> None:
    """A long bad Username, focus elsewhere: the field shows the start of its value beside the error (Textual kept
    the end in view); back in the field, the cursor is in view again and the value unchanged."""
    app = build_app(settings_path)
    long = "d.going@subdomain.contoso-example-long-domain.test" * 2
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-username", long)
        user = app.query_one("#f-username", Input)
        assert user.scroll_x > 0  # the end in view while typing
        await pilot.press("tab")
        await pilot.pause()
        assert user.scroll_x == 0 and user.value == long
        line = next(line for line in screen_text(app).splitlines() if line.strip().startswith("Username"))
        assert line.split()[1].startswith("d.going@subdomain"), line
        user.focus()
        await pilot.pause()
        assert user.value == long
        assert user.scroll_x <= user.cursor_position <= user.scroll_x + user.scrollable_content_region.width


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_help_line_fits_or_shows_its_cut(size, settings_path: Path) -> None:
    """Every field's help: at 80 columns its words fit the help line's two lines; narrower, a cut ends in "…"."""
    app = build_app(settings_path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        help_line = app.query_one("#help-line")
        for field in FIELDS:
            widgets = app.query(f"#f-{field.attr}")
            if not app.query_one(f"#row-{field.attr}").display:
                continue
            widgets.first().focus()
            await pilot.pause()
            said = str(help_line.content)
            shown = str(help_line.render())
            assert help_line.size.height <= 2
            lines = shown.splitlines()
            if size[0] >= 80:
                assert " ".join(line.strip() for line in lines) == " ".join(said.split()), (field.attr, shown)
            elif " ".join(line.strip() for line in lines) != " ".join(said.split()):
                assert lines[-1].endswith("…"), (field.attr, shown)
            on_screen = screen_text(app).splitlines()[-3:-1]
            assert [line.strip() for line in on_screen][-len(lines):] == [line.strip() for line in lines]

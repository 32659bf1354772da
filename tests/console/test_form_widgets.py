"""The form's lighter widgets draw exactly what Textual's own would: FieldInput's component styles, worked out when
first drawn, are a plain Input's in every state (tui/console/form.py)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from tests.console.helpers import field_line
from tui.console.form import FieldInput

COMPONENTS = sorted(Input.COMPONENT_CLASSES)


class Pair(App[None]):
    """A plain Input and a FieldInput, alike in everything else."""

    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        for cls, wid in ((Input, "plain"), (FieldInput, "field")):
            widget = cls("smtp.office365.com", type="text", id=wid, placeholder="empty")
            widget.compact = True
            yield widget


def styles(widget: Input) -> dict[str, object]:
    return {name: widget.get_component_rich_style(name) for name in COMPONENTS}


async def test_no_component_is_styled_until_it_is_drawn():
    app = Pair()
    async with app.run_test(size=(60, 6)) as pilot:
        await pilot.pause()
        plain, field = app.query_one("#plain", Input), app.query_one("#field", Input)
        assert sorted(plain._component_styles) == COMPONENTS  # Textual's: all four, on every styling
        assert "input--cursor" not in field._component_styles and "input--selection" not in field._component_styles
        field.focus()
        await pilot.pause()
        assert "input--cursor" in field._component_styles  # the focused input draws its cursor


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "ansi-dark"])
async def test_every_component_style_is_a_plain_inputs_in_every_state(theme):
    app = Pair()
    async with app.run_test(size=(60, 6)) as pilot:
        app.theme = theme
        await pilot.pause()
        plain, field = app.query_one("#plain", Input), app.query_one("#field", Input)
        states = []
        for state in ("blurred", "focused", "invalid and focused", "invalid", "empty"):
            for widget in (plain, field):
                if state in ("blurred", "empty"):
                    app.set_focus(None)
                elif state == "focused":
                    widget.focus()
                elif state.startswith("invalid"):
                    widget.add_class("-invalid")
                    (widget.focus() if "focused" in state else app.set_focus(None))
                elif state == "empty":
                    widget.value = ""
                await pilot.pause()
                states.append(styles(widget))
            assert states[-2] == states[-1], (theme, state)
        if theme != "ansi-dark":  # (the terminal's own colours: the same in every state)
            assert len({repr(s) for s in states}) > 1  # the states differ: the comparison saw them


async def test_a_theme_change_reaches_the_components_already_drawn():
    app = Pair()
    async with app.run_test(size=(60, 6)) as pilot:
        plain, field = app.query_one("#plain", Input), app.query_one("#field", Input)
        field.focus()
        await pilot.pause()
        before = styles(field)  # the cursor drawn in the dark theme
        app.theme = "textual-light"
        await pilot.pause()
        after = styles(field)
        plain.focus()
        await pilot.pause()
        assert styles(plain) == after != before


async def test_in_a_narrow_terminal_a_select_value_is_cut_with_an_ellipsis_and_the_file_name_kept(tmp_path):
    from textual.widgets._select import SelectCurrent

    from tests.console.conftest import COMMENTED_M365, ready, until
    from tests.console.contrast import screen_text
    from tui.console.launch import build_app

    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    app = build_app(path)
    async with app.run_test(size=(40, 20)) as pilot:  # 8 or 9 cells for "SMTP Microsoft 365"
        await ready(pilot)
        current = app.query_one("#f-protocol").query_one(SelectCurrent)

        def shown() -> str:
            return field_line(app, "Protocol").split("Protocol", 1)[1].strip()

        def cut_to_its_room() -> bool:  # the value's room: the widget's width less the arrow's 2 cells
            return shown() == "SMTP Microsoft 365"[: current.content_size.width - 3] + "… ▼"

        # The form's scroll bar takes a cell once the layout has settled: the screen and the widget's width agree then.
        await until(pilot, cut_to_its_room, what="the value cut to its room")
        assert current.content_size.width - 2 < len("SMTP Microsoft 365") and shown().startswith("SMTP Mi")
        # The status line keeps the file's name: the tenant, the saved state and the counts say it in fewer words
        assert screen_text(app).splitlines()[0].split() == ["…settings.toml", "default", "✔", "saved", "✔", "ok"]


async def test_the_status_line_gives_up_words_before_the_file_name(tmp_path):
    """In the width the terminal leaves, the file's name first: the tenant and the saved state in fewer words, then
    the counts; in full where they fit."""
    from tests.console.conftest import COMMENTED_M365, ready
    from tests.console.contrast import screen_text
    from tui.console.launch import build_app

    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365.replace('host = "smtp.office365.com"', 'host = ""'))  # one error
    seen = {}
    for width in (100, 48, 41):
        app = build_app(path)
        async with app.run_test(size=(width, 20)) as pilot:
            await ready(pilot)
            seen[width] = screen_text(app).splitlines()[0].split()
    assert seen[100][-6:] == ["tenant", "default", "✔", "saved", "✖", "1", "error"][-6:] and \
        seen[100][0].endswith("/settings.toml") and "tenant" in seen[100], seen
    assert seen[48][0].endswith("/settings.toml") and seen[48][1:] == ["default", "✔", "saved", "✖", "1", "error"], seen
    assert seen[41][0].endswith("/settings.toml") and seen[41][1:] == ["default", "✔", "saved", "✖", "1"], seen


async def test_the_first_paste_into_an_empty_field_shows_its_end_and_the_cursor(tmp_path):
    """Textual 8.2.8's Input scrolled to the cursor before its width grew: the first paste into an empty field left
    the view at the start with the cursor out of sight (a new user's trial, a 74-character client secret)."""
    from textual import events

    from tests.console.conftest import COMMENTED_M365, ready, until
    from tests.console.contrast import screen_text
    from tui.console.launch import build_app

    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"', 'clientSecret = ""'))
    app = build_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        field = app.query_one("#f-client_secret", Input)
        field.focus()
        await pilot.press("ctrl+r")
        pasted = "Zq8Q~abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_tail1234"
        field.post_message(events.Paste(pasted))
        await until(pilot, lambda: field.value == pasted, what="the paste")
        await until(pilot, lambda: any("_tail1234" in line for line in screen_text(app).splitlines()
                                       if line.startswith(" Client secret ")), what="the end of the paste in view")
        assert field.value == pasted and field.cursor_position == len(pasted)  # pasted once, the cursor at its end


@pytest.mark.parametrize("size", [(40, 15), (80, 24)])
async def test_every_button_of_the_quit_dialog_is_on_screen(size, tmp_path):
    """At 40 columns the Save / Discard / Cancel row is wider than the dialog: the buttons stand one under another
    (Cancel was off screen); at 80 they are in a row."""
    from tests.console.conftest import COMMENTED_M365, ready
    from tests.console.contrast import screen_text
    from tests.console.helpers import type_into
    from tui.console.dialogs import QuitDialog
    from tui.console.launch import build_app

    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365)
    app = build_app(path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await type_into(pilot, "f-port", "25")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitDialog)
        await pilot.pause()
        screen = screen_text(app)
        for label in ("Save (s)", "Discard (d)", "Cancel (c)"):
            assert label in screen, screen
        rows = [i for i, line in enumerate(screen.splitlines()) if "Save (s)" in line or "Cancel (c)" in line]
        assert (len(set(rows)) == 1) == (size[0] >= 80), screen  # a row at 80 columns, stacked at 40
        if size[0] < 80:  # the terminal made wide again: a row again
            await pilot.resize_terminal(80, 24)
            await pilot.pause()
            await pilot.pause()
            screen = screen_text(app)
            assert len({i for i, line in enumerate(screen.splitlines()) if "Save (s)" in line or "Cancel (c)" in line
                        }) == 1, screen

"""Readability at 80x24: WCAG contrast of errors and of the selected step row, measured from the rendered cells.

How (tests/console/contrast.py has the details): the app runs under Pilot at 80x24; the test takes the strips the
compositor sends to the terminal (after Textual's NO_COLOR and ANSI filters), and for each cell of the text in
question works out the colours a terminal paints: in 16 colours Rich's downgrade to the standard palette, shown with
xterm's and the Linux console's (VGA) palettes, `reverse` swapped, `dim` as half intensity. Text needs 4.5:1.
The colour depth is forced with `textual.constants.COLOR_SYSTEM` (what `TEXTUAL_COLOR_SYSTEM` sets; `TERM=xterm`
gives "standard", 16 colours); NO_COLOR is set before the app is built, as Textual reads it then.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import textual.constants

from tests.console import contrast as C
from tests.console.conftest import COMMENTED_M365, ready
from tests.console.helpers import canned_diagnose, run_f5
from tui.console.launch import build_app

SIZE = (80, 24)
TEXT = 4.5
# (theme, colour depth, NO_COLOR): the default theme in truecolor and in 16 colours, ansi-dark in 16 colours, and
# each with NO_COLOR.
MODES = [
    ("textual-dark", "truecolor", False),
    ("textual-dark", "standard", False),
    ("ansi-dark", "standard", False),
    ("textual-dark", "truecolor", True),
    ("textual-dark", "standard", True),
    ("ansi-dark", "standard", True),
]
BAD_CLIENT_ID = COMMENTED_M365.replace('clientId = "11111111', 'clientId = "x11111111')


def mode_id(mode: tuple[str, str, bool]) -> str:
    theme, system, no_color = mode
    return f"{theme}-{system}" + ("-NO_COLOR" if no_color else "")


def lowest(cells: list[C.Cell], system: str) -> float:
    """The lowest contrast of these cells over the palettes that matter at this depth."""
    palettes = ["xterm", "vga"] if system == "standard" else ["xterm"]
    return min(C.worst(cells, system=system, palette=palette) for palette in palettes)


@pytest.fixture(params=MODES, ids=mode_id)
def mode(request, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, bool]:
    theme, system, no_color = request.param
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    return request.param


async def test_errors_and_the_selected_fail_row_are_readable(mode, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Form errors, the status line's count, the run's FAILED summary, the detail's FAIL and every cell of the
    selected (failed) step row, its duration included, reach 4.5:1."""
    from tui.diagnostics import engine

    theme, system, no_color = mode
    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    path = tmp_path / "settings.toml"
    path.write_text(BAD_CLIENT_ID)
    app = build_app(path)
    app.theme = theme
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        measured = {
            "form error": lowest(C.find_cells(app, "✖ error: Client ID must be a GUID"), system),
            "status error count": lowest(C.find_cells(app, "✖ 1 error"), system),
        }
        await run_f5(pilot)
        row = next(line for line in C.screen_text(app).splitlines() if "✖ FAIL     AUTH" in line)
        selected = C.find_cells(app, row.strip(), row_contains="✖ FAIL     AUTH")
        measured.update({
            "selected row FAIL": lowest(C.find_cells(app, "✖ FAIL", row_contains="✖ FAIL     AUTH"), system),
            "selected row duration": lowest(C.find_cells(app, "6 ms", row_contains="✖ FAIL     AUTH"), system),
            "selected row, every cell": lowest(selected, system),
            "summary FAILED": lowest(C.find_cells(app, "✖ FAILED at auth"), system),
            "detail title FAIL": lowest(C.find_cells(app, "✖ FAIL", row_contains="step 6 of 8"), system),
        })
        low = {what: round(ratio, 2) for what, ratio in measured.items() if ratio < TEXT}
        assert not low, f"{mode_id(mode)}: below {TEXT}:1: {low}"
        # the selected row is seen as selected: its cells differ from an unselected row's (colour or reverse)
        other = C.find_cells(app, "Connect", row_contains="✔ ok       Connect")
        assert C.shown(selected[0].style, system=system) != C.shown(other[0].style, system=system) or \
            selected[0].style.reverse, mode_id(mode)


async def test_no_color_errors_are_never_dimmer_than_normal_text(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """NO_COLOR, default theme and ansi-dark, truecolor and 16 colours: errors and FAIL are bold (or reverse),
    never dim, and at least as bright against their background as the normal text beside them."""
    from tui.diagnostics import engine

    monkeypatch.setattr(engine, "diagnose", canned_diagnose())
    monkeypatch.setenv("NO_COLOR", "1")
    for theme, system in [("textual-dark", "truecolor"), ("textual-dark", "standard"), ("ansi-dark", "standard")]:
        monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
        path = tmp_path / f"{theme}-{system}.toml"
        path.write_text(BAD_CLIENT_ID)
        app = build_app(path)
        app.theme = theme
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            errors = [C.find_cells(app, "✖ error: Client ID must be a GUID"), C.find_cells(app, "✖ 1 error")]
            normal = C.find_cells(app, "noreply@contoso.com", row_contains="Username")
            await run_f5(pilot)
            errors += [C.find_cells(app, "✖ FAILED at auth"), C.find_cells(app, "✖ FAIL", row_contains="step 6 of"),
                       C.find_cells(app, "✖ FAIL", row_contains="✖ FAIL     AUTH")]
            normal_ratio = min(lowest(normal, system), lowest(C.find_cells(app, "Connect", row_contains="✔ ok"),
                                                              system))
            for cells in errors:
                text = "".join(cell.char for cell in cells)
                for cell in cells:
                    assert not cell.style.dim, (theme, system, text, cell.style)
                    assert cell.style.bold or cell.style.reverse, (theme, system, text, cell.style)
                assert lowest(cells, system) >= min(normal_ratio, 7.0), (theme, system, text, lowest(cells, system))


async def test_no_color_with_an_ansi_theme_keeps_the_terminals_colours(monkeypatch: pytest.MonkeyPatch,
                                                                       settings_path: Path) -> None:
    """NO_COLOR and --theme ansi-dark (set after the app is built, as `outmail --theme` does): every cell in the
    terminal's default colours, not black on black, and the focused field's label in reverse video."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(settings_path)
    app.theme = "ansi-dark"
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        rows = C.screen_rows(app)
        coloured = {str(cell.style) for row in rows for cell in row
                    if (cell.style.color is not None and not cell.style.color.is_default)
                    or (cell.style.bgcolor is not None and not cell.style.bgcolor.is_default)}
        assert not coloured, coloured
        label = C.find_cells(app, "Protocol", row_contains="SMTP Microsoft 365")
        assert all(cell.style.reverse for cell in label)


# The form's own looks in every mode above, and a light theme (its placeholders were 248 on 189).
FORM_MODES = [*MODES, ("catppuccin-latte", "truecolor", False)]


@pytest.mark.parametrize("form_mode", FORM_MODES, ids=mode_id)
async def test_unticked_boxes_and_placeholders_read_as_well_as_the_text_beside_them(
        form_mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unticked `[ ]` of a yes/no field is as readable as its word "no" (it was 1.2:1, and black on black in 16
    colours with NO_COLOR); a placeholder ("empty", "from $OUTMAIL_CLIENT_SECRET") at least as readable as the muted
    note under a field (it was 2:1 and 3.3:1)."""
    theme, system, no_color = form_mode
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("OUTMAIL_CLIENT_SECRET", "env~value-from-environment")
    path = tmp_path / "settings.toml"
    path.write_text(COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"', 'clientSecret = ""'))
    app = build_app(path)
    app.theme = theme
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        box = lowest(C.find_cells(app, "[ ]", row_contains="Use user's email as sender"), system)
        word = lowest(C.find_cells(app, "no", row_contains="Use user's email as sender [ ]"), system)
        note = lowest(C.find_cells(app, "(not written to the", row_contains="from $OUTMAIL_CLIENT_SECRET"), system)
        empty = lowest(C.find_cells(app, "empty", row_contains="Password"), system)
        from_env = lowest(C.find_cells(app, "from $OUTMAIL_CLIENT_SECRET", row_contains="Client secret"), system)
        assert box >= word - 0.01, (mode_id(form_mode), round(box, 2), round(word, 2))
        assert min(empty, from_env) >= min(note, TEXT) - 0.01, (mode_id(form_mode), round(empty, 2),
                                                                 round(from_env, 2), round(note, 2))


async def test_the_ticked_box_keeps_textuals_look(settings_path: Path) -> None:
    """`[X]` is drawn in Textual's toggle--button style; only the unticked box takes the widget's own text style."""
    from tui.console.form import YesNoCheckbox

    app = build_app(settings_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ticked = app.query_one("#f-auth_encrypted", YesNoCheckbox)
        assert ticked.value and ticked._button.plain == "[X]"
        assert [span.style for span in ticked._button.spans] == [ticked.get_visual_style("toggle--button")]
        unticked = app.query_one("#f-userasfrom", YesNoCheckbox)
        assert not unticked.value and unticked._button.plain == "[ ]" and not unticked._button.spans

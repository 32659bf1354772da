"""WCAG contrast of what the console paints, cell by cell, as a terminal shows it.

How it measures (used by tests/console/test_readability.py):

1. The cells: the strips the compositor sends to the terminal at 80x24 (`app.screen._compositor.render_update(
   full=True, ...)`, what `App.export_screenshot` prints), after Textual's line filters: `Monochrome` for NO_COLOR
   with a truecolor theme, `NoColor` for NO_COLOR with an ANSI theme, `ANSIToTruecolor` unless the theme uses the
   terminal's own palette. So each cell holds the Rich style the driver writes.
2. The colours a terminal shows for that style: in 16 colours Rich downgrades a truecolor or 256-colour value to the
   nearest of its standard palette (`Color.downgrade(ColorSystem.STANDARD)`, as the driver's Console does for
   `TERM=xterm`), and the terminal paints that number with its own palette. Two real palettes are measured, xterm's
   defaults (`TERM=xterm`, PuTTY is close) and the Linux console's VGA colours, each with a dark background and a
   light-grey default foreground; `default` colours take the palette's defaults. `reverse` swaps foreground and
   background. `dim` (SGR 2) is drawn by terminals at about half intensity: the foreground is blended halfway to
   the background. `bold` is not counted as brighter (many terminals no longer brighten bold).
3. The ratio: WCAG 2.x relative luminance of sRGB and (L1 + 0.05) / (L2 + 0.05); text needs 4.5:1.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color, ColorSystem, ColorType
from rich.style import Style

RGB = tuple[int, int, int]

# 16 colours, then the default foreground and background of a dark terminal.
XTERM: tuple[RGB, ...] = (
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
    (255, 255, 255),
    (229, 229, 229), (0, 0, 0),
)
VGA: tuple[RGB, ...] = (
    (0, 0, 0), (170, 0, 0), (0, 170, 0), (170, 85, 0), (0, 0, 170), (170, 0, 170), (0, 170, 170), (170, 170, 170),
    (85, 85, 85), (255, 85, 85), (85, 255, 85), (255, 255, 85), (85, 85, 255), (255, 85, 255), (85, 255, 255),
    (255, 255, 255),
    (170, 170, 170), (0, 0, 0),
)
PALETTES = {"xterm": XTERM, "vga": VGA}


def luminance(rgb: RGB) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(color: Color | None, *, foreground: bool, system: str, palette: tuple[RGB, ...]) -> RGB:
    if color is None or color.type == ColorType.DEFAULT:
        return palette[16] if foreground else palette[17]
    if system == "standard" and color.type not in (ColorType.STANDARD,):
        color = color.downgrade(ColorSystem.STANDARD)
    if color.type == ColorType.STANDARD:
        assert color.number is not None
        return palette[color.number]
    if color.type == ColorType.EIGHT_BIT and color.number is not None and color.number < 16:
        return palette[color.number]
    triplet = color.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def shown(style: Style | None, *, system: str = "standard", palette: str = "xterm") -> tuple[RGB, RGB]:
    """(foreground, background) a terminal paints for `style` in `system` ("standard" = 16 colours, "truecolor")."""
    style = style or Style()
    colours = PALETTES[palette]
    fg = _rgb(style.color, foreground=True, system=system, palette=colours)
    bg = _rgb(style.bgcolor, foreground=False, system=system, palette=colours)
    if style.reverse:
        fg, bg = bg, fg
    if style.dim:
        fg = tuple(round(f + (b - f) * 0.5) for f, b in zip(fg, bg))  # type: ignore[assignment]
    return fg, bg


def contrast(style: Style | None, *, system: str = "standard", palette: str = "xterm") -> float:
    fg, bg = shown(style, system=system, palette=palette)
    return ratio(fg, bg)


@dataclass
class Cell:
    char: str
    style: Style


def screen_rows(app) -> list[list[Cell]]:
    """The screen as the terminal gets it: one list of cells per row (wide characters count once)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    rows: list[list[Cell]] = []
    for line in update.strips:  # each line: the strips of its cuts, left to right
        row: list[Cell] = []
        for strip in line:
            for segment in strip:
                if segment.control:
                    continue
                for char in segment.text:
                    row.append(Cell(char, segment.style or Style()))
        rows.append(row)
    return rows


def row_text(row: list[Cell]) -> str:
    return "".join(cell.char for cell in row)


def screen_text(app) -> str:
    return "\n".join(row_text(row) for row in screen_rows(app))


def find_cells(app, text: str, *, row_contains: str | None = None) -> list[Cell]:
    """The cells of the first occurrence of `text` (in a row that also holds `row_contains`), spaces left out."""
    for row in screen_rows(app):
        line = row_text(row)
        if row_contains is not None and row_contains not in line:
            continue
        at = line.find(text)
        if at >= 0:
            return [cell for cell in row[at:at + len(text)] if not cell.char.isspace()]
    raise AssertionError(f"{text!r} is not on screen:\n{screen_text(app)}")


def worst(cells: list[Cell], **kwargs: str) -> float:
    """The lowest contrast among `cells` (each drawn with its own style)."""
    return min(contrast(cell.style, **kwargs) for cell in cells)

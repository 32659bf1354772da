"""Provides the theme variables and the NO_COLOR filter that keep text readable in 16 colours, ANSI themes and NO_COLOR.

Textual's themes are made for truecolor. Where their text became hard to read (measured as WCAG contrast ratios in
tests/console/test_readability.py, which says how):

- The highlighted row of a list (the diagnostics' step list, the sandbox panel, a choice list) was white on
  `$primary`: 3.8:1, and 1.5:1 in 16 colours, where Rich maps `$primary` to cyan. It is now drawn in reverse video of
  the normal text (the background's colour on the foreground's), 12.6:1 and more everywhere.
- 16 colours (`TERM=xterm`, `screen`, `linux`): Rich maps `$panel` (the status line, the help line, the footer, the
  detail's title bar) to bright black, on which no light text reaches 4.5:1 with xterm's palette (white: 4.0:1).
  There the panel takes the background's colour (black).
- An ANSI theme (`--theme ansi-dark`): `$text-error` and `$text-warning` are the terminal's red and yellow, 3.6:1 and
  4.0:1 on black (xterm, VGA); their bright variants reach 5.3:1 and more.
- NO_COLOR: Textual turns every colour into a grey of its luminance, so errors (a dark red) became the dimmest text
  on screen. There every text colour is the normal text colour: errors stand out by their words, bold and reverse.
  With an ANSI theme Textual drops the colours altogether (`NoColor`), but only when the theme is set before the app
  starts, and then a highlighted row is no longer seen; `sync_no_color_filter` puts both right.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.filter import LineFilter

SIXTEEN_COLOURS = frozenset({"standard", "windows"})
ANSI_TEXT = {
    "text-error": "ansi_bright_red",
    "text-warning": "ansi_bright_yellow",
    "text-success": "ansi_bright_green",
    "footer-key-foreground": "ansi_bright_magenta",  # ansi_magenta: 3.3:1 on black with VGA colours
}
# Text colours that carry meaning with colour; with NO_COLOR the words, bold and reverse carry it.
NO_COLOR_TEXT = ("text-error", "text-warning", "text-success", "text-accent", "text-primary", "text-secondary",
                 "footer-key-foreground")


def readable_variables(theme: Any, variables: dict[str, str], *, color_system: str | None, no_color: bool,
                       ansi: bool) -> dict[str, str]:
    """`variables` (what Textual generated for `theme`) with the changes above for this terminal."""
    result = dict(variables)
    if ansi:
        result.update(ANSI_TEXT)
        return result  # the ANSI themes' own highlight is already black on white
    if color_system in SIXTEEN_COLOURS and result.get("background"):
        flat = dataclasses.replace(theme, panel=result["background"])
        result.update({**flat.to_color_system().generate(), **theme.variables})
    if result.get("background") and result.get("foreground"):
        result["block-cursor-foreground"] = result["background"]
        result["block-cursor-background"] = result["foreground"]
        result["block-cursor-text-style"] = "bold"
    if no_color:
        for name in NO_COLOR_TEXT:
            result[name] = result.get("foreground", result.get(name, ""))
    return result


DEFAULT_COLOURS = Style(color="default", bgcolor="default")
REVERSE = Style(reverse=True)


@lru_cache(1024)
def _no_color_style(style: Style) -> Style:
    """The style in the terminal's default colours; text on a lighter background (a highlighted row, which the
    ANSI themes draw black on white) becomes reverse video, so it is still seen."""
    bg = style.bgcolor
    if bg is not None and not bg.is_default:
        fg = style.color
        bg_light = _luminance(bg)
        fg_light = _luminance(fg) if fg is not None and not fg.is_default else 0.8
        if bg_light > fg_light:
            return style + DEFAULT_COLOURS + Style(reverse=not style.reverse)
    return style + DEFAULT_COLOURS


def _luminance(color: Any) -> float:
    triplet = color.get_truecolor()
    return (0.2126 * triplet.red + 0.7152 * triplet.green + 0.0722 * triplet.blue) / 255


class NoColorKeepReverse(LineFilter):
    """Textual's NoColor (every colour the terminal's default), keeping light backgrounds as reverse video."""

    def apply(self, segments: list[Segment], background: Any) -> list[Segment]:
        return [Segment(text, None if style is None else _no_color_style(style), control)
                for text, style, control in segments]


def sync_no_color_filter(app: Any) -> None:
    """With NO_COLOR: `NoColorKeepReverse` for a theme in the terminal's own colours, `Monochrome` for a truecolor
    theme. Textual picks `NoColor` or `Monochrome` in `App.__init__`, for the theme of that moment; `Monochrome` on
    ANSI colours paints every cell black on black (`NO_COLOR=1 outmail --theme ansi-dark`)."""
    if not getattr(app, "no_color", False):
        return
    from textual.filter import Monochrome, NoColor

    wanted = NoColorKeepReverse if app.native_ansi_color else Monochrome
    filters = app._filters
    for index, line_filter in enumerate(filters):
        if isinstance(line_filter, (Monochrome, NoColor, NoColorKeepReverse)) and type(line_filter) is not wanted:
            filters[index] = wanted()

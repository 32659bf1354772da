"""Styles for text a widget draws itself (a FieldRow's label and note, the status line's parts), read from the
stylesheet as Textual's own widgets read theirs: component classes (`COMPONENT_CLASSES`, rules in app.tcss)."""

from __future__ import annotations

from textual.color import Color
from textual.dom import DOMNode
from textual.style import Style


def component_style(node: DOMNode, component: str) -> Style:
    """`node`'s component style `component` as the stylesheet left it (fresh after a class or theme change): its
    colour (none when the rules set none, so the widget's own colour shows) and text style."""
    styles = node.get_component_styles(component)
    text_style = styles.text_style
    color = None
    if styles.has_rule("color"):
        color = Color(0, 0, 0, styles.color.a, auto=True) if styles.auto_color else styles.color
    return Style(foreground=color, bold=text_style.bold, dim=text_style.dim, italic=text_style.italic,
                 underline=text_style.underline, reverse=text_style.reverse, strike=text_style.strike)

"""End to end: what the installed `outmail demo` writes to a real terminal (tmux at 80x24, `TERM=xterm`: 16 colours),
read back with its SGR attributes (`capture-pane -e`) and measured as WCAG contrast with xterm's and the Linux
console's palettes (tests/console/contrast.py): the selected failed step and the errors reach 4.5:1; with NO_COLOR and
`--theme ansi-dark` nothing is black on black, and the selected row is in reverse video."""

from __future__ import annotations

import re
from pathlib import Path

from rich.color import Color
from rich.style import Style

from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env
from tests.console import contrast as C

SGR = re.compile(r"\x1b\[([0-9;]*)m")
AUTH_ROW = "✖ FAIL     AUTH"


def styled_rows(text: str) -> list[list[tuple[str, Style]]]:
    """`capture-pane -e` output as rows of (character, Rich style): the SGR codes tmux reports, nothing else."""
    rows = []
    state: dict[str, object] = {}
    for line in text.splitlines():
        row: list[tuple[str, Style]] = []
        at = 0
        for match in SGR.finditer(line + "\x1b[m"):
            for char in line[at:match.start()]:
                row.append((char, Style(**state)))  # type: ignore[arg-type]
            at = match.end()
            codes = [int(c) if c else 0 for c in match.group(1).split(";")] if match.group(1) else [0]
            i = 0
            while i < len(codes):
                code = codes[i]
                if code == 0:
                    state = {}
                elif code in (1, 2, 7):
                    state[{1: "bold", 2: "dim", 7: "reverse"}[code]] = True
                elif code == 22:
                    state.pop("bold", None)
                    state.pop("dim", None)
                elif code == 27:
                    state.pop("reverse", None)
                elif 30 <= code <= 37 or 90 <= code <= 97:
                    state["color"] = Color.from_ansi(code - 30 if code < 90 else code - 90 + 8)
                elif 40 <= code <= 47 or 100 <= code <= 107:
                    state["bgcolor"] = Color.from_ansi(code - 40 if code < 100 else code - 100 + 8)
                elif code == 39:
                    state.pop("color", None)
                elif code == 49:
                    state.pop("bgcolor", None)
                elif code in (38, 48) and i + 1 < len(codes):
                    key = "color" if code == 38 else "bgcolor"
                    if codes[i + 1] == 5:
                        state[key] = Color.from_ansi(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2:
                        state[key] = Color.from_rgb(*codes[i + 2:i + 5])
                        i += 4
                i += 1
        rows.append(row)
    return rows


def cells_of(rows: list[list[tuple[str, Style]]], text: str, row_contains: str | None = None) -> list[Style]:
    """The styles of `text`'s non-space characters, in the first row holding it (and `row_contains`)."""
    for row in rows:
        line = "".join(char for char, _ in row)
        if row_contains is not None and row_contains not in line:
            continue
        at = line.find(text)
        if at >= 0:
            return [style for char, style in row[at:at + len(text)] if not char.isspace()]
    raise AssertionError(f"{text!r} is not on screen")


def lowest(styles: list[Style]) -> float:
    return min(C.contrast(style, system="standard", palette=palette) for style in styles for palette in C.PALETTES)


def run_to_auth_failure(tmux: Tmux, tmp_path: Path, env: dict[str, str], *args: str) -> list:
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo --fault no-mailbox-permission {' '.join(args)}"],
               env)
    tmux.wait_for("✔ no problems")
    tmux.keys("F5")
    # the summary comes first; the failed step is selected and its detail shown as the pane follows: wait for all
    tmux.wait_until("the failed run with AUTH selected", lambda screen: all(
        text in screen for text in ("✖ FAILED at auth in", AUTH_ROW, "step 6 of")), timeout=30)
    return styled_rows(tmux.run("capture-pane", "-p", "-e", "-t", "e2e"))


def test_16_colours_selected_fail_row_and_errors_are_readable(tmux: Tmux, tmp_path: Path) -> None:
    rows = run_to_auth_failure(tmux, tmp_path, base_env(TERM="xterm", OUTMAIL_SANDBOX_DELAY="0.05"))
    line = next("".join(c for c, _ in row) for row in rows if AUTH_ROW in "".join(c for c, _ in row))
    selected = cells_of(rows, line.strip(), AUTH_ROW)
    measured = {
        "selected row": lowest(selected),
        "summary": lowest(cells_of(rows, "✖ FAILED at auth")),
        "detail title FAIL": lowest(cells_of(rows, "✖ FAIL", "step 6 of")),
    }
    assert all(ratio >= 4.5 for ratio in measured.values()), measured
    # written in 16 colours (no 256-colour or truecolor codes), and the selected row stands out
    assert all(s.color is None or s.color.number is not None and s.color.number < 16 for s in selected)
    other = cells_of(rows, "Connect", "✔ ok       Connect")
    assert C.shown(selected[0]) != C.shown(other[0])
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)


def test_no_color_with_ansi_dark_is_never_black_on_black(tmux: Tmux, tmp_path: Path) -> None:
    rows = run_to_auth_failure(tmux, tmp_path, base_env(TERM="xterm", NO_COLOR="1", OUTMAIL_SANDBOX_DELAY="0.05"),
                               "--theme", "ansi-dark")
    coloured = {str(style) for row in rows for char, style in row
                if not char.isspace() and (style.color is not None or style.bgcolor is not None)}
    assert not coloured, coloured  # the terminal's own colours only
    assert all(style.reverse and style.bold for style in cells_of(rows, "✖ FAIL     AUTH"))
    for text, where in [("✖ FAILED at auth", None), ("✖ FAIL", "step 6 of")]:
        styles = cells_of(rows, text, where)
        assert all(style.bold and not style.dim for style in styles), (text, styles)
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)

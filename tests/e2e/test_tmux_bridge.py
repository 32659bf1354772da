"""End to end: Import (F4) and Export (F9) of LogicalDOC's context.properties with the installed `outmail` in tmux at
80x24: what the admin sees (the path dialog, the redacted diff, errors), and what lands on disk (bytes, backup, mode).

Every key waits for the screen that it is meant for: the help line under the form names the focused field, a dialog
shows its buttons. Every screen captured is checked for the secrets of the files.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.console.conftest import COMMENTED_M365
from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "Qx7~mK2.S3cr3tV4lue_noShow"  # the client secret, in both files
JDBC_SECRET = "Jdbc-Pa55w0rd-noShow"  # another credential of context.properties, next to the SMTP keys
SECRET_FRAGMENTS = (SECRET, "S3cr3t", "V4lue", JDBC_SECRET, "Pa55w0rd")

# The admin's settings file: comments, alignment, no keys outside the field table (no smtp.save.*).
SETTINGS = COMMENTED_M365.replace('clientSecret = "abc~not-a-real-secret"',
                                  f'clientSecret = "{SECRET}"    # rotate before 2026-01').replace(
    'save.folderId = "4"             # a key outmail does not know: kept\n', "")
assert SECRET in SETTINGS and "save." not in SETTINGS

# LogicalDOC's Outgoing Email keys of tenant default, holding the values of SETTINGS. The comment with markup and the
# credentials sit next to the port: they are diff context when the port changes.
SMTP_BLOCK = f"""\
default.smtp.protocol=smtpmicrosoft365
default.smtp.username=noreply@contoso.com
default.smtp.sender=noreply@contoso.com
# Outgoing [b]email[/b] of tenant default: see [link=https://docs.logicaldoc.com]the manual[/link]
default.smtp.host=smtp.office365.com
default.smtp.port=587
default.smtp.clientSecret={SECRET}
jdbc.password={JDBC_SECRET}
default.smtp.password=
default.smtp.connectionSecurity=1
default.smtp.authEncrypted=true
default.smtp.clientId={CLIENT_ID}
default.smtp.clientTenant=contoso.onmicrosoft.com
default.smtp.userasfrom=false
"""

UNRELATED_BEFORE = 180
UNRELATED_AFTER = 150


def context_properties(smtp_block: str = SMTP_BLOCK) -> bytes:
    """A real-shaped conf/context.properties: a stored-by-Java header, a few hundred unrelated keys with escapes, blank
    lines, comments and a continuation line, a second tenant, and the SMTP block of tenant default."""
    lines = ["#LogicalDOC context", "#Tue Mar 04 10:12:55 CET 2025",
             r"jdbc.url=jdbc\:mysql\://db.contoso.local\:3306/logicaldoc?useSSL\=false",
             "jdbc.username=logicaldoc", "store.1.dir=/opt/logicaldoc/repository/docs",
             r"gui.welcome=Bienvenue \u00e0 LogicalDOC", "conversion.command=/usr/bin/soffice \\",
             "    --headless --convert-to pdf", ""]
    for i in range(UNRELATED_BEFORE):
        if i % 40 == 0:
            lines += ["", f"# --- section {i // 40}: settings of module {i // 40}"]
        lines.append(f"module{i // 40}.option{i:03d}=value {i}")
    lines += ["", "acme.smtp.host=mail.acme.test", "acme.smtp.port=25", ""]
    lines += smtp_block.splitlines()
    for i in range(UNRELATED_AFTER):
        lines.append(f"threadpool.worker{i:03d}.max = {i % 7 + 1}")
    return ("\n".join(lines) + "\n").encode("latin-1")


# ------------------------------------------------------------------------------------------------ screen helpers

@pytest.fixture
def term(tmux: Tmux) -> Iterator[Tmux]:
    """The tmux session, whose every capture (each wait polls the screen) must hold no secret."""
    capture = tmux.screen

    def screen() -> str:
        text = capture()
        shown = [s for s in SECRET_FRAGMENTS if s in text or s in text.replace("\n", "")]
        assert not shown, f"secret on screen ({shown}):\n{text}"
        return text

    tmux.screen = screen  # type: ignore[method-assign]
    yield tmux


SCROLLBAR = "▁▂▃▄▅▆▇█▔"


def whole_box(screen: str) -> tuple[list[str], int, int] | None:
    """The dialog's rows (top to bottom border) and its left and right columns, when both corners and every border
    between them are on screen; None while it is not (not there yet, or tmux caught Textual halfway through a frame)."""
    lines = screen.splitlines()
    top = next((i for i, line in enumerate(lines) if re.search(r"┌─+┐", line)), None)
    if top is None:
        return None
    left, right = lines[top].index("┌"), lines[top].index("┐")
    for i in range(top + 1, len(lines)):
        row = lines[i][left:right + 1]
        if len(row) < right + 1 - left or row[0] not in "│└" or row[-1] not in "│┘":
            return None
        if row[0] == "└":
            return (lines[top:i + 1], left, right) if row[-1] == "┘" and set(row[1:-1]) == {"─"} else None
    return None


def inner_lines(screen: str) -> list[str] | None:
    """The dialog's lines inside its borders, stripped (and of the scroll bar's thumb, drawn in the column before
    the right padding); None when there is no whole dialog on screen."""
    box = whole_box(screen)
    if box is None:
        return None
    rows, left, right = box
    return [row[left + 1:right].rstrip().rstrip(SCROLLBAR).strip() for row in rows[1:-1]]


def dialog(term: Tmux, want: str | Callable[[list[str]], bool]) -> list[str]:
    """Waits for a whole, settled dialog (the same on two captures in a row) that shows `want` (a text, or a test of
    its lines) and returns its inner lines. Nothing is cut off: the box is whole at 80x24 and no line ends in an
    ellipsis."""
    previous = [""]

    def settled(screen: str) -> bool:
        same, previous[0] = screen == previous[0], screen
        inner = inner_lines(screen) if same else None
        return inner is not None and (want in screen if isinstance(want, str) else want(inner))

    screen = term.wait_until(f"a whole dialog with {want!r}", settled)
    inner = inner_lines(screen)
    assert inner is not None
    for line in inner:
        assert not line.endswith("…"), f"text cut off in the dialog: {line!r}\n{screen}"
    return inner


def shows(inner: list[str], text: str) -> bool:
    """The dialog shows `text`, maybe wrapped over several lines (spaces and line breaks are not compared): a long
    path is found whole."""
    return "".join(text.split()) in "".join("".join(line.split()) for line in inner)


def field_row(screen: str, label: str) -> str:
    """The value shown on the form's row of `label` (`Port` -> `2525`)."""
    for line in screen.splitlines():
        if line.startswith(f" {label} "):
            return line[len(label) + 1:].strip()
    return ""


def open_path_dialog(term: Tmux, key: str, path: Path) -> list[str]:
    """F4 or F9, then the path of context.properties typed over the selected default; returns the dialog's lines."""
    term.keys(key)
    verb = "Import from" if key == "F4" else "Export to"
    inner = dialog(term, "Cancel (Esc)")
    assert inner[0] == f"{verb} LogicalDOC's context.properties", inner
    assert "Show changes (Enter)" in " ".join(inner) and "Enter shows the changes" in " ".join(inner), inner
    # The field has the focus, its text (the last path, or LogicalDOC's default) selected: typing replaces it.
    term.keys("-l", str(path))
    return dialog(term, str(path)[-40:])


def show_changes(term: Tmux) -> list[str]:
    """Enter in the path dialog; returns the preview's lines once its buttons are there."""
    term.keys("Enter")
    return dialog(term, "Cancel (c)")


def check_summary(inner: list[str]) -> None:
    """The summary counts the warnings and notes that the preview lists (all on screen here)."""
    text = " ".join(inner)
    warnings = sum(line.startswith("▲ warning:") for line in inner)
    notes = sum(line.startswith("· note:") for line in inner)
    counted = dict.fromkeys(("warning", "note"), 0)
    for number, word in re.findall(r"(\d+) (warning|note)s?\b", text.split("Secrets show as")[0]):
        counted[word] = int(number)
    assert counted == {"warning": warnings, "note": notes}, text


def start(term: Tmux, settings: Path) -> None:
    term.start([str(OUTMAIL), "--config", str(settings)], base_env())
    term.wait_for("✔ no problems")
    term.wait_for("Protocol: ")  # the help line: Protocol has the focus


def quit_discarding(term: Tmux) -> None:
    term.keys("C-q")
    term.wait_for("Discard (d)")
    term.keys("d")
    term.wait_for("OUTMAIL-EXIT=0")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """settings.toml (0600) and a context.properties (0640) in a conf folder deep enough for a path longer than the
    dialogs are wide, as on a real server's mount."""
    settings = tmp_path / "settings.toml"
    settings.write_text(SETTINGS, encoding="utf-8")
    settings.chmod(0o600)
    conf = tmp_path / "srv" / "logicaldoc-9.2.1-production" / "conf"
    conf.mkdir(parents=True)
    props = conf / "context.properties"
    props.write_bytes(context_properties())
    props.chmod(0o640)
    assert len(str(props)) > 76
    return settings, props


def backups(props: Path) -> list[Path]:
    return sorted(props.parent.glob(f"{props.name}.bak-*"))


# --------------------------------------------------------------------------------------------------------- tests

def test_export_writes_only_the_edited_line_keeps_the_mode_and_a_backup(term: Tmux, files: tuple[Path, Path]) -> None:
    settings, props = files
    before = props.read_bytes()
    settings_before = settings.read_bytes()
    start(term, settings)
    term.keys("Tab")
    term.wait_for("Server: The SMTP server")
    term.keys("Tab")
    term.wait_for("Port: TCP port")
    term.keys("2", "5", "2", "5")  # Port's text is selected on focus: typing replaces it
    screen = term.wait_for("● unsaved changes")
    assert field_row(screen, "Port") == "2525", screen

    inner = open_path_dialog(term, "F9", props)
    text = " ".join(inner)
    assert "Writes tenant default's Outgoing Email settings as they are on screen (saved or not)" in text

    inner = show_changes(term)
    text = " ".join(inner)
    assert shows(inner, f"Export to {props}"), inner  # the whole path, not cut off
    assert "1 value changes of tenant default" in text and "Secrets show as ***" in text
    assert "w writes, c cancels" in text and "Write (w)" in text and "Cancel (c)" in text
    check_summary(inner)
    # the headers name the file (the title has its path), one line each
    assert "--- context.properties (now)" in inner and "+++ context.properties (after)" in inner, inner
    assert "-default.smtp.port=587" in inner and "+default.smtp.port=2525" in inner, inner
    # the context lines: the credentials as ***, the comment's brackets as typed (no markup)
    assert "default.smtp.clientSecret=***" in inner and "jdbc.password=***" in inner, inner
    assert shows(inner, " # Outgoing [b]email[/b] of tenant default: see [link=https://docs.logicaldoc.com]the "
                        "manual[/link]"), inner
    assert sum(line.startswith(("-", "+")) and not line.startswith(("---", "+++")) for line in inner) == 2, inner
    assert props.read_bytes() == before  # nothing is written before w

    term.keys("w")
    screen = term.wait_for("Exported")
    screen = term.wait_for("Port: TCP port")  # back on the form, the focus where it was
    assert "Write (w)" not in screen
    after = props.read_bytes()
    old_line, new_line = b"\ndefault.smtp.port=587\n", b"\ndefault.smtp.port=2525\n"
    assert before.count(old_line) == 1 and after == before.replace(old_line, new_line), "more than one line changed"
    assert stat.S_IMODE(props.stat().st_mode) == 0o640
    saved = backups(props)
    assert len(saved) == 1 and saved[0].read_bytes() == before
    assert stat.S_IMODE(saved[0].stat().st_mode) == 0o640  # it holds the same secrets
    assert settings.read_bytes() == settings_before  # Export never writes the settings file
    assert "● unsaved changes" in screen and field_row(screen, "Port") == "2525"
    quit_discarding(term)
    assert settings.read_bytes() == settings_before


def test_export_cancelled_writes_nothing(term: Tmux, files: tuple[Path, Path]) -> None:
    settings, props = files
    before = props.read_bytes()
    start(term, settings)
    term.keys("Tab")
    term.wait_for("Server: The SMTP server")
    term.keys("-l", "smtp.contoso.test")  # replaces the selected host
    screen = term.wait_for("● unsaved changes")
    assert field_row(screen, "Server") == "smtp.contoso.test", screen

    open_path_dialog(term, "F9", props)
    inner = show_changes(term)
    assert "+default.smtp.host=smtp.contoso.test" in inner, inner
    term.keys("Escape")  # Esc cancels the preview
    term.wait_for("Nothing was written")
    screen = term.wait_for("Server: The SMTP server")
    assert "Cancel (c)" not in screen
    assert props.read_bytes() == before and not backups(props)

    # F9 again: the path is remembered; Enter shows the same changes; c cancels
    term.keys("F9")
    inner = dialog(term, str(props)[-40:])
    assert "Cancel (Esc)" in " ".join(inner)
    inner = show_changes(term)
    assert "+default.smtp.host=smtp.contoso.test" in inner, inner
    term.keys("c")
    term.wait_until("the preview closes", lambda s: "Cancel (c)" not in s and "Server: The SMTP server" in s)
    assert props.read_bytes() == before and not backups(props)
    assert stat.S_IMODE(props.stat().st_mode) == 0o640
    quit_discarding(term)


def test_a_long_diff_scrolls_with_the_keys_the_preview_names(term: Tmux, files: tuple[Path, Path]) -> None:
    settings, props = files
    props.write_bytes(context_properties(smtp_block=""))  # no default.smtp.* keys yet: Export adds them all
    before = props.read_bytes()
    start(term, settings)
    open_path_dialog(term, "F9", props)
    top = show_changes(term)
    check_summary(top)
    assert "↑↓ PgUp PgDn scroll; w writes, c cancels." in " ".join(top), top
    header = "--- context.properties (now)"
    assert header in top, top
    shown = set(top)

    def further_down(inner: list[str]) -> bool:
        return header not in inner and any(line.startswith("+default.smtp.") and line not in shown for line in inner)

    term.keys("End")
    bottom = dialog(term, further_down)
    assert "+default.smtp.clientSecret=***" in top + bottom, bottom
    assert "Write (w)" in " ".join(bottom) and "Cancel (c)" in " ".join(bottom)
    term.keys("Home")
    assert dialog(term, lambda inner: header in inner) == top
    term.keys("PageDown")
    page = dialog(term, further_down)
    term.keys("Up")
    dialog(term, lambda inner: inner != page)  # one line up
    term.keys("c")
    term.wait_until("the preview closes", lambda s: "Cancel (c)" not in s and "Protocol: " in s)
    assert props.read_bytes() == before and not backups(props)
    term.keys("C-q")
    term.wait_for("OUTMAIL-EXIT=0")


def test_import_shows_the_new_host_and_changes_one_line_of_the_settings(term: Tmux, files: tuple[Path, Path]) -> None:
    settings, props = files
    props.write_bytes(context_properties(SMTP_BLOCK.replace("default.smtp.host=smtp.office365.com",
                                                            "default.smtp.host=smtp-eu.office365.com")))
    props_before = props.read_bytes()
    before = settings.read_text(encoding="utf-8")
    start(term, settings)
    assert field_row(term.screen(), "Server") == "smtp.office365.com"

    inner = open_path_dialog(term, "F4", props)
    assert shows(inner, f"Reads the default.smtp.* keys into {settings} (tenant default)"), inner
    inner = show_changes(term)
    text = " ".join(inner)
    assert shows(inner, f"Import from {props}"), inner
    assert shows(inner, f"1 value changes in {settings}") and "w writes, c cancels" in text, inner
    check_summary(inner)
    assert "--- settings.toml (now)" in inner and "+++ settings.toml (after)" in inner, inner
    assert '-host = "smtp.office365.com"     # Exchange Online' in inner, inner
    assert '+host = "smtp-eu.office365.com"  # Exchange Online' in inner, inner  # the comment keeps its column
    assert settings.read_text(encoding="utf-8") == before

    term.keys("w")
    term.wait_for("Imported")
    screen = term.wait_until("the form shows the imported host",
                             lambda s: field_row(s, "Server") == "smtp-eu.office365.com" and "Cancel (c)" not in s)
    assert "✔ saved" in screen and "● unsaved changes" not in screen, screen
    after = settings.read_text(encoding="utf-8")
    assert after == before.replace('host = "smtp.office365.com"     # Exchange Online',
                                   'host = "smtp-eu.office365.com"  # Exchange Online'), after
    assert "# Owner: mail team. Do not remove these comments." in after and "# rotate before 2026-01" in after
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600  # it holds the client secret
    assert props.read_bytes() == props_before and not backups(props)  # Import never writes context.properties
    term.wait_for("Protocol: ")  # the reloaded form has the focus on its first field
    term.keys("C-q")
    term.wait_for("OUTMAIL-EXIT=0")  # nothing unsaved: no question


def test_a_malformed_file_is_an_error_with_its_line_and_nothing_is_written(term: Tmux,
                                                                         files: tuple[Path, Path]) -> None:
    settings, props = files
    good = props.read_bytes().decode("latin-1").splitlines(keepends=True)
    bad_line = next(n for n, line in enumerate(good, 1) if n > 130 and line.startswith("module"))
    good[bad_line - 1] = "gui.banner=Caf\\u00e9 \\u00ZZ opening hours\n"  # \u00ZZ: Java refuses to load the file
    props.write_bytes("".join(good).encode("latin-1"))
    props_before = props.read_bytes()
    settings_before = settings.read_bytes()
    start(term, settings)

    for key, verb in (("F4", "import from"), ("F9", "export to")):
        open_path_dialog(term, key, props)
        term.keys("Enter")
        inner = dialog(term, "OK (o)")
        text = " ".join(inner)
        assert inner[0] == "Error", inner
        assert f"Cannot {verb}" in text and f"line {bad_line}" in text and "Nothing was written." in text, inner
        assert "malformed \\uXXXX escape" in text, inner
        # the path once, then the line and what is wrong
        assert shows(inner, f"{verb} {props}: line {bad_line}: malformed"), inner
        term.keys("o")
        term.wait_until("the error closes", lambda s: "OK (o)" not in s and "Protocol: " in s)
    assert settings.read_bytes() == settings_before
    assert props.read_bytes() == props_before and not backups(props)
    term.keys("C-q")
    term.wait_for("OUTMAIL-EXIT=0")

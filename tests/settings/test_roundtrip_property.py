"""Property: for generated commented documents, an unchanged save is byte-identical and an edit changes only its value
(and the spaces before its trailing comment, which stays in its column)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tui.settings.toml_text import toml_literal
from tui.settings.store import open_settings_file, save_settings

comment_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20)
comment = st.one_of(st.just(""), comment_text.map(lambda t: f"# {t}"))
spaces = st.sampled_from(["", " ", "   ", "\t"])
plain_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_ ", max_size=15)

VALUE_FOR = {
    "protocol": st.sampled_from(["smtp", "smtpmicrosoft365"]),
    "host": plain_text,
    "port": st.integers(1, 65535),
    "connectionSecurity": st.integers(0, 3),
    "authEncrypted": st.booleans(),
    "username": plain_text,
    "sender": plain_text,
    "userasfrom": st.booleans(),
    "clientId": plain_text,
    "clientTenant": plain_text,
    "clientSecret": plain_text,
    "password": plain_text,
}
UNKNOWN = {"save.folderId": st.integers(0, 99999).map(str), "save.foldering": st.integers(0, 3), "note": plain_text}


@st.composite
def documents(draw):
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(comment))
    header_comment = draw(comment)
    lines.append("[tenants.default.smtp]" + (f"  {header_comment}" if header_comment else ""))
    keys = draw(st.lists(st.sampled_from(sorted(VALUE_FOR) + sorted(UNKNOWN)), unique=True, min_size=1))
    values = {}
    for key in keys:
        value = draw(VALUE_FOR[key] if key in VALUE_FOR else UNKNOWN[key])
        values[key] = value
        trailing = draw(comment)
        name = f'"{key}"' if "." in key else key
        line = f"{draw(spaces)}{name}{draw(spaces)}={draw(spaces)}{toml_literal(value)}"
        if trailing:
            line += f"{draw(spaces)} {trailing}"
        lines.append(line)
        if draw(st.booleans()):
            lines.append(draw(comment))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, values


ATTR_FOR_KEY = {"port": "port", "host": "host", "userasfrom": "userasfrom", "sender": "sender",
                "connectionSecurity": "connection_security"}


def new_value(key: str, old):
    change = {"port": lambda v: (v % 65535) + 1, "host": lambda v: f"{v}x", "userasfrom": lambda v: not v,
              "sender": lambda v: f"{v}y", "connectionSecurity": lambda v: (v + 1) % 4}
    return change[key](old)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents(), st.data())
def test_unchanged_save_identical_and_edit_touches_one_line(doc, data):
    text, values = doc
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "settings.toml"
        path.write_bytes(text.encode())
        file, loaded = open_settings_file(path, env={})
        save_settings(file, loaded, loaded)
        assert path.read_bytes() == text.encode()

        editable = [k for k in values if k in ATTR_FOR_KEY]
        if not editable:
            return
        key = data.draw(st.sampled_from(editable))
        attr = ATTR_FOR_KEY[key]
        changed_to = new_value(key, values[key])
        save_settings(file, loaded, loaded.with_changes(**{attr: changed_to}))
        before, after = text.encode().split(b"\n"), path.read_bytes().split(b"\n")
        assert len(before) == len(after)
        diff = [(a, b) for a, b in zip(before, after) if a != b]
        assert len(diff) == 1
        old_line, new_line = (x.decode() for x in diff[0])
        old_literal, new_literal = toml_literal(values[key]), toml_literal(changed_to)
        at = old_line.index(old_literal)
        prefix, rest = old_line[:at] + new_literal, old_line[at + len(old_literal):]
        # only the value changes, and the spaces before a trailing comment, which keep its column
        assert new_line.startswith(prefix)
        new_rest = new_line[len(prefix):]
        assert new_rest.lstrip(" \t") == rest.lstrip(" \t") and (new_rest == rest or new_rest[:1] == " ")
        ws = rest[:len(rest) - len(rest.lstrip(" \t"))]
        if rest.strip() and set(ws) == {" "} and len(ws) > 1:
            assert len(new_line) - len(new_rest.lstrip(" ")) == max(len(old_line) - len(rest.lstrip(" ")),
                                                                    len(prefix) + 1)
        reloaded = open_settings_file(path, env={})[1]
        assert getattr(reloaded, attr) == changed_to

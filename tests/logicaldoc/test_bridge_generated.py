"""Generated `<tenant>.smtp.*` keys outside the field table: import then export gives back the same bytes."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from tests.logicaldoc.conftest import FULL_T
from tui.logicaldoc.exporting import plan_export
from tui.logicaldoc.importing import apply_import, plan_import
from tui.logicaldoc.properties import escape
from tui.settings.fields import FIELDS

SETTINGS = settings(max_examples=int(os.environ.get("LOGICALDOC_HYPOTHESIS_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FIELD_KEYS = {f.key for f in FIELDS if f.section == "smtp"}
NAMES = st.text(alphabet="ab.-_ \u00e9=:", max_size=8)
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)


@SETTINGS
@given(extras=st.dictionaries(NAMES, VALUES, max_size=6), fallback=st.dictionaries(NAMES, VALUES, max_size=2))
def test_any_extra_keys_round_trip(extras: dict[str, str], fallback: dict[str, str]) -> None:
    names = set(extras) | set(fallback)
    assume(not names & (FIELD_KEYS | {"nosend"}))
    lines = [f"{escape('t.smtp.' + k, is_key=True)}={escape(v)}\n" for k, v in extras.items()]
    lines += [f"{escape('smtp.' + k, is_key=True)}={escape(v)}\n" for k, v in fallback.items()]
    source = FULL_T + "".join(lines).encode("ascii")  # escape() writes ASCII
    with tempfile.TemporaryDirectory() as tmp:
        props, config = Path(tmp) / "context.properties", Path(tmp) / "s.toml"
        props.write_bytes(source)
        plan = plan_import(props, config)
        assert not any("is not imported" in str(w) for w in plan.warnings), plan.warnings
        apply_import(plan)
        export = plan_export(config, props, env={})
        assert export.new_bytes == source and not export.changed
        assert not plan_import(props, config).changed


# Generated tenants whose field keys may be missing, unreadable, un-prefixed or in the -override file, imported into
# a new settings file, the example, or one with other values: export then gives back the very same bytes.

FIELD_VALUES = {
    "protocol": st.sampled_from(["smtp", "smtpmicrosoft365", "smtpgoogle", "SMTP", ""]),
    "port": st.sampled_from(["25", "587", "+25", " 465", "abc", "", "0", "70000"]),
    "connectionSecurity": st.sampled_from(["0", "1", "2", "3", "4", "x", ""]),
    "authEncrypted": st.sampled_from(["true", "false", "yes", "no", "1", "0", "maybe", "", "TRUE"]),
    "userasfrom": st.sampled_from(["true", "false", "yes", "maybe", ""]),
}
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
SEPARATORS = st.sampled_from(["=", ":", " = ", " ", "\t:  "])
TOML_VALUES = {
    "protocol": st.sampled_from(["smtp", "smtpmicrosoft365"]), "port": st.integers(1, 65535),
    "connectionSecurity": st.integers(0, 3), "authEncrypted": st.booleans(), "userasfrom": st.booleans(),
}


def _value(key: str) -> st.SearchStrategy[str]:
    if key in FIELD_VALUES:
        return FIELD_VALUES[key]
    return st.one_of(TEXT, TEXT.map(lambda t: "_b64_" + base64.b64encode(t.encode()).decode()))


@st.composite
def logicaldoc_files(draw) -> tuple[bytes, bytes | None, list[str]]:
    tenants = draw(st.lists(st.sampled_from(["t", "acme", "default"]), min_size=1, max_size=2, unique=True))
    lines: list[str] = ["# LogicalDOC", "other.key=1"]
    override: list[str] = []
    for tenant in tenants:
        keys = draw(st.lists(st.sampled_from(sorted(FIELD_KEYS)), min_size=1, unique=True))
        for key in keys:
            line = f"{escape(f'{tenant}.smtp.{key}', is_key=True)}{draw(SEPARATORS)}{escape(draw(_value(key)))}"
            (override if draw(st.integers(0, 9)) == 0 else lines).append(line)
            if draw(st.integers(0, 9)) == 0:  # a key written twice: the last one wins
                lines.append(f"{escape(f'{tenant}.smtp.{key}', is_key=True)}={escape(draw(_value(key)))}")
    for key in draw(st.lists(st.sampled_from(sorted(FIELD_KEYS)), max_size=3, unique=True)):
        lines.append(f"smtp.{key}={escape(draw(_value(key)))}")  # un-prefixed fallbacks
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    main = (newline.join(lines) + newline).encode("ascii")
    return main, ("\n".join(override) + "\n").encode("ascii") if override else None, tenants


@st.composite
def settings_files(draw, tenants: list[str]) -> str | None:
    kind = draw(st.sampled_from(["new", "example", "other values"]))
    if kind == "new":
        return None
    from tui.settings.example import render_example
    from tui.settings.toml_text import toml_literal

    text = render_example()
    if kind == "example":
        return text
    for tenant in tenants:
        keys = draw(st.lists(st.sampled_from(sorted(FIELD_KEYS)), unique=True))
        body = "".join(f"{k} = {toml_literal(draw(TOML_VALUES.get(k, st.text('abc@. ', max_size=6))))}  # mine\n"
                       for k in keys)
        text += f"\n[tenants.{tenant}.smtp]\n{body}" if tenant != "default" else ""
    return text


@SETTINGS
@given(files=logicaldoc_files(), data=st.data())
def test_import_then_export_gives_the_same_bytes(files: tuple[bytes, bytes | None, list[str]], data) -> None:
    main, override, tenants = files
    existing = data.draw(settings_files(tenants))
    with tempfile.TemporaryDirectory() as tmp:
        props, config = Path(tmp) / "context.properties", Path(tmp) / "s.toml"
        props.write_bytes(main)
        if override is not None:
            (Path(tmp) / "context-override.properties").write_bytes(override)
        if existing is not None:
            config.write_text(existing)
        apply_import(plan_import(props, config))
        text = config.read_text()
        if existing is not None:  # the comments that introduce a table are still right above it
            for comment, header in (("# outmail's own options.\n", "[console]\n"),
                                    ("# global cloud.\n", "[tenants.default.microsoft365]\n")):
                assert comment + header in text
        export = plan_export(config, props, tenants=tenants, env={})
        assert export.new_bytes == main, export.diff
        assert not plan_import(props, config).changed

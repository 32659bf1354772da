"""Generated `<tenant>.smtp.*` keys outside the field table: import then export gives back the same bytes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from tests.logicaldoc.test_bridge import FULL_T
from tui.logicaldoc.bridge import apply_import, plan_export, plan_import
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

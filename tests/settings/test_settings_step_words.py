"""What the diagnostics' settings step says about the settings: counts in words, and where its list is."""

from __future__ import annotations

import asyncio

from tui.diagnostics import hints
from tui.diagnostics.engine import diagnose
from tui.secret import Secret
from tui.settings.model import Settings

GUID = "0b5d6f1e-3c2a-4d8e-9f10-2a3b4c5d6e7f"


def _settings_step(settings: Settings):
    report = asyncio.run(diagnose(settings))
    return next(s for s in report.steps if s.id == "settings")


def test_one_error_one_warning_in_words() -> None:
    # Client ID not a GUID (an error); port 465 with Exchange Online (a warning). The step fails: nothing connects.
    settings = Settings(username="noreply@contoso.com", sender="noreply@contoso.com", client_id="nope",
                        client_tenant=GUID, client_secret=Secret("abc8Q~not-a-guid-value"), port=465)
    step = _settings_step(settings)
    assert step.status == "fail"
    assert "1 error, 1 warning" in step.detail
    assert not any("(s)" in line for line in step.detail)


def test_counts_use_plurals() -> None:
    settings = Settings(username="noreply@contoso.com", sender="other@contoso.com", client_id="nope",
                        client_tenant="not a tenant", client_secret=Secret("abc8Q~not-a-guid-value"), port=465)
    step = _settings_step(settings)
    assert "2 errors, 2 warnings" in step.detail


def test_the_settings_hints_say_where_the_list_is() -> None:
    for rule_id in ("settings-invalid", "settings-warnings"):
        fix = hints.RULES_BY_ID[rule_id].fix
        assert "above" not in fix and "in this step's detail" in fix

"""The LogicalDOC bridge: outmail's settings file <-> LogicalDOC's conf/context.properties, in one import.

No Textual here: the CLI and the console both plan first (new text, unified diff, warnings), show the plan, and apply
it only when the admin agrees. This module only gathers the bridge's names; each job has its own module:

    mapping.py      values <-> property strings, what LogicalDOC uses for a missing key, protocols it does not handle
    view.py         what LogicalDOC reads (the -override file wins, un-prefixed fallbacks), tenants, one tenant read
    toml_paths.py   TOML key paths of the keys outside the field table, where import writes them
    redaction.py    secrets as *** in previews, diffs and change lists; the display diff
    lints.py        the settings lints (tui.settings.validate.logicaldoc_lints) as export and import warnings
    plans.py        ExportPlan, ImportPlan, Change, BridgeWarning, BridgeError
    exporting.py    plan_export, plan_export_for, plan_export_settings, apply_export (backup first)
    importing.py    plan_import, plan_import_text, apply_import

File writes (atomic, private temporary files, backups) are `tui.files`'.

Usage (console or CLI):
    plan = plan_export(config_path, properties_path, tenants=None)      # or plan_export_for(settings, path)
    show(plan.diff, plan.warnings); if plan.changed and confirmed: apply_export(plan)
    plan = plan_import(properties_path, config_path, tenants=None)
    show(plan.diff, plan.warnings); if plan.changed and confirmed: apply_import(plan)
"""

from __future__ import annotations

from tui.files import write_backup
from tui.logicaldoc.exporting import apply_export, export_extras, plan_export, plan_export_for, plan_export_settings
from tui.logicaldoc.importing import apply_import, plan_import, plan_import_text
from tui.logicaldoc.lints import logicaldoc_warnings
from tui.logicaldoc.mapping import extra_to_property, from_property, to_property
from tui.logicaldoc.plans import BridgeError, BridgeWarning, Change, ExportPlan, ImportPlan
from tui.logicaldoc.properties import PropertiesError
from tui.logicaldoc.redaction import redact_properties, redact_toml
from tui.logicaldoc.toml_paths import flatten_smtp
from tui.logicaldoc.view import LogicalDocView, discover_tenants, read_extras, read_tenant
from tui.settings.fields import is_secret_key as is_credential_key

__all__ = [
    "BridgeError", "BridgeWarning", "Change", "ExportPlan", "ImportPlan", "LogicalDocView", "PropertiesError",
    "apply_export", "apply_import", "discover_tenants", "export_extras", "extra_to_property", "flatten_smtp",
    "from_property", "is_credential_key", "logicaldoc_warnings", "plan_export", "plan_export_for",
    "plan_export_settings", "plan_import", "plan_import_text", "read_extras", "read_tenant", "redact_properties",
    "redact_toml", "to_property", "write_backup",
]

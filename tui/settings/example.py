"""Renders settings.example.toml from the field table: every key with its LogicalDOC label and allowed values."""

from __future__ import annotations

from tui.settings.fields import ENV_CLIENT_SECRET, ENV_PASSWORD, FIELDS, Field, PROTOCOL_M365
from tui.settings.toml_text import toml_literal


def _comment(field: Field) -> str:
    parts = [f'"{field.label}"']
    if field.choices:
        parts.append(", ".join(f"{toml_literal(v)} {label}" for v, label in field.choices))
    elif field.kind == "bool":
        parts.append("true or false")
    elif field.kind == "int":
        parts.append("1-65535")
    if field.only_for:
        parts.append(f"{field.only_for} only")
    if field.ignored_by_m365 and field.only_for is None:
        parts.append(f"ignored by LogicalDOC with {PROTOCOL_M365}")
    return "; ".join(parts)


_EXAMPLE_DEFAULTS: dict[str, object] = {
    "username": "noreply@contoso.com",
    "sender": "noreply@contoso.com",
}

_SECTION_HEADERS = {
    "smtp": (
        "# One table per LogicalDOC tenant. The keys are LogicalDOC's own: protocol is default.smtp.protocol in\n"
        "# conf/context.properties. Keys outmail does not know (save.folderId, save.foldering, ...) are kept as they are,\n"
        "# and import/export carry them too: save.foldering = \"3\" is default.smtp.save.foldering=3.\n"
        f"# The client secret and the password may instead come from ${ENV_CLIENT_SECRET} and ${ENV_PASSWORD}\n"
        "# (or per tenant: OUTMAIL_<TENANT>_CLIENT_SECRET, OUTMAIL_<TENANT>_SMTP_PASSWORD) when left empty here.\n"
        "[tenants.default.smtp]"
    ),
    "microsoft365": (
        "# Not part of LogicalDOC: where tokens come from (sovereign clouds). LogicalDOC itself always uses the\n"
        "# global cloud.\n"
        "[tenants.default.microsoft365]"
    ),
    "console": "# outmail's own options.\n[console]",
}


def render_example() -> str:
    """The full text of settings.example.toml."""
    lines = ["# outmail settings: LogicalDOC's Outgoing Email fields (Administration > Settings > Outgoing Email).", ""]
    section = None
    width = 34
    for field in FIELDS:
        if field.section != section:
            if section is not None:
                lines.append("")
            lines.append(_SECTION_HEADERS[field.section])
            section = field.section
        value = _EXAMPLE_DEFAULTS.get(field.attr, field.default)
        assignment = f"{field.key} = {toml_literal(value)}"
        lines.append(f"{assignment.ljust(width)} # {_comment(field)}")
    return "\n".join(lines) + "\n"

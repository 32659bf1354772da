"""What export and import warn about one tenant's values: the settings lints, plus what only the properties file shows.

The lints themselves (what LogicalDOC does with a value) live once, in `tui.settings.validate.logicaldoc_lints`: the
form, `check`'s settings step and these warnings say the same words (tests/logicaldoc/test_lints.py). Here they
become BridgeWarnings naming the property key (a value LogicalDOC ignores with smtpmicrosoft365 is one of them, as
the form's greyed rows say), and a note says that outmail's own authority host is never LogicalDOC's (as the form's
section title does). What only the properties file can show stays here: a missing `<tenant>.smtp.userasfrom`
(LogicalDOC's sender and its settings screen read it differently, reference 1.3). A tenant whose protocol outmail
does not handle (`smtpgoogle`) gets no Microsoft 365 advice.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tui.logicaldoc.plans import BridgeWarning
from tui.settings.fields import FIELDS_BY_ATTR, GLOBAL_AUTHORITY_HOST, PROTOCOL_M365
from tui.settings.model import Settings
from tui.settings.validate import SOVEREIGN_AUTHORITY_HOSTS, Problem, logicaldoc_lints

def lint_key(tenant: str, problem: Problem) -> str | None:
    """The property key a lint is about (`<tenant>.smtp.<key>`), or None for an outmail-only field."""
    field = FIELDS_BY_ATTR.get(problem.attr)
    return f"{tenant}.{field.property_key}" if field is not None and field.property_key else None


def settings_warnings(tenant: str, settings: Settings) -> list[BridgeWarning]:
    """`logicaldoc_lints(settings)` as warnings of this tenant, in their order, with the same words."""
    return [BridgeWarning(p.message, tenant, "warning", lint_key(tenant, p)) for p in logicaldoc_lints(settings)]


def mapping_notes(tenant: str, settings: Settings) -> list[BridgeWarning]:
    """A note on an authority host LogicalDOC does not use (Microsoft 365 only; a sovereign cloud's is a lint)."""
    if settings.protocol != PROTOCOL_M365:
        return []
    notes: list[BridgeWarning] = []
    authority = urlsplit(str(settings.authority_host).strip())
    if str(settings.authority_host).rstrip("/") != GLOBAL_AUTHORITY_HOST and \
            authority.hostname not in SOVEREIGN_AUTHORITY_HOSTS:  # a sovereign one is a lint
        notes.append(BridgeWarning(
            f"outmail proves this tenant with the authority {settings.authority_host}; LogicalDOC always uses the "
            f"global cloud ({GLOBAL_AUTHORITY_HOST})", tenant, "note"))
    return notes


def missing_userasfrom(tenant: str, *, written: bool) -> BridgeWarning:
    """`<tenant>.smtp.userasfrom` (and `smtp.userasfrom`) missing in LogicalDOC's file; `written`: export adds it."""
    then = ("export writes it" if written else
            "outmail uses false too, and export leaves it missing unless you set Use user's email as sender")
    return BridgeWarning(
        f"{tenant}.smtp.userasfrom is missing: LogicalDOC's sender treats it as false, while its settings screen "
        f"shows it ticked (a save there writes true); {then}", tenant, key=f"{tenant}.smtp.userasfrom")


def logicaldoc_warnings(tenant: str, s: Settings, *, userasfrom_missing: bool = False,
                        userasfrom_written: bool = False, foreign_protocol: str | None = None) -> list[BridgeWarning]:
    """Everything export and import say about one tenant's values: the missing userasfrom, then (unless LogicalDOC's
    protocol is one outmail does not handle) the settings lints and the mapping notes."""
    out: list[BridgeWarning] = []
    if userasfrom_missing:
        out.append(missing_userasfrom(tenant, written=userasfrom_written))
    if foreign_protocol is not None:
        return out
    return out + settings_warnings(tenant, s) + mapping_notes(tenant, s)

"""Doctor's checks of the fields the config names by hand, outside the ticket field catalog:
the Jira fields the solution is read from and the impact is written to, and the Zendesk
organization field summed into the impact. A wrong id does not stop anything at run time (the
solution is simply never found, the impact write is refused), so doctor names it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connector.install.jira_fields import IMPACT_FIELDS
from connector.install.jira_screens import data_center_note, screens_of, team_project_keys
from connector.ops.checks import FAIL, OK, WARN, Check

if TYPE_CHECKING:
    from connector.config import Config
    from connector.ops.checks import DoctorContext

NUMERIC = ("integer", "decimal")


def configured_jira_fields(config: Config) -> dict[str, str]:
    """Dotted config key -> the Jira field id set there (unset keys left out)."""
    jira = config.jira
    named = {
        "jira.solution_field": jira.solution_field,
        "jira.solution_kind_field": jira.solution_kind_field,
        **{f"jira.impact_fields.{k}": v for k, v in jira.impact_fields.model_dump().items()},
    }
    return {key: value for key, value in named.items() if value}


def jira_fields(runtime: DoctorContext) -> Iterator[Check]:
    name = "jira fields"
    configured = configured_jira_fields(runtime.config)
    if not configured:
        marker = runtime.config.jira.solution_comment_marker
        detail = "no field ids configured"
        if marker:
            detail += f" (the solution is read from comments starting with {marker!r})"
        yield Check(name, OK, detail)
        return
    fields = runtime.jira.list_fields()
    ids = {str(f.get("id")) for f in fields}
    id_by_name = {str(f.get("name")).casefold(): str(f.get("id")) for f in fields}
    wrong: list[str] = []
    for key, value in configured.items():
        if value in ids:
            continue
        named = id_by_name.get(value.casefold())
        wrong.append(
            f"{key}: '{value}' is the field's name, its id is {named}"
            if named
            else f"{key}: {value} does not exist in Jira"
        )
    if wrong:
        yield Check(
            name,
            FAIL,
            "; ".join(wrong),
            f"set {wrong[0].split(':')[0]} in {runtime.settings.config_path} to a field id "
            "(Jira settings > Issues > Custom fields; GET /rest/api/2/field lists them), or null",
        )
    else:
        yield Check(name, OK, "all exist: " + ", ".join(f"{k} {v}" for k, v in configured.items()))


def impact_screens(runtime: DoctorContext) -> Iterator[Check]:
    """The configured impact fields on the edit and view screens of each team project: a field
    off the edit screen is left out of every impact write, one off the view screen is unseen."""
    name = "jira impact screens"
    configured = runtime.config.jira.impact_fields.model_dump()
    wanted = {configured[f.key]: f.name for f in IMPACT_FIELDS if configured.get(f.key)}
    if not wanted:
        yield Check(
            name,
            WARN,
            "no impact fields configured: the issues show no impact",
            "run `connector install` to create them and put them on the team projects' screens",
        )
        return
    keys, names = team_project_keys(runtime), ", ".join(wanted.values())
    if not runtime.jira.is_cloud:
        yield Check(name, WARN, "not checked on Jira Data Center", data_center_note(names, keys))
        return
    notes: list[str] = []
    screens = screens_of(runtime, keys, notes, names)
    for note in notes:
        yield Check(name, WARN, note.split(":")[0], note)
    lacking = False
    for screen_id, use in sorted(screens.items()):
        present = _present(runtime, screen_id)
        missing = [n for fid, n in wanted.items() if fid not in present]
        if missing:
            lacking = True
            yield Check(
                name,
                WARN,
                f"screen {screen_id} ({', '.join(sorted(use.projects))}) lacks "
                f"{', '.join(missing)}: left out of the impact writes",
                "run `connector install` (with --edit-shared-screens for a screen other projects "
                f"share), or add them in Jira settings > Issues > Screens > screen {screen_id}",
            )
    if not notes and not lacking:
        yield Check(name, OK, f"{names} on the edit and view screens of {', '.join(keys)}")


def _present(runtime: DoctorContext, screen_id: int) -> set[str]:
    jira = runtime.jira
    tabs = jira.screen_tabs(screen_id)
    return {str(f["id"]) for t in tabs for f in jira.tab_fields(screen_id, int(t["id"]))}


def organization_value_field(runtime: DoctorContext) -> Iterator[Check]:
    key = runtime.config.zendesk.organization_value_field
    if not key:
        return
    name = "zendesk organization value field"
    fields = runtime.zendesk.list_organization_fields()
    field = next((f for f in fields if f.get("key") == key), None)
    if field is None:
        other = next((f for f in fields if key in (str(f.get("id")), f.get("title"))), None)
        hint = f" ('{key}' is a field's id or title; its key is {other['key']})" if other else ""
        yield Check(
            name,
            FAIL,
            f"no organization field with the key '{key}'{hint}",
            "set zendesk.organization_value_field in "
            f"{runtime.settings.config_path} to the field key shown in Admin Center > People > "
            "Configuration > Organization fields, or null",
        )
    elif field.get("type") not in NUMERIC:
        yield Check(
            name,
            WARN,
            f"'{key}' is a {field.get('type')} field: only numbers add to the customer value",
            "use a number (integer or decimal) organization field",
        )
    else:
        yield Check(name, OK, f"'{key}' exists ({field.get('type')})")

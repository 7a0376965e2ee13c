"""Put the impact fields on the edit and view screens of each configured team project.

A company-managed project finds its screens through its issue type screen scheme: each issue
type maps to a screen scheme, which names a screen per operation (edit, view, falling back to
default). A screen shared with a project the connector does not serve is changed only when the
admin agrees (`--edit-shared-screens`, or the prompt). Team-managed projects (their fields live
in each issue type's layout) and Data Center (no screen scheme API) get a note naming what to
add by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connector.errors import NotFoundError
from connector.install.jira_fields import ImpactField, wanted
from connector.install.plan import KEEP, UPDATE, Plan, Step

if TYPE_CHECKING:
    from connector.install.context import AdminContext
    from connector.install.installed import Installed

AskShared = Callable[[int, list[str]], bool]  # (screen id, other projects' ids) -> go ahead


@dataclass
class ScreenUse:
    projects: set[str] = field(default_factory=set)  # served project keys
    others: set[str] = field(default_factory=set)  # ids of projects the connector does not serve


def team_project_keys(runtime: AdminContext) -> list[str]:
    return sorted({t.jira_project for t in runtime.config.teams.values()})


def plan_screens(
    runtime: AdminContext, installed: Installed, plan: Plan, ask_shared: AskShared
) -> None:
    specs, keys = wanted(runtime), team_project_keys(runtime)
    names = ", ".join(s.name for s in specs)
    if not runtime.jira.is_cloud:
        plan.notes.append(data_center_note(names, keys))
        return
    for screen_id, use in screens_of(runtime, keys, plan.notes, names).items():
        _plan_screen(runtime, installed, plan, specs, screen_id, use, ask_shared)


def data_center_note(names: str, keys: list[str]) -> str:
    return (
        f"Jira Data Center: add {names} to the edit and view screens of "
        f"{', '.join(keys)} by hand (Project settings > Screens)."
    )


def screens_of(
    runtime: AdminContext, keys: list[str], notes: list[str], names: str
) -> dict[int, ScreenUse]:
    """The edit and view screens of the projects (Cloud), and who uses each; a project that
    is missing or team-managed gets a note in `notes` instead."""
    jira = runtime.jira
    projects = {}
    for key in keys:
        try:
            projects[key] = jira.get_project(key)
        except NotFoundError:
            notes.append(f"Jira project {key} does not exist: no screens changed for it.")
    served = {str(p["id"]) for p in projects.values()}
    screens: dict[int, ScreenUse] = {}
    for key, project in projects.items():
        if project.get("style") == "next-gen" or project.get("simplified"):
            notes.append(
                f"{key} is a team-managed project: add {names} to its issue types' layouts by "
                "hand (Project settings > Issue types)."
            )
            continue
        for scheme in jira.project_type_screen_schemes(str(project["id"])):
            others = set(map(str, scheme.get("projectIds", []))) - served
            scheme_id = str(scheme["issueTypeScreenScheme"]["id"])
            for item in jira.type_screen_scheme_items(scheme_id):
                types = jira.screen_scheme(str(item["screenSchemeId"]))["screens"]
                for operation in ("edit", "view"):
                    use = screens.setdefault(
                        int(types.get(operation, types["default"])), ScreenUse()
                    )
                    use.projects.add(key)
                    use.others |= others
    return screens


def _plan_screen(
    runtime: AdminContext,
    installed: Installed,
    plan: Plan,
    specs: list[ImpactField],
    screen_id: int,
    use: ScreenUse,
    ask_shared: AskShared,
) -> None:
    jira = runtime.jira
    tabs = jira.screen_tabs(screen_id)
    present = {str(f["id"]) for tab in tabs for f in jira.tab_fields(screen_id, int(tab["id"]))}
    missing = [s for s in specs if installed.impact_fields.get(s.key) not in present]
    name = f"screen {screen_id}"
    served = ", ".join(sorted(use.projects))
    if not missing:
        plan.add(Step("jira", "screen", name, KEEP, f"{served}: has the impact fields"))
        return
    adding = ", ".join(s.name for s in missing)
    if use.others and not ask_shared(screen_id, sorted(use.others)):
        plan.add(Step("jira", "screen", name, KEEP, f"shared, not changed: {served}"))
        plan.notes.append(
            f"Screen {screen_id} ({served}) is shared with projects the connector does not "
            f"serve ({', '.join(sorted(use.others))}): {adding} not added. Rerun with "
            "--edit-shared-screens, or add them by hand."
        )
        return
    tab_id = int(tabs[0]["id"])

    def add() -> None:
        for spec in missing:
            jira.add_tab_field(screen_id, tab_id, installed.impact_fields[spec.key])

    plan.add(Step("jira", "screen", name, UPDATE, f"{served}: add {adding}", run=add))

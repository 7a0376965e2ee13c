"""The Jira custom fields that show a problem's impact on the issue itself: created by install,
or adopted by name when an admin (or an earlier install) made them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from connector.install.plan import CREATE, DELETE, KEEP, Plan, Step

if TYPE_CHECKING:
    from connector.install.context import AdminContext
    from connector.install.installed import Installed

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


@dataclass(frozen=True)
class ImpactField:
    key: str  # under `jira.impact_fields`
    name: str
    type: str  # the custom field type, without Jira's prefix
    searcher: str
    json_type: str  # `schema.type` of an adoptable field

    @property
    def detail(self) -> str:
        return f"{self.type} ({self.searcher})"


NUMBER = ("float", "exactnumber", "number")
IMPACT_FIELDS = (
    ImpactField("tickets", "Zendesk tickets", *NUMBER),
    ImpactField("open_tickets", "Open tickets", *NUMBER),
    ImpactField("organizations", "Organizations", *NUMBER),
    ImpactField("value", "Customer value", *NUMBER),
    ImpactField("last_report", "Last customer report", "datetime", "datetimerange", "datetime"),
)


def wanted(runtime: AdminContext) -> list[ImpactField]:
    """Customer value only when an organization value field feeds it."""
    with_value = bool(runtime.config.zendesk.organization_value_field)
    return [f for f in IMPACT_FIELDS if f.key != "value" or with_value]


def plan_impact_fields(runtime: AdminContext, installed: Installed, plan: Plan) -> None:
    existing = [f for f in runtime.jira.list_fields() if f.get("custom")]
    configured = runtime.config.jira.impact_fields.model_dump()
    for spec in wanted(runtime):
        found = _find(existing, spec, configured.get(spec.key))
        if found is not None:
            installed.impact_fields[spec.key] = str(found["id"])
            plan.add(Step("jira", "issue field", spec.name, KEEP, str(found["id"])))
            continue
        plan.add(
            Step(
                "jira",
                "issue field",
                spec.name,
                CREATE,
                spec.detail,
                run=_creator(runtime, installed, spec),
            )
        )


def plan_impact_field_removal(runtime: AdminContext, plan: Plan, *, delete: bool) -> None:
    """The impact fields hold data (Jira queries and filters read them): kept unless `delete`.
    Found by the ids in the config, or, with none there, by name and type."""
    existing = [f for f in runtime.jira.list_fields() if f.get("custom")]
    configured = runtime.config.jira.impact_fields.model_dump()
    by_id_only = any(configured.values())  # a same-named field of someone else's is not ours
    seen: set[str] = set()
    for spec in IMPACT_FIELDS:
        own = configured.get(spec.key)
        found = (
            next((f for f in existing if f.get("id") == own), None)
            if by_id_only
            else _find(existing, spec, None)
        )
        if found is None or str(found["id"]) in seen:
            continue
        fid = str(found["id"])
        seen.add(fid)
        if delete:
            step = Step("jira", "issue field", spec.name, DELETE, fid)
            step.run = partial(runtime.jira.delete_field, fid)
        else:
            step = Step("jira", "issue field", spec.name, KEEP, f"{fid}, values stay")
        plan.add(step)


def _find(existing: list[dict[str, Any]], spec: ImpactField, configured: str | None) -> dict | None:
    by_id = next((f for f in existing if configured and f.get("id") == configured), None)
    if by_id is not None:
        return by_id
    return next(
        (
            f
            for f in existing
            if str(f.get("name", "")).casefold() == spec.name.casefold()
            and (f.get("schema") or {}).get("type") == spec.json_type
        ),
        None,
    )


def _creator(runtime: AdminContext, installed: Installed, spec: ImpactField) -> Any:
    def create() -> None:
        field = runtime.jira.create_field(spec.name, CF + spec.type, CF + spec.searcher)
        installed.impact_fields[spec.key] = str(field["id"])

    return create

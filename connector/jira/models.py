"""The connector's view of Jira issues: the mirrored facts, parsed from the v2 representation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class JiraIssue(BaseModel):
    id: str
    key: str
    project: str
    summary: str = ""
    status: str | None = None
    status_category: str | None = None
    resolution: str | None = None
    priority: str | None = None
    due_date: date | None = None
    fix_version: str | None = None
    fix_version_date: date | None = None
    labels: list[str] = Field(default_factory=list)
    updated: datetime | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> JiraIssue:
        fields = data.get("fields") or {}
        status = fields.get("status") or {}
        versions = fields.get("fixVersions") or []
        version = versions[0] if versions else {}
        return cls(
            id=str(data["id"]),
            key=data["key"],
            project=(fields.get("project") or {}).get("key") or data["key"].split("-")[0],
            summary=fields.get("summary") or "",
            status=status.get("name"),
            status_category=(status.get("statusCategory") or {}).get("key"),
            resolution=(fields.get("resolution") or {}).get("name"),
            priority=(fields.get("priority") or {}).get("name"),
            due_date=fields.get("duedate") or None,
            fix_version=version.get("name"),
            fix_version_date=version.get("releaseDate") or None,
            labels=fields.get("labels") or [],
            updated=_jira_time(fields.get("updated")),
            fields=fields,
        )


def _jira_time(value: str | None) -> datetime | None:
    if not value:
        return None
    # Jira writes "2026-11-26T00:54:34.000+0000"; Python wants the offset with a colon.
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    return datetime.fromisoformat(value)


class SearchPage(BaseModel):
    issues: list[JiraIssue]
    next_page_token: str | None = None

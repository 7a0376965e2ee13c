"""The connector's view of Jira issues: the mirrored facts, parsed from the v2 representation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


def user_identity(user: Any) -> str | None:
    """Who a Jira user bean names: Cloud's `accountId`; Data Center has none and names users by
    `key` (stable) and `name` (the username, which an admin can rename), so the key is used."""
    if not isinstance(user, dict):
        return None
    found = user.get("accountId") or user.get("key")
    return found if isinstance(found, str) and found else None


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
    duplicate_of: str | None = None  # key of the issue this one duplicates
    comments: list[JiraComment] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)

    @property
    def expected_fix(self) -> date | None:
        """The due date, or else the release date of the first fix version."""
        return self.due_date or self.fix_version_date

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
            duplicate_of=_duplicate_of(fields.get("issuelinks") or []),
            comments=[
                JiraComment(
                    id=str(c.get("id")),
                    body=c.get("body") if isinstance(c.get("body"), str) else "",
                    author=user_identity(c.get("author")),
                    created=_jira_time(c.get("created")),
                )
                for c in (fields.get("comment") or {}).get("comments") or []
            ],
            fields=fields,
        )


class JiraComment(BaseModel):
    id: str
    body: str
    author: str | None = None
    created: datetime | None = None


def _duplicate_of(links: list[dict[str, Any]]) -> str | None:
    """`A duplicates B` shows on A as a Duplicate link with B as the outward issue."""
    for link in links:
        if (link.get("type") or {}).get("name") == "Duplicate" and link.get("outwardIssue"):
            return str(link["outwardIssue"]["key"])
    return None


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

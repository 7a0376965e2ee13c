"""The connector's view of Zendesk objects: only what the sync needs, validated on the way in."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Zendesk's limit per `show_many`, `update_many` and `job_statuses/show_many` call.
MAX_BATCH = 100


class Ticket(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    status: str = "new"
    type: str | None = None
    subject: str | None = None
    description: str | None = None  # the first comment's text (what the customer wrote)
    problem_id: int | None = None
    requester_id: int | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    organization_id: int | None = None
    brand_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[int, Any] = Field(default_factory=dict)
    followup_ids: list[int] = Field(default_factory=list)
    channel: str | None = None  # how it came in: `via.channel` (web, email, api, chat, ...)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Ticket:
        fields = {int(f["id"]): f.get("value") for f in data.get("custom_fields") or []}
        channel = (data.get("via") or {}).get("channel")
        return cls.model_validate({**data, "custom_fields": fields, "channel": channel})

    def field(self, field_id: int | None) -> Any:
        return None if field_id is None else self.custom_fields.get(field_id)


class Comment(BaseModel):
    body: str
    public: bool = False
    html: bool = False

    def to_api(self) -> dict[str, Any]:
        key = "html_body" if self.html else "body"
        return {key: self.body, "public": self.public}


class TicketUpdate(BaseModel):
    """One Zendesk update: comment, tags, fields and status land together in one audit."""

    status: str | None = None
    comment: Comment | None = None
    custom_fields: dict[int, Any] = Field(default_factory=dict)
    additional_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.status:
            body["status"] = self.status
        if self.comment:
            body["comment"] = self.comment.to_api()
        if self.custom_fields:
            body["custom_fields"] = [{"id": k, "value": v} for k, v in self.custom_fields.items()]
        if self.additional_tags:
            body["additional_tags"] = self.additional_tags
        if self.remove_tags:
            body["remove_tags"] = self.remove_tags
        return body


class JobResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    success: bool = False
    status: str | None = None
    error: str | None = None
    details: Any = None


class JobStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    status: Literal["queued", "working", "failed", "completed", "killed"]
    progress: int | None = None
    total: int | None = None
    message: str | None = None
    results: list[JobResult] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("failed", "completed", "killed")


class User(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str = ""
    email: str | None = None
    role: str | None = None
    organization_id: int | None = None
    # What an agent may see: null (all tickets), "groups", "organization", "assigned".
    ticket_restriction: str | None = None
    active: bool = True
    suspended: bool = False


class Named(BaseModel):
    """A sideloaded user or organization: its name (and a user's role) is all that is kept."""

    model_config = ConfigDict(extra="ignore")

    id: int
    name: str = ""
    role: str | None = None


class NamedTickets(BaseModel):
    """Tickets read with the users and organizations they name (one `show_many` call)."""

    tickets: list[Ticket]
    users: list[Named] = Field(default_factory=list)
    organizations: list[Named] = Field(default_factory=list)

    def user_names(self) -> dict[int, str]:
        return {u.id: u.name for u in self.users if u.name}

    def user_roles(self) -> dict[int, str]:
        return {u.id: u.role for u in self.users if u.role}

    def organization_names(self) -> dict[int, str]:
        return {o.id: o.name for o in self.organizations if o.name}

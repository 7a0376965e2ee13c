"""Fakes Zendesk's side-loading on the ticket endpoints: `?include=users,organizations` adds the
users the tickets name (requester, submitter, assignee; the sandbox keeps no CCs) and the
tickets' organizations as top-level arrays of full records, in the same response. Other names
are ignored; without `include` nothing is added.
"""

from __future__ import annotations

from flask import request

from connector_sandboxes.zendesk.people import organization_json, user_json
from connector_sandboxes.zendesk.records import Ticket
from connector_sandboxes.zendesk.state import JSON, State


def sideloads(st: State, tickets: list[Ticket]) -> JSON:
    wanted = {name.strip() for name in request.args.get("include", "").split(",")}
    found: JSON = {}
    if "users" in wanted:
        ids = {i for t in tickets for i in (t.requester_id, t.submitter_id, t.assignee_id) if i}
        found["users"] = [user_json(st, st.users[i]) for i in sorted(ids) if i in st.users]
    if "organizations" in wanted:
        ids = {t.organization_id for t in tickets if t.organization_id}
        found["organizations"] = [
            organization_json(st, st.organizations[i]) for i in sorted(ids) if i in st.organizations
        ]
    return found

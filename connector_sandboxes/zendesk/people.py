"""Fakes Zendesk users and organizations: `users/me`, create/show/show_many, organizations with
`organization_fields` (custom values such as a numeric customer value) and their definitions.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from connector_sandboxes.zendesk.fields import CUSTOM_TYPES
from connector_sandboxes.zendesk.state import JSON, State, iso, not_found, record_invalid
from connector_sandboxes.zendesk.web import body, current_user_id, id_list, listing, route, state

bp = Blueprint("zendesk_people", __name__)

ROLES = ("end-user", "agent", "admin")


def add_user(
    st: State,
    name: str,
    email: str | None,
    role: str = "end-user",
    organization_id: int | None = None,
    locale: str = "en-US",
) -> JSON:
    if role not in ROLES:
        raise record_invalid("role", f"Role: {role} is not valid")
    if email and any(u["email"] == email.lower() for u in st.users.values()):
        raise record_invalid("email", f"Email: {email} is already being used by another user")
    if organization_id is not None and organization_id not in st.organizations:
        raise record_invalid("organization_id", "Organization: is invalid")
    now = iso(st.now())
    user_id = st.ids.next("user")
    user = {
        "id": user_id,
        "name": name,
        "email": email.lower() if email else None,
        "created_at": now,
        "updated_at": now,
        "time_zone": "UTC",
        "iana_time_zone": "Etc/UTC",
        "phone": None,
        "shared_phone_number": None,
        "photo": None,
        "locale_id": 1,
        "locale": locale,
        "organization_id": organization_id,
        "role": role,
        "verified": role != "end-user",
        "external_id": None,
        "tags": [],
        "alias": None,
        "active": True,
        "shared": False,
        "shared_agent": False,
        "last_login_at": None,
        "two_factor_auth_enabled": False,
        "signature": None,
        "details": None,
        "notes": None,
        "role_type": None,
        "custom_role_id": None,
        "moderator": role != "end-user",
        "ticket_restriction": "requested" if role == "end-user" else None,
        "only_private_comments": False,
        "restricted_agent": role == "end-user",
        "suspended": False,
        "default_group_id": None,
        "report_csv": False,
        "user_fields": {},
    }
    st.users[user_id] = user
    return user


def user_json(st: State, user: JSON) -> JSON:
    return {"url": st.url(f"users/{user['id']}.json"), **user}


def find_or_create_requester(st: State, requester: JSON) -> int:
    email = str(requester.get("email") or "").lower()
    for user in st.users.values():
        if email and user["email"] == email:
            return int(user["id"])
    name = str(requester.get("name") or email or "Unknown")
    return int(add_user(st, name, email or None, locale=requester.get("locale", "en-US"))["id"])


def add_organization(st: State, name: str, fields: JSON | None = None) -> JSON:
    if not name:
        raise record_invalid("name", "Name: cannot be blank")
    if any(o["name"] == name for o in st.organizations.values()):
        raise record_invalid("name", "Name: has already been taken")
    now = iso(st.now())
    org_id = st.ids.next("organization")
    org = {
        "id": org_id,
        "name": name,
        "shared_tickets": False,
        "shared_comments": False,
        "external_id": None,
        "created_at": now,
        "updated_at": now,
        "domain_names": [],
        "details": None,
        "notes": None,
        "group_id": None,
        "tags": [],
        "organization_fields": {},
    }
    st.organizations[org_id] = org
    set_organization_fields(st, org, fields or {})
    return org


def set_organization_fields(st: State, org: JSON, values: JSON) -> None:
    known = {f["key"]: f for f in st.organization_fields.values()}
    for key, value in values.items():
        definition = known.get(key)
        if definition is None:
            continue  # Zendesk ignores unknown keys
        if value is not None and definition["type"] in ("decimal", "integer"):
            try:
                value = float(value) if definition["type"] == "decimal" else int(value)
            except (TypeError, ValueError):
                raise record_invalid(key, f"{definition['title']}: is not a number") from None
        org["organization_fields"][key] = value


def organization_json(st: State, org: JSON) -> JSON:
    values = {f["key"]: None for f in st.organization_fields.values()}
    values.update(org["organization_fields"])
    return {"url": st.url(f"organizations/{org['id']}.json"), **org, "organization_fields": values}


def organization_field_json(st: State, field: JSON) -> JSON:
    return {"url": st.url(f"organization_fields/{field['id']}.json"), **field}


def _organization(st: State, org_id: int) -> JSON:
    org = st.organizations.get(org_id)
    if org is None:
        raise not_found()
    return org


def add_organization_field(st: State, key: str, title: str, kind: str) -> JSON:
    if not key or not title or kind not in CUSTOM_TYPES:
        raise record_invalid("key", "Key, title and a valid type are required")
    if any(f["key"] == key for f in st.organization_fields.values()):
        raise record_invalid("key", "Key: has already been taken")
    now, field_id = iso(st.now()), st.ids.next("organization_field")
    field = {
        "id": field_id,
        "type": kind,
        "key": key,
        "title": title,
        "raw_title": title,
        "description": title,
        "raw_description": title,
        "position": len(st.organization_fields),
        "active": True,
        "system": False,
        "regexp_for_validation": None,
        "created_at": now,
        "updated_at": now,
    }
    st.organization_fields[field_id] = field
    return field


def add_group(st: State, name: str, agent_ids: list[int]) -> JSON:
    """A group and its agents' memberships (`GET /users/{id}/group_memberships` reads them)."""
    now, group_id = iso(st.now()), st.ids.next("group")
    group = {
        "id": group_id,
        "name": name,
        "default": False,
        "deleted": False,
        "created_at": now,
        "updated_at": now,
    }
    st.groups[group_id] = group
    for user_id in agent_ids:
        if st.user(user_id)["role"] == "end-user":
            raise record_invalid("user_id", "User: must be an agent")
        membership_id = st.ids.next("group_membership")
        st.group_memberships[membership_id] = {
            "id": membership_id,
            "user_id": user_id,
            "group_id": group_id,
            "default": False,
            "created_at": now,
            "updated_at": now,
        }
    return group


def user_group_ids(st: State, user_id: int) -> list[int]:
    return sorted(m["group_id"] for m in st.group_memberships.values() if m["user_id"] == user_id)


# ---- routes ------------------------------------------------------------------------------
@route(bp, "/users/me", ["GET"])
def show_me() -> Any:
    st = state()
    with st.lock:
        return {"user": user_json(st, st.user(current_user_id()))}


@route(bp, "/users", ["POST"])
def create_user() -> Any:
    st, data = state(), body("user")
    with st.lock:
        user = add_user(
            st,
            str(data.get("name") or ""),
            data.get("email") or None,
            data.get("role") or "end-user",
            data.get("organization_id"),
            data.get("locale") or "en-US",
        )
        return {"user": user_json(st, user)}, 201, {"Location": st.url(f"users/{user['id']}.json")}


@route(bp, "/users/<int:user_id>", ["GET"])
def show_user(user_id: int) -> Any:
    st = state()
    with st.lock:
        return {"user": user_json(st, st.user(user_id))}


@route(bp, "/users/<int:user_id>/group_memberships", ["GET"])
def user_group_memberships(user_id: int) -> Any:
    st = state()
    with st.lock:
        st.user(user_id)
        found = [
            {"url": st.url(f"group_memberships/{m['id']}.json"), **m}
            for m in st.group_memberships.values()
            if m["user_id"] == user_id
        ]
        return listing("group_memberships", found)


@route(bp, "/users/show_many", ["GET"])
def show_many_users() -> Any:
    st, ids = state(), id_list()
    with st.lock:
        return listing("users", [user_json(st, st.users[i]) for i in ids if i in st.users])


@route(bp, "/organizations", ["POST"])
def create_organization() -> Any:
    st, data = state(), body("organization")
    with st.lock:
        org = add_organization(st, str(data.get("name") or ""), data.get("organization_fields"))
        location = {"Location": st.url(f"organizations/{org['id']}.json")}
        return {"organization": organization_json(st, org)}, 201, location


@route(bp, "/organizations/<int:org_id>", ["GET"])
def show_organization(org_id: int) -> Any:
    st = state()
    with st.lock:
        return {"organization": organization_json(st, _organization(st, org_id))}


@route(bp, "/organizations/<int:org_id>", ["PUT"])
def update_organization(org_id: int) -> Any:
    st, data = state(), body("organization")
    with st.lock:
        org = _organization(st, org_id)
        for key in ("name", "details", "notes", "external_id", "tags", "domain_names"):
            if key in data:
                org[key] = data[key]
        set_organization_fields(st, org, data.get("organization_fields") or {})
        org["updated_at"] = iso(st.now())
        return {"organization": organization_json(st, org)}


@route(bp, "/organizations/show_many", ["GET"])
def show_many_organizations() -> Any:
    st, ids = state(), id_list()
    with st.lock:
        orgs = [organization_json(st, st.organizations[i]) for i in ids if i in st.organizations]
        return listing("organizations", orgs)


@route(bp, "/organization_fields", ["GET"])
def list_organization_fields() -> Any:
    st = state()
    with st.lock:
        fields = [organization_field_json(st, f) for f in st.organization_fields.values()]
        return listing("organization_fields", fields)


@route(bp, "/organization_fields", ["POST"])
def create_organization_field() -> Any:
    st, data = state(), body("organization_field")
    with st.lock:
        field = add_organization_field(
            st, str(data.get("key") or ""), str(data.get("title") or ""), str(data.get("type"))
        )
        return {"organization_field": organization_field_json(st, field)}, 201

"""Names of Zendesk users and organizations (and users' roles): remembered when the worker reads
tickets, looked up by the dashboard, the API and the reply preview, which never call Zendesk
while a request is open."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from connector.store.db import Database, Session
from connector.store.models import ZendeskName, utcnow

USER, ORGANIZATION = "user", "organization"
NAME_LENGTH, ROLE_LENGTH = 255, 32


@dataclass(frozen=True)
class Names:
    users: dict[int, str] = field(default_factory=dict)
    organizations: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)  # of users, when known


def remember(
    db: Database,
    users: Mapping[int, str],
    organizations: Mapping[int, str],
    roles: Mapping[int, str] | None = None,
) -> None:
    """Store the names (a renamed user or organization takes its new name) and the users' roles
    given (a role not given stays as it was); writes nothing when all is known as it is."""
    if not (users or organizations):
        return
    roles = {int(i): r[:ROLE_LENGTH] for i, r in (roles or {}).items() if r}
    with db.session() as session:
        known = lookup(session, users, organizations)
        now = utcnow()
        fresh = [
            {"kind": kind, "id": i, "name": name, "role": role, "updated_at": now}
            for kind, i, name, role, changed in _rows(users, organizations, roles, known)
            if changed
        ]
        if not fresh:
            return
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(ZendeskName).values(fresh)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["kind", "id"],
                set_={
                    "name": insert.excluded.name,
                    "role": func.coalesce(insert.excluded.role, ZendeskName.role),
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )


def _rows(
    users: Mapping[int, str],
    organizations: Mapping[int, str],
    roles: Mapping[int, str],
    known: Names,
) -> Iterator[tuple[str, int, str, str | None, bool]]:
    """(kind, id, name, role, changed) of every name given."""
    for ident, given in users.items():
        i, name, role = int(ident), given[:NAME_LENGTH], roles.get(int(ident))
        if name:
            changed = known.users.get(i) != name or (role and known.roles.get(i) != role)
            yield USER, i, name, role, bool(changed)
    for ident, given in organizations.items():
        i, name = int(ident), given[:NAME_LENGTH]
        if name:
            yield ORGANIZATION, i, name, None, known.organizations.get(i) != name


def lookup(session: Session, users: Iterable[int], organizations: Iterable[int]) -> Names:
    people = _known(session, USER, users)
    return Names(
        users={i: name for i, (name, _role) in people.items()},
        organizations={
            i: name for i, (name, _) in _known(session, ORGANIZATION, organizations).items()
        },
        roles={i: role for i, (_name, role) in people.items() if role},
    )


def role_of(db: Database, user_id: int) -> str | None:
    """A user's role as last read (None: never read)."""
    with db.session() as session:
        return lookup(session, [user_id], []).roles.get(user_id)


def _known(session: Session, kind: str, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    wanted = sorted({int(i) for i in ids})
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        rows = session.execute(
            select(ZendeskName.id, ZendeskName.name, ZendeskName.role).where(
                ZendeskName.kind == kind, ZendeskName.id.in_(wanted[start : start + 500])
            )
        )
        found.update({int(ident): (name, role) for ident, name, role in rows})
    return found

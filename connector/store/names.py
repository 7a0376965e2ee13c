"""Names of Zendesk users and organizations: remembered when the worker reads tickets, looked
up by the dashboard and the API (which never call Zendesk while a request is open)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from connector.store.db import Database, Session
from connector.store.models import ZendeskName, utcnow

USER, ORGANIZATION = "user", "organization"
NAME_LENGTH = 255


@dataclass(frozen=True)
class Names:
    users: dict[int, str] = field(default_factory=dict)
    organizations: dict[int, str] = field(default_factory=dict)


def remember(db: Database, users: Mapping[int, str], organizations: Mapping[int, str]) -> None:
    """Store the names (a renamed user or organization takes its new name); writes nothing
    when every name is already known as it is."""
    if not (users or organizations):
        return
    with db.session() as session:
        known = lookup(session, users, organizations)
        now = utcnow()
        fresh = [
            {"kind": kind, "id": int(ident), "name": name[:NAME_LENGTH], "updated_at": now}
            for kind, given, before in (
                (USER, users, known.users),
                (ORGANIZATION, organizations, known.organizations),
            )
            for ident, name in given.items()
            if name and before.get(int(ident)) != name[:NAME_LENGTH]
        ]
        if not fresh:
            return
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(ZendeskName).values(fresh)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["kind", "id"],
                set_={"name": insert.excluded.name, "updated_at": insert.excluded.updated_at},
            )
        )


def lookup(session: Session, users: Iterable[int], organizations: Iterable[int]) -> Names:
    return Names(
        users=_known(session, USER, users),
        organizations=_known(session, ORGANIZATION, organizations),
    )


def _known(session: Session, kind: str, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids})
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        rows = session.execute(
            select(ZendeskName.id, ZendeskName.name).where(
                ZendeskName.kind == kind, ZendeskName.id.in_(wanted[start : start + 500])
            )
        )
        found.update({int(ident): name for ident, name in rows})
    return found

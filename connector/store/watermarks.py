"""How far a periodic sync has read, by name (e.g. the Jira poll's `jira.poll`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from connector.store.models import Watermark


def get(session: Session, name: str) -> str | None:
    mark = session.get(Watermark, name)
    return mark.value if mark else None


def put(session: Session, name: str, value: str) -> None:
    mark = session.get(Watermark, name) or Watermark(name=name, value="")
    mark.value = value
    session.add(mark)

"""Doctor's lines for the suggestion engine: does its text model load (offline), what has it
learned from, and what waits for an admin (proposed problems)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connector.ops.checks import FAIL, OK, SKIP, Check
from connector.store import proposals
from connector.store import suggestions as stored
from connector.textmodel.encoder import WordLlamaEncoder

if TYPE_CHECKING:
    from connector.ops.checks import DoctorContext

NAME = "suggestions"


def suggestions(runtime: DoctorContext) -> Iterator[Check]:
    settings = runtime.config.suggestions
    if not settings.enabled:
        yield Check(NAME, SKIP, "off (suggestions.enabled: false)")
        return
    try:
        WordLlamaEncoder().encode(["doctor"])
    except Exception as exc:  # a broken or missing model is the finding
        yield Check(
            NAME,
            FAIL,
            f"the text model did not load: {type(exc).__name__}: {exc}",
            "reinstall the connector (pip install --force-reinstall wordllama): its weights "
            "ship in that package, nothing is downloaded",
        )
        return
    with runtime.db.session() as session:
        pairs = stored.example_pairs(session)
        waiting = proposals.count_open(session)
    problems = len({p for _, p in pairs})
    auto = settings.auto_link_confidence
    linking = f"auto-link from {auto}" if auto is not None else "auto-link off"
    learned = (
        f"learns from {_count(len(pairs), 'linked ticket')} of {_count(problems, 'open problem')}"
        if pairs
        else "nothing linked yet: suggestions start once agents link tickets"
    )
    yield Check(
        NAME,
        OK,
        f"text model loads offline; {learned}; suggests from {settings.min_confidence}, {linking}",
    )
    if settings.emerging.enabled:
        detail = (
            f"{_count(waiting, 'proposed problem')} waiting for a decision (dashboard: Proposed "
            "problems)"
            if waiting
            else "none waiting"
        )
        yield Check("proposed problems", OK, detail)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

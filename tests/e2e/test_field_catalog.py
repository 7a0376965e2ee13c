"""Walks the field catalog: install creates every entry, doctor checks every entry, and the
mirror and the link confirmation write every mirrored entry. A new catalog entry that one of
them misses fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.fields import MIRRORED_FIELDS, TICKET_FIELDS, Snapshot
from connector.install.run import plan_uninstall
from connector.ops.doctor import FAIL, run_doctor
from connector.store.models import Problem
from tests.e2e.conftest import NO_REPLIES, config_with
from tests.e2e.test_linking import field_value, links
from tests.e2e.test_mirror import SOLUTION_FIELDS, linked_problem


@pytest.fixture
def cstack(tmp_path: Path, database_url: str) -> Iterator[LocalStack]:
    text = config_with(
        mirror_debounce_seconds=0, jira=SOLUTION_FIELDS, replies={"templates": NO_REPLIES}
    )
    stack = LocalStack(tmp_path, database_url=database_url, config_text=text).start()
    yield stack
    stack.stop()


def test_install_creates_and_uninstall_removes_every_entry(cstack: LocalStack) -> None:
    fields = {int(f["id"]): f for f in cstack.rt.zendesk.list_ticket_fields()}
    for spec in TICKET_FIELDS:
        field_id = cstack.rt.config.zendesk.fields.id_of(spec.key)
        assert field_id in fields, spec.key
        assert (fields[field_id]["title"], fields[field_id]["type"]) == (spec.title, spec.type)
        wanted = spec.options(cstack.rt.config) if spec.options else []
        have = {o["value"] for o in fields[field_id].get("custom_field_options") or []}
        assert {o["value"] for o in wanted} <= have, spec.key
    removed = {s.name for s in plan_uninstall(cstack.rt).steps if s.kind == "ticket field"}
    assert removed == {spec.title for spec in TICKET_FIELDS}


def test_doctor_checks_every_entry(cstack: LocalStack) -> None:
    ids = cstack.rt.config.zendesk.fields
    for spec in TICKET_FIELDS:
        field_id = ids.id_of(spec.key)
        for broken in (None, 10**9):  # not configured; configured but gone from Zendesk
            setattr(ids, spec.key, broken)
            check = next(c for c in run_doctor(cstack.rt) if c.name == "zendesk fields")
            assert check.status == FAIL and check.detail.endswith(f": {spec.key}"), check
        setattr(ids, spec.key, field_id)


def test_the_mirror_and_the_confirmation_write_every_mirrored_entry(cstack: LocalStack) -> None:
    key, tickets = linked_problem(cstack, incidents=1)
    # Give every fact a value, so every mirrored field has something to show.
    cstack.jira.human_transition(key, "In Progress")
    cstack.jira.human_update(
        key, duedate="2026-12-24", customfield_10050="Use the web form", customfield_10051="Fix"
    )
    cstack.drain()
    late = int(
        cstack.zendesk.agent_create_ticket(
            subject="Charged twice, late",
            comment={"body": "?"},
            type="incident",
            problem_id=tickets[0],
        )["id"]
    )
    cstack.drain()
    assert links(cstack)[late][0] == key
    with cstack.rt.db.session() as s:
        shown = Snapshot.load(s.scalars(select(Problem)).one().mirrored)
    for spec in MIRRORED_FIELDS:
        wanted = spec.value(shown)
        assert wanted is not None, f"this test gives {spec.mirrors} no value in Jira: extend it"
        for ticket in (tickets[1], late):  # written by the mirror; by the confirmation
            assert field_value(cstack, ticket, spec.key) == wanted, (spec.key, ticket)
            if spec.tags:
                tag = spec.tags.prefix + str(shown[spec.tags.fact])
                assert tag in cstack.zendesk.ticket(ticket)["tags"], (spec.key, ticket)

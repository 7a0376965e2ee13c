"""The field catalog is consistent, and a snapshot from any version loads."""

from __future__ import annotations

from connector.config import ZendeskFields
from connector.fields import FACT_NAMES, FIELD_KEYS, MIRRORED_FIELDS, TICKET_FIELDS, Snapshot
from connector.sync.mirror import material_changes

FULL = {
    "key": "FIN-1",
    "status": "In Progress",
    "category": "indeterminate",
    "resolution": None,
    "expected_fix": "2026-12-24",
    "fix_version": None,
    "solution": "Use the web form",
    "solution_kind": "workaround",
}


def test_every_entry_names_known_facts_and_a_unique_key_and_title() -> None:
    assert len(set(FIELD_KEYS)) == len(TICKET_FIELDS)
    assert len({f.title for f in TICKET_FIELDS}) == len(TICKET_FIELDS)
    for spec in MIRRORED_FIELDS:
        assert spec.mirrors in FACT_NAMES, spec.key
        assert set(spec.material) <= FACT_NAMES, spec.key
        assert spec.tags is None or spec.tags.fact in FACT_NAMES, spec.key
        assert bool(spec.material) == (spec.note is not None), spec.key
    assert set(FULL) == FACT_NAMES


def test_the_config_has_one_field_id_per_catalog_entry() -> None:
    assert tuple(ZendeskFields.model_fields) == FIELD_KEYS
    assert ZendeskFields(solution=7).id_of("solution") == 7


def test_a_stored_snapshot_with_missing_and_extra_keys_loads() -> None:
    old = Snapshot.load({"key": "FIN-1", "status": "To Do", "retired": "x"})
    assert old["status"] == "To Do" and old["solution_kind"] is None
    assert not old.has("solution_kind") and "retired" not in old.as_dict()
    assert not Snapshot.load(None) and not Snapshot.load({})


def test_only_known_facts_that_changed_are_reported() -> None:
    after = Snapshot.load(FULL)
    old = Snapshot.load({"key": "FIN-1", "status": "To Do", "category": "indeterminate"})
    assert material_changes(old, after) == []  # the solution and fix date were unknown
    with_solution = Snapshot.load({**old.as_dict(), "solution": None})
    assert material_changes(with_solution, after) == [
        "Agreed solution (workaround): Use the web form"
    ]
    assert material_changes(after, after) == []
    reopened = Snapshot.load({**FULL, "category": "new", "status": "To Do"})
    assert material_changes(after, reopened) == ["Jira issue FIN-1 is To Do."]

"""The fixture catalogue against the vendors' declared contracts (Zulip's habit).

Fixtures are `tests/fixtures/<vendor>/<event>__<variant>.json`, where `<event>` is the declared
type spelled as a file name: Zendesk `ticket.status_changed` -> `ticket_status_changed`, Jira
`jira:issue_updated` -> `issue_updated`. Every handled type has at least one fixture, every
fixture is a declared type and is classified as its name says. Each fixture is posted through
the full HTTP stack with a real signature in tests/test_webhooks_zendesk.py and
tests/test_webhooks_jira.py, which assert the stored normalised event.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from connector.inbound_model import NormalisedEvent
from connector.jira import webhook as jira_webhook
from connector.zendesk import webhook as zendesk_webhook

FIXTURES = Path(__file__).parent / "fixtures"
CONNECTOR = Path(__file__).parent.parent / "connector"
VENDORS: dict[str, tuple[ModuleType, Callable[[str], str]]] = {
    "zendesk": (zendesk_webhook, lambda event_type: event_type.replace(".", "_")),
    "jira": (jira_webhook, lambda event_type: event_type.removeprefix("jira:")),
}
ALL_FIXTURES = sorted(
    (vendor, path.stem) for vendor in VENDORS for path in (FIXTURES / vendor).glob("*.json")
)


def declared(vendor: str) -> dict[str, str]:
    """File-name spelling -> declared type, handled and ignored."""
    module, spell = VENDORS[vendor]
    return {spell(t): t for t in (*module.HANDLED, *module.IGNORED)}


def normalise(vendor: str, name: str) -> NormalisedEvent:
    module, _ = VENDORS[vendor]
    event: NormalisedEvent = module.normalise((FIXTURES / vendor / f"{name}.json").read_bytes())
    return event


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_every_declared_handled_type_has_at_least_one_fixture(vendor: str) -> None:
    module, spell = VENDORS[vendor]
    events = {path.stem.split("__")[0] for path in (FIXTURES / vendor).glob("*.json")}
    missing = {t for t in module.HANDLED if spell(t) not in events}
    assert not missing, f"{vendor}: no fixture for {sorted(missing)}"


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_handled_and_ignored_are_disjoint_and_each_ignored_type_says_why(vendor: str) -> None:
    module, _ = VENDORS[vendor]
    assert not set(module.HANDLED) & set(module.IGNORED)
    assert all(isinstance(why, str) and why for why in module.IGNORED.values())


@pytest.mark.parametrize(("vendor", "name"), ALL_FIXTURES)
def test_each_fixture_is_a_declared_type_and_classified_as_its_name_says(
    vendor: str, name: str
) -> None:
    event_part, _, variant = name.partition("__")
    assert variant, f"{name}: fixture names are <event>__<variant>"
    declared_type = declared(vendor).get(event_part)
    assert declared_type is not None, f"{name}: not a declared {vendor} type"
    event = normalise(vendor, name)
    assert (event.source, event.event_type) == (vendor, declared_type)
    module, _ = VENDORS[vendor]
    if declared_type in module.HANDLED:
        assert event.disposition == "handled"
        assert event.change is not None and event.subject_id
        assert event.occurred_at is not None  # every fixture says when it happened
    else:
        assert (event.disposition, event.change, event.payload) == ("ignored", None, {})


def test_the_installed_trigger_body_is_a_declared_shape() -> None:
    rendered = zendesk_webhook.TRIGGER_BODY.replace("{{ticket.id}}", "5201")
    rendered = rendered.replace("{{current_user.id}}", "12").replace("{{ticket.status}}", "Open")
    event = zendesk_webhook.normalise(rendered.encode())
    assert (event.disposition, event.event_type) == ("handled", zendesk_webhook.TRIGGER_EVENT)
    assert zendesk_webhook.TRIGGER_EVENT in zendesk_webhook.HANDLED
    assert any(name.startswith("ticket_changed__") for _, name in ALL_FIXTURES)


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_vendor_contract_imports_neither_the_other_vendor_nor_sync_nor_web(vendor: str) -> None:
    other = next(v for v in VENDORS if v != vendor)
    forbidden = (f"connector.{other}", "connector.sync", "connector.web")
    shared = (CONNECTOR / "inbound_model.py", CONNECTOR / "typed_access.py")
    for path in (CONNECTOR / vendor / "webhook.py", *shared):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            bad = [n for n in names if n.startswith(forbidden)]
            assert not bad, f"{path.relative_to(CONNECTOR.parent)} imports {bad}"

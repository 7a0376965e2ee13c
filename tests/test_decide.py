"""Which problem a ticket belongs to, from its signals now and when last seen (pure logic)."""

from __future__ import annotations

from connector.config import load_config
from connector.store.models import LinkVia
from connector.sync.decide import Target, decide
from connector.sync.signals import Signals, parse_jira_key, parse_known_problem, read_signals
from connector.zendesk.models import Ticket

NONE = Signals()


def test_first_signal_in_precedence_order_when_nothing_was_seen_before() -> None:
    now = Signals(incident_of=5, jira_key="FIN-1", rule="shipping:Lost parcels")
    assert decide(now, {}, None, None, False).target == Target(LinkVia.INCIDENT, 5)


def test_the_key_the_connector_wrote_is_a_confirmation_not_a_signal() -> None:
    before = Signals(incident_of=5).as_dict()
    now = Signals(incident_of=5, jira_key="FIN-1")
    assert decide(now, before, LinkVia.INCIDENT, "FIN-1", False).target == Target(
        LinkVia.INCIDENT, 5
    )


def test_a_freshly_pasted_key_moves_the_link() -> None:
    before = Signals(incident_of=5, jira_key="FIN-1").as_dict()
    now = Signals(incident_of=5, jira_key="ENG-9")
    decision = decide(now, before, LinkVia.INCIDENT, "FIN-1", False)
    assert decision.target == Target(LinkVia.JIRA_FIELD, "ENG-9")


def test_choosing_another_known_problem_moves_the_link() -> None:
    before = Signals(known_problem=1, jira_key="FIN-1").as_dict()
    now = Signals(known_problem=2, jira_key="FIN-1")
    assert decide(now, before, LinkVia.KNOWN_PROBLEM, "FIN-1", False).target == Target(
        LinkVia.KNOWN_PROBLEM, 2
    )


def test_clearing_the_signal_that_made_the_link_unlinks() -> None:
    before = Signals(incident_of=5, jira_key="FIN-1").as_dict()
    now = Signals(jira_key="FIN-1")  # the problem link was removed; our confirmation remains
    assert decide(now, before, LinkVia.INCIDENT, "FIN-1", False).target is None


def test_clearing_the_jira_field_unlinks_and_stops_rules_relinking() -> None:
    before = Signals(rule="shipping:Lost parcels", jira_key="SHIP-1").as_dict()
    now = Signals(rule="shipping:Lost parcels")
    decision = decide(now, before, LinkVia.RULE, "SHIP-1", False)
    assert decision.target is None and decision.rule_opt_out is True
    later = decide(now, now.as_dict(), None, None, decision.rule_opt_out)
    assert later.target is None


def test_clearing_the_field_of_an_incident_keeps_the_incident_link() -> None:
    before = Signals(incident_of=5, jira_key="FIN-1").as_dict()
    now = Signals(incident_of=5)
    assert decide(now, before, LinkVia.INCIDENT, "FIN-1", False).target == Target(
        LinkVia.INCIDENT, 5
    )


def test_repeating_the_same_state_is_stable() -> None:
    now = Signals(known_problem=3, jira_key="DOC-2")
    first = decide(now, {}, None, None, False)
    assert first.target == Target(LinkVia.KNOWN_PROBLEM, 3)
    assert decide(now, now.as_dict(), LinkVia.KNOWN_PROBLEM, "DOC-2", False) == first
    assert decide(NONE, {}, None, None, False).target is None


def test_parsing_field_values() -> None:
    assert parse_jira_key(" fin-12 ") == "FIN-12"
    assert parse_jira_key("https://acme.atlassian.net/browse/ENG-7") == "ENG-7"
    assert parse_jira_key("not a key") is None
    assert parse_known_problem("zdjira_problem_42") == 42
    assert parse_known_problem("something_else") is None


def test_read_signals_from_a_ticket() -> None:
    config = load_config()
    config.zendesk.fields.owning_team = 1
    config.zendesk.fields.jira_issue = 2
    problem = Ticket(id=10, type="problem", custom_fields={1: "billing"})
    assert read_signals(problem, config).problem_team == "billing"
    unknown_team = Ticket(id=11, type="problem", custom_fields={1: "marketing"})
    assert read_signals(unknown_team, config).problem_team is None
    incident = Ticket(id=12, type="incident", problem_id=10, tags=["parcel_lost"])
    signals = read_signals(incident, config)
    assert (signals.incident_of, signals.rule) == (10, "shipping:Lost parcels")

"""The demo's summary explains its numbers: workaround replies, and tickets beyond `--tickets`."""

from __future__ import annotations

from rich.console import Console

from connector.demo.run import _table
from connector.demo.summary import Summary


def rendered(summary: Summary) -> str:
    console = Console(record=True, width=200)
    console.print(_table(summary))
    return " ".join(console.export_text().split())


def summary(**changes: object) -> Summary:
    values: dict[str, object] = {
        "problems": 4,
        "tickets": 60,
        "linked": 60,
        "replies_sent": 75,
        "workaround_replies": 15,
        "followups": 3,
        "duplicate_replies": 0,
        "unanswered": 0,
        "jira_issues": 4,
        "jira_calls": 100,
        "zendesk_calls": 200,
        "tickets_asked": 60,
    }
    return Summary(**(values | changes))  # type: ignore[arg-type]


def test_the_workaround_replies_are_counted_apart() -> None:
    text = rendered(summary())
    assert "public replies sent │ 75" in text
    assert "of them, workarounds sent before the fix │ 15" in text
    assert "asked for" not in text


def test_more_tickets_than_asked_is_explained() -> None:
    text = rendered(summary(tickets=21, linked=21, tickets_asked=10))
    assert "customer tickets │ 21 (asked for 10: the six stories need at least 21)" in text

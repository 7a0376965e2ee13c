"""Rendering replies: connector variables filled, Zendesk placeholders untouched, no guesses."""

from __future__ import annotations

from datetime import date

from connector.config import Config, Replies, ReplyTemplate, Team
from connector.sync.replies.templates import Facts, render, reply_tag, uses_solution


def config(**templates: ReplyTemplate | None) -> Config:
    return Config(
        teams={"billing": Team(jira_project="FIN")},
        outcomes={outcome: outcome for outcome in templates},
        replies=Replies(templates=templates),
    )


def facts(**kw: object) -> Facts:
    values: dict[str, object] = {
        "problem_id": 7,
        "issue_key": "FIN-3",
        "outcome": "fixed",
        "solution": "  Refunded.  ",
        "fix_version": "2.4",
        "due_date": date(2026, 12, 1),
    }
    return Facts(**(values | kw))  # type: ignore[arg-type]


def test_variables_are_filled_and_zendesk_placeholders_left_for_zendesk() -> None:
    body = (
        "Hi {{ticket.requester.first_name}} {{dc.thanks}}: "
        "${issue_key} ${fix_version} ${due_date} ${solution} $$5"
    )
    rendered = render(config(fixed=ReplyTemplate(status="pending", body=body)), facts())
    assert rendered.body == (
        "Hi {{ticket.requester.first_name}} {{dc.thanks}}: FIN-3 2.4 2026-12-01 Refunded. $5"
    )
    assert (rendered.public, rendered.status, rendered.tag) == (
        True,
        "pending",
        "zdjira_reply_7_fixed",
    )


def test_null_template_is_an_internal_note_and_a_missing_one_says_so() -> None:
    note = render(config(fixed=None), facts())
    assert not note.public and note.status is None
    assert "No customer reply is configured" in note.body and "Refunded." in note.body
    missing = render(config(), facts(outcome="other"))
    assert not missing.public and "no reply template" in missing.body


def test_only_templates_quoting_the_solution_need_it() -> None:
    assert uses_solution(ReplyTemplate(body="Fixed: ${solution}"))
    assert not uses_solution(ReplyTemplate(body="Fixed in ${fix_version}"))
    assert not uses_solution(None)


def test_reply_tags_are_valid_zendesk_tags() -> None:
    assert reply_tag(12, "Won't Do") == "zdjira_reply_12_won_t_do"
    assert reply_tag(12, "Won't Do", public=False) == "zdjira_note_12_won_t_do"

"""What the dashboard tells an admin is true, read in a real browser (Playwright driving Debian's
chromium) over the whole stack: the sandboxes, the connector's web app and its worker.

Three problems: a resolved one whose customers got a workaround and then the fix (two replies
each, one per outcome), a resolved one whose reply waits for approval, and an open one. The page
must show people and organisations by name, never as ids; timeline entries in words; counts
that add up to the tickets; and an approve button that says how many tickets get the reply.
A screenshot of each problem page is kept in the test's tmp dir (and copied to
/tmp/dashboard-*.png) to be looked at.

Skips when chromium is absent, except under CI=true (see test_dashboard_browser.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from test_dashboard_browser import VIEWPORT, browser  # noqa: F401  (the module's browser)

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack
from connector.fields import team_option
from connector.ops.approve import approve
from connector.store.models import Link, Problem

ADMIN_TOKEN = "dashboard-truth-admin-token-0123456789"
SOLUTION, KIND = "customfield_10050", "customfield_10051"
FAST = {
    "CONNECTOR_REPLIES_CLAIM_TIMEOUT": "3",
    "CONNECTOR_REPLIES_POLL_MIN": "0.02",
    "CONNECTOR_REPLIES_POLL_MAX": "0.3",
}
RAW_ID = re.compile(r"\b36\d{10}\b|agent:\d+")  # the sandboxes' user and organisation ids


def config_text() -> str:
    data = yaml.safe_load(embedded_defaults_text())
    data["impact_debounce_seconds"] = 0
    data["mirror_debounce_seconds"] = 0
    data["jira"] = {**data["jira"], "solution_field": SOLUTION, "solution_kind_field": KIND}
    data["replies"] = {**data["replies"], "require_approval": True, "send_workaround": True}
    return str(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAST.items():
            patch.setenv(name, value)
        stack = LocalStack(
            tmp_path_factory.mktemp("truth"),
            config_text=config_text(),
            settings={"admin_token": ADMIN_TOKEN},
        ).start()
        try:
            yield build(stack)
        finally:
            stack.stop()


def build(stack: LocalStack) -> dict[str, Any]:
    zd, fields = stack.zendesk, stack.fields
    acme = zd.create_organization("Acme Corp")["id"]
    globex = zd.create_organization("Globex")["id"]
    dana = zd.create_user("Dana Scully", "dana@example.com", "end-user", acme)["id"]
    fox = zd.create_user("Fox Mulder", "fox@example.com", "end-user", globex)["id"]
    walter = zd.create_user("Walter Skinner", "walter@example.com", "end-user", acme)["id"]

    def ticket(subject: str, requester: int, **extra: Any) -> int:
        body = {"body": "Please help"}
        return int(
            zd.agent_create_ticket(subject=subject, comment=body, requester_id=requester, **extra)[
                "id"
            ]
        )

    # A: lost parcels (a rule links them); a workaround first, then the fix.
    parcels = [
        ticket(f"Parcel {n} never arrived", who, tags=["parcel_lost"])
        for n, who in enumerate((dana, fox, walter))
    ]
    # B: double charge, a problem ticket and its incidents; its reply will wait for approval.
    charge = int(
        zd.agent_create_ticket(
            subject="Double charge on November invoices",
            comment={"body": "Many customers were charged twice"},
            type="problem",
            custom_fields=[{"id": fields.owning_team, "value": team_option("billing")}],
        )["id"]
    )
    stack.drain()
    incidents = [
        ticket("Charged twice", who, type="incident", problem_id=charge) for who in (dana, fox)
    ]
    # C: stays open.
    guide = int(
        zd.agent_create_ticket(
            subject="Setup guide step 4 is wrong",
            comment={"body": "Step 4 names the wrong menu"},
            type="problem",
            custom_fields=[{"id": fields.owning_team, "value": team_option("docs")}],
        )["id"]
    )
    stack.drain()
    ids = problem_ids(stack)
    a, b, c = ids[parcels[0]], ids[charge], ids[guide]
    key_a, key_b = jira_key(stack, a), jira_key(stack, b)

    stack.jira.human_update(key_a, **{SOLUTION: "Collect it at the depot.", KIND: "workaround"})
    stack.drain()
    approve(stack.rt, a, actor="dashboard")  # the workaround
    stack.drain()
    stack.jira.human_update(key_a, **{SOLUTION: "Found; it is on its way.", KIND: "fix"})
    stack.jira.human_transition(key_a, "Done", resolution="Fixed")
    stack.drain()
    approve(stack.rt, a, actor="dashboard")  # the fix
    stack.drain()
    stack.jira.human_update(key_b, **{SOLUTION: "The second charge was refunded."})
    stack.jira.human_transition(key_b, "Done", resolution="Fixed")
    stack.drain()
    return {
        "stack": stack,
        "url": stack.rt.settings.public_url,
        "a": a,
        "b": b,
        "c": c,
        "parcels": parcels,
        "charge_tickets": [charge, *incidents],
    }


def problem_ids(stack: LocalStack) -> dict[int, int]:
    with stack.rt.db.session() as s:
        return {t: p for t, p in s.execute(select(Link.ticket_id, Link.problem_id))}


def jira_key(stack: LocalStack, problem_id: int) -> str:
    with stack.rt.db.session() as s:
        key = s.get(Problem, problem_id).jira_key  # type: ignore[union-attr]
    assert key is not None
    return str(key)


@pytest.fixture
def page(browser: Any, world: dict[str, Any]) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.goto(f"{world['url']}/?token={ADMIN_TOKEN}")
    tab.wait_for_selector("#problems")
    yield tab
    context.close()


def text_of(page: Any, selector: str = "main") -> str:
    """What a reader sees there, on one line."""
    return " ".join(str(page.locator(selector).inner_text()).split())


def keep(page: Any, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / f"dashboard-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copy(shot, f"/tmp/dashboard-{name}.png")
    return shot


def test_lists_count_what_they_say(page: Any, world: dict[str, Any], tmp_path: Path) -> None:
    opened = text_of(page, "#problems")
    assert "Setup guide step 4 is wrong" in opened
    assert "Parcels" not in opened and "Double charge" not in opened  # resolved
    page.click("text=Resolved")
    page.wait_for_selector("#resolved")
    keep(page, tmp_path, "resolved-list")
    rows = {
        r.inner_text().split("\t")[1]: r.inner_text().strip()
        for r in page.locator("#resolved tbody tr").all()
    }
    [parcels] = [row for title, row in rows.items() if "Lost parcels" in title]
    # three tickets, each answered once with the fix: not 6 / 6 (the workaround is apart)
    assert re.search(r"\t3\t.*\t3 / 3$", parcels), parcels
    [charge] = [row for title, row in rows.items() if "Double charge" in title]
    assert re.search(r"\t3\t.*\theld 0 / 3$", charge), charge  # waits for approval


def test_a_resolved_problem_reads_in_names_words_and_counts_that_add_up(
    page: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    page.goto(f"{world['url']}/problems/{world['a']}")
    page.wait_for_selector("#problem-title")
    keep(page, tmp_path, "resolved")
    text = text_of(page)
    assert not RAW_ID.findall(text), RAW_ID.findall(text)
    tickets = text_of(page, "#tickets")
    for name in ("Dana Scully", "Fox Mulder", "Walter Skinner", "Acme Corp", "Globex"):
        assert name in tickets, name
    assert "2 (Acme Corp, Globex)" in text_of(page, "#organizations")
    assert "3 of 3 tickets answered with the fixed reply" in text_of(page, "#replies")
    assert page.locator("#reply-progress").get_attribute("max") == "3"
    assert page.locator("#approve").count() == 0 and page.locator("#approved").count() == 1
    facts = text_of(page, ".facts")
    assert "Open for" in facts and "Age" not in facts
    timeline = text_of(page, "#timeline")
    for words in (
        "Issue resolved by Jira: resolution Fixed, outcome fixed",
        "Replies approved by an admin (dashboard): the fixed reply",
        "Replies approved by an admin (dashboard): the workaround reply",
        "Ticket linked",
    ):
        assert words in timeline, words
    for internal in ("mirror.note", "replies.approved", "problem.created", "known_problem"):
        assert internal not in timeline, internal


def test_a_held_reply_says_who_gets_it_and_the_button_counts_them(
    page: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    """Double charge: two customers' incidents get the reply; the problem ticket, which an agent
    opened, gets an internal note (as the fan-out decides from its requester's role)."""
    stack: LocalStack = world["stack"]
    page.goto(f"{world['url']}/problems/{world['b']}")
    page.wait_for_selector("#problem-title")
    keep(page, tmp_path, "held")
    replies = text_of(page, "#replies")
    assert "held: waiting for approval" in replies
    assert (
        "2 tickets would get this reply; the problem ticket, an agent's, would get an internal"
        " note." in replies
    )
    assert page.locator("#approve").inner_text() == "Approve the reply to 2 tickets"
    linked = text_of(page, "#tickets")
    assert "Dana Scully" in linked and "Fox Mulder" in linked
    agent = stack.zendesk.state.users[stack.zendesk.agent_user_id]["name"]
    assert f"by {agent}" in text_of(page, "#timeline")  # who made it a problem ticket
    assert not RAW_ID.findall(text_of(page)), RAW_ID.findall(text_of(page))

    page.click("#approve")
    page.wait_for_selector("#approved")
    flash = text_of(page, ".flash")
    assert flash == (
        "Approved: the reply goes to 2 tickets and the problem ticket gets an internal note."
    )
    assert page.locator("#approve").count() == 0

    stack.drain()  # what the page promised is what the customers got
    problem_ticket, *incidents = world["charge_tickets"]
    for ticket in incidents:
        public = [c for c in stack.zendesk.comments(ticket) if c["public"]][1:]  # not its own
        assert len(public) == 1 and "fixed" in public[0]["body"], public
    assert [c["public"] for c in stack.zendesk.comments(problem_ticket)][1:].count(True) == 0
    page.reload()
    assert "3 of 3 tickets answered with the fixed reply" in text_of(page, "#replies")

"""The sidebar app in a real browser (Playwright driving Debian's chromium) on the Zendesk
sandbox's ticket page: Zendesk's signed first request, the ZAF SDK's messages, the connector's
reads and queued actions, and what an agent reads. One stack and one browser for the module.

Screenshots go to CONNECTOR_SCREENSHOTS (a directory) when set, else to a temporary one.
Skips when /usr/bin/chromium is absent, except under CI=true where that is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.demo.stack import LocalStack
from connector.ops import sidebar as views
from tests.e2e.conftest import NO_REPLIES, config_with
from tests.e2e.test_linking import field_value, links, problem_ticket
from tests.test_dashboard_browser import browser  # noqa: F401  (chromium, one per module)
from tests.waiting import wait_until

APP = "iframe[title='Problems in Jira']"
XSS_SUBJECT = 'Double charge <img src=x onerror="window.top.__xss=1"> on invoices'
WORKAROUND = "Refund the second charge, then <b>reissue</b> the invoice."


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    text = config_with(
        impact_debounce_seconds=0,
        mirror_debounce_seconds=0,
        jira={"solution_field": "customfield_10050", "solution_kind_field": "customfield_10051"},
        replies={"templates": NO_REPLIES},
        suggestions={"enabled": True},  # the real engine suggests on unlinked tickets
    )
    s = LocalStack(tmp_path_factory.mktemp("sidebar"), config_text=text).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("CONNECTOR_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def billing(stack: LocalStack) -> dict[str, Any]:
    """A billing problem (its Jira issue has an agreed workaround) and an incident of it."""
    pid = problem_ticket(stack, subject=XSS_SUBJECT)
    requester = stack.zendesk.create_user("Jane Customer", "jane@example.com")["id"]
    incident = stack.zendesk.agent_create_ticket(
        subject="I was charged twice",
        comment={"body": "<script>window.top.__xss=2</script> please refund"},
        type="incident",
        problem_id=pid,
        requester_id=requester,
    )["id"]
    stack.drain()
    key = links(stack)[pid][0]
    assert key is not None
    stack.jira.human_update(key, customfield_10050=WORKAROUND, customfield_10051="Workaround")
    stack.jira.human_transition(key, "In Progress")
    stack.drain()
    return {"problem_ticket": pid, "incident": int(incident), "key": key}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


def open_ticket(
    stack: LocalStack, page: Any, ticket_id: int, user: str = "agent@example.com"
) -> Any:
    answer = page.goto(f"{stack.zendesk.url}/agent/tickets/{ticket_id}?user={user}")
    assert answer is not None
    return answer


def app_frame(page: Any) -> Any:
    return page.frame_locator(APP)


def settle(stack: LocalStack, page: Any, selector: str, what: str, text: str | None = None) -> Any:
    """Run the worker until the app shows `selector` (holding `text`): never a fixed sleep."""
    frame = app_frame(page)

    def shown() -> bool:
        stack.drain()
        # Never a waiting call here: the app re-renders while it polls, and an element seen a
        # moment ago may be gone (all_inner_texts reads what is there now).
        texts = frame.locator(selector).all_inner_texts()
        return bool(texts) and (text is None or any(text in t for t in texts))

    wait_until(shown, 60, what, every=0.1)
    return frame


ZAF_REQUEST = """(url) => new Promise((resolve) => {
    const client = window.ZAFClient.init();  // the SDK as the app loaded it
    client.request(url).then(
        (data) => resolve(["done", data]),
        (xhr) => resolve(["fail", xhr.status]),
    );
})"""


def app_window(page: Any) -> Any:
    return next(f for f in page.frames if "/app/sidebar" in f.url)


def app_text(page: Any) -> str:
    return str(app_frame(page).locator("body").inner_text())


def no_raw_ids(text: str) -> None:
    """No Zendesk or connector id reaches the agent: no long numbers (user and organisation
    ids), no `#12` or `ticket 12` (ticket ids), no `problem 3`."""
    assert not re.search(r"\d{6,}", text), text
    assert not re.search(r"#\d|ticket \d|problem \d", text, re.IGNORECASE), text


def test_a_linked_ticket_shows_its_problem_and_the_workaround_goes_into_the_reply(
    stack: LocalStack, page: Any, billing: dict[str, Any], shots: Path
) -> None:
    assert open_ticket(stack, page, billing["incident"]).status == 200
    frame = settle(stack, page, "#jira-key", "the linked problem")
    key = billing["key"]
    assert frame.locator("#jira-key").inner_text() == key
    assert frame.locator("#jira-key").get_attribute("href") == f"{stack.jira.url}/browse/{key}"
    assert frame.locator("#summary").inner_text() == XSS_SUBJECT  # text, not markup
    assert frame.locator("#summary img").count() == 0
    assert frame.locator("#jira-status").inner_text() == "In Progress"
    assert frame.locator("#solution").inner_text() == WORKAROUND
    text = app_text(page)
    assert "agreed workaround" in text.lower() and "Finance" in text
    assert "2 tickets, 0 organisations" in text
    assert "Ticket from Jane Customer" in text and "Signed in as Alex Agent" in text
    assert "through an incident of the problem ticket" in text
    no_raw_ids(text)
    assert page.evaluate("window.__xss") is None
    frame.locator("#insert").click()
    wait_until(lambda: page.locator("#comment-box").input_value() == WORKAROUND, 10, "the insert")
    page.screenshot(path=str(shots / "sidebar-linked.png"))
    # `client.request` through the host page runs as the agent viewing it.
    outcome, me = app_window(page).evaluate(ZAF_REQUEST, "/api/v2/users/me.json")
    assert outcome == "done" and me["user"]["name"] == "Alex Agent"


def test_an_unlinked_ticket_shows_a_suggestion_and_links_it_in_one_click(
    stack: LocalStack, page: Any, billing: dict[str, Any], shots: Path
) -> None:
    ticket = stack.zendesk.agent_create_ticket(
        subject="I was charged twice for one order", comment={"body": "please refund me"}
    )
    stack.drain()  # the worker suggests: the suggestion engine, no stand-in
    with stack.rt.db.session() as session:
        [suggestion] = views.suggested_problems(session, ticket["id"], 0.5)
    assert suggestion.key == billing["key"]
    open_ticket(stack, page, ticket["id"])
    frame = settle(stack, page, "#suggestions", "the suggestions")
    shown = frame.locator("#suggestions").inner_text()
    assert f"{int(suggestion.confidence * 20) * 5}% match" in shown and billing["key"] in shown
    page.screenshot(path=str(shots / "sidebar-suggestion.png"))
    frame.locator("#suggestions button").first.click()
    settle(stack, page, "#outcome", "the link", f"Linked to {billing['key']}.")
    assert field_value(stack, ticket["id"], "jira_issue") == billing["key"]
    assert links(stack)[ticket["id"]][0] == billing["key"]
    assert stack.jira.properties(billing["key"])["zendesk.impact"]["tickets"] == 3
    text = app_text(page)
    assert "Linked by Alex Agent through the Jira issue field." in text
    no_raw_ids(text)


def test_create_a_problem_then_move_and_unlink_from_the_app(
    stack: LocalStack, page: Any, billing: dict[str, Any], shots: Path
) -> None:
    ticket = stack.zendesk.agent_create_ticket(
        subject="Setup guide step 4 is wrong", comment={"body": "?"}
    )
    stack.drain()
    open_ticket(stack, page, ticket["id"])
    frame = settle(stack, page, "#create", "the unlinked view")
    frame.locator("#team").select_option(label="Documentation")
    frame.locator("#create").click()
    settle(stack, page, "#outcome", "the creation", "Created DOC-")
    doc_key = links(stack)[ticket["id"]][0]
    assert doc_key is not None and doc_key.startswith("DOC-")
    assert stack.jira.issue(doc_key)["fields"]["summary"] == "Setup guide step 4 is wrong"
    assert field_value(stack, ticket["id"], "jira_issue") == doc_key

    frame.locator("#search").fill(billing["key"])
    wait_until(lambda: frame.locator("#search-results button").count() == 1, 10, "the search")
    frame.locator("#search-results button").click()
    settle(stack, page, "#outcome", "the move", f"Moved to {billing['key']}.")
    assert field_value(stack, ticket["id"], "jira_issue") == billing["key"]
    page.screenshot(path=str(shots / "sidebar-moved.png"))

    frame.locator("#unlink").click()
    settle(stack, page, "#outcome", "the unlink", f"Unlinked from {billing['key']}.")
    assert ticket["id"] not in links(stack)
    assert field_value(stack, ticket["id"], "jira_issue") is None
    assert "Not linked to a problem" in app_text(page)


def test_a_ticket_the_agent_may_not_see_shows_nothing(
    stack: LocalStack, page: Any, billing: dict[str, Any], shots: Path
) -> None:
    riley = "riley@example.com"
    assert open_ticket(stack, page, billing["incident"], riley).status == 403
    assert page.locator(APP).count() == 0
    page.screenshot(path=str(shots / "sidebar-forbidden.png"))
    own = stack.zendesk.agent_create_ticket(
        subject="Assigned to Riley",
        comment={"body": "?"},
        assignee_id=stack.zendesk.restricted_user_id,
    )
    stack.drain()
    open_ticket(stack, page, own["id"], riley)
    settle(stack, page, "#create", "Riley's own ticket")
    # From inside the app, with Riley's own session: the connector refuses the hidden ticket.
    inner = next(
        f for f in page.frames if f.url.endswith("/app/sidebar") or "/app/sidebar?" in f.url
    )
    ask = """async (id) => {
        const token = document.querySelector('meta[name="connector-session"]').content;
        const headers = {Authorization: 'Bearer ' + token};
        const r = await fetch('/app/api/tickets/' + id, {headers});
        return [r.status, await r.text()];
    }"""
    statuses: list[int] = []

    def refused() -> bool:
        stack.drain()
        status, body = inner.evaluate(ask, billing["incident"])
        statuses.append(status)
        return bool(status == 403 and billing["key"] not in body)

    wait_until(refused, 60, "the refusal", every=0.2)
    assert statuses[0] == 202  # checked with Zendesk first, by the worker
    # And Zendesk itself refuses her the ticket through the SDK's request.
    hidden = f"/api/v2/tickets/{billing['incident']}.json"
    assert inner.evaluate(ZAF_REQUEST, hidden) == ["fail", 403]


def test_a_site_other_than_the_zendesk_account_cannot_frame_the_app(
    stack: LocalStack, page: Any, billing: dict[str, Any]
) -> None:
    from flask import Flask

    from connector_sandboxes.server import BackgroundServer

    connector = str(stack.rt.settings.public_url).rstrip("/")
    other = Flask("another-local-site")  # a real local origin, so only the CSP can refuse it
    other.add_url_rule(
        "/", "frame", lambda: f'<iframe id="victim" src="{connector}/app/sidebar"></iframe>'
    )
    server = BackgroundServer(other)
    try:
        page.goto(server.start() + "/")
        wait_until(lambda: page.frames[-1].url not in ("", "about:blank"), 10, "navigation")
        body = page.frame_locator("#victim").locator("body")
        wait_until(lambda: body.count() == 1, 10, "the frame's body")
        assert page.frames[-1].url.startswith("chrome-error"), page.frames[-1].url
        assert "Open this app" not in body.inner_text()
    finally:
        server.stop()
    # The Zendesk account's own page does frame it: the other tests open the app in the
    # sandbox's ticket page, whose origin is the connector's CONNECTOR_ZENDESK_URL.

"""The dashboard over HTTP (Flask test client): login, cookie, pages, approve with CSRF."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from ops_fixtures import ADMIN_TOKEN, JIRA_URL, ZENDESK_URL, require_approval, seed_held
from sqlalchemy import select

from connector.bootstrap import WorkerContext as Runtime
from connector.store.models import AuditEntry, Reply, ReplyState
from connector.store.reply_models import ReplyRun


def logged_in(client: FlaskClient) -> FlaskClient:
    assert client.get(f"/?token={ADMIN_TOKEN}").status_code == 303
    return client


def test_query_token_login_sets_a_strict_httponly_cookie_and_drops_the_token(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    response = client.get(f"/resolved?team=shipping&token={ADMIN_TOKEN}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/resolved?team=shipping"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("connector_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ADMIN_TOKEN not in cookie
    page = client.get("/resolved?team=shipping")
    assert page.status_code == 200 and "Parcels stuck in Leipzig hub" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_wrong_or_missing_token_never_shows_data(client: FlaskClient, ids: dict[str, int]) -> None:
    anonymous = client.get("/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    wrong = client.get("/?token=guess")
    assert wrong.status_code == 401 and "Double charge" not in wrong.get_data(as_text=True)
    form = client.post("/login", data={"token": "guess"})
    assert form.status_code == 401 and "not valid" in form.get_data(as_text=True)
    assert client.get(f"/problems/{ids['big']}").status_code == 302
    bearer = client.get("/", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert bearer.status_code == 200


def test_login_form_redirects_only_to_local_pages(client: FlaskClient, ids: dict[str, int]) -> None:
    ok = client.post("/login", data={"token": ADMIN_TOKEN, "next": f"/problems/{ids['big']}"})
    assert ok.headers["Location"] == f"/problems/{ids['big']}"
    evils = (
        "https://evil.example.com/",
        "//evil.example.com",
        "/\\evil.example.com",
        "/\t/evil.example.com",  # browsers drop the tab: //evil.example.com
        "/%09/evil.example.com",
        "/\r\nSet-Cookie: x=1",
        "/ /evil.example.com",
    )
    for evil in evils:
        response = client.post("/login", data={"token": ADMIN_TOKEN, "next": evil})
        assert response.status_code == 303, evil
        assert response.headers["Location"] == "/", evil
    query = client.get("/login?next=/%09/evil.example.com")
    assert query.status_code == 200 and 'value="/"' in query.get_data(as_text=True)


def test_ids_past_the_schema_and_odd_tokens_are_refused_not_500(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    logged_in(client)
    for path in ("/problems/99999999999999999999", "/problems/2147483648"):
        assert client.get(path).status_code == 404, path
        assert client.post(path + "/approve", data={"csrf_token": "x"}).status_code == 404
    forged = client.post(f"/problems/{ids['done']}/approve", data={"csrf_token": "jeton-\u00e9"})
    assert forged.status_code == 400


def test_open_problems_by_impact_with_overdue_marked(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    html = logged_in(client).get("/").get_data(as_text=True)
    order = [m.group(1) for m in re.finditer(r'data-problem="(\d+)"', html)]
    assert order == [str(ids["big"]), str(ids["middle"]), str(ids["small"])]
    assert f'href="{JIRA_URL}/browse/FIN-7"' in html
    rows = html.split("<tr")
    [overdue] = [r for r in rows if 'class="overdue"' in r]
    assert "FIN-7" in overdue and "overdue</span>" in overdue
    assert "Deleted one" not in html and "Parcels stuck" not in html
    assert ">9d " in html  # age of the oldest open problem


def test_problem_page_shows_tickets_timeline_and_reply_failures(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    logged_in(client)
    big = client.get(f"/problems/{ids['big']}").get_data(as_text=True)
    assert f'href="{ZENDESK_URL}/agent/tickets/101"' in big
    assert big.count('<strong title="link">Ticket linked</strong>') == 2
    done = client.get(f"/problems/{ids['done']}").get_data(as_text=True)
    assert 'max="3" value="2"' in done  # 2 of 3 replies done
    assert "2 of 3 tickets answered with the fixed reply" in done
    assert "HTTP 422 on PUT /api/v2/tickets/203.json" in done
    assert client.get("/problems/999999").status_code == 404


def visible(html: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes."""
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([:,.)])", r"\1", spaced)


def test_people_and_organisations_are_shown_by_name(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    logged_in(client)
    text = visible(client.get(f"/problems/{ids['big']}").get_data(as_text=True))
    assert "Dana Scully" in text and "Fox Mulder" in text
    assert "user 903" in text  # a requester whose name the worker has not read yet
    assert "Acme Corp" in text and "Globex" in text and "(Acme Corp, Globex)" in text
    assert "by Jane Agent" in text
    for raw in ("agent:7", "501", "502", "901", "902"):
        assert raw not in text, raw


def test_the_timeline_speaks_in_words(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    with rt.db.session() as s:
        for action, actor, detail in (
            ("mirror.note", "jira", {"note": "Jira status: In Progress", "tickets": 3}),
            ("resolved", "jira", {"resolution": "Done", "outcome": "fixed"}),
            ("replies.approved", "dashboard", {"outcome": "fixed"}),
            ("link", "agent:4242", {"via": "known_problem"}),
            ("something.new_here", None, {"count": 2}),
        ):
            s.add(AuditEntry(problem_id=ids["done"], action=action, actor=actor, detail=detail))
    logged_in(client)
    text = visible(client.get(f"/problems/{ids['done']}").get_data(as_text=True))
    note = "Note added to the linked tickets by Jira: 3 tickets, saying \u201cJira status: In"
    assert note in text
    assert "Issue resolved by Jira: resolution Done, outcome fixed" in text
    assert "Replies approved by an admin (dashboard): the fixed reply" in text
    assert "Ticket linked by agent 4242: the Known problem field" in text  # name not read yet
    assert "Something new here: count 2" in text
    for internal in ("mirror.note", "replies.approved", "known_problem", "agent:4242"):
        assert internal not in text, internal


def test_reply_counts_are_the_current_outcomes_one_per_ticket(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    """A workaround went to SHIP-2's three tickets before the fix: their rows are another
    outcome's, so the fix's delivery still reads 2 of 3, not 5 of 6."""
    with rt.db.session() as s:
        for ticket in (201, 202, 203):
            s.add(
                Reply(
                    problem_id=ids["done"],
                    ticket_id=ticket,
                    outcome="workaround",
                    state=ReplyState.SENT,
                )
            )
    logged_in(client)
    row = next(
        r for r in client.get("/resolved").get_data(as_text=True).split("<tr") if "SHIP-2" in r
    )
    assert "2 / 3" in row and "5 / 6" not in row
    page = client.get(f"/problems/{ids['done']}").get_data(as_text=True)
    assert 'max="3" value="2"' in page and "2 of 3 tickets answered" in page


def test_the_resolved_list_marks_a_held_reply_and_counts_the_tickets_it_waits_for(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    require_approval(rt)
    held = seed_held(rt)
    logged_in(client)
    client.get(f"/problems/{held}")  # as the fan-out does on resolution, finds it held
    rows = client.get("/resolved").get_data(as_text=True).split("<tr")
    row = visible(next(r for r in rows if "FIN-9" in r))
    assert "held 1 / 5" in row  # one of five answered, the others wait for approval


def test_age_stops_counting_when_the_issue_resolves(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    held = seed_held(rt)  # first linked 3 days ago, resolved an hour ago
    logged_in(client)
    page = client.get(f"/problems/{held}").get_data(as_text=True)
    assert re.search(r"<dt>Open for</dt><dd id=\"age\"[^>]*>2d 23h</dd>", page), page
    assert "<dt>Age</dt>" not in page
    big = client.get(f"/problems/{ids['big']}").get_data(as_text=True)
    assert re.search(r"<dt>Age</dt><dd id=\"age\"[^>]*>9d 0h</dd>", big)


def test_resolved_page_shows_time_to_resolution_and_replies_sent(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    html = logged_in(client).get("/resolved").get_data(as_text=True)
    row = next(r for r in html.split("<tr") if "SHIP-2" in r)
    assert "4d 0h" in row and "2 / 3" in row and "1 failed" in row


def audit_actions(rt: Runtime, problem_id: int) -> list[str]:
    with rt.db.session() as s:
        query = select(AuditEntry.action).where(AuditEntry.problem_id == problem_id)
        return list(s.scalars(query))


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_approve_needs_the_session_csrf_token(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    require_approval(rt)
    held = seed_held(rt)
    logged_in(client)
    url = f"/problems/{held}/approve"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 400
    assert audit_actions(rt, held) == []
    page = client.get(f"/problems/{held}").get_data(as_text=True)
    done = client.post(url, data={"csrf_token": csrf_of(page)})
    assert done.status_code == 303
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Approved: the reply goes to 4 tickets." in after
    assert 'id="approved"' in after and 'id="approve"' not in after
    assert audit_actions(rt, held) == ["replies.approved"]
    with rt.db.session() as s:
        run = s.scalars(select(ReplyRun).where(ReplyRun.problem_id == held)).one()
        assert run.approved and run.approved_by == "dashboard"


def test_the_approve_button_counts_the_tickets_owed_and_shows_only_when_held(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    held = seed_held(rt)
    logged_in(client)
    sending = client.get(f"/problems/{held}").get_data(as_text=True)
    assert 'id="approve"' not in sending  # not held: it is being sent without approval
    assert "4 tickets get this reply (1 of them on a follow-up ticket: theirs is closed)." in (
        sending
    )
    require_approval(rt)
    page = client.get(f"/problems/{held}").get_data(as_text=True)
    assert ">Approve the reply to 4 tickets</button>" in page
    assert "4 tickets would get this reply" in page and "held: waiting for approval" in page
    for answered in (ids["done"], ids["middle"]):  # all answered; not resolved
        assert 'id="approve"' not in client.get(f"/problems/{answered}").get_data(as_text=True)


def test_an_agents_problem_ticket_is_counted_as_a_note_not_a_reply(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    """Ticket 301 is the problem ticket; its requester (user 7) is an agent, as the worker read
    with the tickets: the fan-out will give it an internal note, so three customers, not four,
    get the reply."""
    from connector.store import names
    from connector.store.models import Link, Problem

    require_approval(rt)
    held = seed_held(rt)
    with rt.db.session() as s:
        s.get(Problem, held).zendesk_problem_ticket_id = 301  # type: ignore[union-attr]
        s.get(Link, 301).requester_id = 7  # type: ignore[union-attr]
    logged_in(client)
    names.remember(rt.db, {7: "Jane Agent"}, {}, {7: "end-user"})
    page = visible(client.get(f"/problems/{held}").get_data(as_text=True))
    assert "Approve the reply to 4 tickets" in page  # an end user reported it: a reply
    names.remember(rt.db, {7: "Jane Agent"}, {}, {7: "agent"})
    page = visible(client.get(f"/problems/{held}").get_data(as_text=True))
    assert "Approve the reply to 3 tickets" in page
    assert (
        "3 tickets would get this reply (1 of them on a follow-up ticket: theirs is closed); the"
        " problem ticket, an agent's, would get an internal note." in page
    )
    answer = client.post(
        f"/problems/{held}/approve", data={"csrf_token": csrf_of(page_html(client, held))}
    )
    after = visible(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert (
        "Approved: the reply goes to 3 tickets and the problem ticket gets an internal note."
        in after
    )


def page_html(client: FlaskClient, problem_id: int) -> str:
    return client.get(f"/problems/{problem_id}").get_data(as_text=True)


def test_approving_a_problem_whose_tickets_are_all_answered_changes_nothing(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    require_approval(rt)
    logged_in(client)
    page = client.get(f"/problems/{ids['done']}").get_data(as_text=True)
    answer = client.post(f"/problems/{ids['done']}/approve", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Nothing to approve: no ticket is owed the fixed reply: 2 already answered" in after
    assert 'id="approved"' not in after and 'id="approve"' not in after
    assert audit_actions(rt, ids["done"]) == []


def test_logout_ends_the_session(client: FlaskClient, ids: dict[str, int]) -> None:
    logged_in(client)
    page = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/").status_code == 302


def test_retry_buttons_put_parked_replies_and_events_back(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    from connector.store.models import EventState, InboundEvent, Reply, ReplyState

    logged_in(client)
    page = client.get(f"/problems/{ids['done']}").get_data(as_text=True)
    assert 'id="retry-replies"' in page and "Retry 1 failed reply" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    url = f"/problems/{ids['done']}/replies/retry"
    assert client.post(url).status_code == 400  # no CSRF token
    done = client.post(url, data={"csrf_token": csrf})
    assert done.status_code == 303
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 failed reply back in the queue." in after and 'id="retry-replies"' not in after
    with rt.db.session() as s:
        assert not s.scalars(select(Reply).where(Reply.state == ReplyState.FAILED)).all()

    index = client.get("/").get_data(as_text=True)
    assert 'id="retry-events"' in index and "Retry 1 failed event" in index
    assert client.post("/events/retry").status_code == 400
    back = client.post("/events/retry", data={"csrf_token": csrf})
    assert back.status_code == 303
    after = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "1 failed event back in the queue." in after and 'id="retry-events"' not in after
    with rt.db.session() as s:
        states = {e.state for e in s.scalars(select(InboundEvent))}
    assert EventState.FAILED not in states

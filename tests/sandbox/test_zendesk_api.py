"""The real zenpy client against the Zendesk sandbox over HTTP: auth, users, organizations,
tickets, comments with placeholders, fields and tags, problems and incidents, follow-ups,
idempotent creation, search and the incremental export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from zendesk_client import zenpy_client
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, CustomField, Organization, Ticket, TicketField, User
from zenpy.lib.exception import APIException, RecordNotFoundException

from connector_sandboxes.zendesk import ZendeskSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZendeskSandbox]:
    sb = ZendeskSandbox()
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def zd(sandbox: ZendeskSandbox) -> Zenpy:
    sandbox.reset()
    return zenpy_client(sandbox.url)


def new_ticket(zd: Zenpy, **fields: object) -> Ticket:
    fields.setdefault("subject", "Double charge")
    fields.setdefault("comment", Comment(body="I was charged twice"))
    return zd.tickets.create(Ticket(**fields)).ticket


def test_wrong_token_gets_zendesks_401(sandbox: ZendeskSandbox) -> None:
    sandbox.reset()
    answer = requests.get(sandbox.url + "/api/v2/users/me.json", auth=("admin@example.com", "x"))
    assert answer.status_code == 401
    assert answer.json() == {"error": "Couldn't authenticate you"}
    bad = zenpy_client(sandbox.url, token="wrong")
    with pytest.raises(APIException):
        bad.users.me()


def test_me_users_and_organizations(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    me = zd.users.me()
    assert (me.id, me.email, me.role) == (sandbox.admin_user_id, "admin@example.com", "admin")
    org = zd.organizations.create(
        Organization(name="ACME", organization_fields={"customer_value": 1200})
    )
    assert zd.organizations(id=org.id).organization_fields["customer_value"] == 1200
    user = zd.users.create(User(name="Jane Doe", email="jane@example.com", organization_id=org.id))
    assert zd.users(id=user.id).organization_id == org.id
    assert {u.id for u in zd.users(ids=[user.id, me.id])} == {user.id, me.id}


def test_show_many_sideloads_the_users_and_organizations_the_tickets_name(
    sandbox: ZendeskSandbox,
) -> None:
    """`include=users,organizations`: one call gives the tickets and, as top-level arrays, the
    full records of their requesters, submitters and assignees and of their organizations."""
    sandbox.reset()
    acme = sandbox.create_organization("Acme Corp")["id"]
    dana = sandbox.create_user("Dana Scully", "dana@example.com", organization_id=acme)["id"]
    loner = sandbox.create_user("Fox Mulder", "fox@example.com")["id"]
    first = sandbox.agent_create_ticket(subject="A", comment={"body": "?"}, requester_id=dana)
    second = sandbox.agent_create_ticket(subject="B", comment={"body": "?"}, requester_id=loner)
    ids = f"{first['id']},{second['id']},999999"
    auth = ("admin@example.com/token", "sandbox")
    url = sandbox.url + "/api/v2/tickets/show_many.json"
    plain = requests.get(url, params={"ids": ids}, auth=auth, timeout=10).json()
    assert "users" not in plain and "organizations" not in plain
    answer = requests.get(
        url, params={"ids": ids, "include": "users,organizations,nonsense"}, auth=auth, timeout=10
    )
    assert answer.status_code == 200
    data = answer.json()
    assert [t["id"] for t in data["tickets"]] == [first["id"], second["id"]]
    agent = sandbox.agent_user_id  # the submitter of both
    assert {u["id"]: u["name"] for u in data["users"]} == {
        dana: "Dana Scully",
        loner: "Fox Mulder",
        agent: sandbox.state.users[agent]["name"],
    }
    one_user = requests.get(f"{sandbox.url}/api/v2/users/{dana}.json", auth=auth, timeout=10)
    assert next(u for u in data["users"] if u["id"] == dana) == one_user.json()["user"]
    [org] = data["organizations"]
    assert (org["id"], org["name"]) == (acme, "Acme Corp") and "organization_fields" in org
    show = requests.get(
        f"{sandbox.url}/api/v2/tickets/{first['id']}.json",
        params={"include": "organizations"},
        auth=auth,
        timeout=10,
    ).json()
    assert [o["name"] for o in show["organizations"]] == ["Acme Corp"] and "users" not in show


def test_create_show_update_and_comments(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    jane = sandbox.create_user("Jane Doe", "jane@example.com", locale="de")
    ticket = new_ticket(zd, requester_id=jane["id"], tags=["billing"])
    assert (ticket.status, ticket.requester_id, ticket.submitter_id) == (
        "new",
        jane["id"],
        sandbox.admin_user_id,
    )
    ticket.comment = Comment(
        body="Hi {{ticket.requester.first_name}}, {{dc.greeting}}! #{{ticket.id}} {{nope}}",
        public=True,
    )
    ticket.status = "pending"
    ticket.type = "question"
    audit = zd.tickets.update(ticket)
    assert audit.ticket.status == "pending" and audit.ticket.type == "question"
    bodies = [c.body for c in zd.tickets.comments(ticket.id)]
    assert bodies == ["I was charged twice", f"Hi Jane, Hallo! #{ticket.id} "]
    assert sandbox.comments(ticket.id)[1]["author_id"] == sandbox.admin_user_id
    shown = zd.tickets(id=ticket.id)
    assert shown.status == "pending" and shown.tags == ["billing"]
    assert [t.id for t in zd.tickets(ids=[ticket.id, 999])] == [ticket.id]


def test_private_html_comment_and_tag_operations(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    ticket = new_ticket(zd, tags=["a", "b"])
    body = {
        "ticket": {
            "comment": {"html_body": "<p>Internal &amp; private</p>", "public": False},
            "additional_tags": ["c"],
            "remove_tags": ["a"],
        }
    }
    session = zd.users.session
    answer = session.put(f"{sandbox.url}/api/v2/tickets/{ticket.id}.json", json=body)
    assert answer.status_code == 200
    comment = sandbox.comments(ticket.id)[-1]
    assert (comment["body"], comment["public"]) == ("Internal & private", False)
    assert sandbox.ticket(ticket.id)["tags"] == ["b", "c"]


def test_not_found_is_zendesks_404(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    with pytest.raises(RecordNotFoundException):
        zd.tickets(id=424242)
    answer = zd.users.session.get(f"{sandbox.url}/api/v2/tickets/424242.json")
    assert answer.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_closed_ticket_refuses_updates_with_422(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    ticket = new_ticket(zd, status="solved")
    sandbox.close_ticket(ticket.id)
    ticket = zd.tickets(id=ticket.id)
    ticket.comment = Comment(body="too late")
    with pytest.raises(APIException) as caught:
        zd.tickets.update(ticket)
    assert caught.value.response.status_code == 422
    assert caught.value.response.json() == {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
    }
    assert len(sandbox.comments(ticket.id)) == 1


def test_followup_of_a_closed_ticket(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    jane = sandbox.create_user("Jane Doe", "jane@example.com")
    closed = new_ticket(zd, requester_id=jane["id"], status="solved")
    sandbox.close_ticket(closed.id)
    followup = new_ticket(zd, via_followup_source_id=closed.id, comment=Comment(body="Fixed!"))
    assert followup.requester_id == jane["id"]
    assert followup.via.source.rel == "follow_up"
    assert followup.via.source.from_["ticket_id"] == closed.id
    assert sandbox.ticket(closed.id)["followup_ids"] == [followup.id]
    open_one = new_ticket(zd)
    with pytest.raises(APIException):
        new_ticket(zd, via_followup_source_id=open_one.id)


def test_idempotency_key_returns_the_same_ticket(sandbox: ZendeskSandbox) -> None:
    sandbox.reset()
    http = requests.Session()
    http.auth = ("admin@example.com/token", "sandbox")
    url = sandbox.url + "/api/v2/tickets.json"
    body = {"ticket": {"subject": "once", "comment": {"body": "only once"}}}
    first = http.post(url, json=body, headers={"Idempotency-Key": "k1"})
    again = http.post(url, json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["ticket"]["id"] == again.json()["ticket"]["id"]
    assert again.headers["x-idempotency-lookup"] == "hit"
    other = http.post(
        url, json={"ticket": {**body["ticket"], "subject": "x"}}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 400
    assert len(sandbox.tickets()) == 1
    http.post(url, json=body)
    assert len(sandbox.tickets()) == 2


def test_dropdown_fields_and_tags_stay_in_step(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    options = [{"name": "Billing", "value": "team_billing"}, {"name": "Docs", "value": "team_docs"}]
    team = zd.ticket_fields.create(
        TicketField(type="tagger", title="Owning team", custom_field_options=options)
    )
    with pytest.raises(APIException):  # option values are tags, unique across fields
        zd.ticket_fields.create(
            TicketField(type="tagger", title="Other", custom_field_options=options[:1])
        )
    ticket = new_ticket(zd, custom_fields=[CustomField(id=team.id, value="team_billing")])
    assert ticket.tags == ["team_billing"]
    ticket.custom_fields = [CustomField(id=team.id, value="team_docs")]
    assert zd.tickets.update(ticket).ticket.tags == ["team_docs"]
    sandbox.agent_update_ticket(ticket.id, remove_tags=["team_docs"])
    assert sandbox.ticket(ticket.id)["custom_fields"] == [{"id": team.id, "value": None}]
    sandbox.agent_update_ticket(ticket.id, additional_tags=["team_billing"])
    assert sandbox.ticket(ticket.id)["fields"] == [{"id": team.id, "value": "team_billing"}]


def test_ticket_field_crud_and_options(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    text = zd.ticket_fields.create(TicketField(type="text", title="Jira issue"))
    assert text.type == "text" and text.removable
    team = zd.ticket_fields.create(
        TicketField(
            type="tagger",
            title="Team",
            custom_field_options=[{"name": "A", "value": "t_a"}, {"name": "B", "value": "t_b"}],
        )
    )
    http, base = zd.users.session, f"{sandbox.url}/api/v2/ticket_fields/{team.id}"
    added = http.post(
        base + "/options.json", json={"custom_field_option": {"name": "C", "value": "t_c"}}
    )
    assert added.status_code == 201
    keep = [o for o in zd.ticket_fields(id=team.id).custom_field_options if o.value != "t_a"]
    put = {
        "ticket_field": {
            "custom_field_options": [{"id": o.id, "name": o.name, "value": o.value} for o in keep]
        }
    }
    assert http.put(base + ".json", json=put).status_code == 200
    assert [o.value for o in zd.ticket_fields(id=team.id).custom_field_options] == ["t_b", "t_c"]
    titles = {f.title for f in zd.ticket_fields()}
    assert {"Jira issue", "Team", "Status", "Subject"} <= titles
    zd.ticket_fields.delete(text)
    with pytest.raises(RecordNotFoundException):
        zd.ticket_fields(id=text.id)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("integer", "12", "x"),
        ("decimal", "1.5", "y"),
        ("date", "2025-01-31", "31/01/2025"),
        ("checkbox", True, None),
    ],
)
def test_custom_field_values_are_validated(zd: Zenpy, kind: str, good: object, bad: object) -> None:
    field = zd.ticket_fields.create(TicketField(type=kind, title=kind))
    ticket = new_ticket(zd, custom_fields=[CustomField(id=field.id, value=good)])
    assert ticket.custom_fields[0]["value"] not in (None, False)
    if bad is not None:
        ticket.custom_fields = [CustomField(id=field.id, value=bad)]
        with pytest.raises(APIException):
            zd.tickets.update(ticket)


def test_problem_incidents_and_solving_the_problem(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    problem = new_ticket(zd, type="problem")
    first = new_ticket(zd, type="incident", problem_id=problem.id)
    second = new_ticket(zd, type="incident", problem_id=problem.id)
    assert {t.id for t in zd.tickets.incidents(problem.id)} == {first.id, second.id}
    assert zd.tickets(id=problem.id).has_incidents is True
    with pytest.raises(APIException):
        new_ticket(zd, type="incident", problem_id=first.id)
    problem.status = "solved"
    problem.comment = Comment(body="Fixed for everyone")
    zd.tickets.update(problem)
    for incident in (first, second):
        assert sandbox.ticket(incident.id)["status"] == "solved"
        assert sandbox.comments(incident.id)[-1]["body"] == "Fixed for everyone"


def test_search_by_tags_fields_and_status(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    jira = zd.ticket_fields.create(TicketField(type="text", title="Jira issue"))
    linked = new_ticket(zd, tags=["parcel_lost"], custom_fields=[{"id": jira.id, "value": "FIN-1"}])
    new_ticket(zd, tags=["parcel_lost"], status="solved")
    other = new_ticket(zd, tags=["other"])
    assert {t.id for t in zd.search(type="ticket", tags="parcel_lost")} == {
        linked.id,
        linked.id + 1,
    }
    assert [t.id for t in zd.search("type:ticket tags:parcel_lost status<solved")] == [linked.id]
    assert [t.id for t in zd.search(f"type:ticket custom_field_{jira.id}:FIN-1")] == [linked.id]
    assert [t.id for t in zd.search("type:ticket fieldvalue:fin-1")] == [linked.id]
    assert [t.id for t in zd.search("type:ticket -tags:parcel_lost")] == [other.id]


def test_search_paginates_like_zendesk(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    for _ in range(5):
        new_ticket(zd, tags=["many"])
    http = zd.users.session
    page = http.get(
        f"{sandbox.url}/api/v2/search.json",
        params={"query": "type:ticket tags:many", "per_page": 2},
    ).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next_page"]
    assert page["results"][0]["result_type"] == "ticket"
    assert len(list(zd.search(type="ticket", tags="many"))) == 5
    too_deep = http.get(
        f"{sandbox.url}/api/v2/search.json", params={"query": "type:ticket", "page": 11}
    )
    assert too_deep.status_code == 422


def test_incremental_cursor_export(zd: Zenpy, sandbox: ZendeskSandbox) -> None:
    ids = [new_ticket(zd).id for _ in range(3)]
    exported = list(zd.tickets.incremental(start_time=0, per_page=2))
    assert [t.id for t in exported] == ids
    http = zd.users.session
    first = http.get(
        f"{sandbox.url}/api/v2/incremental/tickets/cursor.json",
        params={"start_time": 0, "per_page": 2},
    ).json()
    assert not first["end_of_stream"] and len(first["tickets"]) == 2
    rest = http.get(first["after_url"]).json()
    assert rest["end_of_stream"] and [t["id"] for t in rest["tickets"]] == ids[2:]
    sandbox.agent_update_ticket(ids[0], status="open")
    later = http.get(
        f"{sandbox.url}/api/v2/incremental/tickets/cursor.json",
        params={"cursor": rest["after_cursor"]},
    ).json()
    assert [t["id"] for t in later["tickets"]] == [ids[0]]

"""The sidebar app's web side: Zendesk's signed first request, the app's bearer session, the
ticket view read from the database, access checks and actions queued (never applied here)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from flask.testing import FlaskClient
from ops_fixtures import ZENDESK_URL, ops_runtime, seed
from zaf_tokens import INSTALLATION_ID, KeyPair

from connector.bootstrap import WorkerContext as Runtime
from connector.ops import sidebar as views
from connector.store import sidebar as app_rows
from connector.store.models import AppAction, InboundEvent, Problem, utcnow
from connector.webhook_app import create_app

AGENT, OTHER_AGENT = 361_000_000_002, 361_000_000_009
TEAM_NAME = "Finance"  # the billing team's name in the embedded config


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return KeyPair()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated for the module; each test starts from a copy (fast)."""
    path = tmp_path_factory.mktemp("template") / "db.sqlite"
    ops_runtime(f"sqlite:///{path}", str(path.parent / "queue.db")).close()
    return path


@pytest.fixture
def rt(tmp_path: Path, keys: KeyPair, migrated: Path) -> Iterator[Runtime]:
    shutil.copy(migrated, tmp_path / "db.sqlite")
    runtime = ops_runtime(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "queue.db"))
    app_rows.record_install(runtime.db, ZENDESK_URL, 5, INSTALLATION_ID, "d" * 64, keys.public_pem)
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return create_app(runtime=rt).test_client()


def _open(client: FlaskClient, token: str) -> tuple[int, str]:
    response = client.post(
        "/app/sidebar?origin=https://acme.zendesk.com&app_guid=g", data={"token": token}
    )
    return response.status_code, response.get_data(as_text=True)


def _session(client: FlaskClient, keys: KeyPair, user_id: int = AGENT) -> dict[str, str]:
    status, page = _open(client, keys.token(ZENDESK_URL, user_id))
    assert status == 200
    found = re.search(r'name="connector-session" content="([^"]+)"', page)
    assert found
    return {"Authorization": f"Bearer {found.group(1)}"}


def _allow(rt: Runtime, ticket_id: int, allowed: bool = True, user_id: int = AGENT) -> None:
    with rt.db.session() as session:
        app_rows.record_access(session, user_id, ticket_id, allowed, "test", utcnow())


def _events(rt: Runtime) -> list[InboundEvent]:
    with rt.db.session() as session:
        return list(session.query(InboundEvent).filter_by(source="app").order_by(InboundEvent.id))


# ---- trust ---------------------------------------------------------------------------------
def test_a_signed_first_request_opens_a_session_framed_by_the_account_only(
    client: FlaskClient, keys: KeyPair
) -> None:
    response = client.post("/app/sidebar", data={"token": keys.token(ZENDESK_URL, AGENT)})
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://acme.zendesk.com" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # the session lives in the page
    assert 'name="connector-session"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "why",
    [
        "other installation",
        "other account",
        "expired",
        "other key",
        "other issuer",
        "no user",
        "hs256 with public key",
        "none",
    ],
)
def test_a_token_zendesk_did_not_sign_for_this_installation_is_refused(
    client: FlaskClient, keys: KeyPair, why: str
) -> None:
    token = {
        "other installation": lambda: keys.token(ZENDESK_URL, AGENT, installation_id=78),
        "other account": lambda: keys.token(
            ZENDESK_URL,
            AGENT,
            aud=f"https://globex.zendesk.com/api/v2/apps/installations/{INSTALLATION_ID}.json",
        ),
        "no user": lambda: keys.token(ZENDESK_URL, AGENT, sub="https://acme.zendesk.com/"),
        "expired": lambda: keys.token(ZENDESK_URL, AGENT, expires_in=-120),
        "other key": lambda: KeyPair().token(ZENDESK_URL, AGENT),
        "other issuer": lambda: keys.token(ZENDESK_URL, AGENT, iss="evil.zendesk.com"),
        "hs256 with public key": lambda: _hs256_forgery(keys),
        "none": lambda: "",
    }[why]()
    status, page = _open(client, token)
    assert status == 401
    assert "connector-session" not in page


@pytest.mark.parametrize(
    "spelling",
    [
        {},
        {"sub": str(AGENT)},
        {"iss": ZENDESK_URL},
        {"aud": f"{ZENDESK_URL}/api/v2/apps/installations/{INSTALLATION_ID}"},
    ],
)
def test_the_claims_spelled_either_way_open_the_agents_session(
    client: FlaskClient, keys: KeyPair, rt: Runtime, spelling: dict[str, str]
) -> None:
    status, page = _open(client, keys.token(ZENDESK_URL, AGENT, **spelling))
    assert status == 200
    token = re.search(r'name="connector-session" content="([^"]+)"', page)
    assert token and app_rows.session_user(rt.db, token.group(1), utcnow()) == AGENT


def _hs256_forgery(keys: KeyPair) -> str:
    # The classic: sign with HMAC using the public key as the secret; RS256 only must refuse.
    claims = jwt.decode(keys.token(ZENDESK_URL, AGENT), options={"verify_signature": False})
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode())
    import hashlib
    import hmac

    signing = header + b"." + payload
    mac = hmac.new(keys.public_pem.encode(), signing, hashlib.sha256).digest()
    return (signing + b"." + jwt.utils.base64url_encode(mac)).decode()


def test_no_installation_recorded_means_no_session(
    client: FlaskClient, rt: Runtime, keys: KeyPair
) -> None:
    app_rows.forget_install(rt.db, ZENDESK_URL)
    status, page = _open(client, keys.token(ZENDESK_URL, AGENT))
    assert status == 503 and "connector install" in page


def test_the_api_needs_the_pages_bearer_session_not_a_cookie_or_a_form(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    assert client.get("/app/api/tickets/5").status_code == 401
    assert (
        client.get("/app/api/tickets/5", headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    headers = _session(client, keys)
    _allow(rt, 5)
    # A cross-site form cannot set the header, and a form body is refused anyway.
    form = client.post("/app/api/tickets/5/actions", data={"kind": "unlink"}, headers=headers)
    assert form.status_code == 415
    no_header = client.post("/app/api/tickets/5/actions", json={"kind": "unlink"})
    assert no_header.status_code == 401
    with rt.db.session() as session:
        assert session.query(AppAction).count() == 0


def test_a_session_expires(client: FlaskClient, keys: KeyPair, rt: Runtime) -> None:
    token = app_rows.open_session(
        rt.db, AGENT, utcnow() - timedelta(hours=1), timedelta(minutes=30)
    )
    response = client.get("/app/api/tickets/5", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


# ---- reads -----------------------------------------------------------------------------------
def test_the_first_read_queues_one_access_check_and_answers_202(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    headers = _session(client, keys)
    assert client.get("/app/api/tickets/101", headers=headers).status_code == 202
    assert client.get("/app/api/tickets/101", headers=headers).status_code == 202
    events = _events(rt)
    assert [(e.event_type, e.payload) for e in events] == [
        ("app.access", {"ticket_id": 101, "user_id": AGENT})
    ]


def test_a_ticket_the_agent_may_not_see_answers_403_with_nothing_of_it(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    seed(rt)
    headers = _session(client, keys)
    _allow(rt, 101, allowed=False)
    response = client.get("/app/api/tickets/101", headers=headers)
    assert response.status_code == 403
    assert "FIN-7" not in response.get_data(as_text=True)
    refused = client.post("/app/api/tickets/101/actions", json={"kind": "unlink"}, headers=headers)
    assert refused.status_code == 403


def test_a_linked_ticket_shows_its_problem_from_the_database(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    seed(rt)
    with rt.db.session() as session:
        problem = session.query(Problem).filter_by(jira_key="FIN-7").one()
        problem.solution_text, problem.solution_kind = "Refund <b>then</b> reissue", "workaround"
    headers = _session(client, keys)
    _allow(rt, 101)
    view = client.get("/app/api/tickets/101", headers=headers).get_json()
    linked = view["linked"]
    assert linked["problem"]["key"] == "FIN-7"
    assert linked["problem"]["jira_url"] == "https://acme.atlassian.net/browse/FIN-7"
    assert linked["problem"]["team"] == TEAM_NAME
    assert linked["problem"]["solution"] == "Refund <b>then</b> reissue"  # data, as written
    assert linked["problem"]["tickets"] == 42 and linked["problem"]["organizations"] == 17
    assert linked["how"] == "an incident of the problem ticket"
    assert linked["linked_by"] == "Jane Agent"  # by name, as the worker stored it
    assert set(linked["problem"]["trend"]) == {"last", "before", "direction"}
    assert view["suggestions"] == []


def test_an_unlinked_ticket_shows_the_suggestion_engines_matches(
    client: FlaskClient, keys: KeyPair, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(rt)
    suggestion = views.SuggestedProblem(ids["big"], "FIN-7", "Double charge", 0.87)
    monkeypatch.setattr(
        views, "suggested_problems", lambda session, ticket_id, min_confidence: [suggestion]
    )
    headers = _session(client, keys)
    _allow(rt, 999)
    view = client.get("/app/api/tickets/999", headers=headers).get_json()
    assert view["linked"] is None
    assert view["suggestions"] == [
        {"problem_id": ids["big"], "key": "FIN-7", "summary": "Double charge", "confidence": 0.87}
    ]
    assert {t["key"] for t in view["teams"]} >= {"billing", "docs"}


def test_search_finds_open_problems_by_key_or_all_words_and_wildcards_are_literal(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    seed(rt)
    headers = _session(client, keys)

    def keys_for(q: str) -> list[str]:
        return [
            p["key"]
            for p in client.get(f"/app/api/problems?q={q}", headers=headers).get_json()["problems"]
        ]

    assert keys_for("fin-7") == ["FIN-7"]
    assert keys_for("november double") == ["FIN-7"]
    assert keys_for("november wrong") == []
    assert keys_for("%25") == []  # "%" is a character, not "anything"


# ---- actions ---------------------------------------------------------------------------------
def test_an_action_is_stored_and_queued_202_and_only_its_agent_reads_its_state(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    ids = seed(rt)
    headers = _session(client, keys)
    _allow(rt, 999)
    answer = client.post(
        "/app/api/tickets/999/actions",
        json={"kind": "link", "problem_id": ids["big"]},
        headers=headers,
    )
    assert answer.status_code == 202
    action_id = answer.get_json()["action_id"]
    assert [e.event_type for e in _events(rt)] == ["app.action"]
    state = client.get(f"/app/api/actions/{action_id}", headers=headers).get_json()
    assert state["state"] == "queued"
    other = _session(client, keys, OTHER_AGENT)
    assert client.get(f"/app/api/actions/{action_id}", headers=other).status_code == 404
    view = client.get("/app/api/tickets/999", headers=headers).get_json()
    assert [a["kind"] for a in view["waiting"]] == ["link"]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "delete"},
        {"kind": "link"},
        {"kind": "create", "team": "nobody"},
        {"kind": "move", "problem_id": True},
        {"kind": "create", "team": ["billing"]},
        {"kind": "link", "problem_id": 2**40},
    ],
)
def test_malformed_actions_are_refused_400(
    client: FlaskClient, keys: KeyPair, rt: Runtime, body: dict[str, object]
) -> None:
    headers = _session(client, keys)
    _allow(rt, 999)
    assert (
        client.post("/app/api/tickets/999/actions", json=body, headers=headers).status_code == 400
    )


def test_a_check_still_unanswered_after_a_minute_is_asked_again_and_a_stale_answer_too(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    headers = _session(client, keys)
    assert client.get("/app/api/tickets/7", headers=headers).status_code == 202
    with rt.db.session() as session:
        row = app_rows.access_of(session, AGENT, 7)
        assert row is not None
        row.requested_at -= timedelta(minutes=2)  # its event was parked: Zendesk was down
    assert client.get("/app/api/tickets/7", headers=headers).status_code == 202
    assert len(_events(rt)) == 2
    with rt.db.session() as session:
        app_rows.record_access(session, AGENT, 7, True, "test", utcnow() - timedelta(minutes=6))
    assert client.get("/app/api/tickets/7", headers=headers).status_code == 202  # too old
    assert client.get("/app/api/tickets/7", headers=headers).status_code == 202
    assert len(_events(rt)) == 3


def test_a_ticket_id_beyond_zendesks_is_not_found(
    client: FlaskClient, keys: KeyPair, rt: Runtime
) -> None:
    headers = _session(client, keys)
    huge = 2**64
    assert client.get(f"/app/api/tickets/{huge}", headers=headers).status_code == 404
    answer = client.post(
        f"/app/api/tickets/{huge}/actions", json={"kind": "unlink"}, headers=headers
    )
    assert answer.status_code == 404


def test_an_action_that_could_not_be_queued_is_503_and_marked_failed(
    client: FlaskClient, keys: KeyPair, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from connector.web import sidebar as web_sidebar

    def unavailable(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    headers = _session(client, keys)
    _allow(rt, 999)
    monkeypatch.setattr(web_sidebar, "store_event", unavailable)
    answer = client.post("/app/api/tickets/999/actions", json={"kind": "unlink"}, headers=headers)
    assert answer.status_code == 503
    with rt.db.session() as session:
        [action] = session.query(AppAction).all()
        assert action.state.value == "failed" and action.message == "Not queued: try again."

"""The sandbox's agent ticket page, `GET /agent/tickets/<id>?user=EMAIL` (no login: a sandbox):
the ticket as an agent sees it, with a reply box, and beside it every installed app with a
`ticket_sidebar` location in its iframe, hosted as Zendesk hosts it:

- the iframe's first request is a form POST of `token`, an RS256 JWT signed with the app's key
  (`signedUrls: true`; claims iss, aud = the installation's API URL, sub = the user's API URL,
  iat, exp five minutes on, context), to the app's remote URL with `origin` and `app_guid` in
  the query string, which the ZAF SDK reads;
- the page answers the SDK's cross-frame messages (`static/zaf_host.js`), following the SDK's
  source (2.0.x): the `iframe.handshake` with `zaf.app.registered` (context and metadata), `get`
  of ticket and user paths, `invoke` of `ticket.comment.appendText` (into the reply box) and
  `resize`, and `client.request` to the account's `/api/v2` as the viewing agent.
An agent who may not see the ticket gets Zendesk's 403 page, and no app.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Blueprint, render_template, request

from connector_sandboxes.zendesk.people import user_group_ids
from connector_sandboxes.zendesk.state import AGENT_EMAIL, JSON, State
from connector_sandboxes.zendesk.ticket_routes import may_see
from connector_sandboxes.zendesk.web import state

bp = Blueprint(
    "zendesk_agent_ui",
    __name__,
    static_folder="static",
    static_url_path="/agent/static",
    template_folder="templates",
)
TOKEN_SECONDS = 300


def _user(st: State, email: str) -> JSON | None:
    return next((u for u in st.users.values() if u["email"] == email.lower()), None)


def sign(st: State, app_id: int, installation_id: int, user_id: int, location: str) -> str:
    now, base = int(st.now()), st.base_url.rstrip("/")
    claims = {
        "iss": urlsplit(base).netloc,
        "aud": f"{base}/api/v2/apps/installations/{installation_id}.json",
        "sub": f"{base}/api/v2/users/{user_id}.json",
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "context": {"product": "support", "location": location},
    }
    return jwt.encode(claims, st.app_keys[app_id], algorithm="RS256")


@bp.get("/agent/tickets/<int:ticket_id>")
def ticket_page(ticket_id: int) -> Any:
    st = state()
    with st.lock:
        viewer = _user(st, request.args.get("user", AGENT_EMAIL))
        ticket = st.tickets.get(ticket_id)
        if viewer is None or viewer["role"] == "end-user" or ticket is None:
            return render_template("agent_forbidden.html"), 404 if ticket is None else 403
        if not may_see(viewer, ticket, user_group_ids(st, viewer["id"])):
            return render_template("agent_forbidden.html"), 403
        requester = st.users.get(ticket.requester_id) or {}
        origin = f"{urlsplit(request.host_url).scheme}://{urlsplit(request.host_url).netloc}"
        apps, frames = [], {}
        for installation in st.app_installations.values():
            app = st.apps.get(installation["app_id"])
            sidebar = (app or {}).get("manifest", {}).get("location", {}).get("support", {})
            url = (sidebar.get("ticket_sidebar") or {}).get("url")
            if app is None or not installation.get("enabled", True) or not url:
                continue
            guid = str(uuid.uuid4())
            token = sign(st, app["id"], installation["id"], viewer["id"], "ticket_sidebar")
            query = urlencode({"origin": origin, "app_guid": guid})
            apps.append(
                {"name": app["name"], "guid": guid, "url": f"{url}?{query}", "token": token}
            )
            parts = urlsplit(url)
            frames[guid] = {
                "origin": f"{parts.scheme}://{parts.netloc}",
                "metadata": {
                    "appId": app["id"],
                    "installationId": installation["id"],
                    "name": app["name"],
                    "settings": installation["settings"],
                },
            }
        # `client.request` to this account's API runs as the agent viewing the page (Zendesk
        # uses the agent's session; the sandbox, the agent's login with the account's token).
        login = f"{viewer['email']}/token:{st.agent_token}"
        data = {
            "frames": frames,
            "auth": "Basic " + base64.b64encode(login.encode()).decode(),
            "context": {
                "product": "support",
                "location": "ticket_sidebar",
                "ticketId": ticket.id,
                "account": {"subdomain": urlsplit(st.base_url).netloc.split(".")[0]},
            },
            "values": {
                "ticket.id": ticket.id,
                "ticket.subject": ticket.subject,
                "ticket.status": ticket.status,
                "ticket.requester.id": requester.get("id"),
                "ticket.requester.name": requester.get("name"),
                "ticket.requester.email": requester.get("email"),
                "currentUser.id": viewer["id"],
                "currentUser.name": viewer["name"],
                "currentUser.email": viewer["email"],
                "currentUser.role": viewer["role"],
            },
        }
        comments = [str(c.get("body") or "") for c in st.comments.get(ticket.id, [])]
        return render_template(
            "agent_ticket.html",
            subject=ticket.subject or "",
            requester=requester.get("name") or "",
            viewer=viewer["name"],
            comments=comments,
            apps=apps,
            data=json.loads(json.dumps(data)),
        )

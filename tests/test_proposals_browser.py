"""Proposed problems in a real headless browser (Playwright driving Debian's chromium) against
the whole stack: alike unlinked tickets of a cause nobody filed show up as a proposal, named by
their organisations; the admin accepts it with a team and a summary, and the Jira issue exists
with the tickets linked. Screenshots go to $CONNECTOR_SCREENSHOTS (default: the test's tmp dir).

Skips when /usr/bin/chromium is absent, except under CI=true where that is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from test_dashboard_browser import VIEWPORT, browser  # noqa: F401  (the module's browser)

from connector.demo.stack import LocalStack
from connector.store.models import Link, LinkVia, Problem
from tests.e2e.conftest import config_with
from tests.e2e.test_suggestions import NEW_CAUSE, customer_ticket, seed_problems

ADMIN_TOKEN = "proposals-browser-admin-token"
RAW_ID = re.compile(r"\b36\d{10}\b")  # the sandboxes' organisation ids


def test_an_admin_accepts_a_proposed_problem_in_the_browser(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    shots = Path(os.environ.get("CONNECTOR_SCREENSHOTS", str(tmp_path)))
    suggestions = {"enabled": True}
    text = config_with(impact_debounce_seconds=0, suggestions=suggestions)
    stack = LocalStack(tmp_path, config_text=text, settings={"admin_token": ADMIN_TOKEN}).start()
    try:
        seed_problems(stack)
        orgs = [
            stack.zendesk.create_organization(name)["id"]
            for name in ("Acme", "Globex", "Initech", "Umbrella")
        ]
        tickets = [customer_ticket(stack, t, orgs[i % 4]) for i, t in enumerate(NEW_CAUSE)]
        stack.drain()
        url = str(stack.rt.settings.public_url).rstrip("/")
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(f"{url}/?token={ADMIN_TOKEN}")
        page.click("text=Proposed problems")
        body = page.inner_text("main")
        assert "Proposal 1: 8 tickets from 4 organisations" in body
        assert "Acme" in body and "Umbrella" in body and not RAW_ID.search(body)
        page.screenshot(path=str(shots / "proposals.png"), full_page=True)
        page.select_option("select[name=team]", "product")
        page.fill("input[name=summary]", "Cheque scan crashes the mobile app")
        page.click("text=Accept: create the Jira issue and link 8 tickets")
        assert "Accepted: the worker creates the Jira issue for Engineering" in page.inner_text(
            "main"
        )
        stack.drain()
        with stack.rt.db.session() as s:
            problem = s.scalars(select(Problem).where(Problem.cause_key == "proposal:1")).one()
            vias = s.scalars(select(Link.via).where(Link.problem_id == problem.id)).all()
        assert problem.jira_key and problem.jira_key.startswith("ENG-")
        assert list(vias) == [LinkVia.PROPOSAL] * len(tickets)
        page.goto(f"{url}/")
        assert "Cheque scan crashes the mobile app" in page.inner_text("main")
        page.goto(f"{url}/problems/{problem.id}")
        timeline = page.inner_text("main")
        assert "an accepted proposed problem" in timeline
        page.screenshot(path=str(shots / "proposal-accepted.png"), full_page=True)
    finally:
        stack.stop()

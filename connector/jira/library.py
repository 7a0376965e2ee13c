"""Builds the pycontribs `jira` client the adapter uses, on the shared transport.

- Its own retries are off (`max_retries=0`): `ResilientSession` would otherwise sleep and retry
  429s, 503s and connection errors for any method, POST included, which can create an issue
  twice. Retries live in connector.retry.
- It is built with `get_server_info=False` so that its first call already goes through the
  transport (budget, timeout, counting); the adapter then reads `serverInfo` itself and sets the
  client's public `deploymentType` from it, which is what the library's own Cloud checks use.
- Errors stay `JIRAError`s inside the library (its `add_remote_link` must be able to tolerate a
  refused applinks lookup) and become the connector's errors in `call`.

jira 3.10.5 builds its `ResilientSession` inside `JIRA.__init__`, accepts no session, and exposes
it only as `JIRA._session`. `library_session` is the one place that reads that attribute: it is
the only way to put the transport under the library's own requests and to reach the endpoints the
library lacks with the same authenticated session.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from connector.errors import TransientError
from connector.ratelimit import CallBudget
from connector.transport import BudgetedAdapter, mount, raise_for_response

SIDE = "jira"
T = TypeVar("T")


def build_jira(
    base_url: str,
    auth: dict[str, Any],
    timeout: float,
    budget: CallBudget | None,
    calls: Counter[str],
) -> tuple[JIRA, requests.Session]:
    client = JIRA(
        server=base_url,
        options={"rest_api_version": "2"},
        get_server_info=False,
        max_retries=0,
        timeout=timeout,
        **auth,
    )
    session = library_session(client)
    mount(session, BudgetedAdapter(SIDE, timeout, budget, calls))
    return client, session


def library_session(client: JIRA) -> requests.Session:
    # The one private read (see the module docstring): jira 3.10.5 has no public handle.
    session: requests.Session = client._session
    return session


def call(fn: Callable[[], T]) -> T:
    """Run one library call; its errors become the connector's own."""
    try:
        return fn()
    except JIRAError as exc:
        if exc.response is not None:
            raise_for_response(SIDE, exc.response)
        raise TransientError(f"jira: {exc.text or exc}", side=SIDE) from None
    except requests.RequestException as exc:
        raise TransientError(f"jira: {type(exc).__name__}", side=SIDE) from None

"""Builds the zenpy client the adapter uses, on a session that runs through the shared transport.

zenpy builds `{protocol}://{subdomain}.{domain}/{api_prefix}` for every call. Its constructor takes
`subdomain` and `domain`, and every API object carries public `protocol` and `api_prefix`
attributes, so any base URL maps onto it without rewriting URLs: `https://acme.zendesk.com` is
subdomain `acme` + domain `zendesk.com`; a sandbox at `http://127.0.0.1:8081` is subdomain `127` +
domain `0.0.1:8081` with protocol `http`. (`ZENPY_FORCE_SCHEME`/`ZENPY_FORCE_NETLOC` would do the
same, but they are process-wide environment variables and one process can talk to several
accounts, e.g. a sandbox and a real one in tests.) zenpy's response handlers also match on that
host, so they keep working.

Retries and sleeps stay off: the session is ours (no urllib3 retries), `proactive_ratelimit` and
`ratelimit_budget` are left unset, and a response hook turns every error response into the
connector's own error before zenpy sees it, so zenpy's sleep-and-retry on 429 never runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.api import BaseApi

from connector.ratelimit import CallBudget
from connector.transport import BudgetedAdapter, mount, raise_for_response

SIDE = "zendesk"


def transport_session(
    timeout: float, budget: CallBudget | None, calls: Counter[str]
) -> requests.Session:
    session = requests.Session()
    mount(session, BudgetedAdapter(SIDE, timeout, budget, calls))
    session.hooks["response"].append(_raise_for_error)
    return session


def _raise_for_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    raise_for_response(SIDE, response)


def build_zenpy(
    base_url: str, email: str, token: str, session: requests.Session, timeout: float
) -> Zenpy:
    parts = urlsplit(base_url)
    subdomain, dot, domain = parts.netloc.partition(".")
    if not (parts.scheme and dot and domain):
        raise ValueError(
            "Zendesk URL needs a scheme and a dotted host, e.g. https://acme.zendesk.com "
            "or http://127.0.0.1:8081"
        )
    client = Zenpy(
        subdomain=subdomain,
        domain=domain,
        email=email,
        token=token,
        session=session,
        timeout=timeout,
        disable_cache=True,
    )
    prefix = "/".join(p for p in (parts.path.strip("/"), "api/v2") if p)
    for api in _apis(client):
        api.protocol = parts.scheme
        if api.api_prefix == "api/v2":
            api.api_prefix = prefix
    return client


def _apis(root: object, seen: set[int] | None = None) -> Iterator[BaseApi]:
    """Every API object reachable through public attributes (`ticket_fields.options`...)."""
    seen = seen if seen is not None else set()
    for name, value in vars(root).items():
        if name.startswith("_") or not isinstance(value, BaseApi) or id(value) in seen:
            continue
        seen.add(id(value))
        yield value
        yield from _apis(value, seen)


def plain(obj: Any) -> dict[str, Any]:
    """A zenpy object as a dict, as Zendesk sent it (zenpy adds unset attributes as None)."""
    return dict(obj.to_dict())


def without_nulls(value: Any) -> Any:
    """Drop the None entries zenpy adds, so our models fall back to their defaults."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value

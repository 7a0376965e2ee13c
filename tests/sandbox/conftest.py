"""A started Zendesk sandbox (a realistic job speed) and an authenticated session on it; test
modules that need another sandbox define their own `sandbox` and `http`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from connector_sandboxes.zendesk import ZendeskSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZendeskSandbox]:
    sb = ZendeskSandbox(job_seconds_per_ticket=0.02)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def http(sandbox: ZendeskSandbox) -> requests.Session:
    sandbox.reset()
    session = requests.Session()
    session.auth = ("admin@example.com/token", "sandbox")
    return session

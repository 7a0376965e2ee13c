"""Where the test PostgreSQL and Redis are (environment overrides), shared by conftest and the
tests that connect on their own."""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI") == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "CONNECTOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_TEST_URL = os.environ.get("CONNECTOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

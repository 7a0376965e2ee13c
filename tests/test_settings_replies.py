"""The replies' tunables and the retry policy are Settings: the CONNECTOR_REPLIES_* names that
workers were started with keep working, defaults are unchanged, bad values name the variable."""

from __future__ import annotations

import pytest

from connector.errors import ConfigError
from connector.retry import Backoff, Horizon
from connector.settings import Settings, load_settings
from connector.sync.replies.fanout import Tuning

ENV = {
    "CONNECTOR_REPLIES_MAX_JOBS": "4",
    "CONNECTOR_REPLIES_CLAIM_TIMEOUT": "5",
    "CONNECTOR_REPLIES_POLL_MIN": "0.05",
    "CONNECTOR_REPLIES_POLL_MAX": "0.5",
    "CONNECTOR_REPLIES_SLICE_SECONDS": "5",
    "CONNECTOR_REPLIES_MAX_ATTEMPTS": "3",
    "CONNECTOR_REPLIES_FOLLOWUP_BATCH": "7",
    "CONNECTOR_REPLIES_SUMMARY_CLAIM_TIMEOUT": "30",
    "CONNECTOR_RETRY_BASE_SECONDS": "0.1",
    "CONNECTOR_RETRY_MAX_SECONDS": "2",
    "CONNECTOR_RETRY_ATTEMPTS": "6",
    "CONNECTOR_RETRY_MAX_INLINE_WAIT_SECONDS": "2.5",
    "CONNECTOR_TASK_RETRIES": "3",
    "CONNECTOR_TASK_RETRY_DELAY_SECONDS": "1.5",
    "CONNECTOR_RETRY_LATER_BASE_SECONDS": "2",
    "CONNECTOR_RETRY_LATER_MAX_SECONDS": "20",
    "CONNECTOR_RETRY_HORIZON_SECONDS": "30",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_environment_names_are_read(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    settings = load_settings(_env_file=None)
    assert Tuning.from_settings(settings) == Tuning(
        max_jobs=4,
        claim_timeout=5.0,
        poll_min=0.05,
        poll_max=0.5,
        slice_seconds=5.0,
        horizon=Horizon(Backoff(base=2.0, cap=20.0, attempts=0), 30.0, 3),
        followup_batch=7,
        backoff=Backoff(base=0.1, cap=2.0, attempts=6),
        inline_wait=2.5,
    )
    assert settings.replies_summary_claim_timeout == 30.0
    assert Backoff.for_tasks(settings).huey_options() == {"retries": 3, "retry_delay": 1.5}


def test_defaults_are_unchanged(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    tuning = Tuning.from_settings(settings)
    assert (tuning.max_jobs, tuning.claim_timeout) == (8, 600.0)
    horizon = tuning.horizon  # a day of retries, each at most a minute apart
    assert (horizon.seconds, horizon.backoff.cap, horizon.permanent_attempts) == (86400, 60, 5)
    assert (tuning.poll_min, tuning.poll_max, tuning.slice_seconds) == (0.05, 3.0, 120.0)
    assert tuning.followup_batch == 20
    assert tuning.inline_wait == 5.0
    assert settings.replies_summary_claim_timeout == 120.0


def test_a_dotenv_file_works_too(tmp_path: object, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.chdir(tmp_path)  # type: ignore[arg-type]
    (tmp_path / ".env").write_text("CONNECTOR_REPLIES_MAX_JOBS=2\n")  # type: ignore[operator]
    assert Settings().replies_max_jobs == 2


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CONNECTOR_REPLIES_MAX_JOBS", "0", "greater than 0"),
        ("CONNECTOR_REPLIES_CLAIM_TIMEOUT", "-1", "greater than 0"),
        ("CONNECTOR_REPLIES_POLL_MAX", "0.01", "at least CONNECTOR_REPLIES_POLL_MIN"),
        ("CONNECTOR_RETRY_ATTEMPTS", "many", "valid integer"),
    ],
)
def test_bad_values_name_the_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(_env_file=None)
    assert name in str(error.value)

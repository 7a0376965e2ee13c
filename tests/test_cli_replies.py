"""`connector replies retry PROBLEM`: parked replies go back once, and the output says what
happens next; `approve` says truthfully whether anything is left to send."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from ops_fixtures import ops_runtime, seed, seed_held
from sqlalchemy import select

from connector.cli import cli
from connector.config import embedded_defaults_text
from connector.store.models import Reply, ReplyState


def test_replies_retry_puts_parked_replies_back_once(database_url: str, tmp_path: Path) -> None:
    runtime = ops_runtime(database_url, str(tmp_path / "queue.db"))
    try:
        ids = seed(runtime)
        config = tmp_path / "connector.yaml"
        config.write_text(embedded_defaults_text(), "utf-8")
        env = {
            "CONNECTOR_DATABASE_URL": database_url,
            "CONNECTOR_QUEUE_PATH": str(tmp_path / "queue.db"),
            "CONNECTOR_CONFIG": str(config),
        }
        runner = CliRunner()
        first = runner.invoke(cli, ["replies", "retry", "SHIP-2"], env=env)
        assert first.exit_code == 0, first.output
        assert "SHIP-2: 1 failed fixed reply back in the queue" in first.output
        with runtime.db.session() as s:
            rows = s.scalars(select(Reply).where(Reply.problem_id == ids["done"])).all()
        assert [r.state for r in rows].count(ReplyState.FAILED) == 0
        again = runner.invoke(cli, ["replies", "retry", "SHIP-2"], env=env)
        assert again.exit_code == 0 and "no failed reply to retry" in again.output
        unknown = runner.invoke(cli, ["replies", "retry", "NOPE-1"], env=env)
        assert unknown.exit_code != 0
        assert "no problem with id or Jira key 'NOPE-1'" in str(unknown.exception)
    finally:
        runtime.close()


def test_replies_approve_says_how_many_tickets_get_the_reply(
    database_url: str, tmp_path: Path
) -> None:
    runtime = ops_runtime(database_url, str(tmp_path / "queue.db"))
    try:
        seed(runtime)
        seed_held(runtime)
        config = tmp_path / "connector.yaml"
        config.write_text(embedded_defaults_text(), "utf-8")
        env = {
            "CONNECTOR_DATABASE_URL": database_url,
            "CONNECTOR_QUEUE_PATH": str(tmp_path / "queue.db"),
            "CONNECTOR_CONFIG": str(config),
        }
        runner = CliRunner()
        owed = runner.invoke(cli, ["replies", "approve", "FIN-9"], env=env)
        assert owed.exit_code == 0, owed.output
        assert "approved: the fixed reply of FIN-9 goes to 4 tickets" in owed.output
        answered = runner.invoke(cli, ["replies", "approve", "SHIP-2"], env=env)
        assert answered.exit_code == 0, answered.output
        assert "approved: the fixed reply of SHIP-2; nothing left to send" in answered.output
        assert "1 failed reply stays failed" in answered.output
    finally:
        runtime.close()

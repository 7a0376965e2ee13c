"""`connector demo` runs the whole loop on the embedded defaults and its counts add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_json_summary_is_consistent(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    result = subprocess.run(
        [sys.executable, "-m", "connector", "demo", "--json", "--tickets", "20"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    # Four problems filed by agents and rules, one accepted from a proposal (emerging cause).
    assert summary["problems"] == 5 and summary["jira_issues"] == 5
    assert summary["proposals_accepted"] == 1
    assert summary["suggested"] >= 1  # the new billing ticket, before its agent linked it
    assert summary["tickets"] == summary["linked"] == 21  # 20 asked; the stories need 21
    assert summary["duplicate_replies"] == 0 and summary["unanswered"] == 0
    assert summary["followups"] == 3
    # every customer one reply, and the workaround tickets one more
    assert summary["replies_sent"] > summary["tickets"]
    assert summary["jira_calls"] > 0 and summary["zendesk_calls"] > 0
    assert "Double charge" not in result.stdout  # stdout is only the JSON
    assert list(tmp_path.iterdir()) == []  # nothing left behind in the working directory

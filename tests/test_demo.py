"""`connector demo` runs the whole loop on the embedded defaults and its counts add up, against a
Jira Cloud sandbox and (`--jira datacenter`) a Jira Data Center one with the same summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# What depends on the site's API or the machine, not on the story.
VARIES = {"jira_calls", "zendesk_calls", "seconds"}


def demo_json(cwd: Path, *args: str) -> tuple[dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    result = subprocess.run(
        [sys.executable, "-m", "connector", "demo", "--json", "--tickets", "20", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(cwd.iterdir()) == []  # nothing left behind in the working directory
    return json.loads(result.stdout), result.stdout


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    return demo_json(tmp_path_factory.mktemp("cloud"))


def test_demo_json_summary_is_consistent(cloud: tuple[dict[str, Any], str]) -> None:
    summary, stdout = cloud
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
    assert "Double charge" not in stdout  # stdout is only the JSON


def test_demo_on_data_center_tells_the_same_story(
    tmp_path: Path, cloud: tuple[dict[str, Any], str]
) -> None:
    data_center, _ = demo_json(tmp_path, "--jira", "datacenter")
    assert data_center.keys() == cloud[0].keys()
    same = {k: v for k, v in cloud[0].items() if k not in VARIES}
    assert {k: v for k, v in data_center.items() if k not in VARIES} == same
    assert data_center["jira_calls"] > 0

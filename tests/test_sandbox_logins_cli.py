"""`connector sandbox zendesk|jira` and `connector demo --keep` print logins that work: the
connector's own and a person's (the Zendesk agent, the Jira engineer), each acting as itself."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}


def start(args: list[str], until: str, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `connector ARGS` and read its output up to the line containing `until`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", *args],
        cwd=cwd,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if until in line:
            return proc, "".join(seen)
    proc.wait(timeout=10)
    raise AssertionError("".join(seen)[-3000:])


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def zendesk_me(url: str, login: str) -> dict[str, object]:
    user, token = login.split(":", 1)
    answer = requests.get(f"{url}/api/v2/users/me.json", auth=(user, token), timeout=5)
    assert answer.status_code == 200, (login, answer.text)
    me: dict[str, object] = answer.json()["user"]
    return me


def jira_me(url: str, email: str, token: str) -> dict[str, object]:
    answer = requests.get(f"{url}/rest/api/2/myself", auth=(email, token), timeout=5)
    assert answer.status_code == 200, (email, answer.text)
    me: dict[str, object] = answer.json()
    return me


def zendesk_logins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(connector|agent)\s+(\S+/token:\S+)", text, re.M))


def jira_logins(text: str) -> dict[str, tuple[str, str]]:
    found = re.findall(r"^\s+(connector|engineer)\s+(\S+@\S+) / API token (\S+)", text, re.M)
    return {role: (email, token) for role, email, token in found}


def test_sandbox_commands_print_logins_that_work(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    zendesk, text = start(["sandbox", "zendesk", "--port", "0"], "control", tmp_path)
    processes.append(zendesk)
    url = re.search(r"Zendesk sandbox at (\S+)", text)
    assert url, text
    logins = zendesk_logins(text)
    assert logins["agent"] == "agent@example.com/token:agent-sandbox"
    assert zendesk_me(url[1], logins["agent"])["role"] == "agent"
    assert zendesk_me(url[1], logins["connector"])["role"] == "admin"

    jira, text = start(["sandbox", "jira", "--port", "0"], "control", tmp_path)
    processes.append(jira)
    url = re.search(r"Jira sandbox at (\S+)", text)
    assert url, text
    people = jira_logins(text)
    assert people["engineer"] == ("engineer@example.com", "engineer-sandbox")
    engineer, connector = (
        jira_me(url[1], *people["engineer"]),
        jira_me(url[1], *people["connector"]),
    )
    assert engineer["displayName"] == "Erin Engineer"
    assert engineer["accountId"] != connector["accountId"]


def test_sandbox_jira_as_data_center_prints_pats_that_work(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    args = ["sandbox", "jira", "--port", "0", "--deployment", "datacenter"]
    jira, text = start(args, "control", tmp_path)
    processes.append(jira)
    url = re.search(r"Jira sandbox at (\S+)", text)
    assert url and "Jira DataCenter" in text, text
    pats = dict(re.findall(r"PAT (\S+), username (\S+)", text))
    assert pats == {"sandbox": "connector", "engineer-sandbox": "erin"}
    for pat, username in pats.items():
        me = requests.get(
            f"{url[1]}/rest/api/2/myself", headers={"Authorization": f"Bearer {pat}"}, timeout=5
        )
        assert me.status_code == 200 and me.json()["name"] == username
    info = requests.get(f"{url[1]}/rest/api/2/serverInfo", timeout=5).json()
    assert (info["deploymentType"], info["version"]) == ("DataCenter", "10.3.12")
    gone = requests.get(f"{url[1]}/rest/api/3/serverInfo", timeout=5)
    assert gone.status_code == 404


def test_demo_keep_prints_the_zendesk_login_form_that_works(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    demo, text = start(["demo", "--keep", "--tickets", "10"], "Ctrl-C", tmp_path)
    processes.append(demo)
    assert "admin@example.com / sandbox" not in text  # Zendesk refuses that form
    zendesk_url = re.search(r"Zendesk sandbox (http\S+)", text)
    jira_url = re.search(r"Jira sandbox (http\S+)", text)
    assert zendesk_url and jira_url, text
    logins = zendesk_logins(text)
    assert logins["connector"] == "admin@example.com/token:sandbox"
    assert zendesk_me(zendesk_url[1], logins["agent"])["email"] == "agent@example.com"
    assert zendesk_me(zendesk_url[1], logins["connector"])["email"] == "admin@example.com"
    assert jira_me(jira_url[1], *jira_logins(text)["engineer"])["displayName"] == "Erin Engineer"

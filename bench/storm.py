"""Storm: N tickets of one new cause arrive within a minute. How many Jira writes and Zendesk
reads does the connector spend? (Targets: 1 create plus at most one impact write per debounce
interval; at most one Zendesk read per 50 tickets.)

    python bench/storm.py --tickets 5000

Runs the whole stack in process: both sandboxes, the connector's web app receiving the
sandbox's signed webhooks over HTTP, and a worker loop running the queue while tickets arrive.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import yaml

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack

JIRA_WRITES = ("POST", "PUT", "DELETE")
ZENDESK_READS = ("GET /tickets/show_many", "GET /tickets/{id}", "GET /tickets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0, help="spread arrivals over this")
    parser.add_argument("--debounce", type=int, default=60, help="impact_debounce_seconds")
    args = parser.parse_args()

    config = yaml.safe_load(embedded_defaults_text())
    config["impact_debounce_seconds"] = args.debounce
    workdir = Path(tempfile.mkdtemp(prefix="storm-"))
    stack = LocalStack(
        workdir, config_text=yaml.safe_dump(config), settings={"event_coalesce_seconds": 2.0}
    ).start()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            if not stack.run_queue():
                time.sleep(0.05)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    jira_before = dict(stack.jira.counters)
    zendesk_before = dict(stack.zendesk.counters)
    started = time.monotonic()
    pace = args.seconds / max(args.tickets, 1)
    for n in range(args.tickets):
        stack.zendesk.agent_create_ticket(
            subject=f"My parcel {n} never arrived", comment={"body": "Where?"}, tags=["parcel_lost"]
        )
        lag = started + (n + 1) * pace - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    arrived = time.monotonic() - started
    stack.zendesk.wait_for_deliveries(300)
    stop.set()
    thread.join()
    stack.drain(timeout=600, include_future=True)  # the last debounced impact write
    elapsed = time.monotonic() - started

    jira = _delta(stack.jira.counters, jira_before)
    zendesk = _delta(stack.zendesk.counters, zendesk_before)
    jira_writes = sum(v for k, v in jira.items() if k.startswith(JIRA_WRITES))
    zendesk_reads = sum(v for k, v in zendesk.items() if k.startswith(ZENDESK_READS))
    issues = len(stack.jira.issue_keys())
    impact = stack.jira.properties(stack.jira.issue_keys()[0])["zendesk.impact"]
    print(f"arrivals took {arrived:.1f}s, whole run {elapsed:.1f}s")
    print("jira calls:", {k: v for k, v in sorted(jira.items()) if k != "total"})
    print("zendesk calls:", {k: v for k, v in sorted(zendesk.items()) if k != "total"})
    print(f"impact in Jira: {impact}")
    print(
        f"intervals={max(1, int(elapsed // max(args.debounce, 1)) + 1)} "
        f"reads_per_ticket={zendesk_reads / args.tickets:.4f}"
    )
    stack.stop()
    print(
        f"storm tickets={args.tickets} jira_issues={issues} jira_writes={jira_writes} "
        f"zendesk_reads={zendesk_reads}"
    )


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


if __name__ == "__main__":
    main()

"""Latency on an idle connector: how long from a customer's ticket to its Jira issue, and from
the Jira resolution to the customers' replies?

    python bench/latency.py [--tickets 20] [--idle 10] [--pause 5]

Runs the embedded defaults (SQLite database, SQLite task queue, the default settings and config)
in process with both sandboxes: the Zendesk sandbox delivers signed webhooks to the connector's
web app over HTTP, and the worker is the same Huey consumer `connector worker` runs. After the
connector sat idle for --idle seconds, N tickets of one rule-matched cause (tag `parcel_lost`)
arrive one after the other. Measured:

- create_issue_s: the first ticket's creation (its webhook goes out at once) to the Jira issue
  existing in the Jira sandbox;
- then, once every ticket shows the issue and the agreed solution (a `#customer-reply` comment)
  is mirrored, and after --pause idle seconds, an engineer moves the issue to Done:
  first_reply_s / all_replies_s: that transition to the first / the last public reply in the
  Zendesk sandbox.

Every wait has a deadline; the run stops by itself. The last line is:

    latency create_issue_s=<x> first_reply_s=<x> all_replies_s=<x>
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connector.demo.stack import LocalStack  # noqa: E402
from connector.queue import create_consumer  # noqa: E402
from connector.settings import Settings  # noqa: E402

SOLUTION = "The carrier found the parcels; they arrive this week."
DEADLINE = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--idle", type=float, default=10.0, help="idle seconds before the burst")
    parser.add_argument("--pause", type=float, default=5.0, help="idle seconds before resolving")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)

    # LocalStack shortens the coalescing window for the tests; the bench measures the default.
    default_coalesce = Settings.model_fields["event_coalesce_seconds"].default
    workdir = Path(tempfile.mkdtemp(prefix="latency-"))
    stack = LocalStack(workdir, settings={"event_coalesce_seconds": default_coalesce}).start()
    consumer = create_consumer(stack.rt.huey, stack.rt.settings)
    consumer.start()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops the bench
    try:
        figures = run(stack, args.tickets, args.idle, args.pause)
    finally:
        consumer.stop(graceful=True)
        stack.stop()
    create, first, last = figures
    print(f"latency create_issue_s={create:.2f} first_reply_s={first:.2f} all_replies_s={last:.2f}")


def run(stack: LocalStack, n: int, idle: float, pause: float) -> tuple[float, float, float]:
    zendesk, jira = stack.zendesk, stack.jira
    fields = stack.fields
    users = [zendesk.create_user(f"Customer{i} Bench", f"c{i}@example.com")["id"] for i in range(n)]
    time.sleep(idle)

    started = time.monotonic()
    ids = []
    for i, user in enumerate(users):
        ticket = zendesk.agent_create_ticket(
            subject=f"My parcel {i} never arrived",
            comment={"body": "Where is it?"},
            tags=["parcel_lost"],
            requester_id=user,
        )
        ids.append(int(ticket["id"]))
    wait_for(lambda: bool(jira.issue_keys()), "the Jira issue")
    create_issue = time.monotonic() - started
    key = jira.issue_keys()[0]

    def shows(field: int | None, value: str) -> bool:
        return all(field_value(zendesk.ticket(t), field) == value for t in ids)

    wait_for(lambda: shows(fields.jira_issue, key), "every ticket linked")
    jira.human_comment(key, f"#customer-reply {SOLUTION}")
    wait_for(lambda: shows(fields.solution, SOLUTION), "the solution on every ticket")
    time.sleep(pause)

    resolved = time.monotonic()
    jira.human_transition(key, "Done", resolution="Done")
    replied: dict[int, float] = {}

    def all_replied() -> bool:
        for ticket_id in ids:
            if ticket_id not in replied and has_reply(zendesk.comments(ticket_id)):
                replied[ticket_id] = time.monotonic() - resolved
        return len(replied) == len(ids)

    wait_for(all_replied, "a reply on every ticket")
    return create_issue, min(replied.values()), max(replied.values())


def field_value(ticket: dict[str, object], field: int | None) -> object:
    for entry in ticket.get("custom_fields") or []:  # type: ignore[attr-defined]
        if entry["id"] == field:
            return entry["value"]
    return None


def has_reply(comments: list[dict[str, object]]) -> bool:
    return any(c["public"] and SOLUTION in str(c["body"]) for c in comments[1:])


def wait_for(done: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"latency: gave up waiting for {what} after {timeout:.0f}s")
        time.sleep(0.01)


if __name__ == "__main__":
    main()

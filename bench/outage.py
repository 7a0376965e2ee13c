"""Outage: how long after a Zendesk outage ends does the connector catch up, on its default
retry settings, with nobody running `retry`?

    python bench/outage.py --outage 180 --tickets 50 [--phases reads,replies429,replies500]

Runs both sandboxes and the connector's web app in process, and one real `connector worker`
process with the default settings (only the call budget is raised, as the sandboxes allow it).
Each phase prints the seconds from the outage's end until the work is done, next to a baseline
measured in the same run without an outage:

- reads:      every ticket read answers 429 (Retry-After 1) while the tickets arrive; done =
              every ticket linked.
- replies429: the issue resolves while every `update_many` answers 429; done = every reply sent.
- replies500: the same with 500. A 500 may hide an accepted job, so those tickets are read back
              only after CONNECTOR_REPLIES_CLAIM_TIMEOUT (600 s by default): expect that long.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from sqlalchemy import func, select

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack
from connector.store.models import EventState, InboundEvent, Link, Problem, Reply, ReplyState

FAULTS = {
    "reads": ("429", "/tickets/show_many"),
    "replies429": ("429", "/tickets/update_many"),
    "replies500": ("500", "/tickets/update_many"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=180.0, help="seconds of outage")
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--phases", default="reads,replies429,replies500")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this")
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]

    config = yaml.safe_load(embedded_defaults_text())
    config["jira"]["solution_field"] = "customfield_10050"
    config["rules"] = [
        {"team": "shipping", "cause": f"Bench cause {n}", "when": {"tags_any": [f"bench_{n}"]}}
        for n in range(len(phases) * 2)
    ]
    workdir = Path(tempfile.mkdtemp(prefix="outage-"))
    stack = LocalStack(workdir, config_text=yaml.safe_dump(config)).start()
    log = (workdir / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "connector", "worker"],
        env=stack.process_env(),
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    print(f"workdir {workdir}; outage {args.outage:.0f} s; {args.tickets} tickets per cause")
    try:
        for number, phase in enumerate(phases):
            baseline = run_phase(stack, phase, number * 2, args, outage=False)
            healed = run_phase(stack, phase, number * 2 + 1, args, outage=True)
            print(
                f"{phase:>10}: done {healed:6.1f} s after the outage ended "
                f"(no outage: {baseline:5.1f} s after the start)"
            )
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
        stack.rt.huey.flush()
        stack.stop()


def run_phase(
    stack: LocalStack, phase: str, cause: int, args: argparse.Namespace, *, outage: bool
) -> float:
    """One cause's tickets linked (and, for the reply phases, replied); seconds from the end of
    the outage (or from the start, without one) until done."""
    kind, path = FAULTS[phase]
    reads = phase == "reads"
    if outage and reads:
        stack.zendesk.inject_faults(fraction=1.0, kind=kind, paths=[path])
    started = time.monotonic()
    tickets = [
        stack.zendesk.agent_create_ticket(
            subject=f"Order {cause}-{n} never arrived",
            comment={"body": "Where is it?"},
            tags=[f"bench_{cause}"],
        )["id"]
        for n in range(args.tickets)
    ]
    if not reads:
        # Link first (no fault), then resolve during the outage.
        wait_for(lambda: linked(stack, tickets), args.timeout, "linked")
    if not reads:
        wait_for(lambda: jira_key(stack, tickets[0]) is not None, args.timeout, "the issue")
        key = str(jira_key(stack, tickets[0]))
        if outage:
            stack.zendesk.inject_faults(fraction=1.0, kind=kind, paths=[path])
        started = time.monotonic()
        stack.jira.human_update(key, customfield_10050="Found; it is on its way.")
        stack.jira.human_transition(key, "Done", resolution="Fixed")
    if outage:
        time.sleep(max(args.outage - (time.monotonic() - started), 0))
        stack.zendesk.clear_faults()
        started = time.monotonic()
    done: Callable[[], bool] = (
        (lambda: linked(stack, tickets)) if reads else (lambda: replied(stack, tickets))
    )
    wait_for(done, args.timeout, phase)
    return time.monotonic() - started


def linked(stack: LocalStack, tickets: list[int]) -> bool:
    with stack.rt.db.session() as s:
        count = s.scalar(select(func.count()).select_from(Link).where(Link.ticket_id.in_(tickets)))
        waiting = s.scalar(
            select(func.count())
            .select_from(InboundEvent)
            .where(InboundEvent.state == EventState.PENDING)
        )
    return count == len(tickets) and waiting == 0


def replied(stack: LocalStack, tickets: list[int]) -> bool:
    with stack.rt.db.session() as s:
        sent = s.scalar(
            select(func.count())
            .select_from(Reply)
            .where(Reply.ticket_id.in_(tickets), Reply.state == ReplyState.SENT)
        )
    return sent == len(tickets)


def jira_key(stack: LocalStack, ticket: int) -> str | None:
    with stack.rt.db.session() as s:
        found: str | None = s.scalar(
            select(Problem.jira_key)
            .join(Link, Link.problem_id == Problem.id)
            .where(Link.ticket_id == ticket)
        )
    return found


def wait_for(done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.5)


if __name__ == "__main__":
    main()

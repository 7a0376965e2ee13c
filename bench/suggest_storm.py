"""Suggestion storm: N new tickets alike to an open problem arrive, none linked. How many
Zendesk writes does suggesting cost (field and note on each), and how much worker time?

    python bench/suggest_storm.py --tickets 500

Runs the whole stack in process (both sandboxes, the web app receiving signed webhooks, a
worker loop), with three problems that agents linked tickets to first. Without batching every
ticket would cost one update; the connector groups tickets whose updates agree into one
`update_many` job per 100. Prints the Zendesk calls by kind, the writes per ticket and the
suggestion service's own time per ticket (encode, rank, plan; from its log of the run).
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
from connector.fields import team_option
from connector.sync.suggestions import service

SEED = {
    "billing": ("Charged twice for one order", "I was charged twice for the same order"),
    "shipping": ("Parcels lost in transit", "My parcel never arrived, tracking stopped"),
    "docs": ("Router manual is wrong", "The manual describes a reset button I do not have"),
}
VARIANTS = (
    "I was billed twice for my order",
    "Double charge on my card for one purchase",
    "You charged my card two times for the same order",
    "My statement shows the same payment twice",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0, help="spread arrivals over this")
    args = parser.parse_args()

    config = yaml.safe_load(embedded_defaults_text())
    workdir = Path(tempfile.mkdtemp(prefix="suggest-storm-"))
    stack = LocalStack(
        workdir, config_text=yaml.safe_dump(config), settings={"event_coalesce_seconds": 2.0}
    ).start()
    fields = stack.rt.config.zendesk.fields
    for team, (summary, text) in SEED.items():
        problem = stack.zendesk.agent_create_ticket(
            subject=summary,
            comment={"body": text},
            type="problem",
            custom_fields=[{"id": fields.owning_team, "value": team_option(team)}],
        )
        for n in range(3):
            stack.zendesk.agent_create_ticket(
                subject=f"{text} ({n})",
                comment={"body": text},
                type="incident",
                problem_id=problem["id"],
            )
    stack.drain(timeout=120)

    spent = [0.0]
    original = service.suggest

    def timed(*a: object, **kw: object) -> int:
        start = time.perf_counter()
        try:
            return original(*a, **kw)  # type: ignore[arg-type]
        finally:
            spent[0] += time.perf_counter() - start

    service.suggest = timed  # type: ignore[assignment]
    import connector.sync.zendesk_events as zendesk_events

    zendesk_events.suggest = timed  # type: ignore[assignment]

    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            if not stack.run_queue():
                time.sleep(0.05)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    before = dict(stack.zendesk.counters)
    started = time.monotonic()
    pace = args.seconds / max(args.tickets, 1)
    for n in range(args.tickets):
        text = VARIANTS[n % len(VARIANTS)]
        stack.zendesk.agent_create_ticket(subject=text, comment={"body": f"{text}. Order {n}."})
        lag = started + (n + 1) * pace - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    stack.zendesk.wait_for_deliveries(300)
    stop.set()
    thread.join()
    stack.drain(timeout=600)
    calls = {
        k: v - before.get(k, 0) for k, v in stack.zendesk.counters.items() if v - before.get(k, 0)
    }
    writes = sum(v for k, v in calls.items() if k.startswith(("PUT", "POST")))
    noted = sum(
        1
        for t in stack.zendesk.tickets()
        if any(tag.startswith(service.NOTED_TAG_PREFIX) for tag in t["tags"])
    )
    print("zendesk calls:", {k: v for k, v in sorted(calls.items()) if k != "total"})
    stack.stop()
    print(
        f"suggest_storm tickets={args.tickets} noted={noted} zendesk_writes={writes} "
        f"writes_per_ticket={writes / args.tickets:.4f} "
        f"ms_per_ticket={spent[0] * 1000 / args.tickets:.2f}"
    )


if __name__ == "__main__":
    main()

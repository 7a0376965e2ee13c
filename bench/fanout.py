"""Reply fan-out cost: Zendesk calls, wall time and memory for one problem with N linked tickets.

    python bench/fanout.py --tickets N [--database-url URL] [--scale 60]

The Zendesk sandbox runs in its own process (so its memory is not counted) with Enterprise-like
limits scaled in time by --scale (default 60: a minute becomes a second): 700 requests per
60/scale-second window, at most 30 jobs, and jobs that take 0.03 s per ticket in real time
(0.0005 s at scale 60) plus the sandbox's own processing time. The connector side (SQLite in a
temp dir unless --database-url is given) resolves the problem and runs the fan-out to the end.

Reported: Zendesk calls made by the connector (updates, job polls, 429s, everything) against the
lower bound ceil(N/100) update calls; wall time against the time the limits alone impose (the
sandbox's busy job time, or the request budget, whichever is longer); peak Python memory of the
connector (tracemalloc); duplicate replies counted on the sandbox's comments. The last line is:

    fanout tickets=<N> zendesk_calls=<n> bound=<ceil(N/100)> call_ratio=<x> time_ratio=<x>
        peak_mb=<n> duplicates=<n>
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SANDBOX = r"""
import json, sys, threading, time
from connector_sandboxes.zendesk import ZendeskSandbox, tickets
from connector_sandboxes.zendesk import jobs as jobs_module

n, limit = int(sys.argv[1]), int(sys.argv[2])
window, per_ticket = float(sys.argv[3]), float(sys.argv[4])
busy = [0.0]
work = jobs_module.JobRunner._work
def timed(self, job, items):
    start = time.monotonic()
    try:
        return work(self, job, items)
    finally:
        busy[0] += time.monotonic() - start
jobs_module.JobRunner._work = timed
sb = ZendeskSandbox(rate_limit=limit, rate_window_seconds=window, job_seconds_per_ticket=per_ticket)
st = sb.state
users = [sb.create_user(f"Customer{i} Bench", f"c{i}@example.com")["id"] for i in range(50)]
with st.lock:
    for i in range(n):
        data = {"subject": f"Charged twice {i}", "comment": {"body": "help"}}
        data["requester_id"] = users[i % 50]
        tickets.create_ticket(st, data, st.agent_user_id, "web")
url = sb.start()
print(json.dumps({"url": url}), flush=True)
for line in sys.stdin:
    tag = line.strip()
    with st.lock:
        replies = [sum(1 for c in st.comments[t][1:] if c["public"]) for t in st.tickets]
        tagged = sum(1 for t in st.tickets.values() if tag in t.tags)
    print(json.dumps({
        "duplicates": sum(max(r - 1, 0) for r in replies),
        "missing": sum(1 for r in replies if r == 0),
        "tagged": tagged,
        "busy": busy[0],
        "counters": sb.counters,
    }), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--scale", type=float, default=60.0)
    args = parser.parse_args()
    n, scale = args.tickets, args.scale
    window, limit, per_ticket = 60.0 / scale, 700, 0.03 / scale

    sandbox = subprocess.Popen(
        [sys.executable, "-c", SANDBOX, str(n), str(limit), str(window), str(per_ticket)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert sandbox.stdout is not None and sandbox.stdin is not None
        url = json.loads(sandbox.stdout.readline())["url"]
        with tempfile.TemporaryDirectory() as tmp:
            result = run(url, n, args.database_url or f"sqlite:///{tmp}/bench.db", limit, window)
            sandbox.stdin.write(result["tag"] + "\n")
            sandbox.stdin.flush()
            seen = json.loads(sandbox.stdout.readline())
    finally:
        sandbox.kill()
        sandbox.wait()

    bound = math.ceil(n / 100)
    limit_time = max(seen["busy"], bound / (limit / window))
    calls = result["calls"]
    print(
        f"scale={scale:g}x: {limit} requests per {window:g}s window, 30 jobs, "
        f"{per_ticket * 1000:.2f} ms/ticket job delay (+ sandbox processing); "
        f"job busy time {seen['busy']:.1f}s; wall {result['wall']:.1f}s; "
        f"sandbox saw {seen['counters'].get('PUT /tickets/update_many', 0)} update_many, "
        f"{seen['counters'].get('GET /job_statuses/show_many', 0)} job polls, "
        f"{seen['counters'].get('throttled', 0)} throttled; "
        f"missing={seen['missing']} tagged={seen['tagged']}"
    )
    print(
        f"fanout tickets={n} zendesk_calls={calls} bound={bound} "
        f"call_ratio={calls / bound:.2f} time_ratio={result['wall'] / limit_time:.2f} "
        f"peak_mb={result['peak_mb']:.1f} duplicates={seen['duplicates']}"
    )


def run(url: str, n: int, database_url: str, limit: int, window: float) -> dict[str, object]:
    from sqlalchemy import insert, update

    from connector.bootstrap import WorkerContext
    from connector.config import load_config
    from connector.settings import Settings
    from connector.store.migrate import upgrade
    from connector.store.models import Link, LinkVia, Problem, ProblemState, utcnow
    from connector.sync.replies.fanout import Tuning
    from connector.sync.replies.service import run_fanout
    from connector.sync.replies.templates import reply_tag

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        zendesk_url=url,
        zendesk_email="admin@example.com",
        zendesk_api_token="sandbox",
        database_url=database_url,
        zendesk_requests_per_minute=int(limit * 60 / window),
    )
    upgrade(settings.database_url)
    runtime = WorkerContext(settings, load_config())
    with runtime.db.session() as s:
        problem = Problem(cause_key="bench", team="billing", summary="Double charge")
        s.add(problem)
        s.flush()
        pid = problem.id
        for start in range(1, n + 1, 5000):
            chunk = range(start, min(start + 5000, n + 1))
            s.execute(
                insert(Link),
                [{"ticket_id": t, "problem_id": pid, "via": LinkVia.RULE} for t in chunk],
            )
        s.execute(
            update(Problem)
            .where(Problem.id == pid)
            .values(
                state=ProblemState.RESOLVED,
                outcome="fixed",
                solution_text="We refunded the second charge.",
                resolved_at=utcnow(),
            )
        )
    fast = {"replies_slice_seconds": 3600, "replies_poll_min": 0.02, "replies_poll_max": 1.0}
    tuning = Tuning.from_settings(settings.model_copy(update=fast))
    tracemalloc.start()
    started = time.monotonic()
    while (again := run_fanout(runtime, pid, tuning).again_in) is not None:
        time.sleep(again)
    wall = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    runtime.close()
    return {
        "calls": runtime.calls["zendesk"],
        "wall": wall,
        "peak_mb": peak / 1e6,
        "tag": reply_tag(pid, "fixed"),
    }


if __name__ == "__main__":
    main()

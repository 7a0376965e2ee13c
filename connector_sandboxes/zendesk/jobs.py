"""Fakes Zendesk background jobs for `tickets/update_many`: a job is `queued` (progress null),
then `working` with a growing progress and "Updating ticket #n", then `completed` with one result
per ticket, as in the recorded exchanges. A background thread works through queued jobs in order,
`seconds_per_ticket` apart; at most `max_jobs` may be queued or working (429 `TooManyJobs`).

Tests hold jobs back with `paused`, and let a given number through with `release(n)`: each
released job then runs to completion while the others stay queued, so a test can wait for a
state ("two more jobs completed") instead of racing the clock. `step(n)` lets `n` more ticket
updates through instead, leaving the job `working` in between.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from connector_sandboxes.zendesk.state import JSON, ApiError, State

ACTIVE = ("queued", "working")


class JobRunner:
    def __init__(self, st: State, seconds_per_ticket: float = 0.0, max_jobs: int = 30) -> None:
        self._st = st
        self.seconds_per_ticket = seconds_per_ticket
        self.max_jobs = max_jobs
        self._paused = False
        self._allowance = 0  # jobs that may start while paused (see `release`)
        self._released: set[str] = set()
        self._steps = 0  # ticket updates that may happen while paused (see `step`)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ---- control -----------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        with self._st.changed:
            self._paused = value
            if not value:
                self._allowance = self._steps = 0  # nothing left held back
            self._st.changed.notify_all()

    def release(self, jobs: int) -> None:
        """While paused, let the next `jobs` queued jobs (as they come) run to completion."""
        with self._st.changed:
            self._allowance += jobs
            self._st.changed.notify_all()

    def completed_count(self) -> int:
        with self._st.lock:
            return sum(1 for job in self._st.jobs.values() if job["status"] == "completed")

    def step(self, tickets: int) -> None:
        """While paused, let `tickets` more ticket updates of the jobs through."""
        with self._st.changed:
            self._steps += tickets
            self._st.changed.notify_all()

    def _may_start(self) -> bool:
        return not self._paused or self._allowance > 0 or self._steps > 0

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="zendesk-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._st.changed:
            self._stopping = True
            self._st.changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    # ---- submitting (state lock held) ---------------------------------------------------------
    def submit(self, items: list[tuple[int, JSON]], actor_id: int) -> JSON:
        """Queue a job; its updates are made as `actor_id`, the user who asked for it."""
        st = self._st
        active = sum(1 for job in st.jobs.values() if job["status"] in ACTIVE)
        if active >= self.max_jobs:
            description = f"Number of allowed background jobs ({self.max_jobs}) exceeded"
            raise ApiError(429, {"error": "TooManyJobs", "description": description})
        job_id = "V3-" + secrets.token_hex(16)
        job = {
            "id": job_id,
            "url": st.url(f"job_statuses/{job_id}.json"),
            "total": len(items),
            "progress": None,
            "status": "queued",
            "message": None,
            "results": None,
        }
        st.jobs[job_id] = job
        st.job_payloads[job_id] = (actor_id, items)
        st.changed.notify_all()
        return job

    # ---- working ----------------------------------------------------------------------------
    def _next_job(self) -> JSON | None:
        queued = [j for j in self._st.jobs.values() if j["status"] == "queued"]
        return queued[0] if queued else None

    def _run(self) -> None:
        st = self._st
        while True:
            with st.changed:
                st.changed.wait_for(
                    lambda: self._stopping or (self._may_start() and self._next_job() is not None)
                )
                if self._stopping:
                    return
                job = self._next_job()
                assert job is not None
                if self._paused and self._allowance > 0:
                    self._allowance -= 1
                    self._released.add(job["id"])
                job.update(status="working", progress=0, message="Updating tickets")
                actor_id, items = st.job_payloads.pop(job["id"], (st.admin_user_id, []))
            self._work(job, actor_id, items)

    def _work(self, job: JSON, actor_id: int, items: list[tuple[int, JSON]]) -> None:
        from connector_sandboxes.zendesk.tickets import update_ticket

        st, results = self._st, []
        for index, (ticket_id, payload) in enumerate(items, start=1):
            self._sleep()
            with st.changed:
                st.changed.wait_for(
                    lambda: (
                        self._stopping
                        or not self._paused
                        or job["id"] in self._released
                        or self._steps > 0
                        or st.jobs.get(job["id"]) is not job
                    )
                )
                if st.jobs.get(job["id"]) is not job:  # the sandbox was reset meanwhile
                    return
                if self._paused and not self._stopping and job["id"] not in self._released:
                    self._steps -= 1
                results.append(_update_result(st, ticket_id, payload, actor_id, update_ticket))
                job.update(progress=index, message=f"Updating ticket #{index}")
        with st.changed:
            message = time.strftime("Completed at %Y-%m-%d %H:%M:%S +0000", time.gmtime())
            job.update(status="completed", progress=len(items), message=message, results=results)
            self._released.discard(job["id"])
            st.changed.notify_all()

    def _sleep(self) -> None:
        if self.seconds_per_ticket > 0:
            time.sleep(self.seconds_per_ticket)


def _update_result(st: State, ticket_id: int, payload: JSON, actor_id: int, update: Any) -> JSON:
    try:
        update(st, ticket_id, payload, actor_id, "api")
    except ApiError as exc:
        details = exc.body.get("details") or {}
        texts = [d["description"] for items in details.values() for d in items]
        error = "RecordNotFound" if exc.status == 404 else "TicketUpdateFailed"
        message = "; ".join(texts) or exc.body.get("description", "")
        return {
            "id": ticket_id,
            "action": "update",
            "success": False,
            "error": error,
            "details": message,
        }
    return {"id": ticket_id, "action": "update", "success": True, "status": "Updated"}

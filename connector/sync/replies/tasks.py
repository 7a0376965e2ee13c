"""Queue tasks of the replies: `replies_fanout(problem_id)` converges one problem's replies and
re-enqueues itself while work remains (a time slice ended, a claim waits for its timeout, Zendesk
asked to slow down). Tasks are triggers: a lost or repeated one is harmless, reconcile heals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from huey import Huey

from connector.logs import log_event

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)


def register_reply_tasks(huey: Huey, runtime: Runtime) -> None:
    """Register the reply tasks on `huey` (idempotent); they live in `huey.reply_tasks`."""
    if getattr(huey, "reply_tasks", None) is not None:
        return

    @huey.task(retries=8, retry_delay=10, name="replies_fanout")
    def replies_fanout(problem_id: int) -> dict[str, Any]:
        from connector.sync.replies.service import run_fanout

        result = run_fanout(runtime, problem_id)
        if result.again_in is not None:
            delay = max(result.again_in, 0.05)
            replies_fanout.schedule(args=(problem_id,), delay=delay)
            log_event(
                log, "task.replies_fanout.again", problem_id=problem_id, delay=round(delay, 2)
            )
        return {"problem_id": problem_id, "outcome": result.outcome, "held": result.held}

    huey.reply_tasks = {"fanout": replies_fanout}


def request_fanout(runtime: Runtime, problem_id: int) -> None:
    """Enqueue the fan-out of one problem (resolved, workaround agreed, ticket linked late)."""
    huey = runtime.huey
    register_reply_tasks(huey, runtime)
    huey.reply_tasks["fanout"](problem_id)
    log_event(log, "replies.fanout.requested", problem_id=problem_id)


def problems_with_unfinished_replies(runtime: Runtime) -> list[int]:
    from connector.sync.replies.service import problems_with_unfinished_replies as find

    return find(runtime)

"""After the config changed (a restart with a new solution field, outcome mapping or mirrored
field), what the mirror derived from Jira with the old config may be wrong or missing: reconcile
re-reads every tracked open problem's issue once, instead of waiting for each issue to change.

The mirror's inputs are fingerprinted and the fingerprint kept as a watermark, so a restart
with the same config re-reads nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Protocol

from connector.logs import log_event
from connector.store import problems, watermarks
from connector.store.models import ProblemState

if TYPE_CHECKING:
    from connector.config import Config
    from connector.sync.ports import HasClock, HasConfig, HasScheduler, HasStore

    class RemirrorNeeds(HasStore, HasConfig, HasClock, HasScheduler, Protocol):
        """What re-reading issues after a config change needs."""


log = logging.getLogger(__name__)
WATERMARK = "mirror.config"


def mirror_inputs(config: Config) -> str:
    """A fingerprint of everything the mirror reads the config for."""
    inputs = {
        "jira": config.jira.model_dump(mode="json"),
        "outcomes": config.outcomes,
        "fields": config.zendesk.fields.model_dump(mode="json"),
        "send_workaround": config.replies.send_workaround,
    }
    text = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def remirror_after_config_change(runtime: RemirrorNeeds) -> int:
    """Ask for a mirror of every tracked open problem when the mirror's inputs changed since
    the last pass; how many were asked for."""
    fingerprint = mirror_inputs(runtime.config)
    with runtime.db.session() as session:
        if watermarks.get(session, WATERMARK) == fingerprint:
            return 0
        ids = [p.id for p in problems.tracked(session) if p.state is ProblemState.OPEN]
    now = runtime.clock.now()
    for problem_id in ids:
        runtime.scheduler.mirror_at(problem_id, now)
    with runtime.db.session() as session:
        watermarks.put(session, WATERMARK, fingerprint)
    log_event(log, "mirror.config_changed", problems=len(ids))
    return len(ids)

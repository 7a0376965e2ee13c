"""Which problem a ticket should belong to, from its signals now and when last seen.

A signal the agent just changed wins (the latest action is the intent); otherwise the link
keeps the signal it was made by; otherwise the first set signal in precedence order. The Jira
issue field holding the key the connector itself wrote is a confirmation, not a signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.store.models import LinkVia
from connector.sync.signals import ORDER, SIGNAL_OF, Signals


@dataclass(frozen=True)
class Target:
    via: LinkVia
    value: Any  # team / problem ticket id / problem id / Jira key / "team:cause"


@dataclass(frozen=True)
class Decision:
    target: Target | None
    rule_opt_out: bool


def decide(
    now: Signals,
    before: dict[str, Any],
    current_via: LinkVia | None,
    current_key: str | None,
    rule_opt_out: bool,
) -> Decision:
    # An agent emptying the Jira issue field says "not this problem": rules stop re-linking.
    if before.get("jira_key") and before.get("jira_key") == current_key and not now.jira_key:
        rule_opt_out = True
    candidates: dict[LinkVia, Target | None] = {
        via: Target(via, now.value(via)) if now.value(via) is not None else None for via in ORDER
    }
    if current_via is not LinkVia.JIRA_FIELD and now.jira_key and now.jira_key == current_key:
        candidates[LinkVia.JIRA_FIELD] = None
    if rule_opt_out:
        candidates[LinkVia.RULE] = None

    changed = [
        via
        for via in ORDER
        if candidates[via] is not None and now.value(via) != before.get(SIGNAL_OF[via])
    ]
    if changed:
        return Decision(candidates[changed[0]], rule_opt_out)
    if current_via is LinkVia.RELINK:  # moved by Jira (duplicate): stays until an agent acts
        return Decision(Target(LinkVia.RELINK, None), rule_opt_out)
    if current_via is not None and candidates.get(current_via) is not None:
        return Decision(candidates[current_via], rule_opt_out)
    first = next((c for c in candidates.values() if c is not None), None)
    return Decision(first, rule_opt_out)

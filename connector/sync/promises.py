"""What the connector tells an agent will happen to a linked ticket's customer, derived from
the config (which resolutions have a public reply template, whether replies wait for approval)
and the problem's state, so the link note never promises a reply that will not come."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.config import Config


def replying_resolutions(config: Config) -> tuple[list[str], list[str]]:
    """Jira resolutions whose outcome has a public reply template, and the others."""
    templates = config.replies.templates
    public = [r for r, o in config.outcomes.items() if templates.get(o) is not None]
    silent = [r for r in config.outcomes if r not in public]
    return public, silent


def reply_promise(config: Config, resolved: bool, outcome: str | None) -> str:
    """One sentence for the link note: what the customer will get, and when."""
    approval = " once an admin approves it" if config.replies.require_approval else ""
    if resolved:
        if outcome is not None and config.replies.templates.get(outcome) is not None:
            return (
                f"The issue is already resolved ({outcome}): the customer gets the reply "
                f"now{approval}."
            )
        return (
            f"The issue is already resolved ({outcome or 'no outcome'}) with no customer reply "
            "for that outcome: answer the customer yourself."
        )
    public, silent = replying_resolutions(config)
    if not public:
        return (
            "No resolution has a customer reply configured: answer the customer yourself when "
            "the issue is resolved."
        )
    text = (
        f"When the issue is resolved as {_either(public)}, the customer gets a public "
        f"reply{approval}"
    )
    if silent:
        text += f"; as {_either(silent)}, only an internal note (answer the customer yourself)"
    return text + "."


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

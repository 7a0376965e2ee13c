"""Doctor's checks of the Jira site itself: which deployment answers (Cloud or Data Center, and
its version, read from `serverInfo`, never from configuration), what that means for webhook
signing, and whether the connector's account (API token or personal access token) holds the
permissions the connector uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connector.ops.checks import FAIL, OK, WARN, Check

if TYPE_CHECKING:
    from connector.ops.checks import DoctorContext

# Jira Data Center signs admin-webhook deliveries (X-Hub-Signature) from 10.0 on; 9.x and
# older (and Jira Server) send them unsigned whatever the webhook's secret.
FIRST_SIGNING_DC_MAJOR = 10
# What the connector does in each team project, and what install, uninstall and doctor need.
PROJECT_PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "ADD_COMMENTS")
ADMIN_PERMISSION = "ADMINISTER"


def deployment(runtime: DoctorContext) -> Iterator[Check]:
    info = runtime.jira.server_info()
    kind = str(info.get("deploymentType") or "unknown")
    version = str(info.get("version") or "unknown version")
    login = "personal access token" if runtime.settings.jira_pat else "email and API token"
    detail = f"Jira {kind} {version}, signed in with a {login}"
    if kind == "Cloud":
        yield Check("jira deployment", OK, detail)
        return
    numbers = info.get("versionNumbers") or [0]
    major = numbers[0] if isinstance(numbers, list) and numbers else 0
    if isinstance(major, int) and major >= FIRST_SIGNING_DC_MAJOR:
        yield Check("jira deployment", OK, f"{detail}; it signs webhook deliveries")
        return
    unsigned = (
        f"{detail}: Jira before Data Center 10 sends webhooks unsigned, so any sender can post "
        "to /webhooks/jira (each delivery is only a hint: the connector re-reads the issue)"
    )
    if runtime.settings.jira_webhook_secret is not None:
        yield Check(
            "jira deployment",
            FAIL,
            f"{unsigned}; with CONNECTOR_JIRA_WEBHOOK_SECRET set, every delivery gets 401",
            "unset CONNECTOR_JIRA_WEBHOOK_SECRET (only the reconcile poll sees Jira's changes "
            "until then), let only the Jira server reach /webhooks/jira (a firewall or proxy "
            "rule), and upgrade to Jira Data Center 10 or later",
        )
        return
    yield Check(
        "jira deployment",
        WARN,
        unsigned,
        "let only the Jira server reach /webhooks/jira (a firewall or proxy rule), and upgrade "
        "to Jira Data Center 10 or later, which signs with the secret `connector install` sets",
    )


def permissions(runtime: DoctorContext) -> Iterator[Check]:
    wanted = (ADMIN_PERMISSION, *PROJECT_PERMISSIONS)
    held = runtime.jira.my_permissions(wanted)
    missing = [p for p in PROJECT_PERMISSIONS if not held.get(p)]
    token = "personal access token" if runtime.settings.jira_pat else "API token"
    if missing:
        yield Check(
            "jira permissions",
            FAIL,
            f"the {token}'s account lacks {', '.join(missing)}",
            f"grant the connector's account {', '.join(missing)} in the team projects' "
            "permission schemes (a personal access token has its owner's permissions)",
        )
    elif not held.get(ADMIN_PERMISSION):
        yield Check(
            "jira permissions",
            WARN,
            f"the {token}'s account can work in projects but lacks Administer Jira",
            "install, uninstall and this doctor manage the Jira webhook and custom fields: "
            "run them with a Jira administrator's token, or make the connector's account one",
        )
    else:
        yield Check("jira permissions", OK, f"the {token}'s account holds {', '.join(wanted)}")

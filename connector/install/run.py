"""Plan, apply, and record: the ids go into the config file, the secrets to `.env` or the
admin's screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.config import embedded_defaults_text
from connector.errors import ConfigError
from connector.install.config_file import set_keys
from connector.install.installed import Installed
from connector.install.jira_fields import (
    IMPACT_FIELDS,
    plan_impact_field_removal,
    plan_impact_fields,
)
from connector.install.jira_screens import AskShared, plan_screens
from connector.install.jira_setup import plan_jira, plan_jira_removal
from connector.install.plan import Plan
from connector.install.zendesk_app import plan_app, plan_app_removal
from connector.install.zendesk_removal import plan_zendesk_removal
from connector.install.zendesk_setup import plan_zendesk
from connector.logs import register_secrets

if TYPE_CHECKING:
    from connector.install.context import AdminContext


def public_url(runtime: AdminContext) -> str:
    if runtime.settings.public_url is None:
        raise ConfigError(
            "environment",
            "CONNECTOR_PUBLIC_URL",
            "required by install: the URL where Zendesk and Jira reach this connector",
        )
    return str(runtime.settings.public_url)


def plan_install(
    runtime: AdminContext, ask_shared: AskShared = lambda screen, others: False
) -> tuple[Plan, Installed]:
    """`ask_shared` decides whether a screen shared with projects the connector does not
    serve may get the impact fields (default: no, and a note says so)."""
    url = public_url(runtime)
    plan, installed = Plan(), Installed()
    plan_zendesk(runtime, url, installed, plan)
    plan_app(runtime, url, plan)
    plan_jira(runtime, url, installed, plan)
    plan_impact_fields(runtime, installed, plan)
    plan_screens(runtime, installed, plan, ask_shared)
    return plan, installed


def finish_install(runtime: AdminContext, installed: Installed) -> bool:
    """After applying: read back the Zendesk signing secret and record every id (returns
    whether the config file changed)."""
    if installed.zendesk_webhook_id:
        installed.zendesk_webhook_secret = runtime.zendesk.webhook_signing_secret(
            installed.zendesk_webhook_id
        )
    register_secrets([installed.zendesk_webhook_secret, installed.jira_webhook_secret])
    install_id = runtime.config.install_id_for(runtime.settings.zendesk_url)
    values = {**installed.config_values(), **installed.impact_values(), "install_id": install_id}
    return write_config(runtime, values)


def plan_uninstall(runtime: AdminContext, *, delete_fields: bool = False) -> Plan:
    """Switch off the webhooks and the trigger; with `delete_fields`, delete them and the
    ticket fields (and so every value the fields hold on every ticket)."""
    plan = Plan()
    plan_zendesk_removal(runtime, plan, delete_fields=delete_fields)
    plan_app_removal(runtime, plan)
    plan_jira_removal(runtime, plan, delete=delete_fields)
    plan_impact_field_removal(runtime, plan, delete=delete_fields)
    return plan


def finish_uninstall(runtime: AdminContext, *, deleted: bool) -> bool:
    """Forget the ids of what was deleted; switched-off things keep theirs for `install`."""
    if not deleted:
        return False
    keys = [*Installed().config_values(), *(f"jira.impact_fields.{s.key}" for s in IMPACT_FIELDS)]
    return write_config(runtime, dict.fromkeys(keys))


def write_config(runtime: AdminContext, values: dict[str, object]) -> bool:
    """Set the ids in the config file, changing only their lines; whether anything changed."""
    path = runtime.settings.config_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(embedded_defaults_text(), "utf-8")
    return set_keys(path, values)


def secret_lines(installed: Installed, runtime: AdminContext) -> dict[str, str]:
    """The secrets the admin must set, when they differ from the running settings."""
    lines: dict[str, str] = {}
    current_zd = runtime.settings.zendesk_webhook_secret
    if installed.zendesk_webhook_secret and (
        current_zd is None or current_zd.get_secret_value() != installed.zendesk_webhook_secret
    ):
        lines["CONNECTOR_ZENDESK_WEBHOOK_SECRET"] = installed.zendesk_webhook_secret
    current_jira = runtime.settings.jira_webhook_secret
    if installed.jira_webhook_secret and (
        current_jira is None or current_jira.get_secret_value() != installed.jira_webhook_secret
    ):
        lines["CONNECTOR_JIRA_WEBHOOK_SECRET"] = installed.jira_webhook_secret
    return lines

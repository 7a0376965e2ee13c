"""The admin webhook resource and body follow the site: Cloud and Jira 9 keep
/rest/webhooks/1.0/webhook, Data Center 10 moved it and put JQL, excludeBody and the secret
inside `configuration` (a top-level secret there is ignored and deliveries go unsigned)."""

from __future__ import annotations

import pytest

from connector.jira import webhook_registry as registry

HOOK = {
    "name": "Zendesk-Jira connector",
    "url": "https://connector.example.com/webhooks/jira",
    "events": ["jira:issue_updated", "jira:issue_deleted", "comment_created"],
    "filters": {"issue-related-events-section": "project in (FIN)"},
    "excludeBody": False,
    "enabled": True,
}


@pytest.mark.parametrize(
    ("info", "path"),
    [
        ({"deploymentType": "Cloud", "versionNumbers": [1001, 0, 0]}, registry.OLD),
        ({"deploymentType": "Server", "versionNumbers": [9, 12, 15]}, registry.OLD),
        ({"deploymentType": "DataCenter", "versionNumbers": [9, 12, 15]}, registry.OLD),
        ({"deploymentType": "DataCenter", "versionNumbers": [10, 3, 12]}, registry.DATA_CENTER_10),
        ({"deploymentType": "DataCenter", "versionNumbers": [11, 0, 0]}, registry.DATA_CENTER_10),
    ],
)
def test_the_resource_follows_server_info(info: dict[str, object], path: str) -> None:
    assert registry.resource(info) == path


def test_the_secret_and_the_jql_go_inside_configuration_on_data_center_10() -> None:
    body = registry.to_data_center({**HOOK, "secret": "s3cret"})
    assert body == {
        "name": HOOK["name"],
        "url": HOOK["url"],
        "events": HOOK["events"],
        "active": True,
        "configuration": {
            "FILTERS": "project in (FIN)",
            "EXCLUDE_BODY": "false",
            "SECRET": "s3cret",
        },
    }
    shown = {**body, "id": 7, "configuration": {"FILTERS": "project in (FIN)"}}
    assert registry.from_data_center(shown) == {**HOOK, "id": 7}

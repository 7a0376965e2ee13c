"""A local fake of the Jira REST API the connector uses (see `JiraSandbox`)."""

from connector_sandboxes.jira.delivery import sign
from connector_sandboxes.jira.sandbox import JiraSandbox

__all__ = ["JiraSandbox", "sign"]

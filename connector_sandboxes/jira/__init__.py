"""A local fake of the Jira REST API the connector uses (see `JiraSandbox`)."""

from connector_sandboxes.jira.delivery import sign
from connector_sandboxes.jira.sandbox import DEPLOYMENTS, JiraSandbox

__all__ = ["DEPLOYMENTS", "JiraSandbox", "sign"]

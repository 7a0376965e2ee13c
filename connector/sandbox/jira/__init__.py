"""A local fake of the Jira REST API the connector uses (see `JiraSandbox`)."""

from connector.sandbox.jira.delivery import sign
from connector.sandbox.jira.sandbox import JiraSandbox

__all__ = ["JiraSandbox", "sign"]

"""Zendesk <-> Jira problem connector: link tickets that share a cause, mirror, close the loop."""

__version__ = "0.1.0"

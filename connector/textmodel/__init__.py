"""The text model: turns a ticket's words into a vector the suggestion engine compares.

An adapter like `zendesk/` and `jira/`: the only package that imports the embedding library.
"""

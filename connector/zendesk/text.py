"""Text the connector writes into Zendesk comments on behalf of someone else.

Zendesk renders Liquid in every comment body it is given (`{{ticket.requester.email}}`,
`{% if ... %}`), so a value taken from Jira (a solution, a fix version, a status name) that
contains Liquid would pull ticket, requester or agent fields into the comment. Such values are
made inert before they are written: a zero-width space (U+200B) goes between the two characters
of every Liquid delimiter (`{{`, `{%`, `}}`, `%}`), so Zendesk sees no placeholder and the
reader sees the text as written. Only the admin's reply templates may use placeholders.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
_DELIMITERS = re.compile(r"\{(?=[{%])|%(?=\})|\}(?=\})")


def inert(text: str) -> str:
    """`text` with every Liquid delimiter broken up; nothing else changes."""
    return _DELIMITERS.sub(lambda m: m.group(0) + ZERO_WIDTH_SPACE, text)

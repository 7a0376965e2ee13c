"""Text the connector writes into Jira is wiki markup (REST API v2): customer text must arrive
as the words it is, never as formatting, a link or a mention (`[~accountid:...]`)."""

from __future__ import annotations

import re

# The characters wiki markup gives a meaning to (effects, links and mentions, macros, tables,
# images, lists, emoticons); a backslash makes Jira show each as itself.
_SPECIAL = re.compile(r"([\\*_+\-^~?{}\[\]|!#()])")


def wiki_plain(text: str) -> str:
    """One line of customer text as literal wiki text (line breaks and runs of space folded)."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))

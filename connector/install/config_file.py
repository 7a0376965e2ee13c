"""Write ids into the YAML config in place, keeping the admin's comments and layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def set_keys(path: Path, values: dict[str, Any]) -> bool:
    """Set dotted keys (`zendesk.fields.jira_issue`); returns whether the file changed."""
    yaml = YAML()
    yaml.preserve_quotes = True
    data = yaml.load(path.read_text("utf-8")) or {}
    changed = False
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        if node.get(leaf) != value or leaf not in node:
            node[leaf] = value
            changed = True
    if changed:
        with path.open("w", encoding="utf-8") as handle:
            yaml.dump(data, handle)
    return changed

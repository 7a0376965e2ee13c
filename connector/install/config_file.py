"""Write ids into the admin's YAML config by changing only the lines of those keys.

A YAML round-trip rewrites all it re-emits (long lines wrapped, flow lists re-indented, `null`
turned into nothing, comments shifted), so the file is edited as text instead: ruamel finds the
line of each key, only the value's text on that line changes (a comment after it keeps its
column), and a missing key gets a line of its own after its siblings. The edited text must read
(with the loader the connector uses) as the original with those keys set, or nothing is written.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from connector.errors import ConfigError

QUOTED = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\''
# after `key:`: spaces, then a quoted or plain scalar (or nothing), in block or flow context
BLOCK_VALUE = re.compile(rf"(?P<sp>[ \t]*)(?P<tok>{QUOTED}|[^\s#](?:[^#]*[^\s#])?|)[ \t]*")
FLOW_VALUE = re.compile(rf"(?P<sp>[ \t]*)(?P<tok>{QUOTED}|[^\s,{{}}](?:[^,{{}}]*[^\s,{{}}])?|)")
PLAIN_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")


class _CannotEdit(Exception):
    pass


def set_keys(path: Path, values: dict[str, Any]) -> bool:
    """Set dotted keys (`zendesk.fields.jira_issue`); returns whether the file changed."""
    text = path.read_bytes().decode("utf-8")
    edited = with_values(text, values, str(path))
    if edited == text:
        return False
    path.write_bytes(edited.encode("utf-8"))
    return True


def with_values(text: str, values: dict[str, Any], source: str = "config") -> str:
    """`text` with each dotted key set to its value, every other byte as it was."""
    edited = text
    try:
        for dotted, value in values.items():
            edited = _set(edited, dotted.split("."), value)
    except _CannotEdit as exc:
        raise ConfigError(source, str(exc), _by_hand(values)) from None
    if _intended(text, values) != yaml.safe_load(edited):
        raise ConfigError(source, "", _by_hand(values))
    return edited


def _by_hand(values: dict[str, Any]) -> str:
    wanted = ", ".join(f"{key}: {render(value)}" for key, value in values.items())
    return f"cannot be edited in place (unusual layout); set these by hand: {wanted}"


def _intended(text: str, values: dict[str, Any]) -> Any:
    data = copy.deepcopy(yaml.safe_load(text)) or {}
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return data


def _set(text: str, keys: list[str], value: Any) -> str:
    lines = text.splitlines(keepends=True)
    data = YAML().load(text)
    node: CommentedMap = data if data is not None else CommentedMap()
    if not isinstance(node, CommentedMap):
        raise _CannotEdit("(top level)")
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if key in node and child is None and not node.fa.flow_style():  # `zendesk:`, `zendesk: ~`
            row, col = node.lc.key(key)
            lines[row] = _with_value(lines[row], key, col, False, None)
            _insert_block(lines, row, col + 2, keys[depth + 1 :], value)
            return "".join(lines)
        if key not in node:
            _insert(lines, node, keys[depth:], value)
            return "".join(lines)
        if not isinstance(child, CommentedMap):
            raise _CannotEdit(".".join(keys[: depth + 1]))
        node = child
    leaf = keys[-1]
    if leaf not in node:
        _insert(lines, node, [leaf], value)
    elif not same(node[leaf], value):
        row, col = node.lc.key(leaf)
        lines[row] = _with_value(lines[row], leaf, col, node.fa.flow_style(), render(value))
    return "".join(lines)


def _with_value(line: str, key: str, col: int, flow: bool, new: str | None) -> str:
    """The line with the value after `key:` replaced by `new` (None: no value at all)."""
    body = line.rstrip("\r\n")
    newline = line[len(body) :]
    quoted = "|".join(re.escape(k) for k in (key, f'"{key}"', f"'{key}'"))
    head = re.compile(rf"(?:{quoted})[ \t]*:").match(body, col)
    if head is None:
        raise _CannotEdit(key)
    value = (FLOW_VALUE if flow else BLOCK_VALUE).match(body, head.end())
    assert value is not None  # every part of both patterns may be empty
    rest = body[value.end() :]
    if not flow and rest and not rest.startswith("#"):
        raise _CannotEdit(key)
    if flow and not rest.lstrip().startswith((",", "}")):
        raise _CannotEdit(key)
    sp = value["sp"] or " "
    text = "" if new is None else sp + new
    if flow:
        return body[: head.end()] + text + rest + newline
    if not rest:
        return body[: head.end()] + text + newline
    comment_col = value.end()  # a comment after the value keeps its column when there is room
    pad = max(comment_col - head.end() - len(text), 1)
    return body[: head.end()] + text + " " * pad + rest + newline


def _insert(lines: list[str], node: CommentedMap, keys: list[str], value: Any) -> None:
    if node.fa.flow_style():
        row, col = node.lc.line, node.lc.col
        line = lines[row]
        if line[col : col + 1] != "{":
            raise _CannotEdit(keys[0])
        entry = _flow_entry(keys, value)
        after = line[col + 1 :]
        joiner = "" if after.lstrip().startswith("}") else ", "
        lines[row] = line[: col + 1] + entry + joiner + after
        return
    if len(node):
        row, col = node.lc.key(next(iter(node)))
        _insert_block(lines, _last_row(lines, row, col), col, keys, value)
    else:
        _insert_block(lines, len(lines) - 1, 0, keys, value)


def _insert_block(
    lines: list[str], after_row: int, indent: int, keys: list[str], value: Any
) -> None:
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    new = [f"{' ' * (indent + 2 * depth)}{key}:{newline}" for depth, key in enumerate(keys[:-1])]
    new.append(f"{' ' * (indent + 2 * (len(keys) - 1))}{keys[-1]}: {render(value)}{newline}")
    lines[after_row + 1 : after_row + 1] = new


def _last_row(lines: list[str], first_row: int, indent: int) -> int:
    """The last line of the block mapping whose keys start at `indent` on `first_row`."""
    last = first_row
    for row in range(first_row + 1, len(lines)):
        stripped = lines[row].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(lines[row]) - len(lines[row].lstrip(" ")) < indent:
            break
        last = row
    return last


def _flow_entry(keys: list[str], value: Any) -> str:
    entry = render(value)
    for key in reversed(keys[1:]):
        entry = f"{{{key}: {entry}}}"
    return f"{keys[0]}: {entry}"


def render(value: Any) -> str:
    """A value as YAML text that reads back as the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if PLAIN_SAFE.fullmatch(text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text)


def same(current: Any, value: Any) -> bool:
    """Whether the file already holds `value` (an id `"1"` is not the number 1)."""
    if value is None or current is None:
        return value is None and current is None
    if isinstance(value, str) or isinstance(current, str):
        return isinstance(value, str) and isinstance(current, str) and str(current) == value
    if isinstance(value, bool) or isinstance(current, bool):
        return current is value
    return isinstance(current, int) and current == value

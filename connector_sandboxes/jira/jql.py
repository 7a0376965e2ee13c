"""Fakes JQL, the subset the connector and webhook filters use: clauses with = != > >= < <= ~
IN, NOT IN, IS [NOT] EMPTY; AND, OR, NOT, parentheses; ORDER BY field ASC|DESC."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector_sandboxes.jira import catalog
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.state import Issue, State

Predicate = Callable[[State, Issue], bool]
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|=|>|<|~)"""
    r"""|(?P<punct>[(),])|(?P<word>[^\s(),=!<>~"']+))"""
)
_DATE_FIELDS = {
    "updated": "updated",
    "created": "created",
    "resolved": "resolution_date",
    "resolutiondate": "resolution_date",
    "duedate": "duedate",
    "due": "duedate",
}
_SORTABLE = {"key", "issuekey", "id", "priority", "summary", "status", *_DATE_FIELDS}


@dataclass
class Tok:
    kind: str
    text: str

    def kw(self, word: str) -> bool:
        return self.kind == "word" and self.text.lower() == word


@dataclass
class Query:
    where: Predicate | None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)

    @property
    def bounded(self) -> bool:
        return self.where is not None

    def matches(self, state: State, issue: Issue) -> bool:
        return self.where is None or self.where(state, issue)

    def sort(self, issues: list[Issue]) -> list[Issue]:
        for name, desc in reversed(self.order or [("id", True)]):
            present = [i for i in issues if _sort_key(i, name) is not None]
            missing = [i for i in issues if _sort_key(i, name) is None]
            present.sort(key=functools.partial(_sort_key, name=name), reverse=desc)
            issues = present + missing
        return issues


def parse(jql: str, fields: Sequence[catalog.CustomField] = catalog.CUSTOM_FIELDS) -> Query:
    """Parse a query; custom fields are resolved among `fields` (the site's, `State`'s)."""
    tokens, pos = [], 0
    jql = jql or ""
    while pos < len(jql.rstrip()):
        m = _TOKEN.match(jql, pos)
        if not m or m.end() == pos:
            raise _error(f"The character '{jql[pos]}' is a reserved JQL character.")
        kind = m.lastgroup or "word"
        text = m.group(kind)
        tokens.append(Tok(kind, text[1:-1] if kind == "str" else text))
        pos = m.end()
    return _Parser(tokens, fields).query()


class _Parser:
    def __init__(self, tokens: list[Tok], fields: Sequence[catalog.CustomField]) -> None:
        self.toks, self.i, self.fields = tokens, 0, fields

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise _error("Expecting more of the query but reached its end.")
        self.i += 1
        return tok

    def accept(self, word: str) -> bool:
        tok = self.peek()
        if tok and (tok.kw(word) or (tok.kind in ("punct", "op") and tok.text == word)):
            self.i += 1
            return True
        return False

    def query(self) -> Query:
        tok = self.peek()
        where = None if tok is None or tok.kw("order") else self.expr()
        order: list[tuple[str, bool]] = []
        if self.accept("order"):
            if not self.accept("by"):
                raise _error("Expecting 'by' after 'order'.")
            while True:
                name = self.take().text
                cf = catalog.custom_field(name, self.fields)
                name = cf.id if cf else name.lower()
                if not cf and name not in _SORTABLE:
                    raise _error(f"Field '{name}' does not exist or cannot be used in ORDER BY.")
                desc = self.accept("desc")
                if not desc:
                    self.accept("asc")
                order.append((name, desc))
                if not self.accept(","):
                    break
        if self.peek() is not None:
            raise _error(f"Expecting operator or end of query but got '{self.take().text}'.")
        return Query(where, order)

    def expr(self) -> Predicate:
        parts = [self.conj()]
        while self.accept("or"):
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else lambda s, i: any(p(s, i) for p in parts)

    def conj(self) -> Predicate:
        parts = [self.unary()]
        while self.accept("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else lambda s, i: all(p(s, i) for p in parts)

    def unary(self) -> Predicate:
        if self.accept("not"):
            inner = self.unary()
            return lambda s, i: not inner(s, i)
        if self.accept("("):
            inner = self.expr()
            if not self.accept(")"):
                raise _error("Expecting ')'.")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        name = self.take().text
        getter = _getter(name, self.fields)
        tok = self.take()
        op = tok.text.lower()
        if tok.kind == "word" and op in ("not", "is"):
            if op == "not" and self.accept("in"):
                values = self.values()
                return lambda s, i: not _compare(getter(s, i), "in", values, name)
            negate = op == "is" and self.accept("not")
            if op == "is" and (self.accept("empty") or self.accept("null")):
                return lambda s, i: _is_empty(getter(s, i)) != negate
            raise _error(f"Expecting 'EMPTY' after '{op}'.")
        if tok.kind != "op" and op != "in":
            raise _error(f"Expecting an operator after '{name}' but got '{tok.text}'.")
        values = self.values() if op == "in" else [self.value()]
        return lambda s, i: _compare(getter(s, i), op, values, name)

    def values(self) -> list[str]:
        if not self.accept("("):
            raise _error("Expecting '(' after 'in'.")
        values = [self.value()]
        while self.accept(","):
            values.append(self.value())
        if not self.accept(")"):
            raise _error("Expecting ')' to close the list.")
        return values

    def value(self) -> str:
        tok = self.take()
        if tok.kind not in ("str", "word"):
            raise _error(f"Expecting a value but got '{tok.text}'.")
        if tok.kind == "word" and self.peek() and self.peek().text == "(":  # type: ignore[union-attr]
            raise _error(f"Unable to find JQL function '{tok.text}()'.")
        return tok.text


def _getter(name: str, fields: Sequence[catalog.CustomField]) -> Callable[[State, Issue], Any]:
    low = name.lower()
    prop = re.fullmatch(r"issue\.property\[([^\]]+)\]((?:\.\w+)*)", name, re.IGNORECASE)
    if prop:
        key, path = prop.group(1).strip("\"'"), [p for p in prop.group(2).split(".") if p]
        return lambda s, i: _walk(i.properties.get(key), path)
    simple: dict[str, Callable[[State, Issue], Any]] = {
        "project": lambda s, i: _names(s.projects[i.project_key].__dict__, "key", "id", "name"),
        "key": lambda s, i: [k for k, v in s.keys.items() if v == i.id],
        "id": lambda s, i: int(i.id),
        "labels": lambda s, i: list(i.labels),
        "status": lambda s, i: [i.status_id, catalog.STATUS_BY_ID[i.status_id].name],
        "statuscategory": lambda s, i: _category(i),
        "resolution": lambda s, i: _catalog(catalog.RESOLUTIONS, i.resolution_id),
        "priority": lambda s, i: _catalog(catalog.PRIORITIES, i.priority_id),
        "issuetype": lambda s, i: _catalog(catalog.ISSUE_TYPES, i.issuetype_id),
        "summary": lambda s, i: i.summary,
        "description": lambda s, i: i.description,
        "text": lambda s, i: " ".join(
            [i.summary, i.description or ""] + [c.body for c in i.comments]
        ),
        "assignee": lambda s, i: i.assignee,
        "reporter": lambda s, i: i.reporter,
    }
    simple.update(issuekey=simple["key"], issue=simple["key"], type=simple["issuetype"])
    if low in simple:
        return simple[low]
    if low in _DATE_FIELDS:
        attr = _DATE_FIELDS[low]
        return lambda s, i: getattr(i, attr)
    cf = catalog.custom_field(name, fields)
    if cf:
        return lambda s, i: i.custom.get(cf.id)
    raise _error(f"Field '{name}' does not exist or you do not have permission to view it.")


def _compare(actual: Any, op: str, values: list[str], name: str) -> bool:
    if op in ("in", "="):
        return any(_equal(actual, v) for v in values)
    if op == "!=":
        return not _is_empty(actual) and not _equal(actual, values[0])
    if op in ("~", "!~"):
        text = " ".join(actual) if isinstance(actual, list) else str(actual or "")
        found = all(w in text.lower() for w in values[0].lower().replace("*", "").split())
        return found if op == "~" else not found
    if _is_empty(actual):
        return False
    left, right = _ordered(actual, values[0], name)
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _equal(actual: Any, value: str) -> bool:
    if isinstance(actual, list):
        return any(_equal(a, value) for a in actual)
    if isinstance(actual, datetime | date | int | float):
        left, right = _ordered(actual, value, "")
        return left == right
    if isinstance(actual, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", actual):
        return actual == value.replace("/", "-")
    return actual is not None and str(actual).lower() == value.lower()


def _ordered(actual: Any, value: str, name: str) -> tuple[Any, Any]:
    if isinstance(actual, datetime):
        return actual, _parse_time(value)
    if isinstance(actual, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", actual):
        return date.fromisoformat(actual), _parse_time(value).date()
    if isinstance(actual, int | float):
        try:
            return actual, float(value)
        except ValueError:
            raise _error(f"The value '{value}' is not a number for field '{name}'.") from None
    return str(actual).lower(), value.lower()


def _parse_time(value: str) -> datetime:
    value = value.strip()
    if re.fullmatch(r"\d{9,}", value):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    rel = re.fullmatch(r"([+-]?\d+)([wdhm])", value)
    if rel:
        unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[rel.group(2)]
        return datetime.now(UTC) + timedelta(**{unit: int(rel.group(1))})
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise _error(f"Date value '{value}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm'.")


def _is_empty(actual: Any) -> bool:
    return actual is None or actual == [] or actual == ""


def _walk(value: Any, path: list[str]) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _names(d: dict[str, Any], *keys: str) -> list[str]:
    return [str(d[k]) for k in keys]


def _catalog(items: tuple[dict[str, Any], ...], item_id: str | None) -> list[str] | None:
    found = next((i for i in items if i["id"] == item_id), None)
    return [found["id"], found["name"]] if found else None


def _category(issue: Issue) -> list[str]:
    cat = catalog.STATUS_CATEGORIES[catalog.STATUS_BY_ID[issue.status_id].category]
    return [str(cat["id"]), cat["key"], cat["name"]]


def _sort_key(issue: Issue, name: str) -> Any:
    if name in ("key", "issuekey"):
        project, _, number = issue.key.partition("-")
        return (project, int(number))
    if name == "id":
        return int(issue.id)
    if name == "priority":
        return -int(issue.priority_id)
    if name in _DATE_FIELDS:
        return getattr(issue, _DATE_FIELDS[name])
    if name.startswith("customfield_"):
        return issue.custom.get(name)
    return issue.summary.lower() if name == "summary" else issue.status_id


def _error(message: str) -> JiraError:
    return JiraError(400, [f"Error in the JQL Query: {message}"])

"""The sync core runs no query of its own: every read and write of the database goes through a
repository in `connector/store/` (ARCHITECTURE.md). Checked on the source: no module under
`connector/sync` imports SQLAlchemy or asks a session to execute, scalar(s) or get.

The import-linter contracts (`lint-imports`) say which way dependencies run; this says what
the sync core may do with the session the store gives it: hand it to a repository.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SYNC = Path(__file__).resolve().parents[1] / "connector" / "sync"
# The session methods that run a query; `add`, `delete` and setting attributes on the model
# objects a repository returned are domain state changes and stay allowed.
QUERY_METHODS = frozenset({"execute", "scalars", "scalar", "get", "get_one", "query"})
# Time is read through the `Clock` port (`runtime.clock`), never straight from the system.
CLOCK_CALLS = frozenset(
    {"utcnow", "time.time", "time.monotonic", "time.sleep", "datetime.now", "datetime.utcnow"}
)


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(SYNC.parents[1])}:{self.line}: {self.what}"


def violations_in(source: str, path: Path) -> list[Violation]:
    found: list[Violation] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sqlalchemy(alias.name):
                    found.append(Violation(path, node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and _is_sqlalchemy(node.module or ""):
            found.append(Violation(path, node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Call) and _receiver(node.func) in CLOCK_CALLS:
            found.append(Violation(path, node.lineno, f"{_receiver(node.func)}() (use the clock)"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS
            and "session" in _receiver(node.func.value).lower()
        ):
            call = f"{_receiver(node.func.value)}.{node.func.attr}(...)"
            found.append(Violation(path, node.lineno, call))
    return sorted(found, key=lambda v: v.line)


def violations(root: Path) -> list[Violation]:
    return [
        v
        for path in sorted(root.rglob("*.py"))
        for v in violations_in(path.read_text(encoding="utf-8"), path)
    ]


def _is_sqlalchemy(module: str) -> bool:
    return module == "sqlalchemy" or module.startswith("sqlalchemy.")


def _receiver(node: ast.expr) -> str:
    """The name a method is called on: `session`, `self.session`, `runtime.db.session()`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_receiver(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_receiver(node.func)}()"
    return ""


def test_the_sync_core_runs_no_query_and_reads_no_clock_of_its_own() -> None:
    found = violations(SYNC)
    assert not found, "queries belong in the store, time in the clock:\n" + "\n".join(
        map(str, found)
    )


def test_the_check_sees_imports_session_queries_and_clock_reads() -> None:
    source = (
        "from sqlalchemy import select\n"
        "import sqlalchemy.orm\n"
        "def f(session, runtime, actors):\n"
        "    session.scalars(select(X)).first()\n"
        "    session.get(X, 1)\n"
        "    runtime.db.session().execute(q)\n"
        "    actors.get(1)\n"  # a dict, not a session: fine
        "    session.add(x)\n"  # a state change, not a query: fine
        "    now = utcnow()\n"
        "    time.sleep(1)\n"
        "    runtime.clock.now()\n"  # through the port: fine
    )
    found = [v.what for v in violations_in(source, SYNC / "example.py")]
    assert found == [
        "from sqlalchemy import ...",
        "import sqlalchemy.orm",
        "session.scalars(...)",
        "session.get(...)",
        "runtime.db.session().execute(...)",
        "utcnow() (use the clock)",
        "time.sleep() (use the clock)",
    ]

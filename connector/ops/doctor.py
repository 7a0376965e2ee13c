"""`connector doctor`: is this installation able to work? Every line says what was checked,
what was found, and for a failure the concrete fix.

Read-only: it reads both APIs, the database and the queue, and changes nothing (it does not
even create a SQLite file that is not there yet).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import AuthError, ConfigError, ConnectorError, NotFoundError, TransientError
from connector.fields import TICKET_FIELDS
from connector.install.jira_setup import WEBHOOK_NAME as JIRA_WEBHOOK_NAME
from connector.install.jira_setup import projects_jql, webhook_id
from connector.install.zendesk_setup import TRIGGER_TITLE
from connector.install.zendesk_setup import WEBHOOK_NAME as ZENDESK_WEBHOOK_NAME
from connector.ops import (
    doctor_app,
    doctor_fields,
    doctor_jira_site,
    doctor_suggestions,
    queries,
)
from connector.ops.checks import FAIL, OK, SKIP, WARN, Check
from connector.ops.public_url import healthz_problem
from connector.store.models import utcnow

if TYPE_CHECKING:
    from connector.ops.checks import DoctorContext

QUEUE_BACKLOG_WARN = 1000
INSTALL = "run `connector install`"


def run_doctor(runtime: DoctorContext) -> list[Check]:
    checks: list[Check] = []
    for section in (_settings, _zendesk, _jira, _store):
        checks.extend(section(runtime))
    return checks


def passed(checks: list[Check]) -> bool:
    return not any(c.failed for c in checks)


# -- settings -----------------------------------------------------------------------------------
def _settings(runtime: DoctorContext) -> Iterator[Check]:
    s = runtime.settings
    if s.public_url:
        yield _public_url(str(s.public_url))
    else:
        yield Check(
            "public URL",
            FAIL,
            "CONNECTOR_PUBLIC_URL is not set",
            "set CONNECTOR_PUBLIC_URL to the https URL where Zendesk and Jira reach this "
            "connector, then run `connector install`",
        )
    if s.admin_token:
        yield Check("admin token", OK, "dashboard and /api/ enabled")
    else:
        yield Check(
            "admin token",
            WARN,
            "CONNECTOR_ADMIN_TOKEN is not set: dashboard and /api/ answer 404",
            "set CONNECTOR_ADMIN_TOKEN to a long random value (e.g. `openssl rand -hex 32`)",
        )


def _public_url(url: str) -> Check:
    problem = healthz_problem(url)
    if problem is None:
        return Check(
            "public URL",
            OK,
            f"{url} answers GET /healthz from this machine (whether Zendesk and Jira reach it "
            "too shows in the last deliveries)",
        )
    return Check(
        "public URL",
        WARN,
        f"set to {url}, but not reachable from here: {problem}",
        "start the connector (`connector serve`) behind this URL, or check the proxy and DNS; "
        "if this machine cannot see it by design, the last deliveries tell whether Zendesk and "
        "Jira can",
    )


# -- Zendesk ------------------------------------------------------------------------------------
def _zendesk(runtime: DoctorContext) -> Iterator[Check]:
    name = "zendesk credentials"
    try:
        me = runtime.zendesk.me()
    except (ConfigError, ConnectorError) as exc:
        yield _api_failure(name, "zendesk", exc, runtime)
        yield from _skipped(("zendesk fields", "zendesk webhook", "zendesk trigger"), name)
        if runtime.config.zendesk.organization_value_field:
            yield from _skipped(("zendesk organization value field",), name)
        return
    if me.role != "admin":
        yield Check(
            name,
            FAIL,
            f"signed in as {me.email} with role {me.role or 'unknown'}",
            "use the email and API token of a Zendesk admin (install and doctor manage "
            "ticket fields, webhooks and triggers)",
        )
    else:
        yield Check(name, OK, f"signed in as {me.email} (admin)")
    for label, probe in (
        ("zendesk fields", _zendesk_fields),
        ("zendesk webhook", _zendesk_webhook),
        ("zendesk trigger", _zendesk_trigger),
        ("zendesk organization value field", doctor_fields.organization_value_field),
    ):
        yield from _guarded(label, "zendesk", runtime, probe)


def _zendesk_fields(runtime: DoctorContext) -> Iterator[Check]:
    configured = runtime.config.zendesk.fields
    path = runtime.settings.config_path
    unset = [s.key for s in TICKET_FIELDS if configured.id_of(s.key) is None]
    if unset:
        yield Check(
            "zendesk fields",
            FAIL,
            f"no field id in the config for: {', '.join(unset)}",
            f"{INSTALL} (it writes the ids into {path}), or set zendesk.fields.{unset[0]} by hand",
        )
        return
    existing = {int(f["id"]) for f in runtime.zendesk.list_ticket_fields()}
    gone = [s.key for s in TICKET_FIELDS if configured.id_of(s.key) not in existing]
    if gone:
        yield Check(
            "zendesk fields",
            FAIL,
            f"configured field ids do not exist in Zendesk: {', '.join(gone)}",
            f"{INSTALL} to recreate them and update {path}",
        )
    else:
        yield Check("zendesk fields", OK, f"all {len(TICKET_FIELDS)} ticket fields exist")


def _zendesk_webhook(runtime: DoctorContext) -> Iterator[Check]:
    want = _endpoint(runtime, "zendesk")
    hooks = runtime.zendesk.list_webhooks()
    hook = next((h for h in hooks if h["id"] == runtime.config.zendesk.webhook_id), None) or next(
        (h for h in hooks if h.get("name") == ZENDESK_WEBHOOK_NAME), None
    )
    if hook is None:
        yield Check("zendesk webhook", FAIL, "not found", f"{INSTALL} to create it")
        return
    problems, fixes = _webhook_problems(
        runtime, "endpoint", hook.get("endpoint"), want, hook.get("status") == "active"
    )
    if problems:
        yield Check("zendesk webhook", FAIL, "; ".join(problems), " ".join(fixes))
    else:
        yield Check("zendesk webhook", OK, f"active, posts to {hook.get('endpoint')}")
    yield _zendesk_secret(runtime, str(hook["id"]))


def _zendesk_secret(runtime: DoctorContext, hook_id: str) -> Check:
    configured = runtime.settings.zendesk_webhook_secret
    name = "zendesk webhook secret"
    fix = (
        "run `connector install --write-env` (or copy the signing secret from Admin Center > "
        "Apps and integrations > Webhooks) into CONNECTOR_ZENDESK_WEBHOOK_SECRET"
    )
    if configured is None:
        return Check(
            name, FAIL, "CONNECTOR_ZENDESK_WEBHOOK_SECRET is not set: deliveries get 401", fix
        )
    actual = runtime.zendesk.webhook_signing_secret(hook_id)
    if not hmac.compare_digest(actual.encode(), configured.get_secret_value().encode()):
        return Check(
            name, FAIL, "does not match the webhook's signing secret: deliveries get 401", fix
        )
    return Check(name, OK, "matches the webhook's signing secret")


def _zendesk_trigger(runtime: DoctorContext) -> Iterator[Check]:
    triggers = runtime.zendesk.list_triggers()
    trigger = next(
        (t for t in triggers if t["id"] == runtime.config.zendesk.trigger_id), None
    ) or next((t for t in triggers if t.get("title") == TRIGGER_TITLE), None)
    if trigger is None:
        yield Check("zendesk trigger", FAIL, "not found", f"{INSTALL} to create it")
    elif not trigger.get("active", True):
        yield Check(
            "zendesk trigger",
            FAIL,
            f"'{TRIGGER_TITLE}' is inactive: no ticket change reaches the connector",
            f"activate it in Admin Center > Objects and rules > Triggers, or {INSTALL}",
        )
    else:
        yield Check("zendesk trigger", OK, f"active (id {trigger['id']})")


# -- Jira ---------------------------------------------------------------------------------------
def _jira(runtime: DoctorContext) -> Iterator[Check]:
    name = "jira credentials"
    try:
        me = runtime.jira.myself()
    except (ConfigError, ConnectorError) as exc:
        yield _api_failure(name, "jira", exc, runtime)
        yield from _skipped(("jira deployment", "jira permissions", "jira projects"), name)
        yield from _skipped(("jira priorities", "jira resolutions"), name)
        yield from _skipped(("jira fields", "jira impact screens", "jira webhook"), name)
        return
    who = me.get("displayName") or me.get("emailAddress") or me.get("accountId") or me.get("name")
    yield Check(name, OK, f"signed in as {who}")
    yield from _guarded("jira deployment", "jira", runtime, doctor_jira_site.deployment)
    yield from _guarded("jira permissions", "jira", runtime, doctor_jira_site.permissions)
    yield from _guarded("jira projects", "jira", runtime, _jira_projects)
    yield from _guarded("jira priorities", "jira", runtime, _jira_priorities)
    yield from _guarded("jira resolutions", "jira", runtime, _jira_resolutions)
    yield from _guarded("jira fields", "jira", runtime, doctor_fields.jira_fields)
    yield from _guarded("jira impact screens", "jira", runtime, doctor_fields.impact_screens)
    yield from _guarded("jira webhook", "jira", runtime, _jira_webhook)


def _jira_projects(runtime: DoctorContext) -> Iterator[Check]:
    path = runtime.settings.config_path
    for team_key, team in runtime.config.teams.items():
        name = f"jira project {team.jira_project} (team {team_key})"
        try:
            project = runtime.jira.get_project(team.jira_project)
        except NotFoundError:
            yield Check(
                name,
                FAIL,
                f"project {team.jira_project} does not exist or is not visible to this account",
                f"create project {team.jira_project} in Jira (or grant the connector's account "
                f"Browse projects on it), or change teams.{team_key}.jira_project in {path}",
            )
            continue
        types = [t.get("name") for t in project.get("issueTypes") or []]
        components = {c.get("name") for c in project.get("components") or []}
        missing_components = [c for c in team.components if c not in components]
        if types and team.issue_type not in types:
            yield Check(
                name,
                FAIL,
                f"issue type {team.issue_type} is not available in {team.jira_project} "
                f"(available: {', '.join(str(t) for t in types)})",
                f"add {team.issue_type} to the project's issue type scheme, or change "
                f"teams.{team_key}.issue_type in {path}",
            )
        elif missing_components:
            yield Check(
                name,
                FAIL,
                f"component {missing_components[0]} does not exist in {team.jira_project}",
                f"create component {missing_components[0]} in {team.jira_project}, or remove "
                f"it from teams.{team_key}.components in {path}",
            )
        else:
            yield Check(name, OK, f"exists, issue type {team.issue_type} available")


def _jira_priorities(runtime: DoctorContext) -> Iterator[Check]:
    wanted = [step.priority for step in runtime.config.priority]
    if not wanted:
        yield Check("jira priorities", OK, "no priority steps configured")
        return
    known = [str(p.get("name")) for p in runtime.jira.list_priorities()]
    missing = [(i, name) for i, name in enumerate(wanted) if name not in known]
    if missing:
        index, name = missing[0]
        yield Check(
            "jira priorities",
            FAIL,
            f"priority {name} does not exist in Jira",
            f"change priority.{index}.priority in {runtime.settings.config_path} to one of: "
            f"{', '.join(known)}",
        )
    else:
        yield Check("jira priorities", OK, f"all exist: {', '.join(dict.fromkeys(wanted))}")


def _jira_resolutions(runtime: DoctorContext) -> Iterator[Check]:
    wanted = list(runtime.config.outcomes)
    if not wanted:
        yield Check(
            "jira resolutions",
            WARN,
            "no outcomes configured: resolved issues send no reply",
            f"map Jira resolutions to outcomes under `outcomes:` in {runtime.settings.config_path}",
        )
        return
    known = [str(r.get("name")) for r in runtime.jira.list_resolutions()]
    missing = [name for name in wanted if name not in known]
    if missing:
        yield Check(
            "jira resolutions",
            FAIL,
            f"resolution {missing[0]} (in outcomes) does not exist in Jira",
            f"rename outcomes key '{missing[0]}' in {runtime.settings.config_path} to one of: "
            f"{', '.join(known)}",
        )
    else:
        yield Check("jira resolutions", OK, f"all exist: {', '.join(wanted)}")


def _jira_webhook(runtime: DoctorContext) -> Iterator[Check]:
    want = _endpoint(runtime, "jira")
    hooks = runtime.jira.list_webhooks()
    hook = next(
        (h for h in hooks if webhook_id(h) == runtime.config.jira.webhook_id), None
    ) or next((h for h in hooks if h.get("name") == JIRA_WEBHOOK_NAME), None)
    if hook is None:
        yield Check("jira webhook", FAIL, "not found", f"{INSTALL} to create it")
        return
    problems, fixes = _webhook_problems(
        runtime, "url", hook.get("url"), want, bool(hook.get("enabled", True))
    )
    jql = (hook.get("filters") or {}).get("issue-related-events-section")
    if jql != projects_jql(runtime):
        problems.append(f"JQL filter is {jql!r}, not {projects_jql(runtime)!r}")
        fixes.append(f"{INSTALL} to update the filter to the configured teams' projects.")
    if problems:
        yield Check("jira webhook", FAIL, "; ".join(problems), " ".join(dict.fromkeys(fixes)))
    else:
        yield Check("jira webhook", OK, f"enabled, posts to {hook.get('url')} ({jql})")
    if runtime.settings.jira_webhook_secret is None:
        yield Check(
            "jira webhook secret",
            WARN,
            "CONNECTOR_JIRA_WEBHOOK_SECRET is not set: Jira deliveries are accepted unsigned",
            "run `connector install --write-env` to set a secret on the webhook and in .env",
        )
    else:
        yield Check("jira webhook secret", OK, "set (Jira never shows it back to compare)")


def _webhook_problems(
    runtime: DoctorContext, key: str, actual: Any, want: str | None, active: bool
) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    fixes: list[str] = []
    if want is not None and actual != want:
        problems.append(f"{key} is {actual}, not {want}")
        fixes.append(f"{INSTALL} to point it at {want}.")
    if not active:
        problems.append("inactive")
        fixes.append(f"{INSTALL} to activate it.")
    return problems, fixes


def _endpoint(runtime: DoctorContext, side: str) -> str | None:
    url = runtime.settings.public_url
    return f"{str(url).rstrip('/')}/webhooks/{side}" if url else None


# -- database and queue ------------------------------------------------------------------------
# Doctor changes nothing, files included: a SQLite database or queue that does not exist yet is
# reported, never opened (opening one creates it).
NOT_CREATED_FIX = "run `connector db upgrade` (serve, web and worker also migrate on start)"


def _store(runtime: DoctorContext) -> Iterator[Check]:
    database = _database(runtime)
    yield database
    yield _queue(runtime)
    if database.status != OK:
        return
    yield from _guarded(doctor_app.NAME, "zendesk", runtime, doctor_app.sidebar_app)
    yield from _deliveries(runtime)
    yield _failed_events(runtime)
    yield from _retrying(runtime)
    yield from _replies(runtime)
    yield from doctor_suggestions.suggestions(runtime)


def _database(runtime: DoctorContext) -> Check:
    from connector.store.migrate import current_revision, head_revision, sqlite_file

    file = sqlite_file(runtime.settings.database_url)
    if file is not None and not file.exists():
        return Check("database", WARN, f"not created yet ({file} does not exist)", NOT_CREATED_FIX)
    try:
        revision = current_revision(runtime.db)
    except Exception as exc:
        return Check(
            "database",
            FAIL,
            f"unreachable: {type(exc).__name__}",
            "check CONNECTOR_DATABASE_URL and that the database server is running",
        )
    if revision is None:
        return Check(
            "database", WARN, "not created yet (the database has no schema)", NOT_CREATED_FIX
        )
    head = head_revision(runtime.settings.database_url)
    if revision != head:
        return Check(
            "database",
            FAIL,
            f"schema is behind the code (at {revision}, the code needs {head})",
            "run `connector db upgrade`",
        )
    return Check("database", OK, "reachable, migrations up to date")


def _queue(runtime: DoctorContext) -> Check:
    from connector.queue import queue_depth

    s = runtime.settings
    if not s.redis_url and not Path(s.queue_path).exists():
        return Check(
            "queue", OK, f"empty ({s.queue_path} is created by the first web or worker process)"
        )
    try:
        depth = queue_depth(runtime.huey)
    except Exception as exc:
        where = "CONNECTOR_REDIS_URL" if s.redis_url else "CONNECTOR_QUEUE_PATH"
        return Check(
            "queue",
            FAIL,
            f"unreachable: {type(exc).__name__}",
            f"check {where} and that the queue storage is reachable",
        )
    if depth > QUEUE_BACKLOG_WARN:
        return Check(
            "queue",
            WARN,
            f"{depth} tasks waiting",
            "start more workers (`connector worker` on more machines) or check they are running",
        )
    return Check("queue", OK, f"{depth} task(s) waiting")


def _deliveries(runtime: DoctorContext) -> Iterator[Check]:
    now = utcnow()
    for side, at in queries.last_deliveries(runtime.db).items():
        name = f"last {side} delivery"
        if at is None:
            where = (
                "Admin Center > Apps and integrations > Webhooks (activity)"
                if side == "zendesk"
                else "Jira settings > System > WebHooks"
            )
            yield Check(
                name,
                WARN,
                "none received yet",
                f"change a ticket or issue; if nothing arrives, check the webhook in {where}",
            )
        else:
            yield Check(name, OK, f"{at.isoformat(timespec='seconds')} ({_ago(now - at)} ago)")


def _failed_events(runtime: DoctorContext) -> Check:
    failed = queries.failed_events(runtime.db, limit=1)
    counts = queries.event_counts(runtime.db)
    total = sum(n for (_, state), n in counts.items() if state == "failed")
    pending = sum(n for (_, state), n in counts.items() if state == "pending")
    if not total:
        return Check("inbound events", OK, f"none failed, {pending} pending")
    latest = failed[0]
    return Check(
        "inbound events",
        FAIL,
        f"{total} parked as failed; latest #{latest['id']} ({latest['source']} "
        f"{latest['type']}): {(latest['error'] or 'no error recorded')[:200]}",
        "fix the cause shown (GET /api/status lists the latest), then `connector events retry "
        "--all` (or the dashboard's Retry button): parked events are not retried by themselves",
    )


def _retrying(runtime: DoctorContext) -> Iterator[Check]:
    for what, waiting in queries.retrying(runtime.db).items():
        if waiting["count"]:
            yield Check(
                f"{what} retrying",
                WARN,
                f"{waiting['count']} failing since {waiting['failing_since']}, next attempt "
                f"{waiting['next_attempt_at']}",
                "they retry by themselves (an outage heals once it ends); see the errors in GET "
                "/api/status and the worker's log; past CONNECTOR_RETRY_HORIZON_SECONDS they are "
                "parked as failed",
            )


def _replies(runtime: DoctorContext) -> Iterator[Check]:
    counts = queries.reply_counts(runtime.db)
    failed, pending = counts.get("failed", 0), counts.get("pending", 0)
    if failed:
        yield Check(
            "replies",
            FAIL,
            f"{failed} parked as failed, {pending} pending",
            "open the problem in the dashboard (or GET /api/problems/<id>) to see each error; "
            "fix it, then `connector replies retry PROBLEM` (or the problem page's Retry button)",
        )
    else:
        yield Check("replies", OK, f"none failed, {pending} pending")
    waiting = queries.awaiting_approval(runtime)
    if waiting:
        yield Check(
            "replies approval",
            WARN,
            f"{waiting} problem(s) wait for approval before replies go out",
            "approve them on the dashboard or with `connector replies approve PROBLEM`",
        )


# -- helpers -----------------------------------------------------------------------------------
def _guarded(
    name: str, side: str, runtime: DoctorContext, probe: Callable[[DoctorContext], Iterator[Check]]
) -> Iterator[Check]:
    try:
        yield from list(probe(runtime))
    except (ConfigError, ConnectorError) as exc:
        yield _api_failure(name, side, exc, runtime)


def _skipped(names: tuple[str, ...], because: str) -> Iterator[Check]:
    for name in names:
        yield Check(name, SKIP, f"not checked: {because} failed")


def _api_failure(name: str, side: str, exc: Exception, runtime: DoctorContext) -> Check:
    s = runtime.settings
    label = "Zendesk" if side == "zendesk" else "Jira"
    url = s.zendesk_url if side == "zendesk" else s.jira_url
    if isinstance(exc, ConfigError):
        return Check(name, FAIL, str(exc), f"set {exc.key}")
    if isinstance(exc, AuthError) and exc.status == 403:
        need = (
            "an admin role"
            if side == "zendesk"
            else "the Administer Jira global permission (webhooks) and Browse projects"
        )
        return Check(
            name, FAIL, f"{label} refused access (403)", f"give the connector's account {need}"
        )
    if isinstance(exc, AuthError):
        creds = (
            "CONNECTOR_ZENDESK_EMAIL and CONNECTOR_ZENDESK_API_TOKEN (an admin's API token: "
            "Admin Center > Apps and integrations > APIs > Zendesk API)"
            if side == "zendesk"
            else "CONNECTOR_JIRA_EMAIL and CONNECTOR_JIRA_API_TOKEN (Cloud: "
            "id.atlassian.com > Security > API tokens), or CONNECTOR_JIRA_PAT (Data Center)"
        )
        return Check(
            name, FAIL, f"{label} at {url} refused the credentials (401)", f"check {creds}"
        )
    if isinstance(exc, TransientError):
        return Check(
            name,
            FAIL,
            f"cannot reach {label} at {url}: {exc}"[:300],
            f"check CONNECTOR_{side.upper()}_URL and the network; retry if {label} is busy",
        )
    return Check(name, FAIL, str(exc)[:300], f"see the {label} error above")


def _ago(delta: timedelta) -> str:
    seconds = int(max(delta.total_seconds(), 0))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

"""Fakes deleting a custom field (`DELETE /rest/api/{2,3}/field/{id}`) as the Cloud platform REST
spec describes it: the field is deleted whether it is in the trash or not, asynchronously. Jira
answers 303 See Other with a task (`TaskProgressBeanObject`) and its URL in `Location`; the
sandbox's task is already complete when the client follows it. With the field go its place on
every screen and its value on every issue."""

from __future__ import annotations

import re
import time

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.web import sandbox

bp = Blueprint("jira_field_delete", __name__, url_prefix="/rest/api/<any('2','3'):v>")
CUSTOM_ID = re.compile(r"customfield_\d+")


@bp.url_value_preprocessor
def _pull_version(endpoint: str | None, values: dict | None) -> None:
    g.api = (values or {}).pop("v", "2")


@bp.delete("/field/<field_id>")
def delete_field(field_id: str) -> ResponseReturnValue:
    state = sandbox().state
    if not CUSTOM_ID.fullmatch(field_id):
        raise JiraError(400, [f"The custom field ID format is incorrect: {field_id}"])
    with state.lock:
        cf = next((f for f in state.custom_fields if f.id == field_id), None)
        if cf is None:
            raise JiraError(404, [f"The custom field was not found: {field_id}"])
        state.custom_fields.remove(cf)
        for screen in state.screens.values():
            for _name, fields in screen.tabs.values():
                if field_id in fields:
                    fields.remove(field_id)
        for issue in state.issues.values():
            issue.custom.pop(field_id, None)
        task_id = state.next_id()
        now = int(time.time() * 1000)
        url = f"{request.host_url.rstrip('/')}/rest/api/{g.api}/task/{task_id}"
        task = {
            "self": url,
            "id": task_id,
            "description": f"Deleting custom field {cf.name} ({field_id})",
            "status": "COMPLETE",
            "message": "Custom field deleted.",
            "result": None,
            "submittedBy": 0,
            "progress": 100,
            "elapsedRuntime": 1,
            "submitted": now,
            "started": now,
            "finished": now,
            "lastUpdate": now,
        }
        state.tasks[task_id] = task
    response = jsonify(task)
    response.status_code = 303
    response.headers["Location"] = url
    return response


@bp.get("/task/<task_id>")
def get_task(task_id: str) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        task = state.tasks.get(task_id)
    if task is None:
        raise JiraError(404, [f"The task with id '{task_id}' does not exist."])
    return jsonify(task)

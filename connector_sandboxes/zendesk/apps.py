"""Fakes Zendesk's Apps API for private apps, as its reference describes it:

    POST   /api/v2/apps/uploads              multipart `uploaded_data` (a zip) -> {"id"}
    POST   /api/v2/apps                      {name, short_description, upload_id} -> 202 {job_id}
    PUT    /api/v2/apps/{id}                 {upload_id}: rebuild in place -> 202 {job_id}
    GET    /api/v2/apps/job_statuses/{id}    queued -> working -> completed (app_id) | failed
    GET    /api/v2/apps/owned                the account's apps
    DELETE /api/v2/apps/{id}                 (its installations go too)
    GET    /api/v2/apps/{id}/public_key.pem  the key that verifies the app's signed URLs
    GET|POST /api/v2/apps/installations, DELETE /api/v2/apps/installations/{id}

A build checks the package as Zendesk's validator does for what matters here: a zip of at most
2 MB, a `manifest.json` with a name, framework version 2.x, a remote `url` for each location,
and the default locale's translations. Each app gets its own RSA key pair: the sandbox's ticket
page signs the sidebar's first request with it (RS256), as Zendesk does with `signedUrls`.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, request

from connector_sandboxes.zendesk.state import JSON, State, bad_request, iso, not_found
from connector_sandboxes.zendesk.web import route, state

bp = Blueprint("zendesk_apps", __name__)
MAX_PACKAGE_BYTES = 2 * 1024 * 1024


def _next(st: State, kind: str) -> int:
    st.app_ids[kind] = st.app_ids.get(kind, 0) + 1
    return st.app_ids[kind] + {"upload": 0, "app": 1000, "installation": 5000}[kind]


def build_problems(data: bytes) -> tuple[JSON | None, str | None]:
    """The manifest, or why Zendesk would refuse the package."""
    if len(data) > MAX_PACKAGE_BYTES:
        return None, "Package size exceeds the 2 MB limit"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None, "Could not read manifest.json from the package"
    if not manifest.get("name"):
        return None, "manifest.json: name is required"
    if not str(manifest.get("frameworkVersion", "")).startswith("2."):
        return None, "manifest.json: frameworkVersion must be 2.0"
    locale = manifest.get("defaultLocale", "en")
    if f"translations/{locale}.json" not in archive.namelist():
        return None, f"Missing translations/{locale}.json"
    for product in (manifest.get("location") or {}).values():
        for where, spec in product.items():
            url = spec.get("url") if isinstance(spec, dict) else spec
            if not isinstance(url, str) or not url.startswith(("http://", "https://", "assets/")):
                return None, f"location {where}: url must be a URL or an asset"
    return manifest, None


def advance_job(st: State, job: JSON) -> None:
    """One step per read, so a client must poll: queued -> working -> completed or failed."""
    if job["status"] == "queued":
        job["status"] = "working"
        return
    if job["status"] != "working":
        return
    manifest, problem = build_problems(st.app_uploads.get(job["upload_id"], b""))
    if manifest is None:
        job.update(status="failed", message=problem)
        return
    app_id = job.get("app_id") or _next(st, "app")
    app = st.apps.get(app_id) or {"id": app_id, "created_at": iso(st.now())}
    key = st.app_keys.get(app_id) or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    st.app_keys[app_id] = key
    app.update(
        name=job.get("name") or app.get("name") or manifest["name"],
        short_description=job.get("short_description") or app.get("short_description"),
        manifest=manifest,
        framework_version=manifest["frameworkVersion"],
        signed_urls=bool(manifest.get("signedUrls")),
        upload_id=job["upload_id"],
        updated_at=iso(st.now()),
        owner_id=st.admin_user_id,
    )
    st.apps[app_id] = app
    job.update(status="completed", message="Completed", app_id=app_id)


def app_json(app: JSON) -> JSON:
    keys = ("id", "name", "short_description", "framework_version", "created_at", "updated_at")
    return {k: app.get(k) for k in keys} | {"single_install": False, "visibility": "private"}


def public_key_pem(st: State, app_id: int) -> str:
    key = st.app_keys[app_id]
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _app(st: State, app_id: int) -> JSON:
    app = st.apps.get(app_id)
    if app is None:
        raise not_found()
    return app


def _job(st: State, upload_id: Any, **fields: Any) -> Any:
    if not isinstance(upload_id, int) or upload_id not in st.app_uploads:
        raise bad_request("upload_id is invalid", "InvalidValue")
    job_id = f"{int(time.time() * 1000):x}{_next(st, 'upload'):04x}"
    st.app_jobs[job_id] = {"id": job_id, "status": "queued", "upload_id": upload_id, **fields}
    return {"job_id": job_id}, 202


# ---- routes ------------------------------------------------------------------------------
@route(bp, "/apps/uploads", ["POST"])
def upload() -> Any:
    st, package = state(), request.files.get("uploaded_data")
    if package is None:
        raise bad_request("uploaded_data is required")
    upload_id = _next(st, "upload")
    st.app_uploads[upload_id] = package.read()
    return {"id": upload_id}


@route(bp, "/apps", ["POST"])
def create_app() -> Any:
    data = request.get_json(silent=True) or {}
    fields = {"name": data.get("name"), "short_description": data.get("short_description")}
    return _job(state(), data.get("upload_id"), **fields)


@route(bp, "/apps/<int:app_id>", ["PUT"])
def update_app(app_id: int) -> Any:
    st, data = state(), request.get_json(silent=True) or {}
    _app(st, app_id)
    return _job(st, data.get("upload_id"), app_id=app_id)


@route(bp, "/apps/job_statuses/<job_id>", ["GET"])
def job_status(job_id: str) -> Any:
    st = state()
    job = st.app_jobs.get(job_id)
    if job is None:
        raise not_found()
    advance_job(st, job)
    return {k: job.get(k) for k in ("id", "status", "message", "app_id")} | {"url": None}


@route(bp, "/apps/owned", ["GET"])
def owned() -> Any:
    st = state()
    return {"apps": [app_json(a) for a in st.apps.values()]}


@route(bp, "/apps/<int:app_id>", ["DELETE"])
def delete_app(app_id: int) -> Any:
    st = state()
    _app(st, app_id)
    del st.apps[app_id]
    for installation_id in [i for i, v in st.app_installations.items() if v["app_id"] == app_id]:
        del st.app_installations[installation_id]
    return Response(status=204)


@route(bp, "/apps/<int:app_id>/public_key.pem", ["GET"])
def public_key(app_id: int) -> Any:
    st = state()
    _app(st, app_id)
    return Response(public_key_pem(st, app_id), mimetype="application/x-pem-file")


@route(bp, "/apps/installations", ["GET"])
def list_installations() -> Any:
    return {"installations": list(state().app_installations.values())}


@route(bp, "/apps/installations", ["POST"])
def install() -> Any:
    st, data = state(), request.get_json(silent=True) or {}
    app = _app(st, int(data.get("app_id") or 0))
    installation_id, now = _next(st, "installation"), iso(st.now())
    settings = {"name": app["name"], **(data.get("settings") or {})}
    installation = {
        "id": installation_id,
        "app_id": app["id"],
        "product": "support",
        "settings": settings,
        "enabled": True,
        "updated_at": now,
        "created_at": now,
    }
    st.app_installations[installation_id] = installation
    return installation, 201


@route(bp, "/apps/installations/<int:installation_id>", ["DELETE"])
def uninstall(installation_id: int) -> Any:
    st = state()
    if st.app_installations.pop(installation_id, None) is None:
        raise not_found()
    return Response(status=204)

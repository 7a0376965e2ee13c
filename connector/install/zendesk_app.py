"""The sidebar app in Zendesk, through the Apps API: upload the package, create the app (a build
job, polled until it is done), install it; later installs update it in place when the package
changed (a new upload and `PUT /apps/<id>`) and change nothing when it did not. Each time, the
app's public key (which verifies the signed first request of the sidebar) is stored with what
was installed. Uninstall removes the installation and the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.errors import PermanentError
from connector.install import app_package
from connector.install.plan import CREATE, DELETE, KEEP, UPDATE, Plan, Step
from connector.store import sidebar as app_rows

if TYPE_CHECKING:
    from connector.install.context import AdminContext

APP_NAME = "Problems in Jira"
SHORT_DESCRIPTION = "The ticket's problem in Jira, and one-click linking"
POLLS, POLL_SECONDS = 120, 0.5


def _zendesk_url(runtime: AdminContext) -> str:
    return str(runtime.settings.zendesk_url).rstrip("/")


def current_installation(runtime: AdminContext) -> tuple[Any, dict[str, Any] | None]:
    """What the store says was installed, and Zendesk's installation of that app (if any)."""
    record = app_rows.install_of(runtime.db, _zendesk_url(runtime))
    if record is None:
        return None, None
    found = [i for i in runtime.zendesk.app_installations() if i.get("app_id") == record.app_id]
    return record, (found[0] if found else None)


def plan_app(runtime: AdminContext, public_url: str, plan: Plan) -> None:
    package = app_package.build(public_url)
    record, installation = current_installation(runtime)
    if record is not None and installation is not None:
        if record.package_digest == package.digest and record.public_key:
            plan.add(Step("zendesk", "app", APP_NAME, KEEP, "sidebar unchanged"))
            return
        run = _update(runtime, package, int(record.app_id), int(installation["id"]))
        plan.add(Step("zendesk", "app", APP_NAME, UPDATE, "new package", run=run))
        return
    detail = f"ticket sidebar served from {public_url.rstrip('/')}{app_package.SIDEBAR_PATH}"
    plan.add(Step("zendesk", "app", APP_NAME, CREATE, detail, run=_create(runtime, package)))


def _create(runtime: AdminContext, package: app_package.AppPackage) -> Any:
    def run() -> None:
        upload_id = runtime.zendesk.upload_app_package(f"{package.name}.zip", package.data)
        job = runtime.zendesk.create_app(APP_NAME, SHORT_DESCRIPTION, upload_id)
        app_id = _wait(runtime, job)
        installation = runtime.zendesk.install_app(app_id, {"name": APP_NAME})
        _record(runtime, app_id, int(installation["id"]), package.digest)

    return run


def _update(
    runtime: AdminContext, package: app_package.AppPackage, app_id: int, installation_id: int
) -> Any:
    def run() -> None:
        upload_id = runtime.zendesk.upload_app_package(f"{package.name}.zip", package.data)
        _wait(runtime, runtime.zendesk.update_app(app_id, upload_id))
        _record(runtime, app_id, installation_id, package.digest)

    return run


def _wait(runtime: AdminContext, job_id: str) -> int:
    for _ in range(POLLS):
        job = runtime.zendesk.app_job(job_id)
        if job.get("status") == "completed":
            return int(job["app_id"])
        if job.get("status") in ("failed", "killed"):
            raise PermanentError(f"Zendesk could not build the app: {job.get('message')}")
        runtime.clock.sleep(POLL_SECONDS)
    raise PermanentError(f"Zendesk did not finish building the app (job {job_id})")


def _record(runtime: AdminContext, app_id: int, installation_id: int, digest: str) -> None:
    key = runtime.zendesk.app_public_key(app_id)
    app_rows.record_install(runtime.db, _zendesk_url(runtime), app_id, installation_id, digest, key)


def plan_app_removal(runtime: AdminContext, plan: Plan) -> None:
    record, installation = current_installation(runtime)
    if record is None:
        return

    def run() -> None:
        if installation is not None:
            runtime.zendesk.delete_app_installation(int(installation["id"]))
        runtime.zendesk.delete_app(int(record.app_id))
        app_rows.forget_install(runtime.db, _zendesk_url(runtime))

    plan.add(Step("zendesk", "app", APP_NAME, DELETE, "installation and app", run=run))

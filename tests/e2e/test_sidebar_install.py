"""`connector install` puts the sidebar app into Zendesk through the Apps API (against the
sandbox's implementation of it): create, nothing when unchanged, update in place, uninstall."""

from __future__ import annotations

import pytest

from connector.demo.stack import LocalStack
from connector.errors import PermanentError
from connector.install import zendesk_app
from connector.install.plan import KEEP
from connector.install.run import plan_install, plan_uninstall
from connector.store import sidebar as app_rows
from connector_sandboxes.zendesk.apps import public_key_pem


def _app_steps(stack: LocalStack) -> list[str]:
    plan, _ = plan_install(stack.rt)
    return [s.action for s in plan.steps if s.kind == "app"]


def _uploads(stack: LocalStack) -> int:
    return stack.zendesk.counters.get("POST /apps/uploads", 0)


def test_install_creates_the_app_then_leaves_it_then_updates_it_in_place(
    stack: LocalStack,
) -> None:
    zd, url = stack.zendesk.state, str(stack.rt.settings.zendesk_url).rstrip("/")
    [app] = zd.apps.values()
    [installation] = zd.app_installations.values()
    record = app_rows.install_of(stack.rt.db, url)
    assert record is not None and (record.app_id, record.installation_id) == (
        app["id"],
        installation["id"],
    )
    assert record.public_key == public_key_pem(zd, app["id"])
    sidebar = app["manifest"]["location"]["support"]["ticket_sidebar"]["url"]
    assert sidebar == f"{str(stack.rt.settings.public_url).rstrip('/')}/app/sidebar"
    assert app["signed_urls"] is True

    uploads = _uploads(stack)
    assert _app_steps(stack) == [KEEP]
    stack.install()  # the second install changes nothing
    assert _uploads(stack) == uploads and len(zd.apps) == 1 and len(zd.app_installations) == 1

    stack.rt.settings.public_url = "http://connector.moved.test"  # type: ignore[assignment]
    assert _app_steps(stack) == ["update"]
    stack.install()
    [same] = zd.apps.values()
    assert same["id"] == app["id"] and len(zd.app_installations) == 1
    assert same["manifest"]["location"]["support"]["ticket_sidebar"]["url"] == (
        "http://connector.moved.test/app/sidebar"
    )
    assert _uploads(stack) == uploads + 1
    assert _app_steps(stack) == [KEEP]


def test_uninstall_removes_the_installation_and_the_app(stack: LocalStack) -> None:
    url = str(stack.rt.settings.zendesk_url).rstrip("/")
    plan_uninstall(stack.rt).apply()
    assert stack.zendesk.state.apps == {} and stack.zendesk.state.app_installations == {}
    assert app_rows.install_of(stack.rt.db, url) is None
    assert _app_steps(stack) == ["create"]  # and install brings it back


def test_a_package_zendesk_refuses_stops_the_install_with_its_reason(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    zendesk = stack.rt.zendesk
    upload = zendesk.upload_app_package
    monkeypatch.setattr(
        zendesk, "upload_app_package", lambda name, data: upload(name, b"not a zip")
    )
    plan_uninstall(stack.rt).apply()
    with pytest.raises(PermanentError, match=r"Could not read manifest\.json"):
        plan_install(stack.rt)[0].apply()
    assert stack.zendesk.state.apps == {}
    assert zendesk_app.APP_NAME  # the step that failed is the app's


def test_doctor_checks_the_app(stack: LocalStack) -> None:
    from connector.ops.doctor import run_doctor

    def app_check() -> tuple[str, str]:
        [check] = [c for c in run_doctor(stack.rt) if c.name == "zendesk sidebar app"]
        return check.status, check.detail

    assert app_check()[0] == "ok"
    stack.rt.settings.public_url = "http://connector.moved.test"  # type: ignore[assignment]
    assert app_check() == ("warn", "Zendesk has an older package of the app")
    [installation] = stack.zendesk.state.app_installations.values()
    installation["enabled"] = False
    assert app_check() == ("fail", "installed but disabled")
    plan_uninstall(stack.rt).apply()
    assert app_check() == ("fail", "not installed by this connector")

"""Doctor's check of the sidebar app: installed and enabled in Zendesk, the public key that
verifies its signed requests stored, and the package in Zendesk the one this connector builds
now (a changed public URL needs `connector install` to update the app)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connector.install import app_package
from connector.install.zendesk_app import current_installation
from connector.ops.checks import FAIL, OK, WARN, Check

if TYPE_CHECKING:
    from connector.ops.checks import DoctorContext

NAME = "zendesk sidebar app"
INSTALL = "run `connector install`"


def sidebar_app(runtime: DoctorContext) -> Iterator[Check]:
    record, installation = current_installation(runtime)
    if record is None:
        yield Check(NAME, FAIL, "not installed by this connector", f"{INSTALL} to install it")
        return
    if installation is None:
        yield Check(NAME, FAIL, f"app {record.app_id} is not installed in Zendesk", INSTALL)
        return
    if not installation.get("enabled", True):
        yield Check(NAME, FAIL, "installed but disabled", "enable it in Admin Center > Apps")
        return
    if not record.public_key:
        yield Check(NAME, FAIL, "no public key stored: signed requests cannot be verified", INSTALL)
        return
    if runtime.settings.public_url is not None:
        wanted = app_package.build(str(runtime.settings.public_url)).digest
        if wanted != record.package_digest:
            yield Check(NAME, WARN, "Zendesk has an older package of the app", f"{INSTALL}")
            return
    yield Check(NAME, OK, f"installed (app {record.app_id}), signed requests verifiable")

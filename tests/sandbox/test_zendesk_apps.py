"""The Zendesk sandbox's Apps API, as Zendesk's reference describes it: upload, a build job
that must be polled, installations, the app's public key; admins only; packages Zendesk's
validator refuses fail their job with its reason."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from connector_sandboxes.zendesk import ZendeskSandbox

ADMIN = ("admin@example.com/token", "sandbox")
AGENT = ("agent@example.com/token", "agent-sandbox")
MANIFEST = {
    "name": "Test app",
    "defaultLocale": "en",
    "frameworkVersion": "2.0",
    "signedUrls": True,
    "location": {"support": {"ticket_sidebar": {"url": "https://app.example.com/sidebar"}}},
}


def package(manifest: dict[str, object] | None = None, **extra: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest or MANIFEST))
        archive.writestr("translations/en.json", "{}")
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZendeskSandbox]:
    with ZendeskSandbox() as sb:
        yield sb


@pytest.fixture
def api(sandbox: ZendeskSandbox) -> str:
    sandbox.reset()
    return f"{sandbox.url}/api/v2"


def upload(api: str, data: bytes, auth: tuple[str, str] = ADMIN) -> requests.Response:
    files = {"uploaded_data": ("app.zip", data, "application/zip")}
    return requests.post(f"{api}/apps/uploads.json", files=files, auth=auth, timeout=5)


def build(api: str, data: bytes) -> dict[str, object]:
    upload_id = upload(api, data).json()["id"]
    body = {"name": "Test app", "short_description": "x", "upload_id": upload_id}
    created = requests.post(f"{api}/apps.json", json=body, auth=ADMIN, timeout=5)
    assert created.status_code == 202
    job_id = created.json()["job_id"]
    seen = []
    for _ in range(5):
        job = requests.get(f"{api}/apps/job_statuses/{job_id}.json", auth=ADMIN, timeout=5).json()
        seen.append(job["status"])
        if job["status"] in ("completed", "failed"):
            break
    assert seen[0] == "working"  # a client that does not poll never sees it built
    return dict(job)


def test_upload_build_install_and_the_public_key(api: str) -> None:
    job = build(api, package())
    assert job["status"] == "completed"
    app_id = job["app_id"]
    answer = requests.post(
        f"{api}/apps/installations.json",
        json={"app_id": app_id, "settings": {"name": "Test app"}},
        auth=ADMIN,
        timeout=5,
    )
    assert answer.status_code == 201 and answer.json()["app_id"] == app_id
    listed = requests.get(f"{api}/apps/installations.json", auth=ADMIN, timeout=5).json()
    assert [i["id"] for i in listed["installations"]] == [answer.json()["id"]]
    pem = requests.get(f"{api}/apps/{app_id}/public_key.pem", auth=ADMIN, timeout=5)
    assert pem.status_code == 200 and load_pem_public_key(pem.content).key_size == 2048
    assert requests.delete(f"{api}/apps/{app_id}.json", auth=ADMIN, timeout=5).status_code == 204
    listed = requests.get(f"{api}/apps/installations.json", auth=ADMIN, timeout=5).json()
    assert listed["installations"] == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip", "Could not read manifest.json"),
        (package({**MANIFEST, "frameworkVersion": "1.0"}), "frameworkVersion"),
        (package({**MANIFEST, "defaultLocale": "fr"}), "translations/fr.json"),
        (package(**{"assets/big.bin": b"\0" * (2 * 1024 * 1024 + 1)}), "2 MB"),  # stored
    ],
)
def test_a_package_zendesk_would_refuse_fails_its_build(api: str, data: bytes, reason: str) -> None:
    job = build(api, data)
    assert job["status"] == "failed"
    assert reason in str(job["message"])


def test_agents_may_not_manage_apps(api: str) -> None:
    assert upload(api, package(), AGENT).status_code == 403
    listed = requests.get(f"{api}/apps/installations.json", auth=AGENT, timeout=5)
    assert listed.status_code == 403

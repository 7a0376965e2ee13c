"""The sidebar app's package: what Zendesk needs in the zip, the connector's URL, its size."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from connector.install import app_package

SDK = Path(app_package.__file__).resolve().parent.parent / "web" / "static" / "zaf"


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_zip_holds_manifest_translations_and_logos_with_the_connectors_url() -> None:
    package = app_package.build("https://connector.example.com/")
    entries = _entries(package.data)
    assert set(entries) >= {
        "manifest.json",
        "translations/en.json",
        "assets/logo.png",
        "assets/logo-small.png",
    }
    manifest = json.loads(entries["manifest.json"])
    sidebar = manifest["location"]["support"]["ticket_sidebar"]
    assert sidebar["url"] == "https://connector.example.com/app/sidebar"
    assert manifest["signedUrls"] is True
    assert manifest["frameworkVersion"] == "2.0"
    assert manifest["private"] is True
    assert entries["assets/logo.png"].startswith(b"\x89PNG")
    assert len(package.data) < app_package.MAX_BYTES


def test_the_same_source_and_url_give_the_same_digest_and_another_url_another() -> None:
    first = app_package.build("https://a.example.com")
    assert app_package.build("https://a.example.com").digest == first.digest
    assert app_package.build("https://b.example.com").digest != first.digest


def test_a_package_over_two_megabytes_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "app"
    (source / "assets").mkdir(parents=True)
    (source / "manifest.json").write_text((app_package.SOURCE / "manifest.json").read_text())
    (source / "assets" / "noise.bin").write_bytes(__import__("os").urandom(3 * 1024 * 1024))
    with pytest.raises(app_package.PackageTooLarge):
        app_package.build("https://a.example.com", source)


def test_the_vendored_sdk_is_the_pinned_npm_build_with_its_license() -> None:
    sdk = (SDK / "zaf_sdk-2.0.11.js").read_text()
    assert "zendesk_app_framework_sdk 2.0.11" in sdk
    assert "window.ZAFClient = load('index')" in sdk
    assert "Apache License" in (SDK / "LICENSE").read_text()

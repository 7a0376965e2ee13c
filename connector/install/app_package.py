"""The sidebar app's package: `connector/zendesk_app/` (manifest, translations, assets) zipped
for Zendesk's Apps API, with the sidebar's remote URL set to this connector's public URL.

The zip is deterministic (sorted entries, fixed times), so the same source and URL give the
same bytes and the same digest: `install` compares the digest with the installed one and
uploads only when the package changed.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "zendesk_app"
SIDEBAR_PATH = "/app/sidebar"
MAX_BYTES = 2 * 1024 * 1024  # Zendesk's limit for a private app's zip
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)


class PackageTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class AppPackage:
    name: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def manifest(public_url: str) -> dict[str, object]:
    """The source manifest with the sidebar's URL on this connector."""
    data = json.loads((SOURCE / "manifest.json").read_text())
    sidebar = data["location"]["support"]["ticket_sidebar"]
    sidebar["url"] = public_url.rstrip("/") + SIDEBAR_PATH
    return dict(data)


def build(public_url: str, source: Path = SOURCE) -> AppPackage:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            name = path.relative_to(source).as_posix()
            if name == "manifest.json":
                content = json.dumps(manifest(public_url), indent=2).encode() + b"\n"
            else:
                content = path.read_bytes()
            archive.writestr(zipfile.ZipInfo(name, _FIXED_TIME), content, zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        raise PackageTooLarge(f"the app package is {len(data)} bytes; Zendesk takes {MAX_BYTES}")
    return AppPackage(str(json.loads((source / "manifest.json").read_text())["name"]), data)

"""The dashboard in a real headless browser (Playwright driving Debian's chromium): log in,
read the open problems, open one, approve its replies, and check what the page looks like.

Skips when /usr/bin/chromium is absent, except under CI=true where that is a failure
(CI installs it: `apt-get install -y chromium`).
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ops_fixtures import ADMIN_TOKEN, ops_runtime, require_approval, seed, seed_held

from connector.bootstrap import WorkerContext as Runtime
from connector.webhook_app import create_app
from connector_sandboxes.server import BackgroundServer

CHROMIUM = os.environ.get("CONNECTOR_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is required under CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Runtime, dict[str, int]]]:
    runtime = ops_runtime(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "queue.db"))
    require_approval(runtime)
    ids = {**seed(runtime), "held": seed_held(runtime)}
    server = BackgroundServer(create_app(runtime=runtime))
    url = server.start()
    yield url, runtime, ids
    server.stop()
    runtime.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()


def test_log_in_open_a_problem_and_approve_its_replies(
    page: Any, site: tuple[str, Runtime, dict[str, int]]
) -> None:
    url, _, _ = site
    page.goto(url + "/")
    assert page.locator("h1").inner_text() == "Log in"  # sent to the login form
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("#problems")
    rows = page.locator("#problems tbody tr")
    assert rows.count() == 3
    assert "FIN-7" in rows.nth(0).inner_text() and "overdue" in rows.nth(0).inner_text()

    page.click("text=Resolved")
    page.click("text=Parcels stuck in Leipzig hub")
    page.wait_for_selector("#problem-title")
    assert page.locator("#problem-title").inner_text() == "Parcels stuck in Leipzig hub"
    assert page.locator("#tickets tbody tr").count() == 3
    assert "HTTP 422" in page.locator("#reply-failures").inner_text()
    assert page.locator("#approve").count() == 0  # every ticket has its answer

    page.click("text=Resolved")
    page.click("text=Refunds booked twice")
    page.click("#approve")
    page.wait_for_selector("#approved")
    assert "Approved: the reply goes to 4 tickets." in page.locator(".flash").inner_text()
    assert page.locator("#approve").count() == 0
    assert "Replies approved by an admin (dashboard)" in page.locator("#timeline").inner_text()
    cookies = page.context.cookies()
    [session] = [c for c in cookies if c["name"] == "connector_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # invisible to scripts


def test_screenshot_of_the_open_problems(
    page: Any, site: tuple[str, Runtime, dict[str, int]], tmp_path: Path
) -> None:
    url, _, _ = site
    page.goto(f"{url}/?token={ADMIN_TOKEN}")
    page.wait_for_selector("#problems")
    assert "token=" not in page.url
    shot = tmp_path / "dashboard.png"
    png = page.screenshot(path=str(shot))
    keep = os.environ.get("CONNECTOR_TEST_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(png)

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])

    overdue = page.locator("tr.overdue").bounding_box()
    normal = page.locator("#problems tbody tr:not(.overdue)").first.bounding_box()
    header = page.locator("header.top").bounding_box()
    stats = pixel_stats(page, png, [overdue, normal, header])
    assert stats["colors"] > 40, stats  # text, table, header: not a blank page
    assert stats["ink"] > 0.05, stats  # dark pixels: header bar and text
    red, plain, dark = stats["boxes"]
    assert red[0] > red[2] + 8, stats  # the overdue row is tinted red
    assert abs(plain[0] - plain[2]) < 8, stats  # ordinary rows are not
    assert max(dark) < 80, stats  # the dark header bar is there


def pixel_stats(page: Any, png: bytes, boxes: list[dict[str, float] | None]) -> dict[str, Any]:
    """Decode the screenshot in the browser's own canvas (no imaging library needed)."""
    page.goto("about:blank")
    return dict(
        page.evaluate(
            """async ([data, boxes]) => {
              const img = new Image();
              img.src = "data:image/png;base64," + data;
              await img.decode();
              const c = document.createElement("canvas");
              c.width = img.width; c.height = img.height;
              const ctx = c.getContext("2d");
              ctx.drawImage(img, 0, 0);
              const px = ctx.getImageData(0, 0, c.width, c.height).data;
              const colors = new Set();
              let ink = 0;
              for (let i = 0; i < px.length; i += 4) {
                colors.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
                if (px[i] + px[i + 1] + px[i + 2] < 600) ink++;
              }
              const average = (b) => {
                // a strip at the left edge of the box: background, not text
                const d = ctx.getImageData(b.x + 3, b.y + 3, 4, Math.max(b.height - 6, 1)).data;
                const sum = [0, 0, 0];
                for (let i = 0; i < d.length; i += 4) {
                  for (let k = 0; k < 3; k++) sum[k] += d[i + k];
                }
                return sum.map((s) => s / (d.length / 4));
              };
              return {colors: colors.size, ink: ink / (px.length / 4),
                      boxes: boxes.map(average)};
            }""",
            [base64.b64encode(png).decode(), boxes],
        )
    )

"""The rendered reports in a real browser: headless Chromium, networking cut, screenshots kept.

Every report of the issue is opened: the three 2019 reports from the demo data and the real
2022-T2 report.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORTS = ["2019-T1", "2019-T2", "2019-Y", "2022-T2-real"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    msg = "Chromium is not installed (apt-get install chromium); the browser test needs Debian's chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(params=REPORTS)
def opened(
    request: pytest.FixtureRequest, browser: Any
) -> Iterator[tuple[str, Any, list[str], Any]]:
    """(report name, page, requests that tried to leave the machine, context)."""
    name = request.param
    folder = (
        request.getfixturevalue("real_report_2022_t2")
        if name.endswith("real")
        else request.getfixturevalue("demo_reports_2019")[name]
    )
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    requests: list[str] = []

    def guard(route: Any, req: Any) -> None:
        # Anything but the file itself and embedded data is a request leaving the machine.
        if req.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            requests.append(req.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto((folder / "rapport.html").as_uri(), wait_until="load")
    yield name, page, requests, context
    context.close()


def test_eight_goals_each_with_a_status(opened: tuple[str, Any, list[str], Any]) -> None:
    """The page shows 8 goal sections headed Mål 1 to Mål 8, each with a status, and a summary table of 8 rows with one status each."""
    _, page, _, _ = opened
    goals = page.locator("section.goal")
    assert goals.count() == 8
    for i in range(8):
        heading = goals.nth(i).locator("h2").inner_text()
        assert heading.startswith(f"Mål {i + 1}.")
        assert goals.nth(i).locator(".meta .status").first.inner_text().strip(), heading
    rows = page.locator("table.summary tbody tr")
    assert rows.count() == 8
    assert all(rows.nth(i).locator(".status").count() == 1 for i in range(8))


def test_first_screen_says_demodata_only_for_demo_data(
    opened: tuple[str, Any, list[str], Any],
) -> None:
    """The demo report shows a visible Demodata banner on the first screen; the real report shows none."""
    name, page, _, _ = opened
    banner = page.locator(".demo")
    if name.endswith("real"):
        assert banner.count() == 0 and "Demodata" not in page.locator("header").inner_text()
    else:
        assert banner.is_visible() and "Demodata" in banner.inner_text()
        assert banner.bounding_box()["y"] < 900


def test_table_of_contents_links_resolve(opened: tuple[str, Any, list[str], Any]) -> None:
    """Every table-of-contents link finds exactly one target, and clicking one scrolls the page there."""
    _, page, _, _ = opened
    hrefs = page.locator("nav.toc a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(hrefs) >= 11
    for href in hrefs:
        assert page.locator(href).count() == 1, href
    page.locator("nav.toc a", has_text="Metod och källor").click()
    assert page.evaluate("window.scrollY") > 1000


def test_no_request_leaves_the_machine_and_images_render(
    opened: tuple[str, Any, list[str], Any],
) -> None:
    """Opening the report makes no network request, and its chart images load and have alt text."""
    _, page, requests, _ = opened
    assert requests == []
    images = page.locator("figure.chart img")
    assert images.count() >= 3
    assert all(
        images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        for i in range(images.count())
    )
    assert all(images.nth(i).get_attribute("alt") for i in range(images.count()))


def test_screenshots_phone_and_print(
    opened: tuple[str, Any, list[str], Any], artifacts: Path
) -> None:
    """The report renders on desktop, on a phone without sideways scrolling, and to an A4 PDF."""
    name, page, _, context = opened
    desktop = artifacts / f"rapport-{name}-desktop.png"
    page.screenshot(path=str(desktop))
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(page.url)
    width = phone.evaluate("document.documentElement.scrollWidth")
    phone.screenshot(path=str(artifacts / f"rapport-{name}-phone.png"))
    phone.emulate_media(media="print")
    pdf = artifacts / f"rapport-{name}.pdf"
    phone.pdf(path=str(pdf), format="A4")
    assert desktop.stat().st_size > 10_000 and pdf.stat().st_size > 10_000
    assert width <= 400, (
        "the page must not scroll sideways on a phone (tables scroll inside their box)"
    )

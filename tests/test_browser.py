"""The rendered report in a real browser: headless Chromium, networking cut, screenshots kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    msg = "Chromium is not installed (apt-get install chromium); the browser test needs Debian's chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser_page(demo_report_t1: Path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        requests: list[str] = []

        def guard(route, request) -> None:  # type: ignore[no-untyped-def]
            # Anything but the file itself and embedded data is a request leaving the machine.
            if request.url.startswith(("file://", "data:")):
                route.continue_()
            else:
                requests.append(request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.goto((demo_report_t1 / "rapport.html").as_uri(), wait_until="load")
        yield page, requests, context
        browser.close()


def test_eight_goals_each_with_a_status(browser_page) -> None:  # type: ignore[no-untyped-def]
    page, _, _ = browser_page
    goals = page.locator("section.goal")
    assert goals.count() == 8
    for i in range(8):
        heading = goals.nth(i).locator("h2").inner_text()
        assert heading.startswith(f"Mål {i + 1}.")
        status = goals.nth(i).locator(".meta .status").first.inner_text().strip()
        assert status, heading
    rows = page.locator("table.summary tbody tr")
    assert rows.count() == 8
    assert all(rows.nth(i).locator(".status").count() == 1 for i in range(8))


def test_first_screen_says_demodata(browser_page) -> None:  # type: ignore[no-untyped-def]
    page, _, _ = browser_page
    banner = page.locator(".demo")
    assert banner.is_visible() and "Demodata" in banner.inner_text()
    assert banner.bounding_box()["y"] < 900  # type: ignore[index]


def test_table_of_contents_links_resolve(browser_page) -> None:  # type: ignore[no-untyped-def]
    page, _, _ = browser_page
    hrefs = page.locator("nav.toc a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) >= 11
    for href in hrefs:
        assert page.locator(href).count() == 1, href
    page.locator("nav.toc a", has_text="Metod och källor").click()
    assert page.evaluate("window.scrollY") > 1000


def test_no_request_leaves_the_machine_and_images_render(browser_page) -> None:  # type: ignore[no-untyped-def]
    page, requests, _ = browser_page
    assert requests == []
    images = page.locator("figure.chart img")
    assert images.count() >= 4
    assert all(images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(images.count()))
    assert all(images.nth(i).get_attribute("alt") for i in range(images.count()))


def test_screenshots_desktop_and_phone(browser_page, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page, _, context = browser_page
    desktop = artifacts / "rapport-2019-T1-desktop.png"
    page.screenshot(path=str(desktop), full_page=False)
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(page.url)
    width = phone.evaluate("document.documentElement.scrollWidth")
    phone.screenshot(path=str(artifacts / "rapport-2019-T1-phone.png"))
    phone.emulate_media(media="print")
    pdf = artifacts / "rapport-2019-T1.pdf"
    phone.pdf(path=str(pdf), format="A4")
    assert desktop.stat().st_size > 10_000 and pdf.stat().st_size > 10_000
    assert width <= 400, "the page must not scroll sideways on a phone (tables scroll inside their box)"

"""The report in a real browser: headless Chromium (the Debian packages ``chromium`` and
``chromium-driver``, which .ci/run installs) driven by Selenium. The page must load with no
console error, make no network request, show the map with Dalarna's 15 municipalities, and show
a hostile id as text. Each test saves a screenshot under its tmp path. Without a browser the
tests skip, saying what to install."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placering.report import write_report
from test_report import DALARNA_CODES, XSS_CHILD, XSS_HOME, dalarna, with_hostile_ids

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install '.[test]')")


def _find(names: tuple[str, ...], fallbacks: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((path for path in fallbacks if os.access(path, os.X_OK)), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    binary = os.environ.get("PLACERING_CHROMIUM") or _find(
        ("chromium", "chromium-browser"), ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
    )
    driver_path = os.environ.get("PLACERING_CHROMEDRIVER") or _find(("chromedriver",), ("/usr/bin/chromedriver",))
    if binary is None or driver_path is None:
        pytest.skip("no headless Chromium: install the Debian packages chromium and chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,1600", "--disable-background-networking", "--no-first-run"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser: Any, path: Path) -> dict[str, Any]:
    """Load the page; return its console messages and the URLs it requested."""
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(path.as_uri())
    browser.execute_script("return document.readyState")
    console = browser.get_log("browser")
    requests = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return {"console": console, "requests": requests}


def offline(requests: list[str], page: Path) -> bool:
    """Only the page itself, and images inline in it (``data:``), were loaded."""
    return all(url == page.as_uri() or url.startswith("data:") for url in requests)


def _screenshot(browser: Any, path: Path) -> None:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, min(int(height), 6000))
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    browser.set_window_size(1200, 1600)


def test_report_loads_offline_with_the_dalarna_map(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_report(page, *dalarna())
    seen = _open(browser, page)
    assert [m for m in seen["console"] if m["level"] in ("SEVERE", "WARNING")] == []
    assert offline(seen["requests"], page), seen["requests"]
    shapes = browser.execute_script(
        """return Array.from(document.querySelectorAll('#map svg [id^="municipality-"]')).map(
               g => [g.id.slice(13), g.getBoundingClientRect().width, g.getBoundingClientRect().height]);"""
    )
    drawn = {code for code, width, height in shapes if width > 5 and height > 5}
    assert DALARNA_CODES <= drawn
    assert browser.find_element("css selector", "#municipalities tfoot").is_displayed()
    assert len(browser.find_elements("css selector", "#explanations tbody tr")) > 0
    _screenshot(browser, tmp_path / "report.png")


def test_hostile_ids_show_as_text_and_run_nothing(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_report(page, *with_hostile_ids(), lang="sv")
    seen = _open(browser, page)
    assert [m for m in seen["console"] if m["level"] == "SEVERE"] == []
    assert offline(seen["requests"], page), seen["requests"]
    assert browser.execute_script("return document.scripts.length + document.images.length") == 0
    cells = [e.text for e in browser.find_elements("css selector", "#explanations td.id")]
    assert XSS_CHILD in cells and XSS_HOME in cells
    assert browser.find_element("tag name", "html").get_attribute("lang") == "sv"
    assert "konsulentstött familjehem" in browser.find_element("tag name", "body").text
    _screenshot(browser, tmp_path / "report-sv.png")

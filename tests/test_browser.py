"""The web page in a real browser (headless Debian chromium driven by selenium), keyboard only.

Skips when chromium, chromedriver or selenium is missing — unless ICHLINKS_REQUIRE_BROWSER=1
(set by CI), where that is a failure.  Install with
``apt-get install -y chromium chromium-driver`` and ``pip install -e '.[test]'``.
Set ICHLINKS_BROWSER_SCREENSHOTS=DIR to keep the screenshots for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_service_support import Aggregate, LiveServer, corpus, sqlite_aggregate  # noqa: F401

from harvester.service import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PHONE = (390, 844)
KOREAN_QUERY = "판소리"


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed (apt-get install -y chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    problem = _missing()
    if problem is not None:
        if os.environ.get("ICHLINKS_REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " (ICHLINKS_REQUIRE_BROWSER=1: the browser test must run)")
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 "--lang=en-US"):
        options.add_argument(flag)
    # Headless windows are at least 500 px wide; a phone is emulated instead (as DevTools does),
    # which also makes the page's viewport meta decide the layout width.
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2.0, "touch": True}})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _active(driver: Any) -> Any:
    return driver.switch_to.active_element


def _tab_until(driver: Any, wanted: Any, limit: int = 60) -> Any:
    """Press Tab until ``wanted(element)`` holds for the focused element; fail after ``limit``."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = _active(driver)
        if wanted(element):
            return element
    raise AssertionError(f"Tab never reached the wanted element in {limit} presses")


def _no_horizontal_scroll(driver: Any) -> None:
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    assert widths[0] <= widths[1], f"page is {widths[0]}px wide in a {widths[1]}px viewport"


def _focus_is_visible(driver: Any) -> None:
    style = driver.execute_script(
        "const s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, s.outlineWidth];")
    assert style[0] != "none" and style[1] not in ("0px", ""), style


def _screenshot(driver: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    assert driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("ICHLINKS_BROWSER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def test_keyboard_search_in_korean_and_record_page_on_a_phone(sqlite_aggregate: Aggregate,
                                                              browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    pansori = next(r for r in corpus() if r["oai"]["identifier"].endswith(":pansori"))
    app = create_app(sqlite_aggregate.settings, engine=sqlite_aggregate.engine,
                     backend=sqlite_aggregate.backend)
    with LiveServer(app) as server:
        browser.get(server.url + "/")
        assert browser.execute_script("return window.innerWidth") == PHONE[0]
        _no_horizontal_scroll(browser)

        # The first Tab lands on the skip link, visibly.
        skip = _tab_until(browser, lambda e: True, limit=1)
        assert skip.get_attribute("href").endswith("#main") and skip.is_displayed()
        _focus_is_visible(browser)

        field = _tab_until(browser, lambda e: e.get_attribute("id") == "q")
        _focus_is_visible(browser)
        field.send_keys(KOREAN_QUERY)
        field.send_keys(Keys.ENTER)
        WebDriverWait(browser, 15).until(expected_conditions.url_contains("q="))
        results = browser.find_elements(By.CSS_SELECTOR, "li.result h3 a")
        assert [a.text for a in results] == [pansori["title"][0]["value"]]
        assert KOREAN_QUERY in browser.find_element(By.CSS_SELECTOR, "li.result mark").text
        assert browser.find_element(By.ID, "q").get_attribute("value") == KOREAN_QUERY
        _no_horizontal_scroll(browser)
        _screenshot(browser, tmp_path, "search-phone.png")

        link = _tab_until(browser, lambda e: e.tag_name == "a" and "/records/" in (e.get_attribute("href") or ""))
        _focus_is_visible(browser)
        link.send_keys(Keys.ENTER)
        WebDriverWait(browser, 15).until(expected_conditions.url_contains("/records/"))
        assert pansori["id"] in browser.current_url

        shown = {(s.text, s.get_attribute("lang"))
                 for s in browser.find_elements(By.CSS_SELECTOR, "article span[lang]")}
        for field_name in ("title", "description"):
            for value in pansori[field_name]:
                assert (value["value"], value["lang"]) in shown
        assert {lang for _, lang in shown} >= {"ko", "en"}
        source = browser.find_element(By.CSS_SELECTOR, "p.source-link a")
        assert source.get_attribute("href") == pansori["links"]["landing_page"]
        _no_horizontal_scroll(browser)
        _screenshot(browser, tmp_path, "record-phone.png")

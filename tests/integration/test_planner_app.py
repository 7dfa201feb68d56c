"""The planner app in a real browser: Debian's chromium (headless) driven by Selenium
through Debian's chromedriver, against the app served by uvicorn over a SQLite warehouse.

A planner searches for a product, opens its series, approves one suggestion and edits
another; the decisions are rows of ``replenishment_decisions``, the forecast tables are
unchanged, the hostile product name shows as text (no alert, no script), and the browser's
console has no errors. With ``FORECASTING_SCREENSHOTS`` set, screenshots of the index and
a series page are saved there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.app import warehouse as wh
from tests.unit.app.serving import running

pytestmark = [pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[object]:
    """Headless chromium; fails (never skips) when it or its driver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(
            f"the planner app's browser test needs {' and '.join(missing)} (Debian packages "
            "chromium and chromium-driver): sudo make system-deps"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - requirements-dev.txt pins it
        pytest.fail("selenium is not installed: pip install -r requirements-dev.txt")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-background-networking",
        "--no-first-run",
        "--window-size=1280,1800",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: object) -> list[dict[str, object]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: object, name: str) -> None:
    folder = os.environ.get("FORECASTING_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


def test_a_planner_finds_a_series_and_approves_and_edits_suggestions(
    tmp_path: Path, browser: object
) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from forecasting.app import create_app
    from forecasting.db import make_engine
    from forecasting.reporting.planner import REPORT_ARTIFACT
    from forecasting.storage import Storage

    driver = browser
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    wh.build(engine)
    before = wh.snapshot(engine)
    root = tmp_path / "storage"
    with Storage.from_uri(str(root)).write_stage(wh.RUN, "report") as folder:
        (folder / REPORT_ARTIFACT).write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
            "<title>Planner report 2024-06-30</title></head><body><h1>Report</h1></body></html>"
        )

    def text() -> str:
        return driver.find_element(By.TAG_NAME, "body").text

    def after_click(element_id: str, url_part: str) -> None:
        """Click and wait for the page the click leads to."""
        driver.find_element(By.ID, element_id).click()
        WebDriverWait(driver, 10).until(expected_conditions.url_contains(url_part))
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    def no_alert() -> None:
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text  # noqa: B018

    with running(create_app(engine, report_root=root.as_uri())) as base:  # as the CLI passes it
        driver.get(base + "/")
        assert "Forecasts of 2024-06-30" in text()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#series tbody tr")) == 3
        assert wh.HOSTILE in text()  # shown literally, as text
        no_alert()
        screenshot(driver, "planner_app_index.png")

        # search by product name, open the series, approve its suggestion
        box = driver.find_element(By.ID, "q")
        box.send_keys("garden chair")
        after_click("search", "q=garden")
        rows = driver.find_elements(By.CSS_SELECTOR, "#series tbody tr")
        assert len(rows) == 1 and "Garden chair" in rows[0].text
        rows[0].find_element(By.LINK_TEXT, "SKU-1").click()
        WebDriverWait(driver, 10).until(expected_conditions.url_contains("/series?"))
        assert driver.find_element(By.ID, "product-name").text == "Garden chair"
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart polygon.fan")
        assert driver.find_element(By.ID, "drivers").is_displayed()
        assert driver.find_element(By.ID, "order_qty").get_attribute("value") == "40"
        driver.find_element(By.ID, "decided_by").send_keys("Ada Planner")
        after_click("record", "saved=approved")
        assert "Decision recorded (approved)" in driver.find_element(By.ID, "saved").text
        assert "Ada Planner" in driver.find_element(By.ID, "decisions").text

        # the hostile product: found by its name, its page shows the name as text
        driver.get(base + "/")
        driver.find_element(By.ID, "q").send_keys("alert(1)")
        after_click("search", "q=alert")
        driver.find_element(By.LINK_TEXT, "SKU 2/ü?&x=1").click()
        WebDriverWait(driver, 10).until(expected_conditions.url_contains("/series?"))
        assert driver.find_element(By.ID, "product-name").text == wh.HOSTILE
        assert driver.find_element(By.ID, "location").text == "Köln Süd"
        assert driver.find_elements(By.TAG_NAME, "script") == []
        no_alert()
        # the name typed before is remembered; edit the quantity, with a note
        assert driver.find_element(By.ID, "decided_by").get_attribute("value") == "Ada Planner"
        quantity = driver.find_element(By.ID, "order_qty")
        quantity.clear()
        quantity.send_keys("15")
        driver.find_element(By.ID, "note").send_keys("a pallet holds 15 <b>boxes</b>")
        after_click("record", "saved=edited")
        assert "Decision recorded (edited)" in driver.find_element(By.ID, "saved").text
        assert "a pallet holds 15 <b>boxes</b>" in driver.find_element(By.ID, "decisions").text
        screenshot(driver, "planner_app_series.png")
        errors = console_errors(driver)

        # the run's report, from the storage folder
        driver.get(base + "/")
        after_click("report-link", "/report/2024-06-30")
        assert driver.title == "Planner report 2024-06-30"
        errors += console_errors(driver)

    assert errors == [], errors
    rows = wh.decisions(engine)
    got = [
        (
            r["sku"],
            r["location_id"],
            r["run_date"],
            r["suggested_qty"],
            r["order_qty"],
            r["decision"],
            r["decided_by"],
            r["note"],
        )
        for r in rows
    ]
    assert got == [
        ("SKU-1", "Berlin", "2024-06-30", 40.0, 40.0, "approved", "Ada Planner", None),
        (
            "SKU 2/ü?&x=1",
            "Köln Süd",
            "2024-06-30",
            12.0,
            15.0,
            "edited",
            "Ada Planner",
            "a pallet holds 15 <b>boxes</b>",
        ),
    ]
    assert wh.snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM replenishment_decisions")).scalar() == 2

"""Headless Chromium through Selenium, as the dashboard tests use it."""

from __future__ import annotations

import shutil
import tempfile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# Collects script errors from the first line of every page on.
CATCH_ERRORS = ("window.__errors=[];window.addEventListener('error',"
                "e=>window.__errors.push(String(e.message||e)));")


def start(width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='detcost-chromium-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_ERRORS})
    return driver


def load(driver, url: str, timeout: float = 60) -> int:
    """Open the page and wait until every figure has drawn; return how many there are."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    count = driver.execute_script("return document.querySelectorAll('div.figure').length")
    # a figure is drawn as it comes near the screen, as a reader opens and scrolls to it
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    for i in range(count):
        driver.execute_script("document.querySelectorAll('div.figure')[arguments[0]]"
                              ".scrollIntoView()", i)
        WebDriverWait(driver, timeout).until(lambda d, i=i: d.execute_script(
            "return !!document.querySelectorAll('div.figure')[arguments[0]]"
            ".querySelector('.main-svg')", i))
    driver.execute_script("window.scrollTo(0, 0)")
    return count


def errors(driver) -> list[str]:
    script = driver.execute_script("return window.__errors || []")
    logged = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return [*script, *logged]


def full_page_screenshot(driver, path: str) -> None:
    import base64

    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))

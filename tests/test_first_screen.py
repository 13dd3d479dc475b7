"""The committed dashboard's first screen, read as a person reads it: headless Chromium at
1440x900, no scrolling."""

import re
from pathlib import Path
from urllib.parse import urlparse

import browser
import pytest

INDEX = Path(__file__).resolve().parents[1] / "results" / "dashboard" / "index.html"
WIDTH, HEIGHT = 1440, 900
# the model steps the committed GPU runs measured
MODEL_STEPS = ("ViT-B/16 training step", "ResNet-50 training step", "Language model decode",
               "Language model prefill", "Faster R-CNN training step")
NUMBER = re.compile(r"\d+\.\d+x")

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not (browser.CHROMIUM and browser.CHROMEDRIVER), reason="needs chromium and chromedriver")]


@pytest.fixture
def driver():
    d = browser.start(WIDTH, HEIGHT)
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    yield d
    d.quit()


def _open(driver, fragment: str = "") -> None:
    driver.get(INDEX.as_uri() + fragment)
    driver.execute_script("window.scrollTo(0, 0)")


def _in_view(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight"
        " && r.right <= window.innerWidth;", element)


def _answer_rows(driver) -> dict[str, str]:
    """The answer table as read: each workload's row text."""
    from selenium.webdriver.common.by import By

    return {row.find_element(By.CSS_SELECTOR, "th").text: row.text
            for row in driver.find_elements(By.CSS_SELECTOR, "#answer tbody tr")
            if row.find_elements(By.CSS_SELECTOR, "th")}


def test_the_first_screen_names_each_model_step_with_a_number_both_gpus_and_the_budget(
        driver):
    from selenium.webdriver.common.by import By

    _open(driver)
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [
        WIDTH, HEIGHT]
    for step in MODEL_STEPS:
        [row] = [r for r in driver.find_elements(By.CSS_SELECTOR, "#answer tbody tr")
                 if r.find_element(By.CSS_SELECTOR, "th").text == step]
        assert _in_view(driver, row), f"{step} is below the first screen"
        assert NUMBER.search(row.text), f"{step} has no slowdown on the first screen"
    headers = [h for h in driver.find_elements(By.CSS_SELECTOR, "#answer thead th")
               if _in_view(driver, h)]
    assert {"H100", "H200"} <= {h.text.split()[0] for h in headers}
    for control in ("f-budget", "f-gpu", "f-torch", "f-dtype", "f-q"):
        assert _in_view(driver, driver.find_element(By.ID, control)), control
    # the rail: GPU against GPU, and each torch version against another, on the first screen
    cards = {c.text.split("\n")[0]: c for c in driver.find_elements(By.CSS_SELECTOR, ".card")}
    assert "H200 against H100" in cards["GPU against GPU"].text
    assert re.search(r"CPU 2\.1\d\.\d\S* against 2\.1\d\.\d", cards["torch versions"].text)
    assert all(_in_view(driver, cards[k]) for k in ("GPU against GPU", "torch versions"))
    # how far to trust it: each GPU's steady share, its GPU-bound cases apart
    assert re.search(r"H200 \d+% \(GPU-bound \d+%\)", cards["Trust"].text)
    assert "target 90% of the GPU-bound" in cards["Trust"].text
    assert browser.errors(driver) == []


def test_a_url_with_filters_round_trips(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(driver, "#budget=25&dtype=bfloat16&q=vit")
    assert driver.find_element(By.ID, "f-budget").get_attribute("value") == "25"
    assert Select(driver.find_element(By.ID, "f-dtype")).first_selected_option.text == \
        "bfloat16"
    assert set(_answer_rows(driver)) == {"ViT-B/16 training step", "ViT-B/16 inference"}
    Select(driver.find_element(By.ID, "f-gpu")).select_by_value("NVIDIA H200")
    url = driver.current_url
    assert "gpu=NVIDIA" in url and "budget=25" in url and "q=vit" in url
    shown = _answer_rows(driver)
    driver.get("about:blank")
    driver.get(url)
    assert _answer_rows(driver) == shown
    assert Select(driver.find_element(By.ID, "f-gpu")).first_selected_option.text == \
        "NVIDIA H200"
    driver.find_element(By.ID, "f-reset").click()
    assert urlparse(driver.current_url).fragment == ""  # every control at its start
    assert len(_answer_rows(driver)) > 2
    assert browser.errors(driver) == []


def test_a_filter_changes_every_table_and_the_drawn_views(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(driver)
    visible = ("return [...document.querySelectorAll('table[data-keyed]')].map(t => "
               "[...t.querySelectorAll('tr[data-key]')].filter(r => r.style.display !== "
               "'none').length)")
    before = driver.execute_script(visible)
    assert sum(before) > 0
    search = driver.find_element(By.ID, "f-q")
    search.send_keys("no-case-is-called-this")
    assert set(driver.execute_script(visible)) == {0}
    assert "No workload matches" in driver.find_element(By.ID, "answer").text
    assert driver.find_element(By.ID, "diffview").text.startswith("0 cases")
    search.clear()
    driver.find_element(By.ID, "f-reset").click()
    Select(driver.find_element(By.ID, "f-family")).select_by_value("scatter")
    assert set(_answer_rows(driver)) == {"scatter ops"}
    keyed = driver.execute_script(
        "return [...document.querySelectorAll('tr[data-key]')].filter(r => r.style.display"
        " !== 'none').map(r => r.dataset.key)")
    families = {m.group(1) for k in keyed if (m := re.search(r"family=([^|]*)", k))}
    assert families == {"scatter"}
    assert browser.errors(driver) == []


def test_the_diff_view_sets_any_two_environments_side_by_side(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(driver)
    view = driver.find_element(By.ID, "diffview").text
    counts = re.match(r"(\d+) cases in both: (\d+) costlier, (\d+) cheaper, (\d+) the same",
                      view)
    assert counts and int(counts[1]) == sum(int(counts[i]) for i in (2, 3, 4)) > 0
    a, b = (Select(driver.find_element(By.ID, i)) for i in ("d-a", "d-b"))
    cpus = [o.get_attribute("value") for o in a.options if o.text.startswith("CPU")]
    a.select_by_value(cpus[0])
    b.select_by_value(cpus[-1])
    assert "cases in both" in driver.find_element(By.ID, "diffview").text
    assert browser.errors(driver) == []


def test_the_case_table_sorts_by_a_column_and_names_the_run_on_every_row(driver):
    from selenium.webdriver.common.by import By

    _open(driver)
    table = driver.find_element(By.XPATH, "//h2[@id='cases']/following::table[1]")
    headers = [h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th")]
    column = headers.index("slowdown")
    header = table.find_elements(By.CSS_SELECTOR, "thead th")[column]
    read = ("return [...arguments[0].tBodies[0].rows].filter(r => r.style.display !== 'none')"
            ".map(r => [r.cells[arguments[1]].textContent, r.cells[arguments[2]].textContent])")
    for order in ("asc", "desc"):
        header.click()
        rows = driver.execute_script(read, table, column, headers.index("run_id"))
        values = [float(v) for v, _ in rows if v]
        assert values == sorted(values, reverse=order == "desc")
        assert all(run for _, run in rows)

"""The dashboard as files, and as a person sees it in headless Chromium."""

import re

import browser
import pytest
from conftest import HOSTILE, run_cli

from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.report.dashboard import PLOTLY_FILE, build_dashboard, slug


@pytest.fixture
def site(two_gpu_results):
    index = build_dashboard(compute_findings(load([two_gpu_results / "raw"])),
                            two_gpu_results / "dashboard")
    return index.parent


def test_site_has_index_a_page_per_environment_and_plotly_once(site):
    pages = sorted(p.name for p in site.glob("*.html"))
    assert "index.html" in pages and "gpu-a-torch-2-11-0.html" in pages and len(pages) == 3
    assert (site / PLOTLY_FILE).stat().st_size > 1_000_000
    assert "font-family" in (site / "style.css").read_text()
    for page in site.glob("*.html"):
        text = page.read_text()
        assert f'<script src="{PLOTLY_FILE}"></script>' in text
        assert text.count("plotly.js v") == 0  # the library itself is not inlined
        assert '<script src="filters.js"></script>' in text and "function parse" not in text
        assert '<link rel="stylesheet" href="style.css">' in text and "<style>" not in text
    assert (site / "all-decision.csv").read_text().startswith("env,family,verdict,why")
    assert (site / "all-cases.csv").exists()


def test_every_string_from_results_is_escaped(site):
    for page in site.glob("*.html"):
        text = page.read_text()
        assert HOSTILE not in text and "<script>window.__pwned" not in text
        assert "&lt;script&gt;window.__pwned" in text


def test_report_command_builds_the_dashboard(two_gpu_results):
    done = run_cli("report", "--out", str(two_gpu_results), "--budget", "1.5")
    assert done.returncode == 0, done.stderr
    assert (two_gpu_results / "dashboard" / "index.html").exists()
    page = (two_gpu_results / "dashboard" / "index.html").read_text()
    assert re.search(r'id="f-budget"[^>]*value="50"', page)  # the budget control starts there


needs_chromium = pytest.mark.skipif(
    not (browser.CHROMIUM and browser.CHROMEDRIVER),
    reason="headless Chromium and chromedriver are not installed (.ci/run installs them)")


@pytest.mark.browser
@needs_chromium
def test_dashboard_renders_every_figure_without_script_errors(site):
    driver = browser.start()
    try:
        for page in ("index.html", f"{slug('GPU-A · torch 2.11.0')}.html"):
            count = browser.load(driver, (site / page).as_uri())
            assert count >= 3
            assert browser.errors(driver) == []
            assert driver.execute_script("return window.__pwned") is None
    finally:
        driver.quit()


@pytest.mark.browser
@needs_chromium
def test_filters_hide_points_and_rows(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser.start()
    try:
        browser.load(driver, (site / "index.html").as_uri())
        count_points = "return document.querySelectorAll('div.figure')[0]" \
                       ".querySelectorAll('.point').length"
        visible_rows = "return [...document.querySelectorAll('tr[data-key]')]" \
                       ".filter(r => r.style.display !== 'none').length"
        before, rows_before = driver.execute_script(count_points), \
            driver.execute_script(visible_rows)
        Select(driver.find_element(By.ID, "f-gpu")).select_by_value("GPU-A")
        after, rows_after = driver.execute_script(count_points), \
            driver.execute_script(visible_rows)
        assert 0 < after < before and 0 < rows_after < rows_before
        assert browser.errors(driver) == []
    finally:
        driver.quit()


def test_a_rebuild_drops_the_pages_of_environments_no_longer_measured(two_gpu_results):
    from conftest import write_synthetic_run

    out = two_gpu_results / "dashboard"
    write_synthetic_run(two_gpu_results / "raw" / "c", "GPU-C", "run-c")
    build_dashboard(compute_findings(load([two_gpu_results / "raw"])), out)
    assert (out / "gpu-c-torch-2-11-0.html").exists()
    build_dashboard(compute_findings(load([two_gpu_results / "raw" / "a"])), out)
    assert not (out / "gpu-c-torch-2-11-0.html").exists()
    assert not list(out.glob("gpu-c-*.csv")) and (out / "gpu-a-torch-2-11-0.html").exists()


def test_each_family_has_a_section_and_the_checks_are_collapsed(site):
    page = (site / "index.html").read_text()
    assert 'id="family-scatter"' in page and '"all-scatter-worst"' in page  # its chart
    trust = page[page.index('<details id="trust">'):]
    assert "<h2>Environments</h2>" in trust[:trust.index("</details>")]
    assert '<details id="method">' in page


def test_an_empty_part_of_a_family_says_what_to_run(two_gpu_results):
    from detcost.report.family_sections import family_sections

    f = compute_findings(load([two_gpu_results / "raw"]))
    f = f.__class__(**{**f.__dict__, "comparison": f.comparison.assign(family="model"),
                       "compiled": f.compiled.iloc[0:0]})
    text = "\n".join(family_sections(f, "x"))
    assert "No compiled step measured: run <code>nox -s bench -- --profile full" in text


def test_no_committed_chart_is_taller_than_about_two_screens():
    from pathlib import Path

    site = Path(__file__).resolve().parents[1] / "results" / "dashboard"
    heights = {page.name: [int(h) for h in re.findall(r'class="figure" id="[^"]*" '
                                                      r'style="min-height:(\d+)px"',
                                                      page.read_text())]
               for page in site.glob("*.html")}
    assert heights["index.html"] and all(heights.values())
    tallest = max(h for page in heights.values() for h in page)
    assert tallest <= 2 * 900 + 100, tallest

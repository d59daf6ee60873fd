"""The HTML report in a real headless browser (Debian's Chromium, driven by ChromeDriver through Selenium):
it renders without errors, fetches nothing, and shows the figures of the run it was made from.

`make test` installs chromium and chromium-driver (Makefile); a run without them fails here, it does not skip.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # The machine has no internet: without these Chromium keeps trying Google's hosts.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,1600",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("Debian's chromium and chromium-driver are not installed: `make test` installs them "
                    "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    yield driver
    driver.quit()


def _open(browser, path: Path) -> None:
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"


def _figure_size(browser, identifier: str) -> tuple[float, float]:
    return tuple(browser.execute_script(
        "const svg = document.querySelector(arguments[0] + ' svg');"
        "if (!svg) return [0, 0]; const box = svg.getBoundingClientRect(); return [box.width, box.height];",
        f"#{identifier}"))


def _errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_out_of_fold_report_renders_its_figures_without_errors(browser, out_of_fold_run, tmp_path):
    # GIVEN a finished offline run with out-of-fold predictions, rendered to one HTML file
    report = out_of_fold_run.write_report(tmp_path / "report.html")
    # WHEN Chromium opens it from the disk
    _open(browser, report)
    # THEN nothing failed and nothing was fetched: the page is self-contained
    assert _errors(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    # AND each figure is drawn at a readable size
    for identifier in ("metric-values", "fold-balance", "confusion-matrix"):
        width, height = _figure_size(browser, identifier)
        assert width > 200 and height > 150, (identifier, width, height)
    # AND the confusion matrix shows the run's counts, the metric panels its metrics and their means
    matrix = out_of_fold_run.out_of_fold["confusion_matrix"]["matrix"]
    drawn = browser.find_element("css selector", "#confusion-matrix svg").text.split()
    assert all(str(count) in drawn for row in matrix for count in row)
    panels = browser.find_element("css selector", "#metric-values svg").text
    for name, stats in out_of_fold_run.summary["metrics"].items():
        assert name in panels and f"{stats['mean']:.4f}" in panels  # as the table writes it
    # AND the fold balance shows each class of the breast-cancer labels
    balance = browser.find_element("css selector", "#fold-balance").text
    assert "class" in balance and {"0", "1"} <= set(balance.split())
    browser.save_screenshot(str(tmp_path / "report.png"))


def test_the_search_report_ranks_the_candidates(browser, search_run, tmp_path):
    report = search_run.write_report(tmp_path / "search.html")
    _open(browser, report)
    assert _errors(browser) == []
    width, height = _figure_size(browser, "candidate-ranking")
    assert width > 200 and height > 100
    ranking = browser.find_element("css selector", "#candidate-ranking svg").text.split()
    assert {f"c{candidate['index']}" for candidate in search_run.tuning["candidates"]} <= set(ranking)
    best = search_run.tuning["best_index"]
    heading = browser.find_element("css selector", "#tuning").text
    assert heading.startswith(f"Search: {len(search_run.tuning['candidates'])} candidates ranked by")
    table = browser.find_element("css selector", "#tuning + table").text
    assert table.splitlines()[1].split()[:2] == ["1", f"c{best}"]


def test_a_notebook_shows_the_result_as_its_report_without_restyling_the_notebook(browser, out_of_fold_run, tmp_path):
    # GIVEN a page standing for a notebook, with its own heading and table, and the result's HTML in a cell
    host = ("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
            "<h1 id='notebook-title'>My notebook</h1><table id='notebook-table'><tr><td>x</td></tr></table>"
            "<div class='output'>CELL</div></body></html>")
    plain = tmp_path / "notebook.html"
    plain.write_text(host.replace("CELL", ""))
    with_result = tmp_path / "notebook-with-result.html"
    with_result.write_text(host.replace("CELL", out_of_fold_run._repr_html_()))

    def notebook_styles() -> list:
        return browser.execute_script(
            "const h = getComputedStyle(document.getElementById('notebook-title'));"
            "const t = getComputedStyle(document.querySelector('#notebook-table td'));"
            "return [h.fontSize, h.borderBottomStyle, t.borderTopStyle, getComputedStyle(document.body).margin];")

    _open(browser, plain)
    before = notebook_styles()
    # WHEN the cell shows the result
    _open(browser, with_result)
    # THEN the report's figures render in it, and the notebook's own elements keep their style
    assert _errors(browser) == []
    for identifier in ("metric-values", "fold-balance", "confusion-matrix"):
        width, height = _figure_size(browser, identifier)
        assert width > 200 and height > 150, (identifier, width, height)
    assert notebook_styles() == before

"""``ceasefire app`` in a real headless Chromium: the page loads and draws its chart (Vega, from the local
server), the troops slider changes P(deal), hovering the chart shows the values, the document itself scrolls,
and the downloaded YAML validates.

Needs Solara (the app extra), Playwright's Python package and a chromium binary (Debian's, or
``$CEASEFIRE_CHROMIUM``; Playwright's own browsers are not used). Skipped with the reason when one is
missing, unless ``CEASEFIRE_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.spec.scenario import load_scenario
from tests.browser import find_chromium

REPO = Path(__file__).resolve().parent.parent
SERVE_TIMEOUT = 90.0
"""Seconds for the server to answer (importing Solara and the first page can take a while on a busy machine)."""
PAGE_TIMEOUT_MS = 90_000
"""Milliseconds for the page to show, and to redraw after a change (generous: a shared two-core machine)."""
CHART_DRAWN = """text => {
    if (document.querySelector('.ceasefire-busy')) return false;
    const chart = document.querySelector('.ceasefire-current .ceasefire-chart [data-drawn]');
    return !!chart && chart.dataset.drawn.includes(text) && !!chart.querySelector('canvas, svg.marks');
}"""
"""True once the page is idle and Vega has drawn the chart whose title holds ``text`` (``sim.app.page.DRAWN_MARK``)."""
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync")


def missing() -> str | None:
    """Why this test cannot run here, or None."""
    for module, what in (("solara", "solara (pip install 'ceasefire[app]')"),
                         ("playwright", "playwright (pip install playwright)")):
        if importlib.util.find_spec(module) is None:
            return f"{what} is not installed"
    if find_chromium() is None:
        return "chromium not found (apt-get install chromium, or set CEASEFIRE_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def chromium_path() -> str:
    reason = missing()
    if reason is not None:
        if os.environ.get("CEASEFIRE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CEASEFIRE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return str(find_chromium())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_served(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it exits or times out."""
    deadline = time.monotonic() + SERVE_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"ceasefire app exited with {server.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"ceasefire app did not serve {url} within {SERVE_TIMEOUT:.0f} s: "
                f"{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def app_url(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m sim app --port P`` started from an empty folder on a free port; stopped afterwards."""
    folder = tmp_path_factory.mktemp("app")
    log = folder / "server.log"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port), "--host", "127.0.0.1"],
                                  cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_served(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def test_troops_slider_changes_p_deal_and_the_download_validates(app_url, chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=list(ARGS))
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(app_url)
            page.wait_for_function(CHART_DRAWN, arg="the baseline")
            before = page.inner_text(".ceasefire-p-deal")
            assert before.startswith("P(deal) 0.") and "95 % CI" in before
            assert page.inner_text(".ceasefire-sentence").startswith("The baseline: P(deal) ")

            thumb = page.locator(".control-agents-UK-troops [role=slider]")
            thumb.focus()
            thumb.press("End")  # UK troops to the slider's maximum, 40,000
            page.wait_for_function(CHART_DRAWN, arg="UK troops 10,000 → 40,000")
            assert page.inner_text(".ceasefire-p-deal").startswith("P(deal) ")
            assert page.inner_text(".ceasefire-sentence").startswith("UK troops 10,000 → 40,000: P(deal) ")
            assert "UK troops: 40,000 soldiers" in page.inner_text(".control-agents-UK-troops")

            chart = page.locator(".ceasefire-chart canvas").bounding_box()
            page.mouse.move(chart["x"] + 200, chart["y"] + 120)  # over the survival panel
            tooltip = page.wait_for_selector("#vg-tooltip-element.visible")
            assert "P(holding), this scenario" in tooltip.inner_text()
            assert page.evaluate("document.scrollingElement.scrollHeight > window.innerHeight")
            page.mouse.wheel(0, 600)
            page.wait_for_function("window.scrollY > 0")  # the document scrolls, not an inner box
            assert all(url.startswith(app_url) or url.startswith("ws://127.0.0.1") for url in requests), requests

            with page.expect_download() as download:
                page.get_by_role("button", name="Download").click()
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
        finally:
            browser.close()

    assert saved.name == "dashboard.yaml"
    check = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved)], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert check.returncode == 0, check.stderr
    assert load_scenario(saved).agents.UK.troops == 40_000

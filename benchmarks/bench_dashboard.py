"""The dashboard in headless Chromium: time from a slider change to the updated chart, and the settle time of
three quick changes, at the page's 2,000 worlds.

Starts ``python -m sim app`` on a free port, drives Debian's chromium with Playwright (as
``tests/test_app_browser.py`` does) and times, from the Python side:

- **change → chart**: a keyboard step of the UK troops slider (a new value each time, never a cached one)
  until the chart Vega drew in the page carries the new value in its title and the busy bar is gone;
- **settle**: three steps of the slider 0.15 s apart, from the last one until the chart shows the last value.

Usage (from the repository root)::

    python -m benchmarks.bench_dashboard [--changes 7] [--bursts 3] [--screenshot shot.png]

Prints one line per measurement, then the medians and the load average. Not a test: the numbers depend
on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.machine import describe  # noqa: E402
from tests.browser import find_chromium  # noqa: E402

ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync")
TIMEOUT_MS = 120_000
THUMB = ".control-agents-UK-troops [role=slider]"
QUICK_GAP = 0.15
"""Seconds between the three quick changes."""

CHART_SHOWS = """([text]) => {
    if (document.querySelector('.ceasefire-busy')) return false;
    const chart = document.querySelector('.ceasefire-current .ceasefire-chart [data-drawn]');
    return !!chart && chart.dataset.drawn.includes(text) && !!chart.querySelector('canvas, svg.marks');
}"""
"""True once the page is idle and Vega has drawn the chart whose title holds ``text`` (the title names the
change; the page's widget sets ``data-drawn`` when Vega has drawn)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """``python -m sim app`` on a free port, answering; returns the process and its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)], cwd=folder, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"ceasefire app exited: {(folder / 'server.log').read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return server, url
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    server.terminate()
    sys.exit("ceasefire app did not answer within 120 s")


def troops(n: int) -> str:
    """The chart title's text once UK troops are ``n`` (the baseline has 10,000)."""
    return f"UK troops 10,000 \u2192 {n:,}"


def measure(url: str, changes: int, bursts: int, screenshot: Path | None) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {"first_load": [], "change": [], "settle": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=list(ARGS))
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_function(CHART_SHOWS, arg=["the baseline"], timeout=TIMEOUT_MS)
            found["first_load"].append(time.perf_counter() - start)
            print(f"first load (baseline run and chart): {found['first_load'][0]:.2f} s", flush=True)
            thumb = page.locator(THUMB)
            value = 10_000
            for _ in range(changes):
                value += 1_000
                thumb.focus()
                start = time.perf_counter()
                thumb.press("ArrowRight")
                page.wait_for_function(CHART_SHOWS, arg=[troops(value)], timeout=TIMEOUT_MS)
                found["change"].append(time.perf_counter() - start)
                timing = page.inner_text(".ceasefire-timing")
                print(f"change -> chart, UK troops {value:,}: {found['change'][-1]:.2f} s ({timing})", flush=True)
            for _ in range(bursts):
                thumb.focus()
                for step in range(3):
                    if step:
                        time.sleep(QUICK_GAP)
                    thumb.press("ArrowRight")
                    value += 1_000
                last = time.perf_counter()
                page.wait_for_function(CHART_SHOWS, arg=[troops(value)], timeout=TIMEOUT_MS)
                found["settle"].append(time.perf_counter() - last)
                print(f"three quick changes, settled at UK troops {value:,} {found['settle'][-1]:.2f} s after the "
                      f"last ({page.inner_text('.ceasefire-timing')})", flush=True)
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=7, help="single changes to time (default 7)")
    parser.add_argument("--bursts", type=int, default=3, help="bursts of three quick changes (default 3)")
    parser.add_argument("--screenshot", type=Path, help="save a full-page screenshot at the end")
    args = parser.parse_args()
    if find_chromium() is None:
        sys.exit("chromium not found (apt-get install chromium, or set CEASEFIRE_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
        server, url = start_server(Path(folder))
        try:
            load_before = os.getloadavg()
            found = measure(url, args.changes, args.bursts, args.screenshot)
            load_after = os.getloadavg()
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name, times in found.items():
        if times:
            print(f"{name}: median {statistics.median(times):.2f} s, min {min(times):.2f}, max {max(times):.2f} "
                  f"(n={len(times)})")
    print(f"load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; {os.cpu_count()} CPUs")
    print(describe())


if __name__ == "__main__":
    main()

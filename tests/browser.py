"""Drive Debian's headless chromium: dump a page's rendered DOM, or take a screenshot.

Each call starts a fresh browser with a new, throw-away profile and no network side traffic, renders
one local file and exits. ``CEASEFIRE_CHROMIUM`` may name another binary.

Usage (from the repository root)::

    python -m tests.browser dom results/report.html          # rendered DOM to stdout
    python -m tests.browser screenshot results/report.html shot.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=5000",
)
"""Flags of every run: headless, no sandbox (root in a container), no background traffic, and wait
(in virtual time) until the page has loaded and settled before dumping or capturing it."""

TIMEOUT_SECONDS = 90.0


class BrowserError(RuntimeError):
    """Chromium failed, timed out or produced nothing."""


def find_chromium() -> str | None:
    """Path of the chromium binary (``$CEASEFIRE_CHROMIUM`` or ``chromium`` on PATH), or None."""
    return shutil.which(os.environ.get("CEASEFIRE_CHROMIUM", "chromium"))


def run_chromium(args: Sequence[str], timeout: float = TIMEOUT_SECONDS) -> str:
    """Run chromium with :data:`FLAGS`, a fresh profile folder and ``args``; return its stdout.

    Raises:
        BrowserError: chromium is missing, exits non-zero or times out (message ends with its stderr).
    """
    binary = find_chromium()
    if binary is None:
        raise BrowserError("chromium not found (apt-get install chromium, or set CEASEFIRE_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="ceasefire-chromium-") as profile:
        command = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"chromium timed out after {timeout:.0f} s: {_tail(exc.stderr)}") from None
    if done.returncode != 0:
        raise BrowserError(f"chromium exited with {done.returncode}: {_tail(done.stderr)}")
    return done.stdout


def dump_dom(page: Path) -> str:
    """The DOM of a local HTML file after it loaded and its scripts ran, serialised as HTML."""
    dom = run_chromium(["--dump-dom", Path(page).resolve().as_uri()])
    if "<html" not in dom:
        raise BrowserError(f"chromium dumped no DOM for {page}")
    return dom


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2400) -> Path:
    """A PNG of the top ``width`` × ``height`` pixels of a local HTML file as rendered."""
    png = Path(png).resolve()
    png.unlink(missing_ok=True)
    run_chromium([f"--window-size={width},{height}", f"--screenshot={png}", Path(page).resolve().as_uri()])
    if not png.is_file():
        raise BrowserError(f"chromium wrote no screenshot for {page}")
    return png


def _tail(stderr: str | bytes | None, lines: int = 5) -> str:
    """The last lines of chromium's stderr, on one line."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return " | ".join((stderr or "").strip().splitlines()[-lines:]) or "(no stderr)"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dom":
        print(dump_dom(Path(sys.argv[2])))
    elif len(sys.argv) == 4 and sys.argv[1] == "screenshot":
        print(screenshot(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)

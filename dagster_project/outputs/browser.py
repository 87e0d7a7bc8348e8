"""Headless Chromium, where installed (Debian's `chromium`): PDFs of the scorecards, and the
screenshots and layout probes the tests take of the HTML pages. Nothing else needs a browser."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium's own network traffic (updates, sync, …) is refused on a closed network, many
# connections at a time; these flags keep it quiet. --no-sandbox: the tests and CI run as root.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
TIMEOUT_SECONDS = 120


class BrowserError(Exception):
    """No Chromium here, or it failed on a page."""


def find_chromium() -> str | None:
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def _run(page: Path, *args: str) -> str:
    executable = find_chromium()
    if executable is None:
        raise BrowserError(
            "no Chromium found (looked for " + ", ".join(CANDIDATES) + "); on Debian: apt-get install chromium"
        )
    with tempfile.TemporaryDirectory(prefix="kaohe-chromium-") as profile:
        try:
            done = subprocess.run(
                [executable, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium took over {TIMEOUT_SECONDS} s on {page}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise BrowserError(f"Chromium failed on {page} (exit {done.returncode}): {last}")
    return done.stdout


def print_pdf(page: Path, pdf: Path) -> Path:
    """The page printed as Chromium prints it (the page's own @page size and print CSS)."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    _run(page, f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer")
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise BrowserError(f"Chromium wrote no PDF for {page}")
    return pdf


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 1000) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(page, f"--screenshot={png.resolve()}", f"--window-size={width},{height}")
    if not png.exists() or png.stat().st_size == 0:
        raise BrowserError(f"Chromium wrote no screenshot of {page}")
    return png


def dump_dom(page: Path, width: int = 1400, height: int = 1000) -> str:
    """The page's DOM after its scripts ran, laid out in a window `width` pixels wide."""
    return _run(page, "--dump-dom", f"--window-size={width},{height}", "--virtual-time-budget=2000")

"""Fixtures for the browser test of the built site: a local server, headless Chromium,
the pages of the table of contents, and a helper that opens a page and waits until
MathJax and the widgets have rendered.

The site is served from _build/html on 127.0.0.1 and the browser may fetch nothing
else: every request to another address is refused and reported, so a page that
needs a CDN fails here as it would for a reader offline.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from site_pages import CHROMIUM, CHROMIUM_ARGS, DESKTOP, RENDER_TIMEOUT_MS, SCREENSHOTS, SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):   # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def site() -> str:
    """The base URL (ending in /) of _build/html, served on 127.0.0.1 on a free port."""
    if not (SITE / "index.html").is_file():
        pytest.fail("no built site in _build/html: run `make browser`, which builds it "
                    "(or `make book` and then this test)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (its own browser download
    cannot be used here: it needs more than the package registries)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}. Install it with "
                    "`apt-get update && apt-get install -y chromium` "
                    "(or set CHROMIUM to the path of a Chromium or Chrome binary)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `make browser` installs it "
                    "from requirements.txt into .venv")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """_build/screenshots/, emptied once per session; one subfolder per pass."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@dataclass
class Visit:
    """A page opened in a fresh browser context, and what happened while it loaded."""
    page: object
    status: int
    errors: list[str] = field(default_factory=list)        # uncaught exceptions
    external: list[str] = field(default_factory=list)      # requests refused: not on 127.0.0.1
    failed: list[str] = field(default_factory=list)        # local requests that failed


# Waits for what renders after the "load" event: MathJax's first typesetting, the
# widget views (one per widget-view script the page carries), the widgets' own
# typesetting, the images and the web fonts. Returns what is still missing.
SETTLE_JS = """async (timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const views = document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]').length;
  while (document.querySelectorAll('.widget-subarea').length < views && Date.now() < deadline)
    await sleep(100);
  // MathJax is loaded with "defer", so by the "load" event it is there or it failed
  // to load (then the formulas stay raw, and the math check says so).
  const startup = window.MathJax && window.MathJax.startup;
  if (startup && startup.promise) {
    await Promise.race([startup.promise, sleep(Math.max(0, deadline - Date.now()))]);
  }
  await Promise.race([
    Promise.all([...document.images].map(img => {
      img.loading = 'eager';
      return img.decode().catch(() => null);
    })),
    sleep(Math.max(0, deadline - Date.now())),
  ]);
  await document.fonts.ready;
  return Date.now() < deadline;
}"""


@pytest.fixture
def open_page(browser, site):
    """open_page(path, viewport=DESKTOP, dark=False, details_open=False) -> Visit.

    path is relative to the site ("chapters/07_gru.html"). dark=True stores the
    theme's dark mode in localStorage before the page loads, as its switcher does.
    """
    contexts = []

    def open_(path: str, viewport: dict = DESKTOP, dark: bool = False) -> Visit:
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        contexts.append(context)
        mode = "dark" if dark else "light"
        context.add_init_script(f"localStorage.setItem('mode', '{mode}');"
                                f"localStorage.setItem('theme', '{mode}');")
        external: list[str] = []

        def route(route_):
            url = route_.request.url
            if url.startswith(site) or url.startswith(("data:", "blob:")):
                route_.continue_()
            else:
                external.append(url)
                route_.abort()

        context.route("**/*", route)
        page = context.new_page()
        visit = Visit(page=page, status=0, external=external)
        page.on("pageerror", lambda error: visit.errors.append(str(error)))
        page.on("response", lambda r: visit.failed.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        page.on("requestfailed", lambda r: None if not r.url.startswith(site)
                else visit.failed.append(f"{r.failure} {r.url}"))
        response = page.goto(site + path, wait_until="load")
        visit.status = response.status if response else 0
        settled = page.evaluate(SETTLE_JS, RENDER_TIMEOUT_MS)
        assert settled, (f"{path}: MathJax, the widgets or the images did not finish rendering "
                         f"within {RENDER_TIMEOUT_MS / 1000:.0f} s; errors: {visit.errors}, "
                         f"refused: {visit.external}, failed: {visit.failed}")
        return visit

    yield open_
    for context in contexts:
        context.close()

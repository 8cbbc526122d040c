"""The built website in a real browser: every page of the table of contents.

Run with `make browser` (it builds the site first); part of `make test`. It needs
Debian's Chromium (`apt-get update && apt-get install -y chromium`) and Playwright
for Python (requirements.txt). Each page is opened in a fresh browser context that
may fetch nothing but the local server, so a page that needs a CDN fails here:

- on a desktop screen (1280x900): status 200, no uncaught error, every image
  loaded, every formula typeset by MathJax, every widget view rendered, every
  internal link (and #anchor) resolves; on chapters, the solutions of the
  exercises stay hidden until clicked, and the launch (Colab, Binder) and download
  buttons point at the right notebook; under every widget a note says that no
  Python runs on the website and links the chapter on Colab and Binder, and a
  press on one of the widget's controls makes the note say so at once;
- on a phone (390x844), with every solution open: nothing runs off the side of the
  screen unless it sits in a box that scrolls, and no image is wider than its box;
- chapters in the theme's dark mode: the figures stay legible (opaque, or on a
  light background) and so do the widgets.

In all three passes, each chapter of site_pages.ARCHITECTURE_FIGURES shows its
architecture figure (an SVG of book/figures/): loaded, visible and with alt text.

The search page must find "perplexity".

A screenshot of each page in each pass goes to _build/screenshots/{desktop,phone,dark}/.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urlsplit
from urllib.request import urlopen

import pytest
import yaml

from site_pages import ARCHITECTURE_FIGURES, CHAPTER_PAGES, PAGES, PHONE, ROOT, SITE

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# sphinx-thebe writes its configuration script twice into every page, so the second
# copy fails to redeclare a constant. Harmless (Thebe is not used); nothing else is.
KNOWN_PAGE_ERRORS = {"Identifier 'THEBE_JS_URL' has already been declared"}


def html_name(page: str) -> str:
    return f"{page}.html"


def shot(page, folder, name: str) -> None:
    path = folder / f"{name.replace('/', '__')}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70)


# --- the architecture figure of a chapter ------------------------------------------------

# Every <img> of the text whose file is `name` (Sphinx copies it to _images/ under
# the same name), with what a reader gets from it.
FIGURE_JS = """(name) => [...document.querySelectorAll('article img')]
  .filter(img => new URL(img.currentSrc || img.src, document.baseURI).pathname.endsWith('/' + name))
  .map(img => ({src: (img.currentSrc || img.src).slice(-80), complete: img.complete,
                naturalWidth: img.naturalWidth, alt: (img.getAttribute('alt') || '').trim(),
                width: img.getBoundingClientRect().width}))"""


def check_architecture_figure(page, visit, where: str) -> None:
    """The chapter shows its figure of ARCHITECTURE_FIGURES: loaded, visible, with alt text.

    Without alt text docutils writes the image's path as its alt text, so an
    alt that ends with the file name counts as missing."""
    name = ARCHITECTURE_FIGURES.get(page)
    if name is None:
        return
    found = visit.page.evaluate(FIGURE_JS, name)
    assert found, f"{page} ({where}): no <img> of {name}; the chapter's markdown should show it " \
                  f"as a Markdown image (tests/test_figures.py checks the notebook)"
    for image in found:
        assert image["complete"] and image["naturalWidth"] > 0, f"{page} ({where}): {name} did not load: {image}"
        assert image["width"] > 0, f"{page} ({where}): {name} is not visible: {image}"
        assert image["alt"] and not image["alt"].endswith(name), \
            f"{page} ({where}): {name} has no alt text (give the Markdown image an alt text): {image}"


# --- what the server has: status and element ids of each local URL, cached ------------

class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


@pytest.fixture(scope="session")
def served():
    """served(url) -> (status, ids): a GET of a local URL, and the ids its HTML defines."""
    cache: dict[str, tuple[int, set[str]]] = {}

    def get(url: str) -> tuple[int, set[str]]:
        if url not in cache:
            try:
                with urlopen(url, timeout=30) as response:
                    status, body = response.status, response.read()
            except HTTPError as error:
                status, body = error.code, b""
            ids = set()
            if status == 200 and urlsplit(url).path.endswith((".html", "/")):
                parser = _Ids()
                parser.feed(body.decode("utf-8", errors="replace"))
                ids = parser.ids
            cache[url] = (status, ids)
        return cache[url]

    return get


def notebook_widget_views(page: str) -> int:
    """How many widget views the chapter's notebook shows (0 for a Markdown page)."""
    path = ROOT / f"{page}.ipynb"
    if not path.is_file():
        return 0
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(WIDGET_VIEW in output.get("data", {})
               for cell in nb["cells"] if cell["cell_type"] == "code"
               for output in cell.get("outputs", []))


# --- the table of contents ---------------------------------------------------------------

def test_every_page_of_the_toc_was_built():
    assert PAGES, "_toc.yml lists no pages"
    chapters = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
    assert [p.split("/")[-1] for p in CHAPTER_PAGES] == chapters, \
        "_toc.yml must list every notebook in chapters/ (tests/test_notebooks.py says more)"
    missing = [p for p in PAGES if not (SITE / html_name(p)).is_file()]
    assert not missing, f"pages of the table of contents missing from _build/html: {missing}; " \
                        "run `make book` (make browser does)"


# --- desktop pass ------------------------------------------------------------------------

PAGE_CHECKS_JS = """() => {
  const text = node => (node.textContent || '').trim().slice(0, 80);
  const visibleTeX = [];
  const walker = document.createTreeWalker(document.querySelector('article') || document.body,
                                           NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('pre, code, script, style, textarea, mjx-container, .highlight'))
      continue;
    if (/\\\\\\(|\\\\\\[|\\$\\$|\\\\begin\\{/.test(node.textContent)) visibleTeX.push(text(node));
  }
  const maths = [...document.querySelectorAll('.math')];
  return {
    // images a reader can see (a widget may hide an empty Image with display: none)
    brokenImages: [...document.images].filter(i => i.getClientRects().length > 0)
                    .filter(i => !i.complete || i.naturalWidth === 0)
                    .map(i => i.currentSrc.slice(0, 120) || i.outerHTML.slice(0, 120)),
    images: document.images.length,
    maths: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(text),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(text),
    visibleTeX,
    viewScripts: document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]').length,
    views: [...document.querySelectorAll('.widget-subarea')].map(v => {
      const r = v.getBoundingClientRect();
      return {width: r.width, height: r.height,
              widgets: v.querySelectorAll('.jupyter-widgets').length,
              errors: v.querySelectorAll('.jupyter-widgets-error-widget').length};
    }),
    loadingText: /Loading widget|Error displaying widget/.test(document.body.innerText),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  };
}"""


@pytest.mark.parametrize("page", PAGES)
def test_page_on_a_desktop(page, open_page, served, site, screenshots):
    visit = open_page(html_name(page))
    facts = visit.page.evaluate(PAGE_CHECKS_JS)
    shot(visit.page, screenshots / "desktop", page)
    check_loaded_cleanly(page, visit, facts)
    check_architecture_figure(page, visit, "desktop")
    check_math(page, facts)
    check_widgets(page, facts)
    check_internal_links(page, visit, facts["links"], served, site)
    check_source_download(page, facts["links"], site)
    if page in CHAPTER_PAGES:
        check_launch_and_download_buttons(page, facts["links"], site)
        check_solutions_are_hidden_until_clicked(page, visit)
    check_widgets_say_where_they_run(page, visit, screenshots)      # last: it presses controls


def check_loaded_cleanly(page, visit, facts):
    assert visit.status == 200, f"{page}: HTTP {visit.status}"
    assert not visit.external, \
        f"{page}: the page asked for files outside the site, so it breaks offline: {visit.external}"
    assert not visit.failed, f"{page}: requests that failed: {visit.failed}"
    errors = [e for e in visit.errors if e not in KNOWN_PAGE_ERRORS]
    assert not errors, f"{page}: uncaught JavaScript errors: {errors}"
    assert not facts["brokenImages"], f"{page}: images that did not load: {facts['brokenImages']}"


def check_math(page, facts):
    """Every formula typeset, none in error, no raw TeX left in the text."""
    assert not facts["untypeset"], f"{page}: formulas MathJax did not typeset: {facts['untypeset'][:5]}"
    assert not facts["mathErrors"], f"{page}: MathJax errors: {facts['mathErrors'][:5]}"
    assert not facts["visibleTeX"], f"{page}: raw TeX visible in the text: {facts['visibleTeX'][:5]}"


def check_widgets(page, facts):
    """One rendered view per widget that the notebook shows."""
    expected = notebook_widget_views(page)
    assert facts["viewScripts"] == expected, \
        f"{page}: the notebook shows {expected} widget(s), the page carries {facts['viewScripts']}"
    if not expected:
        return
    views = facts["views"]
    assert len(views) >= expected, f"{page}: {len(views)} of {expected} widget views rendered"
    for i, view in enumerate(views):
        assert view["width"] > 0 and view["height"] > 0 and view["widgets"] > 0, \
            f"{page}: widget view {i} is empty or has no size: {view}"
        assert view["errors"] == 0, f"{page}: widget view {i} shows an error: {view}"
    assert not facts["loadingText"], f"{page}: a widget placeholder is still showing"


def check_internal_links(page, visit, links, served, site):
    """Every link to the site reaches a page that exists, and its #anchor an element."""
    here_ids = None
    bad = []
    for href in sorted(set(links)):
        if not href.startswith(site):
            continue
        url, fragment = urldefrag(href)
        fragment = unquote(fragment)
        status, ids = served(url)
        if status != 200:
            bad.append(f"{href} (HTTP {status})")
        elif fragment and fragment not in ids:
            if url == site + html_name(page):     # the same page: ids made by scripts count too
                if here_ids is None:
                    here_ids = set(visit.page.evaluate(
                        "() => [...document.querySelectorAll('[id]')].map(e => e.id)"))
                if fragment in here_ids:
                    continue
            bad.append(f"{href} (no element with id {fragment!r})")
    assert not bad, f"{page}: internal links that do not resolve: {bad}"


def check_source_download(page, links, site):
    """The download menu offers the page's source (.md or .ipynb); the link check
    above makes sure that the server has it."""
    suffix = ".md" if (ROOT / f"{page}.md").is_file() else ".ipynb"
    source = site + f"_sources/{page}{suffix}"
    assert source in links, f"{page}: no download button for its source ({source})"


def launch_targets(page):
    """(the Colab URL of this page's notebook, the start of its Binder URLs, the
    notebook's path in the repository), from the repository and branch in _config.yml."""
    repo = CONFIG["repository"]
    owner_repo = urlsplit(repo["url"]).path.strip("/")
    notebook = str(PurePosixPath(repo.get("path_to_book") or ".") / f"{page}.ipynb")
    colab = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
    binder = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
    return (f"{colab}/github/{owner_repo}/blob/{repo['branch']}/{notebook}",
            f"{binder}/v2/gh/{owner_repo}/{repo['branch']}?", notebook)


def check_launch_and_download_buttons(page, links, site):
    """The rocket menu opens this notebook on Colab and Binder from the repository and
    branch in _config.yml; the download menu gives the .ipynb file."""
    colab, binder, notebook = launch_targets(page)
    assert colab in links, f"{page}: no Colab button to {colab}"
    binder_links = [h for h in links if h.startswith(binder)]
    assert binder_links and all(h.endswith(f"/{notebook}") for h in binder_links), \
        f"{page}: no Binder button for {notebook} ({binder}...): {binder_links}"

    download = site + f"_sources/{page}.ipynb"
    assert download in links, f"{page}: no download button for the .ipynb ({download})"
    with urlopen(download, timeout=30) as response:
        nb = json.loads(response.read())
    assert nb.get("nbformat") == 4 and nb.get("cells"), f"{page}: the downloaded .ipynb is not a notebook"


NOTES_JS = """() => [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')].map(script => {
  const output = script.closest('.cell_output') || script.parentElement;
  const note = output.querySelector('.widget-frozen-note');
  return note && {text: note.textContent, links: [...note.querySelectorAll('a')].map(a => a.href),
                  pressed: note.classList.contains('widget-frozen-note--pressed'),
                  shown: note.checkVisibility() && note.getBoundingClientRect().height > 0};
})"""
CONTROLS = ":is(button, input, select, textarea):enabled:visible, .noUi-handle:visible"


def check_widgets_say_where_they_run(page, visit, screenshots):
    """Under every widget a note says that no Python runs on the website, with links to
    the chapter on Colab and Binder; pressing a control of that widget makes the note
    say that the control needs a running Python (book/_static/widgets.js)."""
    expected = notebook_widget_views(page)
    if not expected:
        return
    colab, binder, notebook = launch_targets(page)
    notes = visit.page.evaluate(NOTES_JS)
    assert len(notes) == expected and all(notes), f"{page}: a widget has no note under it: {notes}"
    for i, note in enumerate(notes):
        assert note["shown"] and "no Python runs" in note["text"] and not note["pressed"], \
            f"{page}: widget {i}'s note is hidden, pressed or says something else: {note}"
        assert colab in note["links"] and any(h.startswith(binder) and h.endswith(notebook)
                                              for h in note["links"]), \
            f"{page}: widget {i}'s note does not link this chapter on Colab and Binder: {note['links']}"

    outputs = visit.page.locator('.cell_output:has(script[type="application/vnd.jupyter.widget-view+json"])')
    assert outputs.count() == expected
    for i in range(expected):
        control = outputs.nth(i).locator(".widget-subarea").locator(CONTROLS).first
        assert control.count(), f"{page}: widget {i} shows no control to press"
        control.scroll_into_view_if_needed()
        control.click()
        note = visit.page.evaluate(NOTES_JS)[i]
        assert note["pressed"] and note["text"].startswith("That control needs a running Python"), \
            f"{page}: pressing a control of widget {i} did not say where it runs: {note}"
    shot(visit.page, screenshots / "pressed", page)


SOLUTIONS_JS = """() => [...document.querySelectorAll('article details')].map(d => {
  const body = [...d.children].filter(c => c.tagName !== 'SUMMARY');
  // checkVisibility: a closed <details> hides its content with content-visibility.
  const shown = () => body.some(c => c.checkVisibility() && c.getBoundingClientRect().height > 0);
  return {summary: d.querySelector('summary')?.textContent.trim(), open: d.open,
          shown: shown(), hasBody: body.length > 0};
})"""


def check_solutions_are_hidden_until_clicked(page, visit):
    """Each exercise's solution sits in a closed <details>; a click opens that one only."""
    before = visit.page.evaluate(SOLUTIONS_JS)
    assert before, f"{page}: no solutions (<details>) on the page"
    for i, d in enumerate(before):
        assert d["summary"] and d["hasBody"], f"{page}: solution {i} lacks a summary or a body: {d}"
        assert not d["open"] and not d["shown"], f"{page}: solution {i} ({d['summary']}) is not hidden"
    summaries = visit.page.locator("article details > summary")
    summaries.first.scroll_into_view_if_needed()
    summaries.first.click()
    after = visit.page.evaluate(SOLUTIONS_JS)
    assert after[0]["open"] and after[0]["shown"], f"{page}: clicking '{after[0]['summary']}' does not show it"
    assert not any(d["open"] for d in after[1:]), f"{page}: one click opened more than one solution"


# --- phone pass --------------------------------------------------------------------------

PHONE_CHECKS_JS = """() => {
  const width = document.documentElement.clientWidth;
  const scroller = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return a;
    }
    return null;
  };
  const describe = el => `${el.tagName.toLowerCase()}.${[...el.classList].slice(0, 2).join('.')}`
                         + ` "${(el.textContent || '').trim().slice(0, 50)}"`;
  const offscreen = [];
  for (const el of document.querySelectorAll('article *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    const box = scroller(el);
    if (box && box.getBoundingClientRect().right <= width + 1) continue;   // scrolls in its own box
    if (offscreen.some(o => o.contains(el))) continue;                      // report the outermost
    offscreen.push(el);
  }
  const images = [...document.querySelectorAll('article img')].filter(img => {
    const r = img.getBoundingClientRect(), p = img.parentElement.getBoundingClientRect();
    return r.width > p.width + 1 || r.right > width + 1;
  });
  return {scrollWidth: document.documentElement.scrollWidth, width,
          offscreen: offscreen.map(describe), wideImages: images.map(i => i.currentSrc.slice(0, 80))};
}"""


@pytest.mark.parametrize("page", PAGES)
def test_page_on_a_phone(page, open_page, screenshots):
    visit = open_page(html_name(page), viewport=PHONE)
    visit.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    facts = visit.page.evaluate(PHONE_CHECKS_JS)
    shot(visit.page, screenshots / "phone", page)
    assert facts["scrollWidth"] <= facts["width"] + 2, \
        f"{page}: on a {PHONE['width']}px screen the page is {facts['scrollWidth']}px wide"
    assert not facts["offscreen"], \
        f"{page}: on a {PHONE['width']}px screen these run off the side: {facts['offscreen'][:5]}"
    assert not facts["wideImages"], f"{page}: images wider than their box: {facts['wideImages']}"
    check_architecture_figure(page, visit, f"{PHONE['width']}px phone")


# --- dark pass ---------------------------------------------------------------------------

# For each image in the text: is it opaque (every pixel's alpha is 255, read back
# through a canvas), and what background does the page give it?
DARK_CHECKS_JS = """() => {
  const luminance = css => {
    const m = css.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    if (a === 0) return null;
    const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const images = [...document.querySelectorAll('article img')].filter(i => i.naturalWidth > 0).map(img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    let minAlpha = 255;
    try {
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] < minAlpha) minAlpha = data[i];
    } catch (e) { minAlpha = -1; }
    return {src: (img.currentSrc || '').slice(-60), minAlpha,
            background: luminance(getComputedStyle(img).backgroundColor)};
  });
  const widgets = [...document.querySelectorAll('.widget-subarea')].map(v => {
    const s = getComputedStyle(v);
    return {background: luminance(s.backgroundColor), text: luminance(s.color)};
  });
  return {theme: document.documentElement.dataset.theme,
          page: luminance(getComputedStyle(document.body).backgroundColor), images, widgets};
}"""


def contrast(a: float, b: float) -> float:
    """WCAG contrast ratio of two relative luminances."""
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_page_in_dark_mode(page, open_page, screenshots):
    visit = open_page(html_name(page), dark=True)
    facts = visit.page.evaluate(DARK_CHECKS_JS)
    shot(visit.page, screenshots / "dark", page)
    assert facts["theme"] == "dark", f"{page}: the theme did not switch to dark mode"
    assert facts["page"] is not None and facts["page"] < 0.1, f"{page}: the page is not dark"
    for image in facts["images"]:
        legible = image["minAlpha"] == 255 or (image["background"] or 0) > 0.8
        assert legible, (f"{page}: image {image['src']} is transparent (min alpha "
                         f"{image['minAlpha']}) on a dark page: give it a light background")
    for i, widget in enumerate(facts["widgets"]):
        assert widget["background"] is not None and contrast(widget["background"], widget["text"]) >= 4.5, \
            f"{page}: widget view {i} is hard to read in dark mode: {widget}"
    check_architecture_figure(page, visit, "dark mode")


# --- search ------------------------------------------------------------------------------

def test_search_finds_perplexity(open_page, screenshots):
    visit = open_page("search.html?q=perplexity")
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=30_000)
    shot(visit.page, screenshots / "desktop", "search")
    titles = results.all_inner_texts()
    assert titles, "searching for 'perplexity' finds nothing"
    assert any("Language models" in t for t in titles), \
        f"searching for 'perplexity' does not find the chapter that defines it: {titles[:5]}"
    errors = [e for e in visit.errors if e not in KNOWN_PAGE_ERRORS]
    assert not errors and not visit.external and not visit.failed, (errors, visit.external, visit.failed)

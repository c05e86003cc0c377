"""The built book in a real browser: headless Chromium, offline, every page.

``scripts/test.sh`` builds the book before pytest runs, so ``_build/html`` is there. A local HTTP
server serves the repository root (the book at ``/_build/html/``, the explorer fixture at
``/tests/browser/``); Playwright drives Debian's Chromium (``/usr/bin/chromium``, or the path in
``MOE_CHROMIUM``; Playwright's own browser downloads are never used). Every request that does
not go to that server is aborted and recorded: a page passes only if it asked for nothing
outside the site. Checks, for every page:

- no request outside the site, no failed or 4xx/5xx request, no console error, no page error;
- the mathematics is typeset: MathJax ran, there is a MathJax container for every math element
  of the page, no TeX error box, and no raw TeX (``\\(``, ``$$``, ``\\begin{``, ...) in the
  visible text outside code;
- every image has loaded (``naturalWidth > 0``);
- at phone width (412 px) the page does not scroll sideways and no equation number overlaps its
  equation; at both widths no formula is cut off (a wide one scrolls in its own box);
- screenshots at 1280 px and 412 px go to ``_build/screenshots/`` (CI keeps them).

The explorer fixture (tests/browser/explorer_fixture.html) must redraw when a slider moves and
when a toggle changes. Without Chromium, Playwright or the built site the tests are skipped with
the reason, except under CI (``CI`` set), where that is a failure.
"""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
FIXTURE = "tests/browser/explorer_fixture.html"
CHROMIUM = os.environ.get("MOE_CHROMIUM", "/usr/bin/chromium")
# The flags that work on this project's machines (no sandbox as root, no background traffic).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 412, "height": 915}
TIMEOUT_MS = 90_000

pytestmark = pytest.mark.browser

# Raw TeX that MathJax should have replaced; searched in visible text outside code.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{|\\(frac|mathbb|mathrm|sum)\b")

PAGE_STATE_JS = """() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(skip) || !p.checkVisibility()) continue;
    if (n.textContent.trim()) texts.push(n.textContent);
  }
  return {
    texts: texts,
    mathElements: document.querySelectorAll('.math').length,
    mjx: document.querySelectorAll('mjx-container').length,
    texErrors: document.querySelectorAll('mjx-merror').length,
    mathjax: !!(window.MathJax && window.MathJax.version),
    images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src,
      ok: i.complete && i.naturalWidth > 0})),
  };
}"""

LAYOUT_JS = """() => {
  const overlaps = [];
  document.querySelectorAll('div.math').forEach(m => {
    const num = m.querySelector(':scope > span.eqno');
    const eq = m.querySelector(':scope > mjx-container');
    if (!num || !eq) return;
    const a = num.getBoundingClientRect(), b = eq.getBoundingClientRect();
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
      overlaps.push(m.id || num.textContent);
    }
  });
  // A formula wider than its box must scroll, not be cut off (the theme's overflow: hidden).
  const clipped = [];
  document.querySelectorAll('mjx-container').forEach(c => {
    const math = c.querySelector('mjx-math');
    if (!math) return;
    const width = math.getBoundingClientRect().width;
    for (let e = c; e; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o === 'auto' || o === 'scroll') break;  // the reader can scroll to the rest
      if ((o === 'hidden' || o === 'clip') && width > e.clientWidth + 2) {
        clipped.push(c.closest('.math')?.textContent.slice(0, 60) || '?');
        break;
      }
      if (e.classList.contains('math')) break;
    }
  });
  return {pageWidth: document.documentElement.scrollWidth, viewWidth: window.innerWidth,
          overlaps: overlaps, clipped: clipped};
}"""


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (it is in requirements.txt: bash scripts/setup-env.sh)"
    if not (SITE / "index.html").is_file():
        return f"the book is not built ({SITE}): run bash scripts/build-book.sh"
    return None


def _book_pages() -> list[str]:
    if not SITE.is_dir():
        return []
    skip = ("_static", "_sources", "_images")
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in SITE.rglob("*.html")
        if p.relative_to(SITE).parts[0] not in skip
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """A Chromium context with a fresh profile, cut off from everything but a local server."""
    reason = _unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(ROOT))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    outside: list[str] = []

    def cut_off(route):
        if route.request.url.startswith(origin + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            chromium_sandbox=False, viewport=DESKTOP, service_workers="block",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", cut_off)
        try:
            yield context, origin, outside
        finally:
            context.close()
            server.shutdown()
            server.server_close()


def _open(context, url: str, redirect: str | None = None):
    """Open url in a new page (following a redirect to ``redirect``), wait for MathJax.

    Returns the page and the list of problems (console errors, failed requests) seen on it.
    """
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="load")
    if redirect:
        page.wait_for_url(redirect, wait_until="load")
    # MathJax typesets after loading; wait for its first pass (pages without math have none).
    page.evaluate(
        "() => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " ? MathJax.startup.promise.then(() => true) : true"
    )
    return page, problems


def _shot_name(path: str) -> str:
    rel = path.removeprefix("_build/html/")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", rel.removesuffix(".html"))


@pytest.mark.parametrize("path", _book_pages() or ["(the book is not built)"])
def test_book_page_offline(browser_context, path):
    context, origin, outside = browser_context
    outside.clear()
    # The site's index.html only redirects (<meta http-equiv="Refresh" content="0; url=...">):
    # the checks run on the page the reader lands on.
    refresh = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"',
                        (ROOT / path).read_text(encoding="utf-8"))
    redirect = None
    if refresh:
        redirect = f"{origin}/{Path(path).parent.as_posix()}/{refresh.group(1)}"
    page, problems = _open(context, f"{origin}/{path}", redirect)
    try:
        state = page.evaluate(PAGE_STATE_JS)
        desktop = page.evaluate(LAYOUT_JS)
        name = _shot_name(path)
        page.screenshot(path=str(SHOTS / f"{name}-desktop.png"))
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(300)  # let the layout settle
        layout = page.evaluate(LAYOUT_JS)
        page.screenshot(path=str(SHOTS / f"{name}-phone.png"))
    finally:
        page.close()

    assert outside == [], f"{path} tried to reach outside the site: {outside}"
    assert problems == [], f"{path}: " + "; ".join(problems)
    raw = [t.strip()[:80] for t in state["texts"] if RAW_TEX.search(t)]
    assert raw == [], f"{path} shows raw TeX: {raw[:5]}"
    if state["mathElements"]:
        assert state["mathjax"], f"{path} has math but MathJax did not load"
        assert state["mjx"] >= state["mathElements"], (
            f"{path}: {state['mathElements']} math elements, {state['mjx']} typeset"
        )
    assert state["texErrors"] == 0, f"{path}: {state['texErrors']} TeX errors shown"
    broken = [i["src"] for i in state["images"] if not i["ok"]]
    assert broken == [], f"{path}: images that did not load: {broken}"
    assert layout["pageWidth"] <= layout["viewWidth"], (
        f"{path} is {layout['pageWidth']} px wide at phone width {layout['viewWidth']} px"
    )
    overlaps = layout["overlaps"]
    assert overlaps == [], f"{path}: equation numbers over their equations: {overlaps}"
    for width, seen in (("1280", desktop), ("412", layout)):
        assert seen["clipped"] == [], f"{path} at {width} px cuts off formulas: {seen['clipped']}"


def test_book_pages_reference_nothing_outside_the_site():
    """No script, stylesheet, font or icon of a built page comes from another host."""
    if not (SITE / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the book must be built before the tests in CI ({SITE})")
        pytest.skip(f"the book is not built ({SITE})")
    tag = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)=\"(https?:)?//[^\"]+\"")
    found = {
        path: tag.findall((ROOT / path).read_text(encoding="utf-8"))
        for path in _book_pages()
    }
    # <link rel="canonical"> and the like would be harmless, but the book writes none.
    assert {p: n for p, n in found.items() if n} == {}


def _explorer(page, element_id: str):
    """The explorer with this id once the runtime has drawn it: the figure and its plot."""
    page.wait_for_selector(f"#{element_id}[data-moe-explorer-ready='true'] svg")
    fig = page.locator(f"#{element_id}")
    return fig, fig.locator("svg.moe-explorer-plot")


def _step_slider(page, fig, label: str, key: str) -> None:
    """Move the slider named ``label`` one step with the keyboard, as a reader would."""
    fig.get_by_label(label).focus()
    page.keyboard.press(key)


def test_explorer_fixture_redraws_on_slider_and_toggle(browser_context):
    context, origin, outside = browser_context
    outside.clear()
    page, problems = _open(context, f"{origin}/{FIXTURE}")
    try:
        fig, svg = _explorer(page, "fixture-explorer")
        assert fig.locator(".moe-explorer-fallback").count() == 0
        assert fig.locator(".moe-explorer-legend text").all_text_contents()[:3] == [
            "EM", "gradient EM", "GD"]
        assert fig.locator("path.moe-explorer-line").count() == 3
        assert fig.locator("path.moe-explorer-band").count() == 3
        # Defaults: SymMoLinE (0), SNR 2.0 (index 2), d = 2 (0), step 0.5 (0).
        assert svg.get_attribute("data-key") == "0|2|0|0"
        before = svg.inner_html()
        page.screenshot(path=str(SHOTS / "explorer-fixture-desktop.png"), full_page=True)

        _step_slider(page, fig, "SNR", "ArrowRight")
        assert svg.get_attribute("data-key") == "0|3|0|0"
        assert fig.locator("output").first.text_content() == "4"
        after_slider = svg.inner_html()
        assert after_slider != before

        fig.get_by_label("SymMoLogE").check()  # and switches the model
        assert svg.get_attribute("data-key") == "1|3|0|0"
        assert svg.inner_html() not in (before, after_slider)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "explorer-fixture-phone.png"), full_page=True)
        width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    finally:
        page.close()
    assert outside == [] and problems == [], f"{outside} {problems}"
    assert width[0] <= width[1], f"the fixture is {width[0]} px wide at {width[1]} px"


def test_chapter_6_explorer_redraws_on_the_built_page(browser_context):
    """The explorer chapter 6 computes and embeds works on the published page, offline."""
    context, origin, outside = browser_context
    outside.clear()
    page, problems = _open(context, f"{origin}/_build/html/book/06_synthetic_experiments.html")
    try:
        fig, svg = _explorer(page, "ch6-explorer")
        assert fig.locator("path.moe-explorer-line").count() == 3
        # Defaults: SymMoLinE, ||beta*|| = 2 (index 2), d = 10 (1), tuned steps (1).
        assert svg.get_attribute("data-key") == "0|2|1|1"
        before = svg.inner_html()
        _step_slider(page, fig, "||beta*||", "ArrowLeft")
        assert svg.get_attribute("data-key") == "0|1|1|1"
        after_slider = svg.inner_html()
        assert after_slider != before
        fig.get_by_label("SymMoLogE").check()
        assert svg.get_attribute("data-key") == "1|1|1|1"
        assert svg.inner_html() not in (before, after_slider)
        fig.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "ch6-explorer-desktop.png"))
    finally:
        page.close()
    assert outside == [] and problems == [], f"{outside} {problems}"


def test_consecutive_prints_of_a_cell_show_as_one_block():
    """nb_merge_streams: a cell's stdout is one output block, however many writes made it.

    The stored notebooks hold many cells whose stdout is split over several outputs (chapter 4
    alone has dozens); unmerged, each became a box of its own.
    """
    if not (SITE / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the book must be built before the tests in CI ({SITE})")
        pytest.skip(f"the book is not built ({SITE})")
    cell_output = re.compile(
        r'<div class="cell_output docutils container">(.*?)</div>\n</div>\n</div>', re.S
    )
    split = {}
    for path in _book_pages():
        outputs = cell_output.findall((ROOT / path).read_text(encoding="utf-8"))
        n = sum(1 for out in outputs if out.count('<div class="output stream') > 1)
        if n:
            split[path] = n
    assert split == {}, f"cells whose stdout shows as several blocks: {split}"


def test_binder_and_repository_links_follow_repository_url():
    """The launch and repository buttons read repository.url/branch of _config.yml, nothing else."""
    if not (SITE / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the book must be built before the tests in CI ({SITE})")
        pytest.skip(f"the book is not built ({SITE})")
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url, branch = config["repository"]["url"], config["repository"]["branch"]
    owner_repo = url.removeprefix("https://github.com/")
    binder = config["launch_buttons"]["binderhub_url"]
    chapters = sorted((SITE / "book").glob("0*.html"))
    assert len(chapters) == 8
    for page in chapters:
        html = page.read_text(encoding="utf-8")
        launch = set(re.findall(r'href="(https://mybinder\.org/[^"]*)"', html))
        notebook = f"book/{page.stem}.ipynb"
        assert launch == {f"{binder}/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{notebook}"}
        assert f'href="{url}"' in html, f"{page.name} has no repository button for {url}"

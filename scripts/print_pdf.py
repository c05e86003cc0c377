"""Print the single-page HTML book (_build/singlehtml) to _build/pdf/book.pdf with Chromium.

Called by scripts/build-pdf.sh after `jupyter-book build --builder singlehtml`. Sphinx writes
the whole book to book/intro.html (the root document's name) but links its assets as if the page
were at the top of the site (_static/..., _images/...), so the page is copied there first, as
book.html. It is served from a local HTTP server and opened in headless Chromium (Debian's
/usr/bin/chromium, or the path in MOE_CHROMIUM) through Playwright, with every request outside
that server refused, as in the browser test. Before printing, the script waits until MathJax
has typeset every formula, opens every collapsed block (solutions, hidden code), so the PDF holds
the whole book, and sets formulas wider than the text column in a smaller size.
"""

import functools
import http.server
import os
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "singlehtml"
OUT = ROOT / "_build" / "pdf" / "book.pdf"
CHROMIUM = os.environ.get("MOE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Open what the reader would have to click open: sphinx-design/HTML <details> dropdowns and
# sphinx-togglebutton's hidden blocks (exercise solutions, hidden cells).
EXPAND_JS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('button.toggle-button').forEach(b =>
    b.classList.remove('toggle-button-hidden'));
  return document.querySelectorAll('mjx-container').length;
}"""

# On paper a formula cannot scroll: one wider than the text column (a display formula, or an
# inline formula wider than a whole line) is set in a smaller size that fits (MathJax's output
# scales with the font size). Run with the print layout in place.
FIT_JS = """() => {
  let shrunk = 0;
  document.querySelectorAll('mjx-container').forEach(c => {
    const display = c.getAttribute('display') === 'true';
    const block = display ? c.parentElement : c.closest('p, li, dd, dt, td, th, div');
    if (!block) return;
    // Parts of a formula (a big integral sign, say) can stick out of MathJax's own boxes.
    const left = c.getBoundingClientRect().left;
    let wide = c.scrollWidth;
    c.querySelectorAll('*').forEach(e => {
      wide = Math.max(wide, e.getBoundingClientRect().right - left);
    });
    const box = block.clientWidth;
    if (box > 0 && wide > box) {
      c.style.fontSize = (Math.floor(970 * box / wide) / 10) + '%';
      shrunk += 1;
    }
  });
  return shrunk;
}"""

MARGIN_MM = 14
PRINT_WIDTH_PX = round((210 - 2 * MARGIN_MM) / 25.4 * 96)

FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def main() -> int:
    """Print the book; return the exit status (1 when Chromium or the page is missing).

    Returns
    -------
    int
        0 on success.
    """
    page_path = SITE / "book" / "intro.html"
    if not page_path.is_file():
        print(f"print_pdf: {page_path} is missing (build the single-page HTML first)",
              file=sys.stderr)
        return 1
    (SITE / "book.html").write_bytes(page_path.read_bytes())
    if not os.access(CHROMIUM, os.X_OK):
        print(f"print_pdf: Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)",
              file=sys.stderr)
        return 1
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    refused: list[str] = []

    def cut_off(route):
        if route.request.url.startswith(origin + "/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True, chromium_sandbox=False)
            # The viewport is the printable width of the paper (A4 less the margins), so the
            # formulas are measured in the layout that is printed.
            page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1400})
            page.set_default_timeout(300_000)
            page.route("**/*", cut_off)
            page.goto(f"{origin}/book.html", wait_until="load")
            page.evaluate("() => MathJax.startup.promise")
            formulas = page.evaluate(EXPAND_JS)
            page.emulate_media(media="print")
            shrunk = page.evaluate(FIT_JS)
            page.pdf(path=str(OUT), format="A4", print_background=True,
                     margin={"top": "16mm", "bottom": "16mm", "left": f"{MARGIN_MM}mm",
                             "right": f"{MARGIN_MM}mm"},
                     display_header_footer=True, header_template="<span></span>",
                     footer_template=FOOTER)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if refused:
        print(f"print_pdf: the page asked for outside resources: {refused}", file=sys.stderr)
        return 1
    print(f"print_pdf: {OUT} ({OUT.stat().st_size // 1024} KiB, {formulas} formulas typeset, "
          f"{shrunk} formulas wider than the column set smaller)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One figure style for the book, and a check that a figure is legible at the page's width.

The book's pages show a figure at most :data:`PAGE_WIDTH_PX` CSS pixels wide. A figure drawn
``w`` inches wide at ``dpi`` dots per inch is scaled by ``PAGE_WIDTH_PX / (w dpi)`` when it is
wider than that, so a font of ``s`` points appears ``s dpi / 72`` times that scale pixels tall.
:func:`use_book_style` sets sizes that stay legible for a figure one column wide;
:func:`check_legible` measures every text of a figure (tick labels, axis labels, titles,
legends, annotations) and raises when one would appear smaller than :data:`MIN_TEXT_PX`, the
book's small print; the chapters call it on every figure they glue, so the tests hold them to it.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.text import Text

#: The widest a figure is shown, in CSS pixels: a chapter's output area in sphinx-book-theme at a
#: desktop width (measured in the built book at 1280 px).
PAGE_WIDTH_PX = 672
#: The smallest text a figure may show at the page's width, in CSS pixels: the book's small print
#: (captions, 0.9 of the 16 px body text; measured in the built book).
MIN_TEXT_PX = 14.4
#: Resolution of the figures stored in the chapters (sharp on high-resolution screens).
DPI = 150

STYLE = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": (6.4, 4.0),
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 10.0,
    "ytick.labelsize": 10.0,
    "legend.fontsize": 10.0,
    "figure.titlesize": 11.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def use_book_style() -> None:
    """Set matplotlib's defaults to the book's style (sizes, resolution, grid).

    Examples
    --------
    >>> import matplotlib as mpl
    >>> use_book_style()
    >>> mpl.rcParams["figure.dpi"], mpl.rcParams["xtick.labelsize"]
    (150.0, 10.0)
    """
    mpl.rcParams.update(STYLE)


def _texts(fig: Figure) -> list[Text]:
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return texts


def smallest_text_px(fig: Figure, page_width_px: float = PAGE_WIDTH_PX) -> tuple[float, str]:
    """The smallest visible text of ``fig`` as shown on a page ``page_width_px`` wide.

    Returns
    -------
    size : float
        Its height in CSS pixels (the font size in points times ``dpi / 72``, times the scale
        at which the figure is shown: 1 if it fits the page, else the page's width over its own).
    text : str
        The text itself, to say which one it is.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(5.0, 3.0), dpi=150)
    >>> _ = ax.set_xlabel("iteration", fontsize=10)
    >>> size, text = smallest_text_px(fig)
    >>> bool(round(size, 1) <= 20.9), text != ""
    (True, True)
    >>> plt.close(fig)
    """
    fig.canvas.draw()  # tick labels exist once the figure is drawn
    width_px = fig.get_figwidth() * fig.dpi
    scale = min(1.0, page_width_px / width_px)
    sizes = [(t.get_fontsize() * fig.dpi / 72.0 * scale, t.get_text()) for t in _texts(fig)]
    if not sizes:
        return float("inf"), ""
    return min(sizes)


def check_legible(fig: Figure, min_px: float = MIN_TEXT_PX) -> Figure:
    """Return ``fig`` if all its text is at least ``min_px`` tall at the page's width, else raise.

    Raises
    ------
    ValueError
        Naming the smallest text, its size, and what to do (a narrower figure, larger fonts,
        fewer panels per row).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(14.0, 3.0), dpi=100)  # three panels' width
    >>> _ = ax.set_title("tiny", fontsize=8)
    >>> check_legible(fig)
    Traceback (most recent call last):
    ...
    ValueError: figure text 'tiny' would be 5.3 px tall at the page's width (672 px), below ...
    >>> plt.close(fig)
    """
    size, text = smallest_text_px(fig)
    if size < min_px:
        raise ValueError(
            f"figure text {text!r} would be {size:.1f} px tall at the page's width "
            f"({PAGE_WIDTH_PX} px), below the book's small print ({min_px:g} px): make the "
            "figure narrower, its fonts larger, or put fewer panels in a row"
        )
    return fig

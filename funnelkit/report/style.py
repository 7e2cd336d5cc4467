"""Chart style: the seaborn theme and a real CJK font, on Linux, Windows and macOS alike.

A system CJK font is used when one is installed (Noto Sans CJK, Source Han Sans,
Microsoft YaHei, PingFang, SimHei, WenQuanYi); otherwise the Noto Sans CJK SC font that
ships inside the ``mplfonts`` package, so a fresh machine needs no system fonts.

The style also masks personal data in every text a chart draws (:func:`mask_chart_text`):
categories become tick labels, segments legend entries, branch names titles and
annotations, whichever plot module drew them.
"""

from __future__ import annotations

from functools import cache, wraps
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.text import Text

from funnelkit.privacy import mask_text

SYSTEM_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
PALETTE = "deep"
#: Dots per inch of the charts' PNGs. A report shows a chart at its natural size up to the
#: content width (about 1,170 px on a 1280 px screen): at 150 dpi an 8-inch chart fills it,
#: and 7-point text reads at 10 px or more on charts up to about 11 inches wide.
CHART_DPI = 150
#: PNG text key holding the smallest font size (points) drawn in the chart, for measuring.
MIN_FONT_KEY = "funnelkit:min-font-pt"


@cache
def cjk_font_family() -> str:
    """Name of a font family with CJK glyphs, registering the bundled one if needed."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in SYSTEM_CJK_FAMILIES:
        if family in installed:
            return family
    import mplfonts  # ships Noto Sans CJK SC

    bundled = Path(mplfonts.__file__).resolve().parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(bundled))
    return font_manager.FontProperties(fname=str(bundled)).get_name()


def mask_chart_text() -> None:
    """Mask phone and ID numbers in every text matplotlib draws, in this process, from now on.

    ``Text.set_text`` is the one door every chart text goes through: a new ``Text`` (titles,
    legend entries, annotations, ``ax.text``) sets its string with it, and axes set their
    tick labels with it when they are drawn (categorical ticks get their labels only then).
    Wrapping it once covers seaborn, pandas and hand-made plots alike. Installing it twice
    wraps once.
    """
    original = Text.set_text
    if getattr(original, "_funnelkit_masks", False):
        return

    @wraps(original)
    def set_text(self, s):
        # matplotlib turns None into "" and anything else into str(s); so do we, before masking
        return original(self, None if s is None else mask_text(str(s)))

    set_text._funnelkit_masks = True
    Text.set_text = set_text


def smallest_font(figure) -> float | None:
    """The smallest font size (points) of any visible, non-empty text in ``figure``."""
    sizes = [
        text.get_fontsize()
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip() and text.get_alpha() != 0
    ]
    return min(sizes) if sizes else None


def record_smallest_font() -> None:
    """Write the smallest font size of a chart into every PNG matplotlib saves (a PNG text
    chunk, :data:`MIN_FONT_KEY`), so tests can tell how large its text is on the page:
    points × dpi / 72 × shown width / PNG width. ``print_png`` is the one door every PNG
    goes through (the notebook's inline display and ``savefig`` alike); installing twice
    wraps once."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    original = FigureCanvasAgg.print_png
    if getattr(original, "_funnelkit_records", False):
        return

    @wraps(original)
    def print_png(self, filename_or_obj, *, metadata=None, **kwargs):
        smallest = smallest_font(self.figure)
        if smallest is not None:
            metadata = {**(metadata or {}), MIN_FONT_KEY: f"{smallest:g}"}
        return original(self, filename_or_obj, metadata=metadata, **kwargs)

    print_png._funnelkit_records = True
    FigureCanvasAgg.print_png = print_png


def use_report_style() -> None:
    """Apply the seaborn theme, then the CJK font (``set_theme`` resets fonts, so it comes
    first), at :data:`CHART_DPI`; mask personal data in chart text (:func:`mask_chart_text`)
    and record each PNG's smallest font (:func:`record_smallest_font`)."""
    import seaborn as sns

    mask_chart_text()
    record_smallest_font()

    family = cjk_font_family()
    sns.set_theme(
        style="whitegrid",
        palette=PALETTE,
        font=family,
        font_scale=1.1,
        rc={
            "axes.unicode_minus": False,
            "figure.dpi": CHART_DPI,
            "savefig.dpi": CHART_DPI,
            "figure.figsize": (8, 4.2),
            "font.sans-serif": [family, "DejaVu Sans"],
        },
    )
    matplotlib.rcParams["font.family"] = "sans-serif"

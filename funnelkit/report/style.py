"""Chart style: the seaborn theme and a real CJK font, on Linux, Windows and macOS alike.

A system CJK font is used when one is installed (Noto Sans CJK, Source Han Sans,
Microsoft YaHei, PingFang, SimHei, WenQuanYi); otherwise the Noto Sans CJK SC font that
ships inside the ``mplfonts`` package, so a fresh machine needs no system fonts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager

SYSTEM_CJK_FAMILIES = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
    "Hiragino Sans GB", "SimHei", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
)
PALETTE = "deep"


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


def use_report_style() -> None:
    """Apply the seaborn theme, then the CJK font (``set_theme`` resets fonts, so it comes first)."""
    import seaborn as sns

    family = cjk_font_family()
    sns.set_theme(style="whitegrid", palette=PALETTE, font=family, font_scale=1.1,
                  rc={"axes.unicode_minus": False, "figure.dpi": 96, "savefig.dpi": 96,
                      "figure.figsize": (8, 4.2), "font.sans-serif": [family, "DejaVu Sans"]})
    matplotlib.rcParams["font.family"] = "sans-serif"

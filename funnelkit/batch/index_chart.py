"""The company funnel plot of the index page: every branch's conversion on one transition
against its volume, with the pooled rate and 95% / 99.8% control limits.

Takes the table of :func:`funnelkit.batch.index.company_funnel_data`; texts come from the
message catalogue (``index.*``).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from funnelkit.i18n import t
from funnelkit.stats import Z95, Z998, control_limits

POSITION_COLOURS = {"above": "#2f855a", "high": "#68a37f", "within": "#4c72b0", "low": "#dd8452", "below": "#c44e52"}


def plot_company_funnel(data: pd.DataFrame, *, transition: str, lang: str = "zh", ax=None):
    """Draw the funnel plot of ``data`` on ``ax`` (a new figure when None) and return it.

    Parameters
    ----------
    data : DataFrame
        ``branch``, ``n`` (trials), ``rate``, ``p0`` (pooled rate, the same on every row)
        and ``position`` (where the branch falls against the limits).
    transition : str
        Display label of the transition, for the title.
    """
    if ax is None:
        ax = Figure(figsize=(7, 4)).subplots()
    if data.empty:
        return ax
    p0 = float(data["p0"].iloc[0])
    volume = np.linspace(max(1.0, data["n"].min() * 0.5), data["n"].max() * 1.25, 200)
    for z, style, key in ((Z95, "--", "index.limit95"), (Z998, ":", "index.limit998")):
        low, high = control_limits(p0, volume, z=z)
        ax.plot(volume, low, style, color="grey", lw=1, label=t(key, lang))
        ax.plot(volume, high, style, color="grey", lw=1)
    ax.axhline(p0, color="black", lw=0.8, label=f"{t('index.pooled', lang)} {p0:.1%}")
    for position, colour in POSITION_COLOURS.items():  # one legend entry per position present
        group = data[data["position"] == position]
        if len(group):
            ax.scatter(group["n"], group["rate"], s=36, zorder=3, color=colour, label=t(f"index.pos_{position}", lang))
    for row in data.itertuples():
        ax.annotate(str(row.branch), (row.n, row.rate), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("index.axis_volume", lang))
    ax.set_ylabel(t("index.axis_rate", lang))
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    ax.set_title(t("index.plot_title", lang, transition=transition), fontsize=10)
    return ax


#: The index chart's resolution: 7-point text at 120 dpi is 11.7 px at the chart's natural
#: width (840 px, within the page at 1280 px), and the PNG stays under 80 KB.
INDEX_DPI = 120


def figure_data_uri(figure: Figure, *, dpi: int = INDEX_DPI) -> str:
    """``data:image/png;base64,...`` of ``figure`` (nothing for the page to fetch)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def company_funnel_uri(data: pd.DataFrame, *, transition: str, lang: str = "zh") -> str:
    """The funnel plot in the report style (CJK font), as a PNG data URI."""
    from funnelkit.report.style import use_report_style

    use_report_style()
    figure = Figure(figsize=(7, 4), layout="tight")
    plot_company_funnel(data, transition=transition, lang=lang, ax=figure.subplots())
    return figure_data_uri(figure)

"""Words for the funnel's codes, in the report language, and the order segments are shown in.

The tables of :class:`funnelkit.funnel.Result` speak in codes (stage ``contacted``, transition
``contacted>intent``, segment ``all``, component ``volume``); views, findings and plots call
these functions to show them.

Examples
--------
>>> from funnelkit.data.schema import DEFAULT_STAGES
>>> transition_label("contacted>intent", DEFAULT_STAGES, "zh")
'接触客户→意向客户'
>>> transition_label("contacted>intent", DEFAULT_STAGES, "en")
'Contacted→Intent'
>>> segment_label("all", "en"), segment_label("商企", "en")
('All', '商企')
"""

from __future__ import annotations

import pandas as pd

from funnelkit.i18n import t

from .counts import ALL


def stage_label(key: str, stages, lang: str) -> str:
    """The stage ``key``'s name in ``lang`` (the key itself when ``stages`` lack it)."""
    return next((s.label(lang) for s in stages if s.key == key), key)


def transition_label(key: str, stages, lang: str) -> str:
    """``"contacted>intent"`` → ``"接触客户→意向客户"`` (``"Contacted→Intent"`` in English)."""
    source, target = key.split(">")
    return f"{stage_label(source, stages, lang)}→{stage_label(target, stages, lang)}"


def segment_label(segment: str, lang: str) -> str:
    """A segment as the data names it; the whole branch (``all``) as 全部 / All."""
    return t("funnel.all_segments", lang) if segment == ALL else segment


def component_label(component: str, stages, lang: str) -> str:
    """A part of the change decomposition: first-stage ``volume`` or a transition."""
    return t("funnel.volume", lang) if component == "volume" else transition_label(component, stages, lang)


def transition_labels(keys: pd.Series, stages, lang: str) -> pd.Series:
    """:func:`transition_label` of every key in ``keys`` (same index)."""
    return keys.map(lambda key: transition_label(key, stages, lang))


def segment_order(rows: pd.DataFrame) -> list[str]:
    """Segments for display: the whole branch first, then the segments alphabetically."""
    return list(rows.loc[rows["is_total"], "segment"].unique()) + sorted(
        rows.loc[~rows["is_total"], "segment"].unique()
    )

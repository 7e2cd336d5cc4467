"""The run's ``index.html``: the page a regional manager opens first.

Computation is kept apart from rendering: :func:`key_figures_table` turns the notebooks'
``summary.json`` files into one branch × figure table, :func:`traffic_lights` marks each
figure against the branch's own yardstick (a target, the company's pooled rate, its last year
— never the other branches of the run), :func:`company_funnel_data` compares the branches on
the most common priority step; :func:`write_index` reads the run folder, formats
and renders the Jinja template (``templates/index.html.j2``), which only displays.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from funnelkit import __version__
from funnelkit.data.schema import DEFAULT_STAGES
from funnelkit.funnel.compare import funnel_plot_data
from funnelkit.i18n import catalogue, check_lang, t
from funnelkit.paths import TEMPLATES_DIR, inside
from funnelkit.privacy import mask_json, mask_text

#: Index column → (notebook, key in that notebook's ``summary.json`` figures).
FIGURES = {
    "overall_conversion": ("funnel", "overall_conversion"),
    "pipeline_velocity": ("funnel", "pipeline_velocity"),
    "pipeline_velocity_change": ("funnel", "pipeline_velocity_change"),
    "top_bottleneck": ("funnel", "top_bottleneck"),
    "top_bottleneck_key": ("funnel", "top_bottleneck_key"),
    "top_bottleneck_lost": ("funnel", "top_bottleneck_lost"),
    "gain_customers": ("funnel", "top_bottleneck_gain_customers"),
    "gain_revenue": ("funnel", "top_bottleneck_gain_revenue"),
    "funnel_period": ("funnel", "current_period"),
    "lost_rate": ("lost", "lost_rate"),
    "lost_rate_target": ("lost", "lost_rate_target"),
    "lost_status": ("lost", "status"),
    "priority_found": ("funnel", "priority_found"),
    "conversion_benchmark": ("funnel", "overall_conversion_benchmark"),
    "conversion_basis": ("funnel", "overall_conversion_basis"),
    "premium_share": ("tiers", "premium_share"),
    "premium_share_target": ("tiers", "premium_share_target"),
    "premium_share_change": ("tiers", "premium_share_change"),
    "ltv_3y": ("ltv", "ltv_3y"),
    "ltv_3y_target": ("ltv", "ltv_3y_target"),
}
NOTEBOOK_ORDER = ("funnel", "tiers", "lost", "ltv")  # the links' order on the page
TEXT_FIGURES = ("top_bottleneck", "top_bottleneck_key", "funnel_period", "lost_status", "conversion_basis")

#: Every light compares a branch with its own yardstick — a target from the params, the
#: company's pooled rate over every branch in the data, or its own last year — never with the
#: branches that happen to be in a run, so adding or leaving out a branch moves no other light.
#: Figure → (benchmark column, basis column or fixed basis). Amber below ``RELATIVE[0]`` ×
#: the benchmark, red below ``RELATIVE[1]`` × it.
BENCHMARKS = {
    "overall_conversion": ("conversion_benchmark", "conversion_basis"),
    "premium_share": ("premium_share_target", "target"),
    "ltv_3y": ("ltv_3y_target", "target"),
}
#: Index column → (notebook, headings of the report section behind it, one per language).
#: A figure links to that section of its branch's report (to the report's top when the
#: heading is not found, e.g. after a notebook was reworded).
FIGURE_SECTIONS = {
    "overall_conversion": ("funnel", ("阶段与转化率", "Stages and rates")),
    "top_bottleneck": ("funnel", ("瓶颈与改善空间", "Bottleneck and its size")),
    "gain_customers": ("funnel", ("瓶颈与改善空间", "Bottleneck and its size")),
    "gain_revenue": ("funnel", ("瓶颈与改善空间", "Bottleneck and its size")),
    "lost_rate": ("lost", ("战败率", "Lost rates")),
    "premium_share": ("tiers", ("客户分级", "Tiering")),
    "premium_share_change": ("tiers", ("客户分级", "Tiering")),
    "ltv_3y": ("ltv", ("LTV预测表与保持率情景", "Projection table and retention scenario")),
}
RELATIVE = (0.90, 0.75)
#: The premium share against its own last year: amber when it fell by more than the first
#: fraction (0.005 = half a point), red by more than the second.
SHARE_FALL = (0.005, 0.015)
STATUS_LIGHTS = {"on_track": "green", "at_risk": "amber", "off_track": "red"}


def key_figures_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per branch, one column per key figure (:data:`FIGURES`), from the summaries.

    Parameters
    ----------
    summaries : list of dict
        One per successful notebook run: ``slug``, ``branch``, ``notebook``, ``lang`` and
        ``figures`` (the ``figures`` of its ``summary.json``).

    Returns
    -------
    DataFrame
        ``slug``, ``branch``, the :data:`FIGURES` columns (NaN where a notebook failed or
        left a figure out) and ``bottleneck_lang`` (language of the bottleneck label),
        sorted by slug.
    """
    rows: dict[str, dict] = {}
    for summary in summaries:
        row = rows.setdefault(summary["slug"], {"slug": summary["slug"], "branch": summary["branch"]})
        for column, (notebook, key) in FIGURES.items():
            if summary["notebook"] == notebook:
                row[column] = summary["figures"].get(key)
        if summary["notebook"] == "funnel":
            row["bottleneck_lang"] = summary.get("lang", "zh")
    table = pd.DataFrame(list(rows.values()), columns=["slug", "branch", *FIGURES, "bottleneck_lang"])
    numbers = {c: pd.to_numeric(table[c], errors="coerce").astype(float) for c in FIGURES if c not in TEXT_FIGURES}
    texts = {c: _text_or_none(table[c]) for c in TEXT_FIGURES}
    return table.assign(**numbers, **texts).sort_values("slug", ignore_index=True)


def _text_or_none(values: pd.Series) -> pd.Series:
    """Text values as ``str``, missing ones as None (object dtype, whatever pandas infers)."""
    values = values.astype(object)
    return values.map(str, na_action="ignore").astype(object).where(values.notna(), None)


def traffic_lights(figures: pd.DataFrame) -> pd.DataFrame:
    """Lights for the key figures, each from the branch's own row only: the lost rate by its
    status against its target, the figures of :data:`BENCHMARKS` against theirs (a target, or
    for the conversion the company's pooled rate), the premium share's change against last
    year (:data:`SHARE_FALL`). A figure without a benchmark gets no light.

    Returns
    -------
    DataFrame
        ``slug``, ``figure``, ``value``, ``reference`` (the benchmark), ``basis``
        (``target``, ``company`` or ``previous``) and ``light`` (``green``, ``amber``,
        ``red``); figures without a light have no row.
    """
    lost = figures.dropna(subset=["lost_status"])
    parts = [
        pd.DataFrame(
            {
                "slug": lost["slug"],
                "figure": "lost_rate",
                "value": lost["lost_rate"],
                "reference": lost["lost_rate_target"],
                "basis": "target",
                "light": lost["lost_status"].map(STATUS_LIGHTS),
            }
        )
    ]
    amber, red = RELATIVE
    for column, (reference, basis) in BENCHMARKS.items():
        rows = figures[figures[column].notna() & (figures[reference] > 0)]
        ratio = (rows[column] / rows[reference]).round(9)  # 0.09 / 0.10 is 0.8999…: exactly 90% is 90%
        parts.append(
            pd.DataFrame(
                {
                    "slug": rows["slug"],
                    "figure": column,
                    "value": rows[column],
                    "reference": rows[reference],
                    "basis": rows.get(basis, basis),
                    "light": np.select([ratio < red, ratio < amber], ["red", "amber"], "green"),
                }
            )
        )
    change = figures.dropna(subset=["premium_share_change"])
    fall = (-change["premium_share_change"]).round(9)
    parts.append(
        pd.DataFrame(
            {
                "slug": change["slug"],
                "figure": "premium_share_change",
                "value": change["premium_share_change"],
                "reference": 0.0,
                "basis": "previous",
                "light": np.select([fall > SHARE_FALL[1], fall > SHARE_FALL[0]], ["red", "amber"], "green"),
            }
        )
    )
    parts = [part for part in parts if len(part)]
    columns = ["slug", "figure", "value", "reference", "basis", "light"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns].dropna(subset=["light"]).reset_index(drop=True)


def bottleneck_transition(figures: pd.DataFrame) -> str | None:
    """The transition most branches name as their top bottleneck; ties go to the one
    losing the most customers in total, then to the first by name."""
    named = figures.dropna(subset=["top_bottleneck_key"])
    if named.empty:
        return None
    ranked = (
        named.groupby("top_bottleneck_key")
        .agg(branches=("slug", "nunique"), lost=("top_bottleneck_lost", "sum"))
        .sort_values(["branches", "lost"], ascending=False, kind="stable")
    )
    return str(ranked.index[0])


def company_funnel_data(transitions: pd.DataFrame, *, transition: str) -> pd.DataFrame:
    """Funnel-plot data of ``transition`` across branches.

    Parameters
    ----------
    transitions : DataFrame
        Whole-branch transitions of each branch in its current period: ``branch``,
        ``transition``, ``from_count`` (trials) and ``to_count`` (successes).
    transition : str
        Transition key, e.g. ``"potential>contacted"``.

    Returns
    -------
    DataFrame
        One row per branch with trials: ``branch``, ``n``, ``converted``, ``rate``, the
        pooled rate ``p0`` (all successes / all trials), the 95% and 99.8% control limits
        at the branch's ``n`` and its ``position`` (``above``/``below`` the 99.8% limits,
        ``high``/``low`` outside the 95% ones, ``within``), sorted by branch.
    """
    rows = transitions[(transitions["transition"] == transition) & (transitions["from_count"] > 0)]
    peers = rows.assign(period="current", rate=rows["to_count"] / rows["from_count"])
    data = funnel_plot_data(peers, branch="", period="current", transition=transition)
    return data.drop(columns="is_self").sort_values("branch", ignore_index=True)


def transition_label(key: str, *, label: str | None, label_lang: str, lang: str) -> str:
    """``label`` when it is already in ``lang``; else the key's stages in ``lang`` when
    they are the default stages; else ``label`` (or the key) as it is."""
    if label and label_lang == lang:
        return label
    stages = {s.key: s.label(lang) for s in DEFAULT_STAGES}
    parts = str(key).split(">")
    if len(parts) == 2 and all(p in stages for p in parts):
        return "→".join(stages[p] for p in parts)
    return label or str(key)


# -- reading the run folder ----------------------------------------------------------------


def load_summaries(run_dir: Path, results) -> list[dict]:
    """The ``summary.json`` of every successful run (runs without one are left out), with the
    branch name and every text figure masked: the page shows them, and a run folder may come
    from an older kit."""
    summaries = []
    for result in results:
        path = inside(run_dir, result.slug, result.notebook, "summary.json")
        if result.ok and path.is_file():
            content = json.loads(path.read_text(encoding="utf-8"))
            summaries.append(
                {
                    "slug": result.slug,
                    "branch": mask_text(result.branch),
                    "notebook": result.notebook,
                    "lang": content.get("lang", "zh"),
                    "figures": mask_json(content.get("figures") or {}),
                    "tables": content.get("tables") or [],
                }
            )
    return summaries


def load_transitions(run_dir: Path, summaries: list[dict]) -> pd.DataFrame:
    """Whole-branch rows of each funnel's ``transitions.csv`` in its current period."""
    parts = []
    for summary in summaries:
        path = inside(run_dir, summary["slug"], "funnel", "transitions.csv")
        if summary["notebook"] != "funnel" or not path.is_file():
            continue
        rows = pd.read_csv(path, encoding="utf-8-sig", dtype={"period": str})
        rows = rows[rows["is_total"].astype(str).str.lower() == "true"]
        period = summary["figures"].get("current_period")
        period = str(period) if period is not None else rows["period"].max()
        parts.append(rows[rows["period"] == period].assign(branch=summary["branch"], lang=summary["lang"]))
    columns = ["branch", "lang", "transition", "from_count", "to_count"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


# -- rendering -----------------------------------------------------------------------------


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]))


def write_index(run_dir: Path, results, *, fingerprint: str = "", lang: str = "zh", runs: dict | None = None) -> Path:
    """Write ``run_dir/index.html`` (atomically) and return its path.

    ``fingerprint`` is the hash of the run's inputs; when empty, the one in the run's
    ``run.json`` is shown if there is one. ``runs`` ((slug, notebook) → run id) says which
    run each report comes from, for a page composed of several runs (``outputs/latest``).
    """
    check_lang(lang)
    run_dir = Path(run_dir)
    summaries = load_summaries(run_dir, results)
    figures = key_figures_table(summaries)
    lights = traffic_lights(figures)
    html = (
        _environment()
        .get_template("index.html.j2")
        .render(
            lang=lang,
            text=lambda key, **values: t(key, lang, **values),
            run_id=run_dir.name,
            generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
            version=__version__,
            fingerprint=fingerprint or _recorded_fingerprint(run_dir),
            columns=_columns(lang),
            rows=_with_section_links(_rows(figures, lights, lang), figures, run_dir),
            rules=_rules(lang),
            plot=_plot(figures, load_transitions(run_dir, summaries), lang),
            branches=_links(run_dir, results, summaries, lang, runs or {}),
            failures=_failures(results, lang, run_dir),
        )
    )
    target = run_dir / "index.html"
    temporary = run_dir / ".index.html.tmp"
    try:
        temporary.write_text(html, encoding="utf-8")
        os.replace(temporary, target)
    except BaseException:  # a full disk leaves a truncated file: never leave it behind
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    return target


def _recorded_fingerprint(run_dir: Path) -> str:
    try:
        return str(json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("fingerprint", ""))
    except (OSError, ValueError):
        return ""


def notebook_label(notebook: str, lang: str) -> str:
    """Display name of a notebook (its name when the catalogue has none)."""
    return t(f"index.nb_{notebook}", lang) if f"index.nb_{notebook}" in catalogue() else notebook


#: The table's columns: (figure column, message key, numeric), in page order.
COLUMNS = (
    ("branch", "index.col_branch", False),
    ("overall_conversion", "index.col_conversion", True),
    ("pipeline_velocity", "index.col_velocity", True),
    ("top_bottleneck", "index.col_bottleneck", False),
    ("gain_customers", "index.col_gain_customers", True),
    ("gain_revenue", "index.col_gain_revenue", True),
    ("lost_rate", "index.col_lost_rate", True),
    ("premium_share", "index.col_premium_share", True),
    ("premium_share_change", "index.col_premium_share_change", True),
    ("ltv_3y", "index.col_ltv_3y", True),
)
FORMATS = {
    "overall_conversion": "{:.1%}",
    "pipeline_velocity": "{:,.0f}",
    "gain_customers": "{:,.0f}",
    "gain_revenue": "{:,.0f}",
    "lost_rate": "{:.1%}",
    "premium_share": "{:.1%}",
    "ltv_3y": "{:,.0f}",
}
#: Figures shown in another unit than they are stored in: a change of share in points.
POINTS = ("premium_share_change",)
GAINS = ("gain_customers", "gain_revenue")


def shown(figure: str, value: float) -> str:
    """A key figure as the page shows it (a share change as signed points: +1.0)."""
    if figure in POINTS:
        return f"{value * 100:+.1f}"
    return FORMATS[figure].format(value)


def _columns(lang: str) -> list[dict]:
    return [{"key": key, "label": t(message, lang), "numeric": numeric} for key, message, numeric in COLUMNS]


def _light(light, lang: str) -> dict:
    name = t(f"index.light_{light.light}", lang)
    value = shown(light.figure, light.value)
    if light.figure == "lost_rate":
        reason = t("index.reason_status", lang, value=value, target=shown(light.figure, light.reference))
    else:
        reason = t(f"index.reason_{light.basis}", lang, value=value, reference=shown(light.figure, light.reference))
    return {"color": light.light, "label": name, "aria": t("index.light_aria", lang, light=name, reason=reason)}


def _note(record: dict, column: str, lang: str) -> str | None:
    """The yardstick written under a figure: its target, or the company's pooled rate; under
    the pipeline velocity, its change on the year before."""
    if column == "lost_rate" and not pd.isna(record["lost_rate_target"]):
        return t("index.basis_target", lang, target=shown(column, record["lost_rate_target"]))
    if column == "pipeline_velocity" and not pd.isna(record["pipeline_velocity_change"]):
        return t("index.velocity_change", lang, change=f"{record['pipeline_velocity_change']:+,.0f}")
    if column in BENCHMARKS:
        reference, basis = BENCHMARKS[column]
        value = record[reference]
        kind = record.get(basis, basis)
        if not pd.isna(value) and value > 0 and kind in ("target", "company"):
            return t(f"index.basis_{kind}", lang, target=shown(column, value))
    return None


def _rows(figures: pd.DataFrame, lights: pd.DataFrame, lang: str) -> list[list[dict]]:
    """Cells of the key-figure table: shown ``text``, sort ``value``, ``light``, ``note``."""
    lit = {(row.slug, row.figure): _light(row, lang) for row in lights.itertuples()}
    rows = []
    for record in figures.to_dict("records"):
        cells = [{"text": record["branch"], "value": record["branch"]}]
        nothing_to_gain = record["priority_found"] == 0  # the funnel ran; no step gains anything
        for column, _, _numeric in COLUMNS[1:]:
            value = record[column]
            if column == "top_bottleneck":
                text = (
                    None
                    if record["top_bottleneck_key"] is None
                    else transition_label(
                        record["top_bottleneck_key"], label=value, label_lang=record["bottleneck_lang"], lang=lang
                    )
                )
                if text is None and nothing_to_gain:
                    text = t("index.no_priority", lang)
                cell = {"text": text or t("index.missing", lang), "value": text or ""}
            elif column in GAINS and nothing_to_gain:
                cell = {"text": shown(column, 0), "value": "0.0"}
            elif pd.isna(value):
                cell = {"text": t("index.missing", lang), "value": ""}
            else:
                cell = {"text": shown(column, value), "value": repr(float(value))}
            note = _note(record, column, lang)
            if note:
                cell["note"] = note
            cell["light"] = lit.get((record["slug"], column))
            cells.append(cell)
        rows.append(cells)
    return rows


_HEADING = re.compile(r'<h2 id="([^"]+)">(.*?)(?:<a class="anchor-link"|</h2>)', re.S)


def section_anchor(report: Path, headings: tuple[str, ...]) -> str | None:
    """The ``id`` of the first ``h2`` of ``report`` whose text is one of ``headings``."""
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        return None
    return next((anchor for anchor, title in _HEADING.findall(text) if title.strip() in headings), None)


def _with_section_links(rows: list[list[dict]], figures: pd.DataFrame, run_dir: Path) -> list[list[dict]]:
    """Give each figure cell ``href``: the section of its branch's report behind it."""
    keys = [key for key, _, _ in COLUMNS]
    anchors: dict[tuple[str, str], str | None] = {}
    for cells, slug in zip(rows, figures["slug"]):
        for key, cell in zip(keys, cells):
            if key not in FIGURE_SECTIONS or cell.get("value") in ("", None):
                continue
            notebook, headings = FIGURE_SECTIONS[key]
            report = _href(run_dir, slug, f"{notebook}.html")
            if report is None:
                continue
            if (slug, key) not in anchors:
                anchors[(slug, key)] = section_anchor(inside(run_dir, slug, f"{notebook}.html"), headings)
            anchor = anchors[(slug, key)]
            cell["href"] = f"{report}#{anchor}" if anchor else report
    return rows


def _rules(lang: str) -> list[str]:
    amber, red = RELATIVE
    return [
        t("index.rule_lost", lang),
        t("index.rule_benchmark", lang, amber=f"{amber:.0%}", red=f"{red:.0%}"),
        t("index.rule_share_change", lang, amber=f"{SHARE_FALL[0] * 100:g}", red=f"{SHARE_FALL[1] * 100:g}"),
        t("index.rule_no_light", lang),
    ]


def _plot(figures: pd.DataFrame, transitions: pd.DataFrame, lang: str) -> dict | None:
    """The company funnel plot as a PNG data URI, with its caption; None without data."""
    from .index_chart import company_funnel_uri

    key = bottleneck_transition(figures)
    data = None if key is None or transitions.empty else company_funnel_data(transitions, transition=key)
    if data is None or data.empty:
        return None
    # the step's name as a branch's summary.json gives it (the CSV tables hold codes only)
    named = figures[figures["top_bottleneck_key"] == key].iloc[0]
    label = transition_label(key, label=named["top_bottleneck"], label_lang=named["bottleneck_lang"], lang=lang)
    outside = data.loc[data["position"].isin(["above", "below"]), "branch"].tolist()
    return {
        "uri": company_funnel_uri(data, transition=label, lang=lang),
        "alt": t("index.plot_alt", lang, transition=label),
        "caption": t(
            "index.plot_caption",
            lang,
            transition=label,
            pooled=f"{data['p0'].iloc[0]:.1%}",
            count=int((figures["top_bottleneck_key"] == key).sum()),
        ),
        "outside": t("index.plot_outside", lang, branches=("、" if lang == "zh" else ", ").join(outside))
        if outside
        else "",
    }


def _href(run_dir: Path, *parts: str) -> str | None:
    """URL of a file of the run relative to the index, None when it is missing or outside."""
    try:
        exists = inside(run_dir, *parts).is_file()
    except ValueError:
        return None
    return "/".join(quote(p) for p in parts) if exists else None


def _links(run_dir: Path, results, summaries: list[dict], lang: str, runs: dict) -> list[dict]:
    """Per branch, each notebook's report link (None when it failed), the run it comes from
    (when ``runs`` says so) and its download links: the Excel workbook, then the CSVs."""
    tables = {(s["slug"], s["notebook"]): s["tables"] for s in summaries}
    branches = []
    for slug in sorted({r.slug for r in results}):
        mine = sorted(
            (r for r in results if r.slug == slug),
            key=lambda r: (NOTEBOOK_ORDER.index(r.notebook) if r.notebook in NOTEBOOK_ORDER else 99, r.notebook),
        )
        reports = []
        for result in mine:
            csvs = [
                {"name": name, "href": _href(run_dir, slug, result.notebook, name)}
                for name in tables.get((slug, result.notebook), [])
            ]
            book = _href(run_dir, slug, result.notebook, f"{result.notebook}.xlsx")
            if book:
                csvs.insert(0, {"name": f"{result.notebook}.xlsx", "href": book})
            reports.append(
                {
                    # said only for a report older than the page's newest run
                    "run": runs.get((slug, result.notebook), "")
                    if runs.get((slug, result.notebook)) != run_dir.name
                    else "",
                    "label": notebook_label(result.notebook, lang),
                    "href": _href(run_dir, slug, f"{result.notebook}.html") if result.ok else None,
                    "skipped": mask_text(_without_paths(result.error)) if result.status == "skipped" else "",
                    "reused": getattr(result, "reused_from", "") if result.status == "reused" else "",
                    "tables": [c for c in csvs if c["href"]],
                }
            )
        branches.append({"branch": mask_text(mine[0].branch), "reports": reports})
    return branches


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s:'\"，。；]+)+[\\/]([^\\/\s:'\"，。；]+)")


def _without_paths(text: str) -> str:
    """``text`` with every absolute file path cut to its file name: a server's folders mean
    nothing to a reader and tell a stranger how the server is laid out.

    Examples
    --------
    >>> _without_paths("cannot read /srv/funnelkit/data/hz/leads.csv: bad header")
    'cannot read leads.csv: bad header'
    """
    return _PATH.sub(lambda m: m[1], text or "")


def _failures(results, lang: str, run_dir: Path) -> list[dict]:
    """The failed runs, for the page: branch and analysis in ``lang``, the error's first line
    without server paths, and where the whole message is (the run's log folder)."""
    return [
        {
            "branch": mask_text(r.branch),
            "notebook": notebook_label(r.notebook, lang),
            "error": mask_text(_without_paths(r.error or "")),
            "log": t("index.failure_log", lang, log=f"logs/{r.slug}-{r.notebook}.log")
            if _href(run_dir, "logs", f"{r.slug}-{r.notebook}.log")
            else "",
        }
        for r in results
        if r.status == "failed"
    ]

"""What the notebooks call to present results and hand them to the batch runner.

A notebook starts with ``report = start_report("funnel", params)``. Then ``report.table(view)``
shows a formatted, escaped table and returns it; ``report.publish(result, figures)`` saves
every table of the analysis's result as CSV (UTF-8 with BOM for Excel, personal data masked,
formula cells defused) and the key figures as ``summary.json``. With ``output_dir=""`` (an
analyst in JupyterLab) nothing is written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from funnelkit import __version__
from funnelkit.exceptions import FunnelkitError
from funnelkit.i18n import check_lang, t
from funnelkit.paths import inside, is_safe_name
from funnelkit.privacy import mask_frame, mask_text

from .files import excel_safe, to_jsonable, write_csv, write_json

__all__ = ["Report", "data_as_of", "excel_safe", "start_report", "to_jsonable"]

_CALENDAR = re.compile(r"year|period|cohort|month|年|期", re.I)  # integers shown without separators
_MARKDOWN_ACTIVE = re.compile(r"[\[\]!<>`]")  # links, images, HTML, code: never from data
_LETTER = re.compile(r"[^\W\d_]")  # any letter, Chinese included


def _looks_numeric(values: pd.Series) -> bool:
    """True for text that only holds formatted numbers ("1,234", "12.5%", "[3.1%, 4.0%]"):
    such columns stay right-aligned like numbers."""
    return not values.dropna().astype(str).str.contains(_LETTER).any()


def whole_numbers(values: pd.Series) -> bool:
    """True when every value of a float column is a whole number (counts held as floats after
    a sum or a pivot): shown without decimals.

    Examples
    --------
    >>> whole_numbers(pd.Series([1658.0, 2.0, None])), whole_numbers(pd.Series([0.5]))
    (True, False)
    """
    present = values.dropna()
    return bool(len(present)) and bool((present == present.round()).all())


@dataclass(frozen=True)
class ShownTable:
    """A table as the report showed it, every row: for the Excel workbook."""

    number: int
    data: pd.DataFrame
    labels: dict
    percent: tuple


def data_as_of(as_of: str, *frames: pd.DataFrame | None) -> str:
    """The "data as of" date of a report: ``as_of`` from params, else the latest date in
    any date column of ``frames``, as ISO text ("" when there is none)."""
    if as_of:
        return str(as_of)
    latest = [
        frame[column].max()
        for frame in frames
        if frame is not None
        for column in frame.columns
        if pd.api.types.is_datetime64_any_dtype(frame[column])
    ]
    latest = [d for d in latest if not pd.isna(d)]
    return max(latest).date().isoformat() if latest else ""


@dataclass
class Report:
    """The presentation side of one notebook run for one branch."""

    notebook: str
    branch: str
    lang: str = "zh"
    output_dir: str = ""
    run_id: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)
    shown: list[ShownTable] = field(default_factory=list)  # every table shown, whole, for the workbook

    @property
    def out(self) -> Path | None:
        return Path(self.output_dir) if self.output_dir else None

    def t(self, key: str, **values) -> str:
        return t(key, self.lang, **values)

    # -- files for the runner ---------------------------------------------------------
    def save_table(self, name: str, data: pd.DataFrame, *, index: bool = False) -> Path | None:
        """Write ``<name>.csv`` for leadership through :func:`~funnelkit.report.files.write_csv`
        (masked and Excel-safe, labels included; UTF-8 with BOM)."""
        if self.out is None:
            return None
        if not is_safe_name(name):
            raise ValueError(f"table name {name!r} is not a safe file name")
        path = inside(self.out, f"{name}.csv")
        write_csv(path, data, index=index)
        self.saved.append(path.name)
        return path

    def save_workbook(self) -> Path | None:
        """Write every table shown so far, whole, to ``<notebook>.xlsx`` (a sheet each, headers
        as shown, numbers as numbers; masked and defused like the CSVs)."""
        if self.out is None:
            return None
        from .workbook import write_workbook

        return write_workbook(inside(self.out, f"{self.notebook}.xlsx"), self.shown, lang=self.lang)

    def publish(self, result, figures: dict) -> list[str]:
        """Save every table of ``result`` (an analysis's :class:`~funnelkit.result.AnalysisResult`)
        as CSV, the tables shown as one Excel workbook (:meth:`save_workbook`) and ``figures``
        as ``summary.json``, with the sections not shown and why (``gaps``); returns the CSV
        names (none outside a batch)."""
        for name, table in result.tables().items():
            self.save_table(name, table)
        self.save_workbook()
        gaps = {section: gap.text(self.lang) for section, gap in getattr(result, "gaps", {}).items()}
        self.summary(figures, gaps=gaps)
        return sorted(self.saved)

    def summary(self, figures: dict, *, gaps: dict | None = None) -> None:
        """Write ``summary.json``: the notebook's key figures plus who/when metadata, every
        text masked (keys too) by :func:`~funnelkit.report.files.write_json`."""
        document = {
            "notebook": self.notebook,
            "branch": self.branch,
            "lang": self.lang,
            "run_id": self.run_id,
            "kit_version": __version__,
            "tables": sorted(self.saved),
            "figures": figures,
            "sections_not_shown": gaps or {},
        }
        if self.out is not None:
            write_json(inside(self.out, "summary.json"), document)

    # -- display ----------------------------------------------------------------------
    def markdown(self, text: str) -> None:
        """Show narrative text from the message catalogue. Emphasis and lists work; HTML, links
        and images do not (values filled into a message may come from the data). Empty text
        shows nothing."""
        from IPython.display import Markdown, display

        if not text:
            return

        display(Markdown(_MARKDOWN_ACTIVE.sub(r"\\\g<0>", html.escape(mask_text(text), quote=False))))

    def note(self, key: str, **values) -> None:
        """Show the catalogue message ``key`` as a paragraph of narrative."""
        self.markdown(self.t(key, **values))

    def gap(self, result, section: str) -> bool:
        """Show the one line saying why ``section`` of ``result`` is not shown, if it is one of
        the result's gaps (:class:`~funnelkit.result.Gap`); True when the section is there."""
        gap = result.gaps.get(section)
        if gap is not None:
            from IPython.display import HTML, display

            display(HTML(f'<p class="fk-gap">{html.escape(mask_text(gap.text(self.lang)))}</p>'))
        return gap is None

    def title_block(self, *, period: str = "", as_of: str = "") -> None:
        """The report's head: title and introduction from the catalogue (``<notebook>.title``,
        ``<notebook>.intro``), then branch, period, data as of, run id and kit version, and a
        slot the HTML export fills with the table of contents."""
        from IPython.display import HTML, display

        facts = [
            ("common.branch", self.branch),
            ("common.period", period),
            ("common.data_as_of", as_of),
            *((f"common.filter_{name}", value) for name, value in self.filters.items() if value),
            ("common.run_id", self.run_id or "—"),
            ("common.kit_version", __version__),
        ]
        rows = "".join(
            f"<div><dt>{html.escape(self.t(key))}</dt><dd>{html.escape(mask_text(str(value)))}</dd></div>"
            for key, value in facts
            if value
        )
        intro = self.t(f"{self.notebook}.intro")
        display(
            HTML(
                f'<header class="fk-title"><h1>{html.escape(self.t(f"{self.notebook}.title"))}</h1>'
                f'<dl class="fk-facts">{rows}</dl><p class="fk-intro">{html.escape(intro)}</p>'
                f'<nav class="fk-toc" data-label="{html.escape(self.t("common.contents"))}"></nav></header>'
            )
        )

    def findings(self, items: Iterable[str], *, heading: str | None = None) -> None:
        """Show generated findings as a list; data text inside them is escaped and masked.
        No findings show nothing (not an empty box)."""
        from IPython.display import HTML, display

        items = list(items)
        if not items:
            return

        rows = "".join(f"<li>{html.escape(mask_text(item))}</li>" for item in items)
        title = html.escape(heading or self.t("common.summary"))
        display(HTML(f'<div class="fk-findings"><h2>{title}</h2><ol>{rows}</ol></div>'))

    def warnings(self, items: list[str], *, tables: dict | None = None) -> None:
        """Show data-quality warnings at the top of a report (or say there are none): ``items``
        from the analysis, then what loading noticed in ``tables`` (rows no branch reads,
        filters a table could not apply), in the report's language."""
        from IPython.display import HTML, display

        from funnelkit.data.loading import data_warnings

        items = [*items, *data_warnings(*(tables or {}).values(), lang=self.lang)]

        if not items:
            display(HTML(f'<p class="fk-ok">{html.escape(self.t("common.no_warnings"))}</p>'))
            return
        rows = "".join(f"<li>{html.escape(mask_text(w))}</li>" for w in items)
        display(
            HTML(
                f'<div class="fk-warnings"><h3>{html.escape(self.t("common.data_warnings"))}</h3><ul>{rows}</ul></div>'
            )
        )

    def table(
        self,
        data: pd.DataFrame,
        *,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        percent: Iterable[str] = (),
        integer: Iterable[str] = (),
        decimals: dict[str, int] | None = None,
        hide: Iterable[str] = (),
        max_rows: int = 25,
        empty: str = "",
    ) -> pd.DataFrame | None:
        """Show ``data`` formatted for reading and return it; with ``name``, save it as CSV.

        ``labels`` renames columns for display; ``percent`` columns hold fractions shown as
        12.3%; ``integer`` columns get thousands separators (other integer columns too, but
        years and periods); ``hide`` columns (codes kept for the CSV) are not shown. Cell text
        is HTML-escaped and personal data masked. ``None`` (a view a section cannot make) shows
        ``empty``, the sentence saying why, or nothing.
        """
        from IPython.display import HTML, display

        if data is None:
            if empty:
                self.markdown(empty)
            return None
        number = len(self.shown) + 1
        full = data.drop(columns=list(hide))
        self.shown.append(ShownTable(number, full, labels or {}, tuple(percent)))
        if name:
            self.save_table(name, data)
        # Labels are masked where they are shown (relabel_index below), so the formats,
        # keyed by the frame's own column labels, still find their columns.
        shown = mask_frame(full.head(max_rows), labels=False)
        formats: dict[str, object] = {}
        for column in percent:
            formats[column] = lambda v: "" if pd.isna(v) else f"{v:.1%}"
        for column in integer:
            formats[column] = lambda v: "" if pd.isna(v) else f"{v:,.0f}"
        for column, digits in (decimals or {}).items():
            formats[column] = lambda v, d=digits: "" if pd.isna(v) else f"{v:,.{d}f}"
        yes = self.t("common.flag_yes")
        for column in shown.columns:
            if column in formats:
                continue
            if pd.api.types.is_bool_dtype(shown[column]):
                formats[column] = lambda v: "" if pd.isna(v) or not v else yes
            elif pd.api.types.is_float_dtype(shown[column]):
                digits = 0 if whole_numbers(full[column]) else 2  # counts held as floats: no ",.00"
                formats[column] = lambda v, d=digits: "" if pd.isna(v) else f"{v:,.{d}f}"
            elif pd.api.types.is_integer_dtype(shown[column]) and not _CALENDAR.search(str(column)):
                formats[column] = lambda v: "" if pd.isna(v) else f"{v:,}"
        text = [
            c
            for c in shown.columns
            if not pd.api.types.is_numeric_dtype(shown[c])
            and not pd.api.types.is_bool_dtype(shown[c])
            and not _looks_numeric(shown[c])
        ]
        classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
        classes[text] = "fk-text"
        styled = (
            shown.style.format(formats, escape="html", na_rep="")
            .format_index(escape="html")
            .hide(axis="index")
            .relabel_index([html.escape(mask_text(str((labels or {}).get(c, c)))) for c in shown.columns], axis=1)
            .set_td_classes(classes)
            .set_table_attributes('class="fk-table"')
        )
        more = ""
        if len(data) > max_rows:
            shown_note = self.t("common.rows_shown", shown=max_rows, total=f"{len(data):,}")
            link = ""
            if self.out is not None:  # every row: the table's own CSV, else its sheet of the workbook
                from .workbook import sheet_title

                first = (labels or {}).get(full.columns[0], full.columns[0]) if len(full.columns) else ""
                target, text = (
                    (f"{name}.csv", self.t("common.full_table"))
                    if name
                    else (
                        f"{self.notebook}.xlsx",
                        self.t("common.full_sheet", sheet=sheet_title(number, first, self.lang)),
                    )
                )
                href = html.escape(f"{quote(self.notebook)}/{quote(target)}")
                link = f' <a class="fk-full" href="{href}">{html.escape(text)}</a>'
            more = f'<p class="fk-more">{html.escape(shown_note)}{link}</p>'
        hint = html.escape(self.t("common.scroll_hint"))
        display(
            HTML(
                f'<div class="fk-scroll" data-hint="{hint}" data-table="{number}" tabindex="0">'
                f"{styled.to_html()}</div>{more}"
            )
        )
        return data


def start_report(
    notebook: str, params=None, *, branch: str = "", lang: str = "zh", output_dir: str = "", run_id: str = ""
) -> Report:
    """Set up a notebook run: chart style with a CJK font, friendly errors, and the Report.

    ``params`` (a :class:`funnelkit.parameters.Params`) gives the branch, language, output
    folder, run id and the filters named in the title block; without it, the keywords do.

    Examples
    --------
    >>> from funnelkit.parameters import Params
    >>> report = start_report("funnel", Params(branch="杭州分公司"))
    >>> report.t("common.summary")
    '小结'
    """
    from .style import use_report_style

    filters = {}
    if params is not None:
        branch, lang, output_dir, run_id = params.branch, params.lang, params.output_dir, params.run_id
        filters = params.filters()
    check_lang(lang)
    use_report_style()
    show_errors_without_traceback(lang)
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    return Report(notebook=notebook, branch=branch, lang=lang, output_dir=output_dir, run_id=run_id, filters=filters)


#: The language a notebook's errors are shown in (set by ``start_report`` and ``Params.from_namespace``).
_ERROR_LANG = {"lang": "zh"}


def show_errors_without_traceback(lang: str | None = None) -> None:
    """In IPython, show a FunnelkitError as its message alone, in the report's ``lang``: no
    traceback for a user's mistake."""
    if lang in ("zh", "en"):
        _ERROR_LANG["lang"] = lang
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):
        print(f"{etype.__name__}: {value.text(_ERROR_LANG['lang'])}")
        return None

    shell.set_custom_exc((FunnelkitError,), show)

"""What notebooks call to show and save results.

``display`` holds :class:`Report` (title block, sections, findings, tables, ``summary.json``);
``formatting`` how numbers read in text; ``style`` the chart style with a CJK font;
``charts`` the helpers every analysis's plots share.
"""

from .display import Report, data_as_of, start_report

__all__ = ["Report", "data_as_of", "start_report"]

"""funnelkit: a Jupyter workbook kit for sales-funnel and customer analysis across branches.

The package backs the parameterized notebooks in ``notebooks/``. One subpackage per analysis
— :mod:`funnelkit.funnel`, :mod:`funnelkit.tiers`, :mod:`funnelkit.lost`,
:mod:`funnelkit.ltv` — and shared ones: :mod:`funnelkit.data` (contract and loading),
:mod:`funnelkit.report` (what notebooks call to show and save), :mod:`funnelkit.batch`
(every notebook for every branch, published as HTML for leadership) and
:mod:`funnelkit.demo` (the demo database).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("funnelkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

"""funnelkit: a Jupyter workbook kit for sales-funnel and customer analysis across branches.

The package backs the parameterized notebooks in ``notebooks/``: loading and validating
branch data (:mod:`funnelkit.loading`), one module per analysis, charts in
:mod:`funnelkit.plots`, and the batch runner (:mod:`funnelkit.runner`) that executes every
notebook for every branch and publishes HTML reports for leadership.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("funnelkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

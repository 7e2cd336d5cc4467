"""The batch: every notebook for every branch, executed and published for leadership.

``params`` reads and checks branch params before any kernel starts; ``runner`` executes the
jobs through an executor from ``executors`` and publishes each one atomically; ``htmlexport``
turns an executed notebook into a code-free offline HTML report; ``index`` writes the
leadership index page, with ``index_chart``'s company funnel plot.
"""

import sys

# jsonschema (which nbformat and papermill import) loads its optional IRI format checker,
# rfc3987_syntax, when installed: it compiles some forty grammars at import, 2–4 s in every
# batch process and worker. Notebook validation checks no IRI, so the batch goes without it.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

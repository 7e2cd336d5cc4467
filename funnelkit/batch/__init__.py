"""The batch: every notebook for every branch, executed and published for leadership.

``params`` reads and checks branch params before any kernel starts; ``runner`` executes the
jobs through an executor from ``executors`` and publishes each one atomically; ``htmlexport``
turns an executed notebook into a code-free offline HTML report; ``index`` writes the
leadership index page, with ``index_chart``'s company funnel plot.
"""

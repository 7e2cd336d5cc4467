"""Customer lifetime value (客户生命周期价值): retention by acquisition cohort, lifecycle
stages, realised and projected LTV.

Rooms: ``cohorts`` (retention and revenue by cohort, break-even), ``projection`` (the LTV
projection table and calculator), ``lifecycle``, ``rfm``, ``findings`` (summary and key
figures), ``plots``, ``messages.yaml``.
"""

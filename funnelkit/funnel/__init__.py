"""Funnel diagnosis (客户漏斗): stages and conversion per segment and period, where customers
are lost, which loss is controllable and what fixing it is worth.

Rooms: ``analysis`` (the computing call), ``counts`` (stage and transition tables),
``compare`` (year-over-year tests, funnel plot, decomposition), ``drivers``, ``forecast``,
``views`` (display tables), ``findings`` (summary and key figures), ``plots``, ``messages.yaml``.
"""

from .params import Params

__all__ = ["Params"]

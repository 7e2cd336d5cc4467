"""Lost-deal analysis (战败客户): why deals were lost, by product line; quasi-lost against
truly lost; recovery; the lost rate against its target.

Rooms: ``analysis`` (the computing call), ``deals`` (deals, rates, targets), ``reasons``,
``recovery``, ``notes``, ``findings`` (summary and key figures), ``plots``, ``messages.yaml``.
"""

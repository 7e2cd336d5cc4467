"""Tier concentration (基盘客户分级): base customers scored into premium / potential / general
tiers, concentrated by region and industry, year on year; referrals, repurchases, value
bands and follow-up cadence.

Rooms: ``tiering`` (scorecards, grid, concentration, migration), ``cadence``, ``referrals``,
``value``, ``findings`` (summary, key figures, display labels), ``plots``, ``messages.yaml``.
"""

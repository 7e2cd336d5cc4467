"""Branch data: the contract every table follows and the one way to load it.

``schema`` declares the tables, columns, codes and rules (docs/data-contract.md is generated
from it); ``sources`` finds and reads a branch's files or database; ``parsing`` turns cells
into typed values; ``validation`` checks the rules and lists every problem at once;
``loading`` ties them together: :func:`load_table` is what notebooks call.
"""

from .loading import data_warnings, latest_dates, load_peers, load_table, load_tables, peer_stage_counts

__all__ = ["data_warnings", "latest_dates", "load_peers", "load_table", "load_tables", "peer_stage_counts"]

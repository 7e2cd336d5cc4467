"""Leads as numpy arrays: close days worked out by hand on a few leads."""

import numpy as np
import pandas as pd

from funnelkit.funnel import lead_arrays

KEYS = ["a", "b", "c"]  # "c" is the won stage
D = pd.Timestamp


def _leads(**extra):
    return pd.DataFrame(
        {
            "created_date": [D("2006-01-01")] * 5,
            "stage": ["c", "c", "b", "b", "a"],
            "outcome": ["won", "won", "lost", "lost", "open"],
            "date_a": [D("2006-01-01")] * 5,
            "date_b": [D("2006-01-05"), D("2006-01-05"), D("2006-01-07"), pd.NaT, pd.NaT],
            "date_c": [D("2006-02-01"), pd.NaT, pd.NaT, pd.NaT, pd.NaT],
            **extra,
        }
    )


def test_a_lead_closes_on_its_won_or_lost_date_else_on_its_last_dated_stage():
    leads = _leads(lost_date=[pd.NaT, pd.NaT, D("2006-03-01"), pd.NaT, pd.NaT])
    closed = lead_arrays.close_days(leads, KEYS)
    expected = np.array(["2006-02-01", "2006-01-05", "2006-03-01", "2006-01-01", "NaT"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(closed, expected)


def test_without_lost_dates_a_lost_lead_closes_on_its_last_dated_stage():
    closed = lead_arrays.close_days(_leads(), KEYS)
    expected = np.array(["2006-02-01", "2006-01-05", "2006-01-07", "2006-01-01", "NaT"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(closed, expected)

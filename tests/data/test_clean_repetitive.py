"""Text cleaning once per distinct value gives what cleaning every cell gives."""

import pandas as pd
import pyarrow as pa

from funnelkit.data.parsing import _clean_strings, _repetitive


def _cells(values, chunks):
    size = len(values) // chunks
    parts = [values[i * size : (i + 1) * size] for i in range(chunks)]
    return pa.chunked_array([pa.array(p, pa.large_string()) for p in parts])


def test_repetitive_column_cleaned_per_distinct_value():
    values = ["商企", " 商企\u3000", "ＡＢＣ", "", None, "个人\u200b", "个人"] * 400  # 2800 cells, 6 distinct
    strings = _cells(values, 2)
    assert _repetitive(strings.chunk(0))
    cleaned = pd.Series(_clean_strings(strings))
    expected = {"商企": "商企", " 商企\u3000": "商企", "ＡＢＣ": "ABC", "个人\u200b": "个人", "个人": "个人"}
    assert cleaned.iloc[:3].tolist() == ["商企", "商企", "ABC"] and cleaned.iloc[3:5].isna().all()
    for raw, clean in zip(values, cleaned):
        if raw is None or raw == "":
            assert clean is pd.NA
        else:
            assert clean == expected[raw]


def test_clean_column_keeps_its_buffers_and_unique_ids_take_the_cell_path():
    clean = _cells(["商企", "个人"] * 1000, 2)
    kept = _clean_strings(clean).__arrow_array__()
    assert all(a.buffers()[2].address == b.buffers()[2].address for a, b in zip(kept.chunks, clean.chunks))
    ids = _cells([f" L{i:05d} " for i in range(2000)], 2)
    assert not _repetitive(ids.chunk(0))
    assert pd.Series(_clean_strings(ids)).iloc[[0, 1999]].tolist() == ["L00000", "L01999"]

"""The deal stage position, looked up once per distinct stage, on a hand-made frame."""

import numpy as np
import pandas as pd

from funnelkit.lost.deals import _stage_position


def test_stage_positions_by_hand():
    stages = pd.Series(["target", "signed", None, "intent", "signed"], dtype="string", index=[3, 1, 4, 0, 2])
    position, first = _stage_position(pd.DataFrame({"stage": stages}), None, "contacted")
    assert first == 2
    assert position.index.tolist() == [3, 1, 4, 0, 2]
    assert position.tolist()[:2] == [0, 4] and np.isnan(position[4]) and position.tolist()[3:] == [3, 4]
    whole, _ = _stage_position(pd.DataFrame({"stage": ["paying", "target"]}), None, "target")
    assert whole.dtype == "int64" and whole.tolist() == [6, 0]  # no unknown stage: whole numbers, as before
    empty, _ = _stage_position(pd.DataFrame({"stage": pd.Series([], dtype="string")}), None, "target")
    assert empty.empty

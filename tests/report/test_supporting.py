"""Stand-outs in the report: only series a reader can be told about."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.report.supporting import stands_out_for_report


def _tidy() -> pd.DataFrame:
    """A series that breaks its own trend in 2018 in Vaggeryd (and stays flat for the peers)."""
    cat = load_catalogue()
    rows = []
    for m in ["0665", *cat.peer_group]:
        for y in range(2008, 2019):
            v = 100.0 + (y - 2008) * 2.0 + (60.0 if m == "0665" and y == 2018 else 0.0)
            rows.append(
                {
                    "municipality": m,
                    "indicator": "SCB_FOLK__38_AR",
                    "gender": "T",
                    "frequency": "Y",
                    "period": str(y),
                    "period_end": pd.Timestamp(y, 12, 31),
                    "value": v,
                    "unit": "antal",
                    "source": "t",
                    "source_file": "t.csv",
                    "source_row": y,
                    "published": pd.Timestamp(y + 1, 3, 1),
                    "published_basis": "rule",
                }  # fmt: skip
            )
    return pd.DataFrame(rows)


def test_a_series_without_a_title_for_readers_is_not_a_stand_out_in_the_report() -> None:
    """'SCB_FOLK__38_AR bryter egen trend' says nothing to a board member: with no title the flag
    stays in notebook 05 only; with a title it is in the report."""
    cat, tidy, as_of = load_catalogue(), _tidy(), dt.date(2019, 8, 31)
    assert stands_out_for_report(tidy, cat, "0665", as_of, {}, 2019) == []
    titled = stands_out_for_report(tidy, cat, "0665", as_of, {"SCB_FOLK": "Invånare 38 år"}, 2019)
    assert [f["indicator"] for f in titled] and {f["title"] for f in titled} == {"Invånare 38 år"}

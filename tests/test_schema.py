"""Tests of schema.py: the tidy table's checks list every bad cell, and its fast checks equal plain pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.errors
import pytest

from ks_analysis.schema import (
    KEY,
    TIDY_COLUMNS,
    _duplicated_key,
    _matches_on_distinct,
    validate_tidy,
)


def _tidy(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {
        "municipality": "0665",
        "indicator": "N03926",
        "gender": "T",
        "frequency": "Y",
        "period": "2022",
        "unit": "%",
        "source": "kolada",
        "source_file": "f.csv",
    }
    frame = pd.DataFrame(
        [{**base, "source_row": i + 2, "value": 1.0, **r} for i, r in enumerate(rows)]
    )
    frame["period_end"] = pd.Timestamp("2022-12-31")
    frame["published"] = pd.Timestamp("2023-03-01")
    frame["published_basis"] = "rule"
    return frame[TIDY_COLUMNS].astype(
        {
            c: "str"
            for c in [
                "municipality",
                "indicator",
                "gender",
                "frequency",
                "period",
                "unit",
                "source",
                "source_file",
            ]
        }
    )


def _failures(frame: pd.DataFrame) -> set[tuple[str, str, int]]:
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        validate_tidy(frame)
    fc = err.value.failure_cases
    return {
        (str(c), str(k), int(i))
        for c, k, i in zip(fc["column"], fc["check"], fc["index"], strict=True)
        if str(c) in KEY or "unique" in str(k)
    }


def test_schema_lists_every_bad_key_cell_in_one_run() -> None:
    """Bad codes, ids, periods and repeated keys are all reported by one lazy validation."""
    frame = _tidy(
        [
            {"municipality": "066"},
            {"indicator": "bad id"},
            {"period": "2019-13"},
            {"period": "2021"},
            {"period": "2021"},
        ]
    )
    found = _failures(frame)
    assert ("municipality", "str_matches('^\\d{4}$')", 0) in found
    assert any(c == "indicator" and "str_matches" in k and i == 1 for c, k, i in found)
    assert any(c == "period" and "str_matches" in k and i == 2 for c, k, i in found)
    assert {i for _c, k, i in found if "unique" in k} == {3, 4}


@pytest.mark.parametrize("seed", range(5))
def test_fast_checks_fail_the_same_rows_as_plain_pandas(seed: int) -> None:
    """Regex on distinct values = str.match on every row; key uniqueness (sorted or not) = duplicated(keep=False)."""
    rng = np.random.default_rng(seed)
    n = 300
    frame = pd.DataFrame(
        {
            "municipality": rng.choice(["0665", "0604", "066", "0000"], n),
            "indicator": rng.choice(["N03926", "AF_X", "bad"], n),
            "gender": rng.choice(["T", "K"], n),
            "period": rng.choice(["2021", "2022-Q1", "2019-13"], n),
        }
    ).astype("str")
    for pattern, col in [
        (r"^\d{4}$", "municipality"),
        (r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$", "period"),
    ]:
        assert (
            _matches_on_distinct(frame[col], pattern).tolist()
            == frame[col].str.match(pattern, na=False).tolist()
        )
    expected = frame.duplicated(KEY, keep=False).to_numpy()
    assert (_duplicated_key(frame[KEY]) == expected).all()
    ordered = frame.sort_values(KEY).reset_index(drop=True)
    assert (_duplicated_key(ordered[KEY]) == ordered.duplicated(KEY, keep=False).to_numpy()).all()

"""The series helpers read the tidy table through its index exactly as a mask over the table would."""

from __future__ import annotations

import datetime as dt
import gc
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ks_analysis.forecast import methods as m
from ks_analysis.forecast import series as sr
from ks_analysis.goals.catalogue import load_catalogue


def _reference_matrix(
    tidy: pd.DataFrame, ind: str, municipality: str, gender: str, as_of: dt.date, freq: str
) -> dict[int, np.ndarray]:
    """The series as a plain mask over the whole table (how the helpers read it before the index)."""
    sel = tidy[
        (tidy["indicator"] == ind)
        & (tidy["municipality"] == municipality)
        & (tidy["gender"] == gender)
        & (tidy["published"] <= pd.Timestamp(as_of))
        & (tidy["frequency"] == freq)
    ]
    P = m.PERIODS_PER_YEAR[freq]
    out: dict[int, np.ndarray] = {}
    for period, value in zip(sel["period"].astype(str), sel["value"], strict=True):
        year = int(period[:4])
        i = (
            int(period[6]) - 1
            if "-Q" in period
            else int(period[5:7]) - 1
            if len(period) == 7
            else 0
        )
        out.setdefault(year, np.full(P, np.nan))[i] = value
    return out


def _indicator(cat, ind_id: str):  # type: ignore[no-untyped-def]
    return next(i for _, i in cat.indicators() if i.id == ind_id)


@pytest.mark.real
def test_series_from_the_index_equal_a_mask_over_the_real_table(
    real_nowcast_tidy: pd.DataFrame,
) -> None:
    """Every real series (12 kommuner, quarterly and annual KPIs) at three vintages: the matrix,
    the latest population and the peer block equal what masks over the whole table give."""
    tidy = real_nowcast_tidy
    cat = load_catalogue()
    by_id = {i.id: i for _, i in cat.indicators()}
    keys = tidy[["indicator", "municipality", "gender"]].drop_duplicates().itertuples(index=False)
    checked = 0
    for ind_id, municipality, gender in keys:
        ind = by_id.get(ind_id)
        if ind is None:
            continue
        for as_of in (dt.date(2014, 8, 31), dt.date(2019, 4, 30), dt.date(2024, 12, 31)):
            freq, got, _ = sr.series_matrix(
                tidy, municipality=municipality, indicator=ind, gender=gender, as_of=as_of
            )
            want = _reference_matrix(tidy, ind_id, municipality, gender, as_of, freq)
            assert got.keys() == want.keys(), (ind_id, municipality, as_of)
            for y in want:
                np.testing.assert_array_equal(got[y], want[y])
            checked += 1
    assert checked > 100
    for municipality in tidy["municipality"].unique()[:5]:
        pop = tidy[(tidy["indicator"] == "N01951") & (tidy["municipality"] == municipality)]
        pop = pop[(pop["gender"] == "T") & (pop["published"] <= pd.Timestamp(2019, 4, 30))]
        want_pop = float(pop.sort_values("period")["value"].iloc[-1]) if len(pop) else None
        assert sr.population(tidy, municipality, dt.date(2019, 4, 30)) == want_pop
    # the peer block of a quarterly in-year series (a signal, not a catalogue KPI): only its id is read
    q_id = str(tidy.loc[(tidy["frequency"] == "Q") & (tidy["gender"] == "T"), "indicator"].iloc[0])
    quarterly = SimpleNamespace(id=q_id)
    block = sr.peer_block(
        tidy,
        quarterly,  # type: ignore[arg-type]
        "T",
        2019,
        dt.date(2019, 8, 31),
        "Q",
    )
    sel = tidy[(tidy["indicator"] == quarterly.id) & (tidy["gender"] == "T")]
    sel = sel[(sel["frequency"] == "Q") & (sel["published"] <= pd.Timestamp(2019, 8, 31))]
    year = sel["period"].astype(str).str[:4].astype(int)
    sel = sel[(year < 2019) & (year >= 2014)]
    assert block.shape == (
        sel.groupby(["municipality", sel["period"].astype(str).str[:4]]).ngroups,
        4,
    )
    assert np.nansum(block) == pytest.approx(float(sel["value"].sum()))


def test_a_per_ort_total_counts_a_period_only_when_every_ort_has_it(demo_raw) -> None:  # type: ignore[no-untyped-def]
    """A per-ort indicator without a total: the kommun's series is the sum over its orter, and a
    period one ort has not published yet is left out (so a late ort cannot look like a fall)."""
    cat = load_catalogue()
    ind = next(i for _, i in cat.indicators() if i.per_ort)
    rows = []
    for ort, values in (("Skillingaryd", {"2017": 5.0, "2018": 7.0}), ("Vaggeryd", {"2017": 2.0})):
        for period, v in values.items():
            rows.append(
                {"municipality": "0665", "indicator": f"{ind.id}__{ort}", "gender": "T",
                 "frequency": "Y", "period": period, "value": v, "unit": "antal",
                 "published": pd.Timestamp(int(period) + 1, 3, 1)}
            )  # fmt: skip
    tidy = pd.DataFrame(rows)
    _, by_year, _ = sr.series_matrix(
        tidy, municipality="0665", indicator=ind, gender="T", as_of=dt.date(2020, 1, 1)
    )
    assert {y: float(v[0]) for y, v in by_year.items()} == {2017: 7.0}


def test_the_index_follows_the_table_it_was_made_for() -> None:
    """A table made after another was dropped (Python may give it the same id) gets its own
    index, and so does a table changed in place after its index was made."""
    cat = load_catalogue()
    ind = _indicator(cat, "N01951")

    def table(value: float) -> pd.DataFrame:
        return pd.DataFrame(
            {"municipality": ["0665"], "indicator": ["N01951"], "gender": ["T"],
             "frequency": ["Y"], "period": ["2018"], "value": [value], "unit": ["antal"],
             "published": [pd.Timestamp(2019, 3, 1)]}
        )  # fmt: skip

    for value in (100.0, 200.0, 300.0):
        t = table(value)
        assert sr.population(t, "0665", dt.date(2019, 4, 30)) == value
        _, by_year, _ = sr.series_matrix(
            t, municipality="0665", indicator=ind, gender="T", as_of=dt.date(2019, 4, 30)
        )
        assert float(by_year[2018][0]) == value
        t.loc[0, "value"] = value + 1  # an analyst's edit of the same table is read too
        assert sr.population(t, "0665", dt.date(2019, 4, 30)) == value + 1
        del t
        gc.collect()


def test_copies_of_a_table_share_its_index_and_a_reordered_copy_gets_its_own() -> None:
    """The copies a memo hands out of one cleaned vintage are indexed once; the same rows in
    another order (an analyst's sort) are indexed again and read right."""
    cat = load_catalogue()
    ind = _indicator(cat, "N01951")
    t = pd.DataFrame(
        {"municipality": ["0665"] * 3, "indicator": ["N01951"] * 3, "gender": ["T"] * 3,
         "frequency": ["Y"] * 3, "period": ["2016", "2017", "2018"],
         "value": [100.0, 200.0, 300.0], "unit": ["antal"] * 3,
         "published": [pd.Timestamp(2019, 3, 1)] * 3}
    )  # fmt: skip
    assert sr.tidy_index(t.copy(deep=False)) is sr.tidy_index(t)
    shuffled = t.iloc[[2, 0, 1]].reset_index(drop=True)
    assert sr.tidy_index(shuffled) is not sr.tidy_index(t)
    _, by_year, _ = sr.series_matrix(
        shuffled, municipality="0665", indicator=ind, gender="T", as_of=dt.date(2019, 4, 30)
    )
    assert {y: float(v[0]) for y, v in by_year.items()} == {2016: 100.0, 2017: 200.0, 2018: 300.0}
    swapped = t.assign(value=[200.0, 100.0, 300.0])  # same sum, other order of values
    _, by_year, _ = sr.series_matrix(
        swapped, municipality="0665", indicator=ind, gender="T", as_of=dt.date(2019, 4, 30)
    )
    assert float(by_year[2016][0]) == 200.0


def test_an_earlier_cut_reads_as_a_fresh_table_would(demo_raw) -> None:  # type: ignore[no-untyped-def]
    """The rows published by an earlier day, with the index derived from the later vintage's,
    give every series and peer block a fresh index of the same rows gives."""
    from ks_analysis.clean import run_clean

    tidy = run_clean(demo_raw, as_of=dt.date(2019, 8, 31)).tidy
    cat = load_catalogue()
    day = dt.date(2018, 8, 31)
    cut = sr.published_by(tidy, day)
    fresh = cut.copy(deep=True).iloc[::-1].iloc[::-1]  # same rows, a table of its own
    derived, rebuilt = sr.tidy_index(cut), sr.TidyIndex(fresh)
    assert len(cut) < len(tidy) and derived is not sr.tidy_index(tidy)
    assert list(derived.groups) == list(rebuilt.groups)
    assert derived.by_indicator == rebuilt.by_indicator
    for k in rebuilt.groups:
        np.testing.assert_array_equal(derived.groups[k], rebuilt.groups[k])
    for name in ("period", "value", "unit", "published", "year", "sub"):
        np.testing.assert_array_equal(getattr(derived, name), getattr(rebuilt, name))
    for _, ind in cat.indicators():
        a = sr.series_matrix(
            cut, municipality=cat.municipality, indicator=ind, gender="T", as_of=day
        )
        b = sr.series_matrix(
            fresh, municipality=cat.municipality, indicator=ind, gender="T", as_of=day
        )
        assert a[0] == b[0] and a[1].keys() == b[1].keys(), ind.id
        for y in a[1]:
            np.testing.assert_array_equal(a[1][y], b[1][y])

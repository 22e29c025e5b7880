"""Results that stand out: the three robust rules on small known cases, and the real flags for Vaggeryd 2022."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ks_analysis.evaluate.standout import StandOutRules, find_standouts, flags_table, robust_band

PEERS = ["0604", "0617", "0642", "0643", "0662", "0680", "0682", "0683"]


def _rows(
    values: dict[tuple[str, str, int], float], indicator: str = "N1", unit: str = "%"
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "municipality": m,
                "indicator": indicator,
                "gender": g,
                "frequency": "Y",
                "period": str(y),
                "period_end": pd.Timestamp(f"{y}-12-31"),
                "value": v,
                "unit": unit,
                "source": "kolada",
                "source_file": "k.csv",
                "source_row": i + 2,
                "published": pd.Timestamp(f"{y + 1}-03-01"),
            }
            for i, ((m, g, y), v) in enumerate(values.items())
        ]
    )


def _peer_case(home: float, peers: list[float] | None = None, unit: str = "%") -> pd.DataFrame:
    peer_vals = peers if peers is not None else [10.0, 10.5, 9.5, 11.0, 9.0, 10.2, 9.8, 10.4]
    vals = {(p, "T", 2022): v for p, v in zip(PEERS, peer_vals, strict=True)}
    vals[("0665", "T", 2022)] = home
    return _rows(vals, unit=unit)


def test_robust_band_ignores_one_outlier_and_handles_zero_mad() -> None:
    """One extreme peer hardly moves the band; identical values give a ±5 % band."""
    c, s, half = robust_band([10, 10.5, 9.5, 11, 9, 1000], k=2.5)
    assert 9.5 <= c <= 11 and half < 5
    c, s, half = robust_band(
        [5, 5, 5, 6, 5, 4, 5], k=2.5
    )  # MAD = 0: the mean absolute deviation is used
    assert c == 5 and half > 0
    c, s, half = robust_band([5, 5, 5, 5], k=2.5)
    assert (c, round(half, 6)) == (5, 0.25)


def test_a_kommun_far_above_its_peers_is_flagged() -> None:
    """A value far above the peer band is flagged peer_high with the peer median, band, strength and a Swedish reason."""
    flags = find_standouts(_peer_case(25.0), municipality="0665", year=2022, peers=PEERS)
    [f] = flags.to_dict("records")
    assert (
        f["code"] == "peer_high"
        and f["value"] == 25.0
        and f["peer_median"] == pytest.approx(10.1)
        and f["band_lo"] < 10.1 < f["band_hi"] < 25
    )
    assert f["strength"] > 2.5 and "klart högre" in f["reason"] and f["n_peers_above"] == 0


def test_a_kommun_inside_the_band_is_not_flagged() -> None:
    """A value inside the peer band is not flagged."""
    assert find_standouts(_peer_case(10.8), municipality="0665", year=2022, peers=PEERS).empty


def test_far_below_is_flagged_low_and_direction_is_judged() -> None:
    """A value far below the peers is flagged peer_low and called better when lower is better."""
    f = find_standouts(
        _peer_case(2.0), municipality="0665", year=2022, peers=PEERS, directions={"N1": False}
    ).iloc[0]
    assert f["code"] == "peer_low" and "(bättre)" in f["reason"]


def test_mad_zero_peers() -> None:
    """All peers equal: a kommun 10 % off is flagged, 2 % off is not."""
    same = [10.0] * 8
    assert find_standouts(_peer_case(11.0, same), municipality="0665", year=2022, peers=PEERS)[
        "code"
    ].tolist() == ["peer_high"]
    assert find_standouts(_peer_case(10.2, same), municipality="0665", year=2022, peers=PEERS).empty


def test_k_is_configurable() -> None:
    """A wider band (k=10) stops flagging a value the default band flags."""
    tidy = _peer_case(12.0)
    assert find_standouts(tidy, municipality="0665", year=2022, peers=PEERS).empty is False
    assert find_standouts(
        tidy, municipality="0665", year=2022, peers=PEERS, rules=StandOutRules(k=10)
    ).empty


def test_counts_are_not_compared_with_peers_and_too_few_peers_means_no_peer_data() -> None:
    """Counts are never compared with peers, and three peers are too few for a peer flag."""
    assert find_standouts(
        _peer_case(250.0, unit="antal"), municipality="0665", year=2022, peers=PEERS
    ).empty
    assert find_standouts(_peer_case(25.0), municipality="0665", year=2022, peers=PEERS[:3]).empty


def _trend_case(last: float) -> pd.DataFrame:
    vals = {
        ("0665", "T", y): 10.0 + 0.5 * (y - 2012) + (0.1 if y % 2 else -0.1)
        for y in range(2012, 2022)
    }
    vals[("0665", "T", 2022)] = last
    for p in PEERS:
        for y in range(2012, 2023):
            vals[(p, "T", y)] = 10.0 + 0.5 * (y - 2012) + float(np.sin(hash(p) % 7 + y))
    return _rows(vals)


def test_a_break_from_the_own_trend_is_flagged() -> None:
    """Steady +0.5 a year, then a drop: flagged; continuing the trend: not flagged."""
    flags = find_standouts(_trend_case(12.0), municipality="0665", year=2022, peers=PEERS)
    assert "trend_break" in flags["code"].tolist()
    tb = flags[flags["code"] == "trend_break"].iloc[0]
    assert (
        tb["band_lo"] < 15.0 < tb["band_hi"]
        and "bryter mot kommunens egen utveckling" in tb["reason"]
    )
    assert (
        "trend_break"
        not in find_standouts(_trend_case(15.0), municipality="0665", year=2022, peers=PEERS)[
            "code"
        ].tolist()
    )


def test_a_drop_is_told_with_a_minus_sign_in_the_one_number_format() -> None:
    """A trend break downwards reads "(−2,60)", in the report's number format, never with a hyphen."""
    flags = find_standouts(_trend_case(12.0), municipality="0665", year=2022, peers=PEERS)
    tb = flags[flags["code"] == "trend_break"].iloc[0]
    assert "–2022 (\u22122,60) bryter" in tb["reason"]
    assert not re.search(r"-\d", tb["reason"])
    band = flags_table(flags)["Band"].tolist()
    assert all(
        re.fullmatch(r"\u2212?[\d\u00a0]+(,\d+)? – \u2212?[\d\u00a0]+(,\d+)?", b) for b in band
    )


def test_peer_reasons_use_the_report_decimals_and_a_percent_sign() -> None:
    """Shares in a reason carry ' %' and the report's decimals (one from 10 up, none from 100 up)."""
    flags = find_standouts(_peer_case(25.0), municipality="0665", year=2022, peers=PEERS)
    reason = flags.iloc[0]["reason"]
    assert "25,0\u00a0%" in reason and "median 10,1\u00a0%" in reason


def _gap_case(gap_2022: float) -> pd.DataFrame:
    vals: dict[tuple[str, str, int], float] = {}
    for m in ["0665", *PEERS]:
        for y in range(2016, 2023):
            gap = (gap_2022 if y == 2022 else 1.0 + 0.1 * (y % 2)) if m == "0665" else 1.0
            vals[(m, "T", y)] = 50.0
            vals[(m, "K", y)] = 50.0 + gap / 2
            vals[(m, "M", y)] = 50.0 - gap / 2
    return _rows(vals)


def test_a_widening_gender_gap_is_flagged() -> None:
    """A women-men gap that widens clearly is flagged with both values; a gap that barely moves is not."""
    flags = find_standouts(_gap_case(4.0), municipality="0665", year=2022, peers=PEERS)
    [f] = flags[flags["code"] == "gender_gap_widening"].to_dict("records")
    assert (
        f["gender"] == "K-M"
        and f["value"] == pytest.approx(4.0)
        and f["value_k"] == pytest.approx(52.0)
        and "kvinnor högre" in f["reason"]
    )
    assert find_standouts(_gap_case(1.05), municipality="0665", year=2022, peers=PEERS)[
        lambda d: d["code"] == "gender_gap_widening"
    ].empty


def test_input_is_not_changed() -> None:
    """find_standouts leaves its input frame unchanged."""
    tidy = _peer_case(25.0)
    before = tidy.copy()
    find_standouts(tidy, municipality="0665", year=2022, peers=PEERS)
    pd.testing.assert_frame_equal(tidy, before)


@pytest.mark.slow
def test_real_flags_for_vaggeryd_2022(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Vaggeryd 2022 against the other kommuner of Jönköpings län: the flags are printed for the record."""
    from ks_analysis.clean import run_clean
    from ks_analysis.geo import kommuner_in_lan
    from ks_analysis.goals.catalogue import load_catalogue
    from ks_analysis.ingest.kolada_web import kolada_titles
    from ks_analysis.paths import PROJECT_ROOT

    tidy = run_clean(real_data, PROJECT_ROOT / "data" / "real-sources.yaml").tidy
    cat = load_catalogue()
    titles = {**kolada_titles(real_data), **{i.id: i.title for _, i in cat.indicators()}}
    peers = [c for c in kommuner_in_lan("0006") if c != "0665"]
    flags = find_standouts(
        tidy,
        municipality="0665",
        year=2022,
        peers=peers,
        titles=titles,
        directions={i.id: i.higher_is_better for _, i in cat.indicators()},
    )
    with capsys.disabled():
        print(
            f"\n{len(flags)} flags for Vaggeryd 2022 (peers: {len(peers)} kommuner in Jönköpings län)"
        )
        for f in flags.to_dict("records"):
            med = (
                ""
                if f["peer_median"] is None or pd.isna(f["peer_median"])
                else f" peer_median={f['peer_median']:.3g}"
            )
            print(
                f"  {f['code']:<20} {f['indicator']:<8} {f['gender']:<3} value={f['value']:.4g}{med} band=[{f['band_lo']:.3g}, {f['band_hi']:.3g}] strength={f['strength']:.2f} | {f['title']}"
            )
    assert len(flags) >= 1 and set(flags["year"]) == {2022}
    assert set(flags["code"]) <= {"peer_high", "peer_low", "trend_break", "gender_gap_widening"}
    # Every peer flag is backed by at least five peers' values of the same year.
    assert (flags.loc[flags["code"].str.startswith("peer"), "peer_n"] >= 5).all()
    # Every flag of a catalogue indicator says better or worse in the goal's direction.
    directed = flags[flags["indicator"].isin([i.id for _, i in cat.indicators()])]
    assert directed["better"].notna().all()
    assert directed["reason"].str.contains(r"\((?:bättre|sämre)", regex=True).all()
    # Bands stay in the possible range: nothing below zero for data that is never negative.
    for f in flags.to_dict("records"):
        if f["code"] != "gender_gap_widening" and f["value"] >= 0 and f["indicator"] != "N01958":
            assert f["band_lo"] >= 0, f
    # Planberedskap fell to 2,70 in 2021 (from 20,2 in 2017) while the peers' mean is about 30:
    # a level at an eighth of the peers stands out although the peers spread widely.
    plan = find_standouts(
        tidy, municipality="0665", year=2021, peers=peers, titles=titles,
        directions={i.id: i.higher_is_better for _, i in cat.indicators()},
    )  # fmt: skip
    low = plan[(plan["indicator"] == "N07923") & (plan["code"] == "peer_low")]
    assert len(low) == 1 and low["better"].tolist() == [False] and low["band_lo"].iloc[0] > 0


@pytest.mark.slow
def test_notebook_05_lists_the_flags(tmp_path: Path) -> None:
    """The analyst notebook runs top to bottom on the demo data and shows the flag table."""
    import json

    from ks_analysis.paths import NOTEBOOKS_DIR
    from ks_analysis.publish.notebooks import execute_notebook

    out = execute_notebook(
        NOTEBOOKS_DIR / "05-stands-out.ipynb", tmp_path / "05.ipynb", {"k": 2.0}, cwd=NOTEBOOKS_DIR
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    shown = "".join(
        "".join(o.get("data", {}).get("text/plain", ""))
        for c in cells
        for o in c.get("outputs", [])
    )
    assert "Indikator" in shown or "Inga resultat" in shown

"""Results that stand out: where the kommun deviates from its peers, breaks its own trend, or a women/men gap widens.

Three robust rules, run over every indicator of the tidy table that has peer data:

- ``peer_high`` / ``peer_low``: the kommun's value lies outside median ± k·MAD of its peers
  (by default the other kommuner of its län) in the same year. MAD is scaled by 1.4826 so that
  it estimates a standard deviation; when it is 0 (at least half the peers share one value) the
  scaled mean absolute deviation is used, and when every peer has the same value the band is that
  value ± 5 % of it. Absolute counts (unit ``antal``, ``tkr``, ...) grow with the kommun's size
  and are not compared with peers.
- ``trend_break``: the change from last year lies outside the median ± k·MAD of the kommun's own
  year-on-year changes over the previous years (at least four changes).
- ``gender_gap_widening``: the women/men gap is larger than in every one of the previous years
  and larger than their median gap by more than k·MAD of those gaps (and at least 10 %); not
  for absolute counts.

Each flag carries the numbers behind it and a ``strength`` (a robust z-score: distance outside
the centre in scale units) used to rank the flags. Everything here is pure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.swedish import fmt_number, fmt_signed, gender_sv

__all__ = [
    "StandOutRules",
    "find_standouts",
    "flags_table",
    "robust_band",
    "yearly_table",
    "COUNT_UNITS",
    "REASON_CODES",
]

#: Units of absolute amounts that scale with a kommun's size, so peers are not compared on them.
COUNT_UNITS = {"antal", "st", "tkr", "kr", "mnkr", "personer"}
#: Machine codes of the reasons and what they mean.
REASON_CODES = {
    "peer_high": "above the peers' robust band",
    "peer_low": "below the peers' robust band",
    "trend_break": "this year's change is outside the band of the kommun's own recent changes",
    "gender_gap_widening": "the women/men gap is wider than in the previous years",
}
_MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data
_MEAN_AD_SCALE = 1.2533  # mean absolute deviation -> standard deviation for normal data


@dataclass(frozen=True)
class StandOutRules:
    """The knobs of the three rules (defaults are documented in the module docstring)."""

    k: float = 2.5  # peer band half-width in scaled MADs
    trend_k: float = 3.0  # own-trend band half-width in scaled MADs of past changes
    gap_k: float = 2.5  # gender gap: how far above the past gaps' median, in scaled MADs
    min_peers: int = 5  # fewest peer values needed for a peer comparison
    min_changes: int = 4  # fewest past year-on-year changes for the trend rule
    trend_years: int = 8  # how many past changes the trend rule looks at
    gap_years: int = 4  # how many past gaps the gap rule looks at (at least 2 needed)
    equal_tolerance: float = 0.05  # relative half-width of the band when the spread is exactly 0


def robust_band(
    values: np.ndarray | list[float], k: float, equal_tolerance: float = 0.05
) -> tuple[float, float, float]:
    """(centre, scale, half-width) of the robust band median ± k·scale.

    ``scale`` is 1.4826·MAD; if that is 0 it is 1.2533·mean absolute deviation; if that is also
    0 (all values equal) the half-width is ``equal_tolerance``·|median| (or a tiny number for 0)
    and ``scale`` is half-width / k.

    >>> robust_band([1, 2, 3, 4, 100], k=2.0)[0]
    3.0
    >>> c, s, w = robust_band([5, 5, 5, 5], k=2.5); (c, round(w, 3))
    (5.0, 0.25)
    """
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    centre = float(np.median(v))
    dev = np.abs(v - centre)
    scale = _MAD_SCALE * float(np.median(dev))
    if scale <= 1e-12:
        scale = _MEAN_AD_SCALE * float(np.mean(dev))
    if scale <= 1e-12:
        half = max(equal_tolerance * abs(centre), 1e-9)
        return centre, half / k, half
    return centre, scale, k * scale


def yearly_table(
    tidy: pd.DataFrame, *, as_of: dt.date | None = None, aggregations: dict[str, str] | None = None
) -> pd.DataFrame:
    """One value per municipality, indicator, gender and year, from rows published by ``as_of``.

    Yearly rows are taken as they are. Monthly and quarterly series count only for complete years,
    aggregated as ``aggregations[indicator]`` says (``sum``, ``mean``, ``last``/``point``), or by
    the mean for rates (units with ``%`` or ``/``); other sub-annual series are left out because
    their yearly aggregation is unknown. Does not change ``tidy``.

    Returns:
        Columns municipality, indicator, gender, year (int), value, unit.
    """
    t = tidy
    if as_of is not None:
        t = t[pd.to_datetime(t["published"]) <= pd.Timestamp(as_of)]
    cols = ["municipality", "indicator", "gender", "year", "value", "unit"]
    yearly = t[t["frequency"] == "Y"].assign(
        year=lambda d: d["period"].astype(str).str.slice(0, 4).astype(int)
    )[cols]
    parts = [yearly]
    sub = t[t["frequency"].isin(["M", "Q"])]
    if len(sub):
        parts.extend(_complete_years(sub, aggregations or {}, cols))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else yearly.reset_index(drop=True)


def _complete_years(sub: pd.DataFrame, aggs: dict[str, str], cols: list[str]) -> list[pd.DataFrame]:
    """The complete years of the monthly and quarterly rows, one frame per (indicator,
    frequency) in the order the table first has them, each sorted by its keys.

    One grouping computes every aggregation at once (grouping per indicator cost a report more
    than a second); each indicator then takes its own: ``aggs[indicator]``, else the mean for
    rates (units with ``%`` or ``/``), else it is left out.
    """
    sub = sub.assign(year=sub["period"].astype(str).str.slice(0, 4).astype(int))
    firsts = sub.drop_duplicates(["indicator", "frequency"])
    keep: dict[tuple[str, str], str] = {}
    for ind, freq, unit in zip(
        firsts["indicator"], firsts["frequency"], firsts["unit"], strict=True
    ):
        agg = aggs.get(str(ind).split("__")[0]) or (
            "mean" if ("%" in str(unit) or "/" in str(unit)) else None
        )
        if agg is not None:
            keep[(str(ind), str(freq))] = {"sum": "sum", "mean": "mean"}.get(agg, "last")
    if not keep:
        return []
    wanted = [(i, f) in keep for i, f in zip(sub["indicator"], sub["frequency"], strict=True)]
    rows = sub[np.asarray(wanted, dtype=bool)].sort_values("period", kind="stable")
    keys = ["municipality", "indicator", "gender", "year", "frequency"]
    out = rows.groupby(keys, as_index=False, sort=True).agg(
        sum=("value", "sum"),
        mean=("value", "mean"),
        last=("value", "last"),
        n=("value", "size"),
        unit=("unit", "first"),
    )
    need = np.where(out["frequency"] == "M", 12, 4)
    out = out[out["n"].to_numpy() == need]
    parts: list[pd.DataFrame] = []
    for (ind, freq), fn in keep.items():
        one = out[(out["indicator"] == ind) & (out["frequency"] == freq)]
        if len(one):
            parts.append(one.assign(value=one[fn])[cols])
    return parts


def _is_count_unit(unit: str) -> bool:
    return unit.strip().lower() in COUNT_UNITS


def _looks_like_count(unit: str, values: np.ndarray) -> bool:
    """A count unit, or no unit and whole numbers in the hundreds or more (e.g. inhabitants)."""
    if _is_count_unit(unit):
        return True
    return (
        not unit.strip()
        and bool(np.all(values == np.round(values)))
        and float(np.median(values)) >= 100
    )


def _fmt(x: float, unit: str = "") -> str:
    """A number of a flag's reason in Swedish, with ' %' after shares (the unit chooses nothing else)."""
    s = fmt_number(x)
    return f"{s}\u00a0{unit}" if unit in ("%",) else s


def _better(up: bool, higher_is_better: bool | None) -> bool | None:
    """Whether a deviation upward (``up``) or downward is better in the goal's direction."""
    return None if higher_is_better is None else up == higher_is_better


def _direction_word(better: bool | None) -> str:
    return "" if better is None else " (bättre)" if better else " (sämre)"


def _log_shift(arr: np.ndarray, value: float) -> float | None:
    """The shift c of the log scale log(x + c) for non-negative data (None for data with negatives).

    Rates per inhabitant are skewed: a kommun at an eighth of its peers can sit inside a linear
    median ± k·MAD band that reaches below zero. Where the linear band does, the band is taken on
    log(x + c), with c a tenth of the peers' median (so that zeros are defined): it is then about
    ratios and stays positive.
    """
    if value < 0 or bool(np.any(arr < 0)):
        return None
    med = float(np.median(arr))
    return 0.1 * med if med > 0 else None


#: The columns of the flags table, in order.
# fmt: off
_FLAG_COLUMNS = [
    "indicator", "title", "gender", "year", "value", "unit", "peer_median", "peer_n", "band_lo",
    "band_hi", "reference", "code", "reason", "strength", "n_peers_above", "n_peers_below",
    "better", "value_k", "value_m",
]
# fmt: on


def find_standouts(
    tidy: pd.DataFrame,
    *,
    municipality: str,
    year: int | None = None,
    peers: list[str] | tuple[str, ...] | None = None,
    as_of: dt.date | None = None,
    rules: StandOutRules | None = None,
    titles: dict[str, str] | None = None,
    directions: dict[str, bool] | None = None,
    aggregations: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    min_year: int | None = None,
) -> pd.DataFrame:
    """Every flag of the three rules for one kommun, strongest first.

    Args:
        tidy: the tidy indicator table (architecture.md); not changed.
        municipality: Kolada code of the kommun.
        year: the year to judge; ``None`` takes, per indicator, the kommun's latest year known.
        peers: Kolada codes of the peers (default: the other kommuner of the kommun's län).
        as_of: use only rows published by this date (default: all rows).
        rules: thresholds of the rules.
        titles: indicator id -> title for readers (ids without a title show the id).
        directions: indicator id -> True when higher is better (adds "bättre"/"sämre").
        aggregations: yearly aggregation of sub-annual indicators (see :func:`yearly_table`).
        units: indicator id -> unit, for data without one (e.g. Kolada files without metadata).
        min_year: with ``year=None``, leave out series whose latest year is older (stale series).

    Returns:
        One row per flag: indicator, title, gender, year, value, unit, peer_median, peer_n,
        band_lo, band_hi, reference (the band's centre: peer median, expected value or past gap),
        code, reason (Swedish), strength, n_peers_above, n_peers_below. Empty (with these columns)
        when nothing stands out.
    """
    r = rules or StandOutRules()
    municipality = str(municipality).zfill(4)
    peer_codes = _peer_codes(municipality, peers)
    table = _with_units(
        yearly_table(
            tidy[tidy["municipality"].isin([municipality, *peer_codes])],
            as_of=as_of,
            aggregations=aggregations,
        ),
        units,
    )
    mine = table[table["municipality"] == municipality]
    peer_tab = table[table["municipality"].isin(peer_codes)]
    # Indicators with peer data: at least min_peers peers with a value in some year.
    peer_counts = peer_tab.groupby(["indicator", "gender", "year"])["municipality"].nunique()
    with_peers = set(peer_counts[peer_counts >= r.min_peers].index.get_level_values(0))
    mine = mine[mine["indicator"].isin(with_peers)]
    name = geo_mod.geo(municipality).name
    # Row positions per (indicator, gender, year); a peer Series is made only where a series is judged.
    peer_rows = peer_tab.groupby(["indicator", "gender", "year"]).indices

    def peer_values(key: tuple[Any, Any, Any]) -> pd.Series | None:
        pos = peer_rows.get(key)
        return None if pos is None else peer_tab.iloc[pos].set_index("municipality")["value"]

    flags: list[dict[str, Any]] = []
    for (ind, gender), series_rows in mine.groupby(["indicator", "gender"]):
        judged = _series_year(series_rows, year, min_year)
        if judged is None:
            continue
        s, y = judged
        base = _flag_base(series_rows, ind, gender, s, y, titles or {})
        arr, peer = _peer_numbers(peer_values((ind, gender, y)), r.min_peers)
        if arr is not None:
            higher_is_better = (directions or {}).get(str(ind).split("__")[0])
            flags.extend(_peer_flag(base, peer, arr, r, name, higher_is_better))
        flags.extend(
            _trend_flag(base, peer, s, y, r, (directions or {}).get(str(ind).split("__")[0]))
        )
    flags.extend(_gender_gaps(mine, year, r, titles or {}, name, min_year))
    return _flags_frame(flags)


def _peer_codes(municipality: str, peers: list[str] | tuple[str, ...] | None) -> list[str]:
    """The peers' four-digit codes (default: the other kommuner of the kommun's län), without the kommun itself."""
    return [
        str(p).zfill(4)
        for p in (peers if peers else geo_mod.kommuner_in_lan(geo_mod.lan_of(municipality)))
        if str(p).zfill(4) != municipality
    ]


def _with_units(table: pd.DataFrame, units: dict[str, str] | None) -> pd.DataFrame:
    """The yearly table with empty units filled in from ``units`` (indicator id -> unit)."""
    if not units:
        return table
    known_unit = table["indicator"].str.split("__").str[0].map(units)
    return table.assign(
        unit=table["unit"].where(table["unit"].astype(str).str.strip() != "", known_unit).fillna("")
    )


def _series_year(
    series_rows: pd.DataFrame, year: int | None, min_year: int | None
) -> tuple[pd.Series, int] | None:
    """The kommun's yearly series and the year to judge, or None when that year is missing or stale."""
    s = series_rows.drop_duplicates("year", keep="last").set_index("year")["value"].sort_index()
    y = year if year is not None else int(s.index.max())
    if y not in s.index or (min_year is not None and y < min_year):
        return None
    return s, y


def _flag_base(
    series_rows: pd.DataFrame, ind: Any, gender: Any, s: pd.Series, y: int, titles: dict[str, str]
) -> dict[str, Any]:
    """The fields every flag of one series and year shares: indicator, title, gender, year, value, unit."""
    return {
        "indicator": ind,
        "title": titles.get(str(ind), titles.get(str(ind).split("__")[0], str(ind))),
        "gender": gender,
        "year": int(y),
        "value": float(s.loc[y]),
        "unit": str(series_rows["unit"].iloc[0]),
    }


def _peer_numbers(pv: pd.Series | None, min_peers: int) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The peers' values of one indicator, gender and year (None when fewer than ``min_peers``), with their median and count."""
    if pv is None or len(pv.dropna()) < min_peers:
        return None, {"peer_median": None, "peer_n": 0}
    arr = pv.dropna().to_numpy(dtype="float64")
    return arr, {"peer_median": float(np.median(arr)), "peer_n": len(arr)}


def _gender_suffix(gender: Any) -> str:
    """' (kvinnor)' / ' (män)' after a reason about one gender; nothing for the total."""
    return "" if gender == "T" else " (" + gender_sv(str(gender)) + ")"


def _flag(
    base: dict[str, Any],
    peer: dict[str, Any],
    *,
    lo: float,
    hi: float,
    reference: float,
    code: str,
    reason: str,
    strength: float,
    above: int | None = None,
    below: int | None = None,
    better: bool | None = None,
) -> dict[str, Any]:
    """One flag: the series' fields, the peer numbers, the band, the reason and its strength."""
    return {
        **base,
        **peer,
        "band_lo": lo,
        "band_hi": hi,
        "reference": reference,
        "code": code,
        "reason": reason,
        "strength": strength,
        "n_peers_above": above,
        "n_peers_below": below,
        "better": better,
    }


def _peer_flag(
    base: dict[str, Any],
    peer: dict[str, Any],
    arr: np.ndarray,
    r: StandOutRules,
    name: str,
    higher_is_better: bool | None,
) -> list[dict[str, Any]]:
    """The peer-band rule: a flag when the kommun's value lies outside median ± k·MAD of its peers."""
    value, unit, gender = base["value"], base["unit"], base["gender"]
    if _looks_like_count(unit, arr):
        return []
    centre, scale, half = robust_band(arr, r.k, r.equal_tolerance)
    lo, hi, z = centre - half, centre + half, value
    # A linear band that reaches below zero for data that cannot: judge ratios instead.
    c = _log_shift(arr, value) if lo < 0 else None
    if c is not None:
        centre, scale, half = robust_band(np.log(arr + c), r.k, r.equal_tolerance)
        lo, hi, z = np.exp(centre - half) - c, np.exp(centre + half) - c, np.log(value + c)
        centre_value = float(np.exp(centre) - c)
    if not (value > hi or value < lo):
        return []
    lo, hi = _within_range(lo, hi, arr, unit)
    code = "peer_high" if value > hi else "peer_low"
    better = _better(code == "peer_high", higher_is_better)
    word = "högre" if code == "peer_high" else "lägre"
    reason = (
        f"{name} {_fmt(value, unit)} är klart {word} än jämförbara kommuner{_direction_word(better)}: "
        f"median {_fmt(peer['peer_median'], unit)} för {peer['peer_n']} kommuner, normalt spann {_fmt(lo, unit)}–{_fmt(hi, unit)}"
        f"{_gender_suffix(gender)}."
    )
    return [
        _flag(
            base,
            peer,
            lo=lo,
            hi=hi,
            reference=centre if c is None else centre_value,
            code=code,
            reason=reason,
            strength=abs(z - centre) / scale,
            above=int((arr > value).sum()),
            below=int((arr < value).sum()),
            better=better,
        )
    ]


def _within_range(lo: float, hi: float, values: np.ndarray, unit: str) -> tuple[float, float]:
    """A band within the possible range: >= 0 for data never negative, <= 100 for shares in %."""
    v = values[np.isfinite(values)]
    if v.size and bool(np.all(v >= 0)):
        lo, hi = max(lo, 0.0), max(hi, 0.0)
    if unit.strip() == "%" and v.size and bool(np.all(v <= 100)):
        lo, hi = min(lo, 100.0), min(hi, 100.0)
    return float(lo), float(hi)


def _trend_flag(
    base: dict[str, Any],
    peer: dict[str, Any],
    s: pd.Series,
    y: int,
    r: StandOutRules,
    higher_is_better: bool | None = None,
) -> list[dict[str, Any]]:
    """The own-trend rule: a flag when this year's change lies outside the band of past year-on-year changes (consecutive years only)."""
    if y - 1 not in s.index:
        return []
    past = s[s.index < y]
    diffs = past.diff()[past.index.to_series().diff() == 1].dropna().tail(r.trend_years)
    if len(diffs) < r.min_changes:
        return []
    prev = float(s.loc[y - 1])
    change = base["value"] - prev
    centre, scale, half = robust_band(diffs.to_numpy(), r.trend_k, r.equal_tolerance)
    if not (abs(change - centre) > half and not (abs(change) < 1e-9 and half < 1e-6)):
        return []
    better = _better(change > centre, higher_is_better)
    reason = (
        f"Förändringen {y - 1}–{y} ({fmt_signed(change)}) bryter mot kommunens egen utveckling{_direction_word(better)}: "
        f"de senaste {len(diffs)} åren ändrades värdet normalt mellan {_fmt(centre - half)} och {_fmt(centre + half)} per år"
        f"{_gender_suffix(base['gender'])}."
    )
    lo, hi = _within_range(
        prev + centre - half, prev + centre + half, s.to_numpy(dtype=float), base["unit"]
    )
    return [
        _flag(
            base,
            peer,
            lo=lo,
            hi=hi,
            reference=prev + centre,
            code="trend_break",
            reason=reason,
            strength=abs(change - centre) / scale,
            better=better,
        )
    ]


def _flags_frame(flags: list[dict[str, Any]]) -> pd.DataFrame:
    """The flags as one table in the documented columns, strongest first (empty table when none)."""
    if not flags:
        return pd.DataFrame(columns=_FLAG_COLUMNS)
    out = pd.DataFrame(flags).reindex(columns=_FLAG_COLUMNS)
    return out.sort_values(
        ["strength", "indicator"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _gender_gaps(
    mine: pd.DataFrame,
    year: int | None,
    r: StandOutRules,
    titles: dict[str, str],
    name: str,
    min_year: int | None = None,
) -> list[dict[str, Any]]:
    """Flags where the women/men gap (K − M) of this year is wider than in the previous years."""
    out: list[dict[str, Any]] = []
    split = mine[mine["gender"].isin(["K", "M"])]
    for ind, grp in split.groupby("indicator"):
        if _is_count_unit(str(grp["unit"].iloc[0])):
            continue  # a gap in head counts follows the population, not experience
        wide = (
            grp.drop_duplicates(["gender", "year"], keep="last")
            .pivot(index="year", columns="gender", values="value")
            .dropna()
        )
        if not {"K", "M"} <= set(wide.columns) or wide.empty:
            continue
        gap = (wide["K"] - wide["M"]).sort_index()
        y = year if year is not None else int(gap.index.max())
        if y not in gap.index or (min_year is not None and y < min_year):
            continue
        past = gap[gap.index < y].tail(r.gap_years)
        if len(past) < 2:
            continue
        now = float(gap.loc[y])
        past_abs = past.abs().to_numpy()
        centre, scale, half = robust_band(past_abs, r.gap_k, r.equal_tolerance)
        widening = abs(now) > past_abs.max() and abs(now) - centre > max(half, 0.10 * centre, 1e-9)
        if not widening:
            continue
        unit = str(grp["unit"].iloc[0])
        k_now, m_now = float(wide["K"].loc[y]), float(wide["M"].loc[y])
        lead = "kvinnor" if now > 0 else "män"
        reason = (
            f"Skillnaden mellan kvinnor och män ökar (sämre för jämställdheten): {_fmt(abs(now))} ({lead} högre) {y}, mot {_fmt(centre)} i mitten av de "
            f"{len(past)} föregående åren (som mest {_fmt(float(past_abs.max()))}). Kvinnor {_fmt(k_now, unit)}, män {_fmt(m_now, unit)}."
        )
        base = {
            "indicator": ind,
            "title": titles.get(str(ind), str(ind)),
            "gender": "K-M",
            "year": int(y),
            "value": now,
            "unit": unit,
        }
        flag = _flag(
            base,
            {"peer_median": None, "peer_n": 0},
            lo=centre - half,
            hi=centre + half,
            reference=centre,
            code="gender_gap_widening",
            reason=reason,
            strength=(abs(now) - centre) / scale,
            better=False,
        )
        out.append({**flag, "value_k": k_now, "value_m": m_now})
    return out


def flags_table(flags: pd.DataFrame) -> pd.DataFrame:
    """The flags as a readable table for the analyst notebook: numbers rounded, Swedish column names."""
    if flags.empty:
        return pd.DataFrame({"Meddelande": ["Inga resultat sticker ut enligt reglerna."]})
    return pd.DataFrame(
        {
            "Indikator": flags["indicator"],
            "Titel": flags["title"],
            "Kön": flags["gender"],
            "År": flags["year"],
            "Värde": flags["value"].round(3),
            "Median (jämförelse)": flags["peer_median"].astype("float64").round(3),
            "Band": [
                f"{_fmt(a)} – {_fmt(b)}"
                for a, b in zip(flags["band_lo"], flags["band_hi"], strict=True)
            ],
            "Kod": flags["code"],
            "Styrka": flags["strength"].round(2),
            "Varför": flags["reason"],
        }
    )

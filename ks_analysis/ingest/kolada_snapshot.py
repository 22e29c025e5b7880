"""Kolada API JSON reader: data, KPI-metadata and municipality-group responses of the v2 and v3 API.

A response page is ``{"count": n, "values": [...], "next_url" | "next_page": ...}``
(docs/kolada-fetch.md, and ../shared/design/kolada-api.md sections 6 and 7). Only data pages carry
observations; the reader returns no rows for KPI-metadata and group pages, so that a sources
manifest can list every file of a snapshot (each then appears in clean's manifest with its sha256).

Conventions (documented in docs/kolada-fetch.md):

- ``source_row`` is the 1-based position of the data row (one kpi x municipality x period) in the
  page's ``values`` list; its up to three gender entries share that number.
- ``published`` is the UTC date of the snapshot's fetch (from ``fetch-log.jsonl`` or the
  snapshot folder's name, e.g. ``2026-11-26T143000Z``), or the earlier ``period end + lag`` when
  the entry's lag rule gives one and the value is its first vintage (see
  :func:`read_kolada_api_json`). Outside a snapshot folder and without ``fetched`` it is left
  undated and clean's manifest lag rule dates it.
- ``value: null`` is a missing value (never 0). Entries flagged ``isdeleted`` (v3) or
  ``is_deleted`` (v2) are passed on with a ``reject`` reason, so they are counted, never kept.
- ``status`` is an undocumented flag; it is kept as is in :func:`read_kolada_api_values` and in
  the raw snapshot, and the tidy table has no column for it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest.frame import raw_frame
from ks_analysis.ingest.kolada_pages import _checked, page_values
from ks_analysis.ingest.registry import reader
from ks_analysis.paths import guard_read

__all__ = [
    "read_kolada_api_json",
    "read_kolada_api_values",
    "snapshot_time",
    "SNAPSHOT_NAME",
    "FETCH_LOG",
]

#: A snapshot folder: the UTC fetch time, with ``-2``, ``-3`` ... when two fetches share a second.
SNAPSHOT_NAME = re.compile(r"^(?P<time>\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-(?P<n>\d+))?$")
#: The per-snapshot log written by ``ks-analysis fetch kolada``.
FETCH_LOG = "fetch-log.jsonl"
# --- data pages ----------------------------------------------------------------------------


def _period_text(period: Any) -> str:
    """'2022' for 2022, "2022" and 2022.0; other text unchanged (clean rejects it)."""
    if isinstance(period, bool):
        return str(period)
    if isinstance(period, int):
        return str(period)
    if isinstance(period, float) and period.is_integer():
        return str(int(period))
    text = str(period).strip()
    return text[:4] if re.fullmatch(r"\d{4}(\.0)?", text) else text


def _deleted(entry: Mapping[str, Any]) -> bool:
    """v3 ``isdeleted`` (bool) or v2 ``is_deleted`` (0/1); absent means not deleted."""
    flag = entry.get("isdeleted", entry.get("is_deleted", False))
    if isinstance(flag, str):
        return flag.strip().lower() in ("1", "true", "yes")
    return bool(flag)


def _value_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(page_values(doc) or [], start=1):
        for entry in item["values"]:
            rows.append(
                {
                    "indicator": str(item["kpi"]).strip().upper(),
                    "municipality": str(item["municipality"]).strip(),
                    "period": _period_text(item["period"]),
                    "gender": str(entry.get("gender", "")).strip().upper(),
                    "value": entry.get("value"),
                    "count": entry.get("count"),
                    "status": entry.get("status"),
                    "deleted": _deleted(entry),
                    "source_row": i,
                }
            )
    return rows


def read_kolada_api_values(path: Path, *, rel: str | None = None) -> pd.DataFrame:
    """Every value entry of one saved data page, with Kolada's own ``count``, ``status`` and deleted flag.

    Returns:
        One row per (data row x gender entry): ``indicator, municipality, period, gender, value,
        count, status, deleted, source_row``; ``value`` None where Kolada sent null.
    """
    doc, kind = _checked(Path(path), rel, "data")
    cols = [
        "indicator",
        "municipality",
        "period",
        "gender",
        "value",
        "count",
        "status",
        "deleted",
        "source_row",
    ]
    return pd.DataFrame(_value_rows(doc), columns=cols)


# --- vintages: fetch time and earlier snapshots --------------------------------------------


def _parse_time(text: str) -> dt.datetime | None:
    """A snapshot folder name or an ISO time as an aware UTC datetime; None if it is neither."""
    try:
        if named := SNAPSHOT_NAME.match(text):
            # The folder name's time part, e.g. 2026-03-01T100000Z (a '-2' suffix is a second fetch that second).
            return dt.datetime.strptime(named.group("time"), "%Y-%m-%dT%H%M%SZ").replace(
                tzinfo=dt.UTC
            )
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def snapshot_time(folder: Path) -> dt.datetime | None:
    """When a snapshot folder was fetched (UTC): the log's ``start`` event, else the folder's name."""
    log = folder / FETCH_LOG
    if log.is_file():
        try:
            with log.open(encoding="utf-8") as fh:
                for line in fh:
                    event = json.loads(line)
                    if event.get("event") == "start" and event.get("fetched_at"):
                        t = _parse_time(str(event["fetched_at"]))
                        if t:
                            return t
        except (OSError, ValueError):
            pass  # an unreadable log falls back to the folder name, which carries the same time
    m = SNAPSHOT_NAME.match(folder.name)
    return _parse_time(m.group("time")) if m else None


def _snapshot_key(folder: Path) -> tuple[dt.datetime, int, str]:
    m = SNAPSHOT_NAME.match(folder.name)
    return (
        snapshot_time(folder) or dt.datetime.min.replace(tzinfo=dt.UTC),
        int(m.group("n") or 1) if m else 1,
        folder.name,
    )


_DATA_PATH = re.compile(
    r"/data/kpi/(?P<kpi>[^/?]+)/municipality/(?P<mun>[^/?]+)/year/(?P<year>[^/?]+)"
)


@dataclass(frozen=True)
class _Vintage:
    """What one earlier snapshot knew: its values, and which cells its data requests asked for."""

    values: dict[tuple[str, str, str, str], Any]
    asked: tuple[tuple[frozenset[str], frozenset[str], frozenset[str]], ...]

    def asked_for(self, kpi: str, mun: str, period: str) -> bool:
        return any(kpi in k and mun in m and period in y for k, m, y in self.asked)


@lru_cache(maxsize=256)
def _snapshot_vintage(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> _Vintage:
    """(kpi, municipality, gender, period) -> value of a snapshot's non-deleted entries, and what it asked for.

    ``stamp`` (names, sizes, mtimes) makes the cache forget a folder whose files changed.
    """
    values: dict[tuple[str, str, str, str], Any] = {}
    for name, _, _ in stamp:
        if name == FETCH_LOG:
            continue
        try:
            doc, _kind_ = _checked(Path(folder) / name, None, "data")
        except DataFileError:
            continue  # an earlier broken page is reported when that snapshot itself is read
        for r in _value_rows(doc):
            if not r["deleted"]:
                values[(r["indicator"], r["municipality"], r["gender"], r["period"])] = r["value"]
    asked = []
    log = Path(folder) / FETCH_LOG
    if log.is_file():
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            m = _DATA_PATH.search(urllib.parse.unquote(str(event.get("url", ""))))
            if event.get("event") == "response" and event.get("status") == 200 and m:
                asked.append(
                    tuple(
                        frozenset(p.upper() for p in m.group(g).split(","))
                        for g in ("kpi", "mun", "year")
                    )
                )
    return _Vintage(values, tuple(asked))  # type: ignore[arg-type]


def _earlier_vintages(folder: Path) -> list[_Vintage]:
    """What every snapshot beside ``folder`` (same parent) fetched before it knew, oldest first."""
    parent = folder.parent
    if not SNAPSHOT_NAME.match(folder.name) or not parent.is_dir():
        return []
    mine = _snapshot_key(folder)
    siblings = sorted(
        (p for p in parent.iterdir() if p.is_dir() and SNAPSHOT_NAME.match(p.name) and p != folder),
        key=_snapshot_key,
    )
    out = []
    for sib in siblings:
        if _snapshot_key(sib) >= mine:
            continue
        files = sorted(p for p in [*sib.glob("data-*.json"), sib / FETCH_LOG] if p.is_file())
        for p in files:  # an earlier snapshot is read too: it must lie inside the raw root as well
            guard_read(p, entry=f"earlier Kolada snapshot {sib.name}")
        stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        out.append(_snapshot_vintage(str(sib), stamp))
    return out


def _lag_rule(
    publication_lag: Mapping[str, Any] | None, lag_days: int | None
) -> tuple[int | None, dict[str, int]]:
    rule = dict(publication_lag or {})
    days = rule.get("days", lag_days)
    per = {str(k).upper(): int(v) for k, v in (rule.get("per_indicator") or {}).items()}
    return (None if days is None else int(days)), per


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


@reader("kolada_api_json")
def read_kolada_api_json(
    path: Path,
    *,
    rel: str,
    unit: str = "",
    units: Mapping[str, str] | None = None,
    source: str = "kolada",
    publication_lag: Mapping[str, Any] | None = None,
    lag_days: int | None = None,
    fetched: str | dt.date | None = None,
    **_: object,
) -> pd.DataFrame:
    """Read one saved Kolada API response page (v2 or v3) into raw rows.

    Data pages give one raw row per gender entry; KPI-metadata and municipality-group pages give
    no rows (use :func:`read_kpi_metadata` and :func:`read_municipality_groups` for them).

    Args:
        path: the saved response, usually ``<snapshot>/data-0001.json``.
        rel: path relative to the raw root, for ``source_file``.
        unit: unit for every KPI; ``units`` (``{KPI: unit}``) overrides it per KPI.
        source: the ``source`` column.
        publication_lag: the lag rule in the manifest's shape, ``{days: N, per_indicator: {KPI: N}}``;
            ``lag_days`` is a shortcut for ``{days: N}``. Without either, rows are dated by the fetch.
        fetched: the fetch date for a page outside a snapshot folder (else read from the folder).

    Dating: a value is known from the snapshot's fetch date; when the lag rule gives an earlier
    date (``period end + lag``) and no earlier snapshot beside this one held a different value or a
    null for the same cell, or asked for the cell and did not get it (its ``fetch-log.jsonl`` names
    the URLs), that earlier date is used. A value that changed (a revision), or that was unknown
    before, is dated by the fetch in which it first appears, so ``clean --as-of`` picks
    the vintage known then (with ``revisions: true`` on the manifest entry).

    Returns:
        :data:`~ks_analysis.schema.RAW_COLUMNS` rows; ``source_row`` = the 1-based position of the
        data row in ``values``; deleted entries carry a ``reject`` reason.

    Raises:
        DataFileError: the file is not JSON, or lacks a documented field (named in the message).
    """
    # Long on purpose: one pass over a page, dating each value from the fetch, its lag rule or an earlier vintage.
    path = Path(path)
    doc, kind = _checked(path, rel)
    if kind != "data":
        return raw_frame({"source_row": []})
    rows = _value_rows(doc)
    frame = pd.DataFrame(
        rows,
        columns=[
            "indicator",
            "municipality",
            "period",
            "gender",
            "value",
            "count",
            "status",
            "deleted",
            "source_row",
        ],
    )
    units = {str(k).upper(): str(v) for k, v in (units or {}).items()}
    frame["unit"] = frame["indicator"].map(lambda k: units.get(k, unit))
    frame["reject"] = frame["deleted"].map(
        lambda d: "deleted in Kolada (isdeleted/is_deleted flag); dropped on purpose" if d else None
    )
    frame["frequency"] = "Y"
    frame["value"] = frame["value"].astype("object").where(frame["value"].notna(), None)

    when: dt.datetime | dt.date | None
    if fetched is not None:
        when = fetched if isinstance(fetched, dt.date) else _parse_time(str(fetched))
    else:
        when = snapshot_time(path.parent)
    if when is None:
        frame["published"] = pd.NaT
    else:
        fetch_day = pd.Timestamp(when.date() if isinstance(when, dt.datetime) else when)
        published = pd.Series(fetch_day, index=frame.index, dtype="datetime64[s]")
        days, per = _lag_rule(publication_lag, lag_days)
        if days is not None or per:
            earlier = _earlier_vintages(path.parent) if fetched is None else []
            year = pd.to_numeric(frame["period"], errors="coerce")
            cells = zip(
                frame.index,
                frame["indicator"],
                frame["municipality"],
                frame["gender"],
                frame["period"],
                frame["value"],
                year,
                strict=True,
            )
            for i, kpi, mun, gender, period, value, y in cells:
                lag = per.get(str(kpi), days)
                if lag is None or pd.isna(y):
                    continue
                key = (str(kpi), str(mun), str(gender), str(period))
                # Only a first vintage may be dated back by the rule: a revision, or a value that an
                # earlier fetch saw as null or asked for and did not get, became known between that
                # fetch and this one.
                if any(
                    (not _same(v.values[key], value))
                    if key in v.values
                    else v.asked_for(key[0], key[1], key[3])
                    for v in earlier
                ):
                    continue
                lagged = pd.Timestamp(int(y), 12, 31) + pd.Timedelta(days=lag)
                if lagged < published[i]:
                    published[i] = lagged
        frame["published"] = published
    return raw_frame(
        frame[
            [
                "indicator",
                "municipality",
                "period",
                "gender",
                "value",
                "unit",
                "frequency",
                "source_row",
                "published",
                "reject",
            ]
        ],
        source=source,
        source_file=rel,
    )

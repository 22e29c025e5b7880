"""Readers for record-shaped files: a JSON list of objects, a SQLite table with one column per month,
and an SCB PX-Web CSV in long form (one row per region x dimension x year).

SQLite files are opened read-only and immutable (``file:...?mode=ro&immutable=1``), so that no
journal or lock file ever appears beside the raw data.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import gender_code, normalise_period, ort_key, split_region_label
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader

__all__ = [
    "read_region_month_json",
    "read_scb_bas_kommun_sqlite",
    "read_scb_long_csv",
    "open_sqlite_readonly",
]


@reader("region_month_json")
def read_region_month_json(
    path: Path,
    *,
    rel: str,
    indicator: str = "SCB_FOLKMANGD",
    unit: str = "antal",
    fields: dict[str, str] | None = None,
    source: str = "scb",
    **_: object,
) -> pd.DataFrame:
    """A JSON list of ``{"region": name, "month": "2000M01", "population": n}`` objects (SCB monthly).

    ``fields`` renames the keys (``{region: ..., month: ..., value: ...}``). ``source_row`` is the
    object's position in the list (1 = the first object); an object without the keys is a
    DataFileError naming that position.
    """
    f = {"region": "region", "month": "month", "value": "population", **(fields or {})}
    try:
        records = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(
            rel, f"is not valid UTF-8 JSON ({exc})", fix="download the file again"
        ) from None
    if not isinstance(records, list):
        raise DataFileError(
            rel, "is not a JSON list of records", fix="expected [{region, month, population}, ...]"
        )
    out: dict[str, list[object]] = {
        c: [] for c in ["municipality_name", "period", "value", "source_row"]
    }
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, dict) or not {f["region"], f["month"]} <= set(rec):
            raise DataFileError(
                rel,
                f"record {n} lacks {f['region']!r} or {f['month']!r}",
                row=n,
                value=rec,
                fix=f"every record needs the keys {f['region']}, {f['month']}, {f['value']}",
            )
        out["municipality_name"].append(rec[f["region"]])
        out["period"].append(normalise_period(rec[f["month"]])[0])
        out["value"].append(rec.get(f["value"]))
        out["source_row"].append(n)
    return raw_frame(
        out,
        indicator=indicator,
        gender="T",
        frequency="M",
        unit=unit,
        source=source,
        source_file=rel,
    )


def open_sqlite_readonly(path: Path, rel: str) -> sqlite3.Connection:
    """A read-only, immutable connection (nothing is written beside the file), or a DataFileError."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        con.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise DataFileError(
            rel, f"is not a readable SQLite database ({exc})", fix="download the file again"
        ) from None
    return con


_MONTH_COL = re.compile(r"^\d{4}M\d{2}$")


@reader("scb_bas_kommun_sqlite")
def read_scb_bas_kommun_sqlite(
    path: Path,
    *,
    rel: str,
    table: str = "Kommunarbetslöshet",
    indicator: str = "SCB_BAS_ARBETSLOSA",
    source: str = "scb",
    **_: object,
) -> pd.DataFrame:
    """SCB BAS monthly unemployed per kommun, gender and age group, one TEXT column per month.

    Expects ``Kommunnamn, Kön, Åldersgrupp, Åldersintervall, "2023M01", ...``. The indicator id is
    ``<indicator>__<AGE>`` with the age from the label (``Åldersintervall`` '60-64 år' gives
    ``60_64``; one kommun writes the code as '060-64'). Values stay text for clean to parse
    (``'..'`` for ages outside BAS is a missing marker). Derived columns (``2023Genomsnitt``, the
    rounded mean of the months) and rows without a kommun name are passed on with the reason.
    ``source_row`` is the table's rowid.
    """
    con = open_sqlite_readonly(path, rel)
    try:
        # The table name comes from the manifest, which the analyst writes; not user input.
        cur = con.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid')
        header = [str(d[0]) for d in cur.description]
        rows = cur.fetchall()
    except sqlite3.DatabaseError as exc:
        raise DataFileError(
            rel,
            f"has no readable table {table!r} ({exc})",
            fix="check the table name in the manifest",
        ) from None
    finally:
        con.close()
    check_columns(
        rel,
        header,
        ["Kommunnamn", "Kön", "Åldersintervall"],
        "expected the BAS table Kommunarbetslöshet",
    )
    pos = {h: j for j, h in enumerate(header)}
    months = [(j, h) for j, h in enumerate(header) if _MONTH_COL.match(h)]
    derived = [
        (j, h) for j, h in enumerate(header) if re.match(r"^\d{4}\D", h) and not _MONTH_COL.match(h)
    ]
    # One raw row per table row and month column, row by row: what belongs to the table row is
    # worked out once per row, what belongs to the column once per column.
    cols = [*months, *derived]
    col_period, col_freq, col_reject = [], [], []
    for _col, h in cols:
        is_month = _MONTH_COL.match(h) is not None
        period, freq = normalise_period(h) if is_month else (h[:4], "Y")
        col_period.append(period)
        col_freq.append(freq)
        col_reject.append(
            None
            if is_month
            else f"column {h!r} is derived (the rounded mean of the months), not raw data"
        )
    names, indicators, genders, whys = [], [], [], []
    for row in rows:
        name = str(row[pos["Kommunnamn"]] or "").strip()
        label = str(row[pos["Åldersintervall"]] or "").strip().removesuffix(" år")
        age = ort_key(label) if label else "OKAND_ALDER"
        empty = not name and all(row[j] in (None, "") for j, _h in months)
        whys.append(
            "an empty row (every cell blank)" if empty
            else None if name
            else f"no kommun name (Kommunnamn {row[pos['Kommunnamn']]!r}); the row cannot be placed"
        )  # fmt: skip
        names.append(name or None)
        indicators.append(f"{indicator}__{age}")
        genders.append(gender_code(row[pos["Kön"]]))
    k = len(cols)

    def per_row(values: list[Any]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=object), k)

    def per_column(values: list[Any]) -> np.ndarray:
        return np.tile(np.asarray(values, dtype=object), len(rows))

    row_why = per_row(whys)
    out = {
        "municipality_name": per_row(names),
        "indicator": per_row(indicators),
        "gender": per_row(genders),
        "frequency": per_column(col_freq),
        "period": per_column(col_period),
        "value": np.asarray([row[j] for row in rows for j, _h in cols], dtype=object),
        "source_row": np.repeat(np.asarray([int(r[0]) for r in rows], dtype=np.int64), k),
        "reject": np.where(pd.isna(row_why), per_column(col_reject), row_why),
    }
    return raw_frame(out, unit="antal", source=source, source_file=rel)


@reader("scb_long_csv")
def read_scb_long_csv(
    path: Path,
    *,
    rel: str,
    indicator: str,
    time_column: str = "år",
    unit: str = "antal",
    encoding: str = "latin-1",
    source: str = "scb",
    **_: object,
) -> pd.DataFrame:
    """SCB PX-Web CSV in long form: ``"region","ålder","år",<value>`` (one row per region x dimension x year).

    The region column holds code and name (``"0665 Vaggeryd"``); every other label column but
    the time column is appended to the id (``<indicator>__16_AR``); the last column is the value.
    Latin-1 with CRLF as SCB exports it. ``source_row`` is the file line.
    """
    text = path.read_bytes().decode(encoding)
    grid = list(csv.reader(io.StringIO(text)))
    if not grid:
        raise DataFileError(rel, "is empty", fix="export the table again")
    header = [h.strip() for h in grid[0]]
    check_columns(
        rel,
        [h.lower() for h in header],
        ["region", time_column.lower()],
        "expected region, the dimensions, the year and a value column",
    )
    low = [h.lower() for h in header]
    reg, tcol, vcol = low.index("region"), low.index(time_column.lower()), len(header) - 1
    dims = [j for j in range(len(header)) if j not in (reg, tcol, vcol)]
    lines, kept = [], []
    for i, row in enumerate(grid[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DataFileError(
                rel,
                f"has {len(row)} fields, the header {len(header)}",
                row=i,
                fix="export the table again",
            )
        lines.append(i)
        kept.append(row)
    # Column by column: region labels, periods and dimension labels repeat on every line, and
    # each distinct one is worked out once (the helpers keep them).
    columns = list(zip(*kept, strict=True)) if kept else [() for _ in header]
    places = [split_region_label(c) for c in columns[reg]]
    periods = [normalise_period(c) for c in columns[tcol]]
    suffixes = [
        "".join(f"__{ort_key(label)}" for label in labels)
        for labels in zip(*(columns[j] for j in dims), strict=True)
    ] if dims else [""] * len(kept)  # fmt: skip
    out: dict[str, list[Any]] = {
        "municipality": [code for code, _ in places],
        "municipality_name": [name for _, name in places],
        "indicator": [indicator + sfx for sfx in suffixes],
        "frequency": [freq for _, freq in periods],
        "period": [per for per, _ in periods],
        "value": list(columns[vcol]),
        "source_row": lines,
    }
    return raw_frame(out, gender="T", unit=unit, source=source, source_file=rel)

"""The tidy indicator table: its columns, types and key, declared once as a pandera model."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import DataFrame, Series

__all__ = [
    "TIDY_COLUMNS",
    "KEY",
    "RAW_COLUMNS",
    "TidyIndicators",
    "validate_tidy",
    "empty_tidy",
    "empty_raw",
]

#: Column order of the tidy table (architecture.md, contract).
TIDY_COLUMNS = [
    "municipality",
    "indicator",
    "gender",
    "frequency",
    "period",
    "period_end",
    "value",
    "unit",
    "source",
    "source_file",
    "source_row",
    "published",
]

#: One observation per key.
KEY = ["municipality", "indicator", "gender", "period"]

#: What every reader returns: one row per observation (value cell) it read, before cleaning.
#: ``municipality`` is a 4-character Kolada code when the source has codes, else empty and
#: ``municipality_name`` holds the name as written; ``value`` is the raw cell (str, number or
#: None); ``period`` is canonical (``2022``, ``2022-Q1``, ``2022-03``) when the reader could
#: make it so, else the raw text (clean rejects it). ``published`` is set when the source
#: itself says when the value became known, else NaT and the manifest's lag rule decides.
#: ``note`` carries a reader's remark that clean keeps in the rejected rows (e.g. why a row is
#: an aggregate or a superseded definition); ``reject`` is a reason the reader already knows.
RAW_COLUMNS = [
    "municipality",
    "municipality_name",
    "indicator",
    "gender",
    "frequency",
    "period",
    "value",
    "unit",
    "source",
    "source_file",
    "source_row",
    "published",
    "reject",
]


class TidyIndicators(pa.DataFrameModel):
    """One observation per (municipality, indicator, gender, period), with where it came from."""

    municipality: Series[str] = pa.Field(str_matches=r"^\d{4}$")
    indicator: Series[str] = pa.Field(str_matches=r"^([A-Z]\d{5}|LOKAL_[A-Z0-9_]+|[A-Z][A-Z0-9_]+)$")
    gender: Series[str] = pa.Field(isin=["T", "K", "M"])
    frequency: Series[str] = pa.Field(isin=["Y", "Q", "M"])
    period: Series[str] = pa.Field(str_matches=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")
    period_end: Series[pd.Timestamp]
    value: Series[float] = pa.Field(nullable=False)
    unit: Series[str]
    source: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    published: Series[pd.Timestamp]

    class Config:
        strict = True
        coerce = True
        unique = ["municipality", "indicator", "gender", "period"]
        ordered = True

    @pa.dataframe_check
    def published_not_before_period_start(cls, df: pd.DataFrame) -> Series[bool]:  # noqa: N805
        """A value cannot be known before its period began (a sign of a wrong lag rule)."""
        start = df["period_end"] - pd.to_timedelta(366, unit="D")
        return df["published"] >= start


def validate_tidy(frame: pd.DataFrame) -> DataFrame[TidyIndicators]:
    """Check ``frame`` against the tidy schema lazily, so one run lists every bad cell.

    Raises:
        pandera.errors.SchemaErrors: with every failing check and cell.
    """
    return TidyIndicators.validate(frame, lazy=True)


def empty_tidy() -> pd.DataFrame:
    """An empty tidy table with the right columns and types."""
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in TIDY_COLUMNS})
    frame["value"] = frame["value"].astype("float64")
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["published"] = pd.to_datetime(frame["published"])
    return frame


def empty_raw() -> pd.DataFrame:
    """An empty reader result with the raw columns."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RAW_COLUMNS})
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["published"] = pd.to_datetime(frame["published"])
    return frame

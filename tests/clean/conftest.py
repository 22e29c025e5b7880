"""Builders of small raw frames and source entries for the clean tests (as fixtures)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from ks_analysis.ingest.frame import raw_frame
from ks_analysis.ingest.manifest import SourceSpec


def _spec(name: str = "s", **kw: object) -> SourceSpec:
    """A long_csv source entry named ``name`` with a 60-day lag unless ``publication_lag`` is given."""
    return SourceSpec(
        name=name,
        files=("x",),
        reader="long_csv",
        publication_lag=kw.pop("publication_lag", {"days": 60}),
        **kw,
    )  # type: ignore[arg-type]


def _raw(
    rows: list[dict[str, object]], spec: str = "s", source_file: str = "f.csv"
) -> pd.DataFrame:
    """Raw rows of one file: Vaggeryd, N03926, T, 2022, % unless a row says otherwise."""
    base = {
        "municipality": "0665",
        "indicator": "N03926",
        "gender": "T",
        "frequency": "Y",
        "period": "2022",
        "unit": "%",
        "source": "kolada",
    }
    frame = raw_frame(
        pd.DataFrame([{**base, "source_row": i + 2, **r} for i, r in enumerate(rows)]),
        source_file=source_file,
    )
    return frame.assign(spec=spec)


@pytest.fixture(scope="session")
def make_spec() -> Callable[..., SourceSpec]:
    """Build a source entry: ``make_spec("hi", precedence=2)``."""
    return _spec


@pytest.fixture(scope="session")
def make_raw() -> Callable[..., pd.DataFrame]:
    """Build raw rows: ``make_raw([{"value": "1"}], spec="s", source_file="f.csv")``."""
    return _raw

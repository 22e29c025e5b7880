"""Tests of ingest/kolada_web.py: Kolada web exports: line numbers of rejected rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ks_analysis import run_clean


def test_kolada_long_names_source_row_counts_blank_lines(
    one_source_raw: Callable[..., Path],
) -> None:
    """In a Kolada export with long column names, a rejected row after a blank line names the editor's line (4)."""
    text = "Variabelkod,Kommun,År,Värde\nN03926,Vaggeryd,2018,2.5\n\nN03926,Vaggeryd,2019,abc\n"
    result = run_clean(one_source_raw("nyckeltal.csv", text, reader="kolada_long_names"))
    assert result.tidy["source_row"].tolist() == [2]
    assert result.rejected[["source_row", "value"]].to_dict("records") == [
        {"source_row": 4, "value": "abc"}
    ]

"""Tests of clean's row accounting (in clean/tidy.py): rejected rows counted by a readable reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ks_analysis import run_clean


def test_manifest_counts_rejections_by_readable_reason(one_source_raw: Callable[..., Path]) -> None:
    """Fixed reasons keep their text ('.' stays '.'); reasons naming values count under one key."""
    text = (
        "kommun,indicator,period,value,unit\n"
        "Vaggeryd,N03926,2018,2.5,%\n"
        'Vaggeryd,N03926,2019,"2,1 procent",%\n'
        "Vagerydd,N03926,2020,2.0,%\n"
        "Vagerydx,N03926,2021,2.0,%\n"
        "Samtliga,N03926,2021,2.0,%\n"
    )
    by_reason = run_clean(one_source_raw("a.csv", text)).manifest()["inputs"][0][
        "rejected_by_reason"
    ]
    assert by_reason == {
        "not a number; write numbers with '.' as decimal point and no text": 1,
        "unknown kommun or län name '…'": 2,
        "aggregate row '…' dropped on purpose (not a kommun)": 1,
    }

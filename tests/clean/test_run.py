"""Cleaning a vintage once per process while the raw folder's files stay the same."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from ks_analysis.clean import run as clean_run
from ks_analysis.clean.rules import PreparedRows
from ks_analysis.ingest.read import read_sources


@pytest.fixture
def raw(demo_raw_copy: Path) -> Path:
    return demo_raw_copy


def test_a_vintage_is_cleaned_once_and_each_caller_gets_its_own_tables(
    raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reports' worth of calls: the vintage-independent rules run once, each vintage is
    cleaned once, equal to a clean from scratch, and a caller's edit of its tables never
    reaches the next caller."""
    t1, t2 = dt.date(2019, 4, 30), dt.date(2019, 8, 31)
    fresh = clean_run.clean_sources(*read_sources(raw), as_of=t1)
    prepared: list[int] = []
    cleaned: list[object] = []
    real_prepare, real_clean = clean_run.prepare_indicators, PreparedRows.clean

    def counting_prepare(*args, **kwargs):  # type: ignore[no-untyped-def]
        prepared.append(1)
        return real_prepare(*args, **kwargs)

    def counting_clean(self, as_of=None):  # type: ignore[no-untyped-def]
        cleaned.append(as_of)
        return real_clean(self, as_of)

    monkeypatch.setattr(clean_run, "prepare_indicators", counting_prepare)
    monkeypatch.setattr(PreparedRows, "clean", counting_clean)
    first = clean_run.clean_once(raw, as_of=t1)
    assert first.tidy.equals(fresh.tidy) and first.rejected.equals(fresh.rejected)
    first.tidy.loc[first.tidy.index[0], "value"] = -1.0
    first.inputs[0]["rows_read"] = -1
    again = clean_run.clean_once(raw, as_of=t1)
    assert again.tidy.equals(fresh.tidy) and again.inputs == fresh.inputs
    clean_run.clean_once(raw, as_of=t2)
    clean_run.clean_once(raw, as_of=t2)
    assert cleaned == [t1, t2]
    assert prepared == [1]


def test_vintages_cleaned_from_one_preparation_equal_cleans_from_scratch(raw: Path) -> None:
    """Whatever the order, a vintage cleaned after others (sharing their preparation) has the
    tables, counts and reasons of the same vintage cleaned alone; a later vintage's rejections
    never leak into an earlier one's."""
    rows, specs, files_info = read_sources(raw)
    days = [dt.date(2019, 8, 31), None, dt.date(2018, 12, 31), dt.date(2019, 4, 30)]
    for day in days:
        clean_run.clean_once(raw, as_of=day)
    for day in days:
        alone = clean_run.clean_sources(rows, specs, files_info, as_of=day)
        shared = clean_run.clean_once(raw, as_of=day)
        assert shared.tidy.equals(alone.tidy), day
        assert shared.rejected.equals(alone.rejected), day
        assert shared.inputs == alone.inputs, day
    late = clean_run.clean_once(raw, as_of=dt.date(2018, 12, 31)).rejected
    everything = clean_run.clean_once(raw, as_of=None).rejected
    assert late["reason"].str.startswith("published after").any()
    assert not everything["reason"].str.startswith("published after").any()


def test_a_changed_file_is_cleaned_again(raw: Path) -> None:
    before = clean_run.clean_once(raw, as_of=None)
    reg = raw / "lokalt" / "register.csv"
    lines = reg.read_text(encoding="utf-8").splitlines(keepends=True)
    reg.write_text("".join(lines[:-1]), encoding="utf-8")  # the last row removed
    st = reg.stat()
    os.utime(reg, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    after = clean_run.clean_once(raw, as_of=None)
    read_before = sum(i["rows_read"] for i in before.inputs)
    assert sum(i["rows_read"] for i in after.inputs) == read_before - 1

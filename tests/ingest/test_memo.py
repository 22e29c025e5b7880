"""Reading a raw folder once per process while its files stay the same."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.ingest import memo
from ks_analysis.ingest.read import read_sources
from ks_analysis.paths import DEMO_DIR


@pytest.fixture
def raw(demo_raw_copy: Path) -> Path:
    return demo_raw_copy


def test_a_second_read_gives_the_same_rows_without_reading(
    raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, specs, files = memo.read_sources_once(raw)
    fresh = read_sources(raw)[0]
    assert first.equals(fresh)
    calls: list[Path] = []
    monkeypatch.setattr(memo, "read_sources", lambda *a, **k: calls.append(a[0]))
    second, specs2, files2 = memo.read_sources_once(raw)
    assert calls == []  # served from memory
    assert second.equals(fresh) and specs2.keys() == specs.keys() and files2 == files


def test_each_caller_gets_its_own_copy(raw: Path) -> None:
    a = memo.read_sources_once(raw)[0]
    original = a.loc[0, "source_row"]
    a.loc[0, "source_row"] = -1
    a.pop("value")
    b = memo.read_sources_once(raw)[0]
    assert b.loc[0, "source_row"] == original and "value" in b.columns


def test_a_changed_file_is_read_again(raw: Path) -> None:
    before = memo.read_sources_once(raw)[0]
    reg = raw / "lokalt" / "register.csv"
    lines = reg.read_text(encoding="utf-8").splitlines(keepends=True)
    reg.write_text("".join(lines[:-1]), encoding="utf-8")  # the last row removed
    st = reg.stat()
    os.utime(reg, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    after = memo.read_sources_once(raw)[0]
    assert len(after) == len(before) - 1


def test_a_failed_read_is_not_kept(raw: Path) -> None:
    (raw / "sources.yaml").write_text("sources: [", encoding="utf-8")
    with pytest.raises(DataFileError):
        memo.read_sources_once(raw)
    shutil.copy(DEMO_DIR / "sources.yaml", raw / "sources.yaml")
    assert not memo.read_sources_once(raw)[0].empty

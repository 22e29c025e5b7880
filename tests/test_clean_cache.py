"""The cleaned-vintage cache on disk: a later process gets the very vintage, never a stale one."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis import _logs
from ks_analysis.clean import cache, run
from ks_analysis.errors import DataFileError
from ks_analysis.ingest import memo

POPULATION = Path("kolada") / "ddf--datapoints--n01951--by--geo--year.csv"
AS_OF = dt.date(2019, 8, 31)


def _new_process() -> None:
    """Forget what this process kept in memory, as a new process would not have it."""
    memo.clear()
    run._CLEANED.clear()
    run._PREPARED.clear()
    cache._FOLDER_KEYS.clear()
    _logs._SAID.clear()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    _new_process()
    return folder


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the raw folder was read again")

    monkeypatch.setattr(run, "read_sources", refuse)


def _same(a: run.CleanResult, b: run.CleanResult) -> None:
    pd.testing.assert_frame_equal(a.tidy, b.tidy)
    pd.testing.assert_frame_equal(a.rejected, b.rejected)
    assert a.inputs == b.inputs
    assert a.as_of == b.as_of


def test_a_later_process_reads_the_vintage_back_without_the_raw_files(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run.clean_once(demo_raw_copy, as_of=AS_OF)
    entries = [p for p in cache_dir.iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and (entries[0] / "meta.json").is_file()
    _new_process()
    _no_reading(monkeypatch)
    again = run.clean_once(demo_raw_copy, as_of=AS_OF)
    _same(again, first)
    assert (again.tidy["published"] <= pd.Timestamp(AS_OF)).all()
    # and what it gives equals a clean without any cache
    monkeypatch.undo()
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    _new_process()
    _same(run.clean_once(demo_raw_copy, as_of=AS_OF), first)


def test_each_vintage_is_its_own_entry(demo_raw_copy: Path, cache_dir: Path) -> None:
    t1 = run.clean_once(demo_raw_copy, as_of=dt.date(2019, 4, 30))
    t2 = run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert len(list(cache_dir.iterdir())) == 2
    _new_process()
    assert len(run.clean_once(demo_raw_copy, as_of=dt.date(2019, 4, 30)).tidy) == len(t1.tidy)
    assert len(run.clean_once(demo_raw_copy, as_of=AS_OF).tidy) == len(t2.tidy)
    assert len(t1.tidy) < len(t2.tidy)


def test_a_changed_byte_with_the_same_size_and_time_is_cleaned_again(
    demo_raw_copy: Path, cache_dir: Path
) -> None:
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    f = demo_raw_copy / POPULATION
    st = f.stat()
    data = f.read_bytes()
    line = next(ln for ln in data.decode("utf-8").splitlines() if ln.startswith("0665,2018,"))
    value = line.split(",")[2]
    changed_value = value[:-1] + ("1" if value[-1] != "1" else "2")  # same length
    f.write_bytes(data.replace(line.encode(), f"0665,2018,{changed_value}".encode()))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    _new_process()
    tidy = run.clean_once(demo_raw_copy, as_of=AS_OF).tidy
    row = tidy[(tidy["indicator"] == "N01951") & (tidy["municipality"] == "0665")
               & (tidy["period"] == "2018") & (tidy["gender"] == "T")]  # fmt: skip
    assert row["value"].tolist() == [float(changed_value)]
    assert len(list(cache_dir.iterdir())) == 2


def test_a_damaged_entry_is_cleaned_again_and_replaced(
    demo_raw_copy: Path, cache_dir: Path
) -> None:
    first = run.clean_once(demo_raw_copy, as_of=AS_OF)
    (entry,) = list(cache_dir.iterdir())
    (entry / "tidy.arrow").write_bytes(b"not arrow")
    _new_process()
    _same(run.clean_once(demo_raw_copy, as_of=AS_OF), first)
    _new_process()
    _same(cache.load(entry.name) or pytest.fail("not kept again"), first)


def test_a_cache_that_cannot_be_written_only_costs_time(
    demo_raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    _new_process()
    result = run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert len(result.tidy) > 1000
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_log_lines_of_the_first_clean_are_said_again_on_a_hit(
    demo_raw_copy: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (demo_raw_copy / "kolada" / "notes.txt").write_text("an analyst's note", encoding="utf-8")
    # the first run is quiet (ERROR only, as `-q`); the warning is kept all the same
    logging.getLogger().setLevel(logging.ERROR)
    caplog.set_level(logging.ERROR)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert not [r for r in caplog.records if "notes.txt" in r.getMessage()]
    assert logging.getLogger("ks_analysis").propagate  # the package's logging as it was
    _new_process()
    caplog.clear()
    caplog.set_level(logging.INFO)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    said = [r for r in caplog.records if "notes.txt" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.WARNING]
    assert said[0].name == "ks_analysis.ingest.read"


def test_a_failed_read_is_never_kept(demo_raw_copy: Path, cache_dir: Path) -> None:
    f = demo_raw_copy / POPULATION
    f.write_bytes(b"\x00\xff" * 50)
    for _ in range(2):
        _new_process()
        with pytest.raises(DataFileError):
            run.run_clean(demo_raw_copy, as_of=AS_OF)
    assert not cache_dir.exists() or not any(cache_dir.iterdir())


def test_only_the_most_recently_used_entries_are_kept(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    days = [dt.date(2019, 4, 30), dt.date(2019, 8, 31), dt.date(2019, 12, 31)]
    for day in days:
        run.clean_once(demo_raw_copy, as_of=day)
    kept = {p.name for p in cache_dir.iterdir()}
    assert len(kept) == 2
    _new_process()
    keys = [cache.content_key(demo_raw_copy, None, d, memo.read_key(demo_raw_copy)) for d in days]
    assert kept == set(keys[1:])


def test_a_cache_folder_inside_the_raw_folder_is_never_written(
    demo_raw_copy: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = sorted(p.relative_to(demo_raw_copy) for p in demo_raw_copy.rglob("*"))
    monkeypatch.setenv(cache.CACHE_ENV, str(demo_raw_copy / "cache"))
    _new_process()
    caplog.set_level(logging.WARNING)
    assert len(run.clean_once(demo_raw_copy, as_of=AS_OF).tidy) > 1000
    assert sorted(p.relative_to(demo_raw_copy) for p in demo_raw_copy.rglob("*")) == before
    (said,) = [r.getMessage() for r in caplog.records if cache.CACHE_ENV in r.getMessage()]
    assert "raw data folder" in said and "not cached" in said


def test_the_index_kept_beside_a_vintage_is_the_one_its_table_gives(
    demo_raw_copy: Path, cache_dir: Path
) -> None:
    from ks_analysis.forecast import series

    first = run.clean_once(demo_raw_copy, as_of=AS_OF)
    built = series.TidyIndex(first.tidy)
    _new_process()
    series._INDEXES.clear()
    made: list[bool] = []
    real_from_parts = series.TidyIndex.from_parts

    def counted(*a: object, **k: object) -> series.TidyIndex:
        made.append(True)
        return real_from_parts(*a, **k)  # type: ignore[arg-type]

    monkey = pytest.MonkeyPatch()
    monkey.setattr(series.TidyIndex, "from_parts", counted)
    try:
        again = run.clean_once(demo_raw_copy, as_of=AS_OF)
        assert not made  # made only when first asked for
        kept = series.tidy_index(again.tidy)
    finally:
        monkey.undo()
    assert made == [True], "the kept index was not used"
    for name in ("period", "frequency", "unit", "value", "published", "year", "sub"):
        a, b = getattr(kept, name), getattr(built, name)
        assert a.dtype.kind == b.dtype.kind and len(a) == len(b), name
        assert pd.Series(a).equals(pd.Series(b)), name
    assert list(kept.groups) == list(built.groups)
    assert all((kept.groups[k] == built.groups[k]).all() for k in built.groups)
    assert kept.by_indicator == built.by_indicator


def test_an_index_that_does_not_fit_is_made_again(demo_raw_copy: Path, cache_dir: Path) -> None:
    import numpy as np

    from ks_analysis.forecast import series

    run.clean_once(demo_raw_copy, as_of=AS_OF)
    (entry,) = list(cache_dir.iterdir())
    with np.load(entry / "index.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["group_rows"] = arrays["group_rows"][::-1] + 10**9  # rows the table does not have
    np.savez(entry / "index.npz", **arrays)
    _new_process()
    series._INDEXES.clear()
    again = run.clean_once(demo_raw_copy, as_of=AS_OF)
    ix = series.tidy_index(again.tidy)  # made from the table, as without a cache
    built = series.TidyIndex(again.tidy)
    assert list(ix.groups) == list(built.groups)
    assert all((ix.groups[k] == built.groups[k]).all() for k in built.groups)


def test_a_cache_folder_holding_the_raw_folder_is_never_used(
    demo_raw_copy: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    outer = demo_raw_copy.parent
    (demo_raw_copy / "meta.json").write_text("{}", encoding="utf-8")  # looks like an entry
    monkeypatch.setenv(cache.CACHE_ENV, str(outer))
    monkeypatch.setattr(cache, "MAX_ENTRIES", 0)
    caplog.set_level(logging.WARNING)
    for day in (dt.date(2019, 4, 30), AS_OF):
        _new_process()
        run.clean_once(demo_raw_copy, as_of=day)
    assert (demo_raw_copy / "sources.yaml").is_file()
    assert [r for r in caplog.records if "holds the raw data folder" in r.getMessage()]


def test_pruning_removes_only_the_caches_own_entries(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir.mkdir()
    mine = cache_dir / "notes"
    mine.mkdir()
    (mine / "meta.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(cache, "MAX_ENTRIES", 0)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert (mine / "meta.json").is_file()


def test_a_symlinked_folder_is_keyed_by_what_it_holds(demo_raw_copy: Path, cache_dir: Path) -> None:
    (demo_raw_copy / "vintages").mkdir()
    kolada = demo_raw_copy / "kolada"
    v1, v2 = demo_raw_copy / "vintages" / "v1", demo_raw_copy / "vintages" / "v2"
    kolada.rename(v1)
    import shutil

    shutil.copytree(v1, v2)
    f = v2 / POPULATION.name
    data = f.read_bytes()
    line = next(ln for ln in data.decode().splitlines() if ln.startswith("0665,2018,"))
    f.write_bytes(data.replace(line.encode(), b"0665,2018,99999"))
    kolada.symlink_to(Path("vintages") / "v1")
    first = run.clean_once(demo_raw_copy, as_of=AS_OF).tidy
    kolada.unlink()
    kolada.symlink_to(Path("vintages") / "v2")
    _new_process()
    second = run.clean_once(demo_raw_copy, as_of=AS_OF).tidy

    def pop2018(t: pd.DataFrame) -> list[float]:
        pick = (t["indicator"] == "N01951") & (t["municipality"] == "0665")
        return t[pick & (t["period"] == "2018") & (t["gender"] == "T")]["value"].tolist()

    assert pop2018(second) == [99999.0] and pop2018(first) != [99999.0]


def test_a_symlinked_file_is_keyed_by_where_it_points(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = demo_raw_copy / POPULATION
    (demo_raw_copy / "backup").mkdir()
    (demo_raw_copy / "backup" / f.name).write_bytes(f.read_bytes())
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    f.unlink()
    f.symlink_to(Path("..") / "backup" / f.name)  # the same bytes, now through a link
    _new_process()
    cached = run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert len(list(cache_dir.iterdir())) == 2  # a new key, not the first entry
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    _new_process()
    _same(cached, run.clean_once(demo_raw_copy, as_of=AS_OF))


def test_a_vintage_cleaned_second_in_a_process_keeps_what_the_read_said(
    demo_raw_copy: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (demo_raw_copy / "kolada" / "notes.txt").write_text("an analyst's note", encoding="utf-8")
    run.clean_once(demo_raw_copy, as_of=dt.date(2019, 4, 30))
    run.clean_once(demo_raw_copy, as_of=AS_OF)  # the read is reused from memory
    _new_process()
    caplog.set_level(logging.INFO)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert [r for r in caplog.records if "notes.txt" in r.getMessage()]


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("log"),
        lambda m: m.pop("inputs"),
        lambda m: m.update(as_of="garbage"),
        lambda m: m.update(log=[["ks_analysis", "WARNING", "x"]]),
        lambda m: m.update(inputs="not a list"),
    ],
)
def test_a_meta_file_with_bad_content_is_cleaned_again(
    demo_raw_copy: Path, cache_dir: Path, damage: object
) -> None:
    import json

    first = run.clean_once(demo_raw_copy, as_of=AS_OF)
    (entry,) = list(cache_dir.iterdir())
    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    damage(meta)  # type: ignore[operator]
    (entry / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    _new_process()
    _same(run.clean_once(demo_raw_copy, as_of=AS_OF), first)


def test_copies_of_one_folder_say_their_own_paths(
    demo_raw_copy: Path, cache_dir: Path, tmp_path: Path
) -> None:
    import shutil

    other = tmp_path / "other"
    shutil.copytree(demo_raw_copy, other)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    run.clean_once(other, as_of=AS_OF)
    assert len(list(cache_dir.iterdir())) == 2


def test_without_a_cache_logging_is_left_alone(
    demo_raw_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    _new_process()
    pkg = logging.getLogger("ks_analysis")
    seen: list[tuple[int, bool, int]] = []
    real = run._clean_anew

    def spy(*a: object, **k: object) -> run.CleanResult:
        seen.append((pkg.level, pkg.propagate, len(pkg.handlers)))
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "_clean_anew", spy)
    logging.getLogger().setLevel(logging.ERROR)
    before = (pkg.level, pkg.propagate, len(pkg.handlers))
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert seen == [before]


LIBRARY_USER = r"""
import logging, sys
from pathlib import Path
import datetime as dt
from ks_analysis.clean.run import clean_once
if sys.argv[2] == "child-info":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("ks_analysis.ingest._common").setLevel(logging.INFO)
clean_once(Path(sys.argv[1]), as_of=dt.date(2019, 8, 31))
"""


@pytest.mark.parametrize("setup", ["unconfigured", "child-info"])
def test_a_library_user_sees_the_same_lines_cold_warm_and_without_a_cache(
    demo_raw_copy: Path, tmp_path: Path, setup: str
) -> None:
    import subprocess
    import sys

    (demo_raw_copy / "kolada" / "notes.txt").write_text("an analyst's note", encoding="utf-8")
    register = demo_raw_copy / "lokalt" / "register.csv"
    register.write_bytes(register.read_bytes().decode("utf-8").encode("latin-1"))

    def stderr(cache_env: str) -> str:
        env = {**os.environ, cache.CACHE_ENV: cache_env}
        args = [sys.executable, "-c", LIBRARY_USER, str(demo_raw_copy), setup]
        run_ = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert run_.returncode == 0, run_.stderr
        return run_.stderr

    without = stderr("off")
    assert "notes.txt" in without
    assert ("not UTF-8" in without) == (setup == "child-info")
    folder = str(tmp_path / "c")
    assert stderr(folder) == without  # cold
    assert stderr(folder) == without  # warm


def test_a_line_is_said_once_per_process_however_many_vintages_hit(
    demo_raw_copy: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (demo_raw_copy / "kolada" / "notes.txt").write_text("an analyst's note", encoding="utf-8")
    days = [dt.date(2019, 4, 30), AS_OF, dt.date(2019, 12, 31)]
    caplog.set_level(logging.INFO)
    for day in days:
        run.clean_once(demo_raw_copy, as_of=day)
    cold = [r for r in caplog.records if "notes.txt" in r.getMessage()]
    _new_process()
    caplog.clear()
    for day in days:
        run.clean_once(demo_raw_copy, as_of=day)
    warm = [r for r in caplog.records if "notes.txt" in r.getMessage()]
    assert len(cold) == len(warm) == 1


def test_the_paths_as_given_are_part_of_the_key(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    monkeypatch.chdir(demo_raw_copy.parent)
    _new_process()
    run.clean_once(Path(demo_raw_copy.name), as_of=AS_OF)
    assert len(list(cache_dir.iterdir())) == 2


def test_a_file_changed_while_it_is_read_is_not_kept(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = demo_raw_copy / POPULATION
    real_read = run.read_sources

    def read_then_change(*a: object, **k: object) -> object:
        out = real_read(*a, **k)  # type: ignore[arg-type]
        f.write_bytes(f.read_bytes().replace(b"0665,2018,", b"0665,2018,1"))
        return out

    monkeypatch.setattr(run, "read_sources", read_then_change)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert not cache_dir.exists() or not any(cache_dir.iterdir())


def test_a_read_made_without_recording_is_not_kept_without_its_lines(
    demo_raw_copy: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (demo_raw_copy / "kolada" / "notes.txt").write_text("an analyst's note", encoding="utf-8")
    memo.read_sources_once(demo_raw_copy)  # as the backtest reads, before any vintage
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert not cache_dir.exists() or not any(cache_dir.iterdir())
    _new_process()
    run.clean_once(demo_raw_copy, as_of=AS_OF)  # a new process: kept, with its lines
    _new_process()
    caplog.set_level(logging.INFO)
    run.clean_once(demo_raw_copy, as_of=AS_OF)
    assert [r for r in caplog.records if "notes.txt" in r.getMessage()]


def test_an_entry_on_a_read_only_file_system_is_used(
    demo_raw_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run.clean_once(demo_raw_copy, as_of=AS_OF)
    (entry,) = list(cache_dir.iterdir())
    old = os.umask(0o022)
    os.umask(old)
    assert entry.stat().st_mode & 0o777 == 0o777 & ~old  # a shared cache follows the umask

    def read_only(*_a: object, **_k: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(cache.os, "utime", read_only)
    _new_process()
    _no_reading(monkeypatch)
    _same(run.clean_once(demo_raw_copy, as_of=AS_OF), first)


def test_cleaned_text_columns_are_one_arrow_piece_cold_and_cached(
    real_data: Path, cache_dir: Path
) -> None:
    """A chunked column is joined on every take (30 rows by position of the real tidy table
    cost 60 times more in three pieces); the real data's sources are concatenated in pieces."""
    from ks_analysis.paths import PROJECT_ROOT

    sources = PROJECT_ROOT / "data" / "real-sources.yaml"

    def chunks(result: run.CleanResult) -> set[int]:
        return {
            df[c].array._pa_array.num_chunks
            for df in (result.tidy, result.rejected)
            for c in df.columns
            if hasattr(df[c].array, "_pa_array")
        }

    cold = run.clean_once(real_data, sources, as_of=AS_OF)
    assert len(cold.tidy) > 100_000 and chunks(cold) == {1}
    _new_process()
    assert chunks(run.clean_once(real_data, sources, as_of=AS_OF)) == {1}

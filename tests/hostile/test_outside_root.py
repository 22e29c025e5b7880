"""Class 3, reads outside the raw root: symlinks, ``..`` globs, absolute paths and reader options
that lead out of the raw folder are refused naming the entry and the path; nothing outside is
opened, and no line of it is quoted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

LONG = "municipality,indicator,gender,period,value,unit\n0665,N03926,T,2018,2.5,%\n"
SECRET = "root:x:0:0:secret-line-never-quoted\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the raw folder, with a CSV and a 'secret' file in it."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "data.csv").write_text(LONG, encoding="utf-8")
    (d / "passwd").write_text(SECRET, encoding="utf-8")
    return d


def _manifest(raw: Path, files: str, reader: str = "long_csv", options: str = "{}") -> None:
    (raw / "sources.yaml").write_text(
        f"sources:\n  - name: s\n    files: {files}\n    reader: {reader}\n    options: {options}\n"
        "    publication_lag: {days: 30}\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("setup", "files"),
    [
        ("link_file", "'link.csv'"),  # a symlink to a file outside
        ("link_glob", "'*.csv'"),  # the symlink reached by a glob
        ("link_dir", "'sub/*.csv'"),  # a symlinked folder
        ("dotdot", "'../outside/*.csv'"),
        ("dotdot", "'../outside/data.csv'"),
        ("abs", "'{outside}/data.csv'"),
        ("abs", "'/etc/host*'"),
        ("abs", "'~/x.csv'"),
    ],
)
def test_paths_leading_out_of_the_raw_root_are_refused(
    tmp_path: Path, outside: Path, cli: Callable[..., Any], setup: str, files: str
) -> None:
    """Each way out of the raw folder exits 2, names the source entry and the path, and writes nothing."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.csv").write_text(LONG, encoding="utf-8")
    if setup == "link_file" or setup == "link_glob":
        (raw / "link.csv").symlink_to(outside / "passwd")
    if setup == "link_dir":
        (raw / "sub").symlink_to(outside)
    _manifest(raw, files.format(outside=outside))
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2, run.err
    assert "source 's'" in run.err
    assert "outside the raw data folder" in run.err or "absolute path" in run.err
    assert "secret-line" not in run.err and run.err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_broken_symlink_is_named(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """A symlink to nothing is refused as such, not as a missing source file."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    _manifest(raw, "'gone.csv'")
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2 and "a broken symlink" in run.err


def test_a_symlink_inside_the_raw_root_is_read(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """A symlink that stays inside the raw folder is fine (a 'latest' link to a snapshot file)."""
    raw = tmp_path / "raw"
    (raw / "v1").mkdir(parents=True)
    (raw / "v1" / "data.csv").write_text(LONG, encoding="utf-8")
    (raw / "latest.csv").symlink_to(raw / "v1" / "data.csv")
    _manifest(raw, "'latest.csv'")
    assert cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out")).code == 0


def test_a_reader_option_leading_out_is_refused(
    tmp_path: Path, outside: Path, cli: Callable[..., Any]
) -> None:
    """``metadata_file: ../../outside/passwd`` is refused like a data file: named, not opened."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ddf--datapoints--n03926--by--geo--year.csv").write_text(
        "geo,year,n03926\n0665,2018,2.5\n", encoding="utf-8"
    )
    _manifest(
        raw,
        "'ddf--*.csv'",
        reader="kolada_bulk_csv",
        options="{metadata_file: ../outside/passwd}",
    )
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2 and "option metadata_file" in run.err and "outside the raw" in run.err
    assert "secret-line" not in run.err


def test_an_earlier_snapshot_linked_from_outside_the_raw_root_is_refused(tmp_path: Path) -> None:
    """A Kolada snapshot reads the earlier snapshots beside it (their vintages); one that is a
    symlink to a folder outside the raw root is refused, naming it, and never read."""
    from ks_analysis.errors import DataFileError
    from ks_analysis.ingest.kolada_snapshot import read_kolada_api_json
    from ks_analysis.paths import reading_under

    fixtures = Path(__file__).resolve().parents[1] / "data" / "kolada_api"
    raw = tmp_path / "raw"
    now = raw / "kolada" / "2024-03-01T120000Z"
    now.mkdir(parents=True)
    shutil.copy(fixtures / "v3_data_page1.json", now / "data-0001.json")
    outside = tmp_path / "outside" / "2023-01-01T120000Z"
    outside.mkdir(parents=True)
    shutil.copy(fixtures / "v3_data_page1.json", outside / "data-0001.json")
    (raw / "kolada" / "2023-01-01T120000Z").symlink_to(outside, target_is_directory=True)
    with (
        reading_under(raw),
        pytest.raises(DataFileError, match="earlier Kolada snapshot 2023-01-01T120000Z"),
    ):
        read_kolada_api_json(
            now / "data-0001.json",
            rel="kolada/2024-03-01T120000Z/data-0001.json",
            publication_lag={"days": 75},
        )

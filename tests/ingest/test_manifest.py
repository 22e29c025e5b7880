"""Tests of ingest/manifest.py: sources.yaml fields are checked and file patterns must match."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ks_analysis import run_clean
from ks_analysis.errors import DataFileError
from ks_analysis.ingest.manifest import load_sources

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def _manifest(tmp_path: Path, extra: str, lag: str = "{days: 30}", files: str = "a.csv") -> Path:
    f = tmp_path / "sources.yaml"
    f.write_text(
        f"sources:\n  - name: mine\n    files: {files}\n    reader: long_csv\n    publication_lag: {lag}\n{extra}",
        encoding="utf-8",
    )
    return f


@pytest.mark.parametrize(
    ("lag", "extra", "message"),
    [
        (
            "{days: fifty}",
            "",
            r"entry 1 \(mine\), field 'publication_lag.days': 'fifty' is not a whole number of days from 0 to 3650; write e.g.",
        ),
        (
            "{date: 2024-13-01}",
            "",
            r"entry 1 \(mine\), field 'publication_lag.date': '2024-13-01' is not a date; write YYYY-MM-DD",
        ),
        (
            "{days: 30, per_indicator: {N03926: soon}}",
            "",
            r"entry 1 \(mine\), field 'publication_lag.per_indicator.N03926': 'soon' is not a whole number",
        ),
        (
            "{days: 30}",
            "    precedence: high\n",
            r"entry 1 \(mine\), field 'precedence': 'high' is not a whole number",
        ),
    ],
)
def test_bad_manifest_fields_are_data_file_errors(
    tmp_path: Path, lag: str, extra: str, message: str
) -> None:
    """A lag, date or precedence that is not a number or a date is a DataFileError naming the manifest, entry and field."""
    f = _manifest(tmp_path, extra, lag)
    with pytest.raises(DataFileError, match=r"^" + str(f).replace(".", r"\.") + ": " + message):
        load_sources(f)


def test_glob_matching_no_file_is_an_error(tmp_path: Path) -> None:
    """A source whose file pattern matches no file stops the run naming the source, the pattern and the fix."""
    shutil.copy(BAD / "text_in_number.csv", tmp_path / "a.csv")
    _manifest(
        tmp_path,
        "  - name: later\n    files: 'kolada/*.csv'\n    reader: long_csv\n    publication_lag: {days: 30}\n",
    )
    with pytest.raises(
        DataFileError,
        match=r"sources\.yaml: source 'later': file pattern 'kolada/\*\.csv' matches no file under .*; correct the pattern",
    ):
        run_clean(tmp_path)

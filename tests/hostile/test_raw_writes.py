"""Class 1, writes into raw folders: no command writes under any --raw, and a read-only raw folder
keeps every byte (hashed before and after)."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("command", "out"),
    [
        ("clean", "{raw}"),
        ("clean", "{raw}/processed"),
        ("clean", "{raw}/kolada/deeper/still"),
        ("clean", "{link}/processed"),  # a symlink to the raw folder
        ("clean", "{parent}"),  # would be replaced as a whole, raw folder and all
        ("report", "{raw}/reports"),
        ("report", "{link}"),
    ],
)
def test_an_output_in_any_raw_folder_is_refused(
    demo_copy: Path,
    cli: Callable[..., Any],
    tree_hash: Callable[[Path], dict[str, str]],
    command: str,
    out: str,
) -> None:
    """--out inside the --raw given (not only the project's data/raw) exits 2 and writes nothing."""
    link = demo_copy.parent / "link"
    link.symlink_to(demo_copy)
    before = tree_hash(demo_copy)
    target = out.format(raw=demo_copy, link=link, parent=demo_copy.parent)
    args = ["--period", "2019-T1"] if command == "report" else []
    run = cli(command, *args, "--raw", str(demo_copy), "--out", target)
    assert run.code == 2, run.err
    assert "raw data folder" in run.err and run.err.count("\n") == 1
    assert tree_hash(demo_copy) == before


def _readonly(root: Path) -> None:
    subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)


def _writable(root: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)


@pytest.mark.parametrize(
    "argv",
    [
        ["clean", "--raw", "{raw}", "--out", "{out}/clean"],
        ["clean", "--raw", "{raw}", "--as-of", "2019-06-30", "--out", "{out}/clean"],
        ["clean", "--raw", "{raw}", "--out", "{raw}/../clean-beside"],
        ["clean", "--raw", "{raw}", "--sources", "{raw}/sources.yaml", "--out", "{out}/c2"],
    ],
)
def test_commands_change_no_byte_of_a_read_only_raw_folder(
    demo_copy: Path,
    tmp_path: Path,
    cli: Callable[..., Any],
    tree_hash: Callable[[Path], dict[str, str]],
    argv: list[str],
) -> None:
    """clean run against a `chmod -R a-w` raw folder leaves it byte for byte as it was (every
    other command, and report --year, in test_readonly_raw.py)."""
    before = tree_hash(demo_copy)
    _readonly(demo_copy)
    try:
        run = cli(*[a.format(out=tmp_path, raw=demo_copy) for a in argv])
    finally:
        _writable(demo_copy)
    assert run.code in (0, 2), run.err
    assert tree_hash(demo_copy) == before


def _wal_database(path: Path) -> None:
    """An Arbetsförmedlingen-shaped SQLite file in WAL mode, as the agency's dump is."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE unemployed (id INTEGER, period TEXT, county TEXT, municipality TEXT, unemployedTotal INTEGER)"
    )
    con.executemany(
        "INSERT INTO unemployed VALUES (?, ?, ?, ?, ?)",
        [
            (1, "2019-01", "Jönköping", "Vaggeryd", 310),
            (2, "2019-02", "Jönköping", "Vaggeryd", 305),
        ],
    )
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for side in ("-wal", "-shm"):
        Path(str(path) + side).unlink(missing_ok=True)


@pytest.mark.parametrize("read_only", [False, True])
def test_sqlite_in_wal_mode_leaves_nothing_beside_it(
    raw_with: Callable[..., Path],
    tmp_path: Path,
    cli: Callable[..., Any],
    tree_hash: Callable[[Path], dict[str, str]],
    read_only: bool,
) -> None:
    """A WAL-mode SQLite file is read (immutable) in a writable and a read-only folder alike:
    both rows kept, and no -wal or -shm file appears beside it."""
    raw = raw_with(
        {"af/README.md": "x"}, reader="arbetsformedlingen_monthly", pattern="af/af.sqlite"
    )
    _wal_database(raw / "af" / "af.sqlite")
    before = tree_hash(raw)
    if read_only:
        _readonly(raw)
    try:
        run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    finally:
        _writable(raw)
    assert run.code == 0, run.err
    assert tree_hash(raw) == before
    import json

    totals = json.loads((tmp_path / "out" / "manifest.json").read_text())["totals"]
    assert (totals["rows_read"], totals["rows_kept"]) == (2, 2)

"""Class 1, a read-only raw folder: every command run against a ``chmod -R a-w`` copy of the demo
raw folder (and of the real data) changes no byte of it and adds no entry, checked by hashing every
file and listing every folder before and after.

The suite runs as root in CI, and root may write where ``a-w`` says no; so the hashes are the
real assertion, and an audit hook (:func:`sys.addaudithook`) also records every open() with a
write mode, every rename, removal, new folder or mode change, and every SQLite connection that is
not read-only, of a path inside the raw folder, in this process (the notebook kernels are child
processes: the hashes cover them). Commands that add to a raw folder by design (``assessments
new``, ``fetch``, ``kpi update``) refuse a read-only one with one line saying where to write
instead; ``demo`` and ``init`` refuse to write inside any folder holding a sources.yaml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE
from ks_analysis.paths import PROJECT_ROOT, real_data_dir

Hash = Callable[[Path], dict[str, str]]

_WATCHED: list[str] = []  # resolved raw roots being watched
_SEEN: list[str] = []  # what the hook saw done to them
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
#: Audit events that change the file system, and which of their arguments are paths.
_CHANGES = {
    "os.rename": (0, 1),
    "os.remove": (0,),
    "os.mkdir": (0,),
    "os.rmdir": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "shutil.rmtree": (0,),
    "shutil.move": (0, 1),
}
_busy = False


def _inside(path: Any) -> str | None:
    if isinstance(path, int) or path is None:
        return None
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None
    return real if any(real == r or real.startswith(r + os.sep) for r in _WATCHED) else None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    global _busy
    if not _WATCHED or _busy:
        return
    _busy = True
    try:
        if event == "open" and len(args) >= 3 and isinstance(args[2], int):
            hit = _inside(args[0])
            if hit and args[2] & _WRITE_FLAGS:
                _SEEN.append(f"open({hit!r}, flags={args[2]:#o})")
        elif event == "sqlite3.connect":
            db = os.fsdecode(args[0]) if args and args[0] is not None else ""
            hit = _inside(db.removeprefix("file:").split("?", 1)[0])
            if hit and "mode=ro" not in db:
                _SEEN.append(f"sqlite3.connect({db!r}) not read-only")
        elif event in _CHANGES:
            for i in _CHANGES[event]:
                hit = _inside(args[i]) if i < len(args) else None
                if hit:
                    _SEEN.append(f"{event}({hit!r})")
    finally:
        _busy = False


sys.addaudithook(_audit)  # for the test process's life; a no-op while nothing is watched


def _chmod(root: Path, spec: str) -> None:
    subprocess.run(["chmod", "-R", spec, str(root)], check=True)


@pytest.fixture
def read_only(tree_hash: Hash) -> Iterator[Callable[[Path], None]]:
    """Make a folder ``chmod -R a-w`` and watch it: at the end its hashes and listing must be as
    before and the audit hook must have seen no write into it."""
    watched: list[tuple[Path, dict[str, str]]] = []

    def watch(root: Path) -> None:
        watched.append((root, tree_hash(root)))
        _chmod(root, "a-w")
        _WATCHED.append(os.path.realpath(root))

    yield watch
    _WATCHED.clear()
    seen = list(_SEEN)
    _SEEN.clear()
    for root, before in watched:
        _chmod(root, "u+w")
        after = tree_hash(root)
        assert after == before, sorted(set(after.items()) ^ set(before.items()))[:10]
    assert not seen, seen


def _metadata(folder: Path) -> None:
    """A small Kolada catalogue snapshot: one KPI page and one group page."""
    folder.mkdir(parents=True)
    kpi = {
        "id": "N03926",
        "title": "Invånare 16-64 år med långtidsarbetslöshet, andel (%)",
        "description": "Andel långtidsarbetslösa.",
        "is_divided_by_gender": 1,
        "municipality_type": "K",
        "operating_area": "Arbetsmarknad",
        "publ_period": "2023",
        "publication_date": "2024-03-01",
    }
    group = {
        "id": "G37569",
        "title": "Liknande kommuner, övergripande, Vaggeryd, 2025",
        "members": [{"member_id": "0665", "member_title": "Vaggeryd"}],
    }
    (folder / "kpi-1.json").write_text(json.dumps({"values": [kpi]}), encoding="utf-8")
    (folder / "municipality_groups-1.json").write_text(
        json.dumps({"values": [group]}), encoding="utf-8"
    )


@pytest.fixture
def raw(demo_copy: Path) -> Path:
    """The demo raw folder, with a goal catalogue and a Kolada catalogue snapshot inside."""
    shutil.copy(DEFAULT_CATALOGUE, demo_copy / "goals.yaml")
    _metadata(demo_copy / "kolada-metadata" / "2024-01-01T000000Z")
    return demo_copy


META = ["--metadata", "{raw}/kolada-metadata/2024-01-01T000000Z", "--offline"]

#: (argv, the exit code, words of the one error line). {raw} is the read-only raw folder,
#: {out} a writable folder outside it.
FAST = [
    (["clean", "--raw", "{raw}", "--out", "{out}/clean"], 0, ""),
    (
        ["clean", "--raw", "{raw}", "--sources", "{raw}/sources.yaml", "--as-of", "2019-06-30"]
        + ["--out", "{out}/c2"],
        0,
        "",
    ),
    (["clean", "--raw", "{raw}", "--out", "{raw}/processed"], 2, "raw data folder"),
    (["goals", "--goals", "{raw}/goals.yaml"], 0, ""),
    (["goals", "--goals", "{raw}/goals.yaml", "--format", "json"], 0, ""),
    (["demo", "--out", "{raw}"], 2, "holds a sources.yaml"),
    (["demo", "--out", "{raw}/demo2"], 2, "holds a sources.yaml"),
    (["init", "{raw}"], 2, "holds a sources.yaml"),
    (["init", "{raw}/mine"], 2, "holds a sources.yaml"),
    (["assessments", "new", "--period", "2019-T2", "--raw", "{raw}"], 2, "is read-only"),
    (
        ["assessments", "new", "--period", "2019-T2", "--assessments", "{raw}/assessments"],
        2,
        "--from",
    ),
    (
        ["assessments", "new", "--period", "2019-T2", "--assessments", "{out}/mine"]
        + ["--from", "{raw}/assessments"],
        0,
        "",
    ),
    (
        ["fetch", "kolada", "--out", "{raw}/kolada", "--base-url", "http://127.0.0.1:9"]
        + ["--retries", "0"],
        2,
        "is read-only",
    ),
    (
        ["kpi", "update", "--out", "{raw}/kolada-metadata", "--base-url", "http://127.0.0.1:9"],
        2,
        "is read-only",
    ),
    (["kpi", "search", "långtidsarbetslöshet", *META], 0, ""),
    (["kpi", "show", "N03926", *META], 0, ""),
    (["kolada", "groups", "0665", *META], 0, ""),
]


@pytest.mark.parametrize(("argv", "code", "words"), FAST, ids=[" ".join(a[:2]) for a, *_ in FAST])
def test_no_command_writes_a_read_only_raw_folder(
    raw: Path,
    tmp_path: Path,
    cli: Callable[..., Any],
    read_only: Callable[[Path], None],
    argv: list[str],
    code: int,
    words: str,
) -> None:
    """Each command against a read-only raw folder: its exit code (0 done, 2 refused with one
    line saying what to do), and not a byte or entry of the raw folder changed."""
    out = tmp_path / "out"
    out.mkdir()
    read_only(raw)
    run = cli(*[a.format(raw=raw, out=out) for a in argv])
    assert run.code == code, run.err
    assert words in run.err
    if argv[:2] == ["assessments", "new"] and code == 0:
        assert (out / "mine" / "2019-T2.yaml").is_file()  # written where the analyst said


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--year", "2019", "--raw", "{raw}", "--out", "{out}/reports"],
        ["explore", "N03926", "--raw", "{raw}", "--out", "{out}/explore"],
        ["backtest", "--raw", "{raw}", "--sources", "{raw}/sources.yaml", "--format", "json"],
    ],
    ids=["report --year", "explore", "backtest"],
)
def test_long_commands_write_no_read_only_raw_folder(
    raw: Path,
    tmp_path: Path,
    cli: Callable[..., Any],
    read_only: Callable[[Path], None],
    argv: list[str],
) -> None:
    """``report --year 2019`` (its three periods) and ``explore`` run their notebooks, and a
    small ``backtest`` (the demo's years) replays the forecasts, on a read-only raw folder:
    exit 0, every page written outside it, the raw folder as it was."""
    read_only(raw)
    run = cli(*[a.format(raw=raw, out=tmp_path) for a in argv])
    assert run.code == 0, run.err
    if argv[0] == "report":
        for per in ("2019-T1", "2019-T2", "2019-Y"):
            assert (tmp_path / "reports" / "0665" / per / "rapport.html").is_file()


@pytest.mark.slow
@pytest.mark.real
def test_real_data_read_only(
    tmp_path: Path, cli: Callable[..., Any], read_only: Callable[[Path], None]
) -> None:
    """clean and a small backtest over a read-only copy of the real data change none of it."""
    src = real_data_dir()
    if not src.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real data is missing at {src}")
        pytest.skip("no real data (KS_REAL_DATA or ../shared/data/real)")
    copy = tmp_path / "real"
    shutil.copytree(src, copy, symlinks=True)
    sources = PROJECT_ROOT / "data" / "real-sources.yaml"
    read_only(copy)
    run = cli("clean", "--raw", str(copy), "--sources", str(sources), "--out", str(tmp_path / "c"))
    assert run.code == 0, run.err


def test_the_audit_hook_sees_writes(tmp_path: Path) -> None:
    """The hook the tests above rely on does catch a write, a rename and a writable SQLite
    connection inside a watched folder (and nothing outside it)."""
    import sqlite3

    inside, outside = tmp_path / "raw", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    _WATCHED.append(os.path.realpath(inside))
    try:
        (inside / "a.txt").write_text("x", encoding="utf-8")
        (inside / "a.txt").read_text(encoding="utf-8")
        os.rename(inside / "a.txt", inside / "b.txt")
        sqlite3.connect(inside / "db.sqlite").close()
        sqlite3.connect(f"file:{inside / 'db.sqlite'}?mode=ro&immutable=1", uri=True).close()
        (outside / "c.txt").write_text("x", encoding="utf-8")
        seen = list(_SEEN)
    finally:
        _WATCHED.clear()
        _SEEN.clear()
    assert [s.split("(")[0] for s in seen] == ["open", "os.rename", "os.rename", "sqlite3.connect"]

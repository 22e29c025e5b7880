"""Benchmark the refusals of hostile inputs; prints its figures (not a test).

For each bomb of the hostile suite (tests/hostile/test_bombs.py), the time from the start of the
check to its DataFileError, in this process (imports done first), best of ``--repeat``:

* a 1 kB YAML alias bomb (9 levels of 9 aliases, 9**9 strings if expanded), loaded as a goal
  catalogue;
* a 5 kB workbook with one cell at XFD1048576, and one whose dimension declares that range;
* a 2 MB workbook whose shared-strings part unpacks to 2 GB.

Also the cost of the workbook checks on the real spreadsheets (KS_REAL_DATA or
../shared/data/real), which every clean now pays before parsing. Goal: each bomb refused in well
under a second; the checks add a small fraction to reading the real workbooks.

Run: ``uv run python benchmarks/bench_hostile.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from openpyxl import Workbook  # noqa: E402

from ks_analysis.errors import KsAnalysisError  # noqa: E402
from ks_analysis.goals.catalogue import load_catalogue  # noqa: E402
from ks_analysis.ingest._excel import check_workbook  # noqa: E402
from ks_analysis.paths import real_data_dir  # noqa: E402

ALIAS_BOMB = (
    "\n".join(
        ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    )
    + "\n"
)


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        try:
            fn()
        except KsAnalysisError:  # the refusal being timed
            pass
        except Exception as exc:  # a refusal of another kind is a finding
            print(f"  unexpected {type(exc).__name__}: {exc}")
        times.append(time.perf_counter() - t)
    return min(times)


def _workbooks(d: Path) -> dict[str, Path]:
    wb = Workbook()
    wb.active.append(["regionkod", "år", "andel"])
    wb.active["XFD1048576"] = 1
    wb.save(d / "far.xlsx")
    plain = Workbook()
    plain.active.append(["regionkod", "år", "andel"])
    plain.save(d / "plain.xlsx")
    with (
        zipfile.ZipFile(d / "plain.xlsx") as src,
        zipfile.ZipFile(d / "zipbomb.xlsx", "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                dst.writestr(info, src.read(info.filename))
        with dst.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            block = b" " * (1 << 20)
            for _ in range(2048):
                fh.write(block)
    return {"far cell": d / "far.xlsx", "zip bomb": d / "zipbomb.xlsx"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        bomb = d / "goals.yaml"
        bomb.write_text(ALIAS_BOMB, encoding="utf-8")
        print(
            f"YAML alias bomb ({bomb.stat().st_size} bytes): "
            f"{_best(lambda: load_catalogue(bomb), args.repeat) * 1000:.1f} ms to refuse"
        )
        for what, path in _workbooks(d).items():
            size = path.stat().st_size / 1000
            t = _best(lambda p=path: check_workbook(p, p.name), args.repeat)
            print(f"workbook, {what} ({size:.0f} kB): {t * 1000:.1f} ms to refuse")
    root = real_data_dir()
    books = sorted(root.rglob("*.xlsx")) if root.is_dir() else []
    if not books:
        print(f"no real workbooks under {root}; skipped the real-data figures")
        return
    total_check = total_read = 0.0
    from python_calamine import CalamineWorkbook

    for p in books:
        total_check += _best(lambda p=p: check_workbook(p, p.name), args.repeat)

        def read(p: Path = p) -> None:
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python(skip_empty_area=False)

        total_read += _best(read, args.repeat)
    print(
        f"{len(books)} real workbooks: checks {total_check:.2f} s, calamine read {total_read:.2f} s "
        f"(checks = {total_check / total_read:.2f}x the read)"
    )


if __name__ == "__main__":
    main()

"""Benchmark clean against a plain read of the same files; prints its figures (not a test).

(a) All of the shared real data (``KS_REAL_DATA`` or ``../shared/data/real``) with
    ``data/real-sources.yaml``: ``run_clean`` (read + clean) against a plain read of the same
    files (pyarrow for CSV, calamine for every sheet of a spreadsheet, sqlite3 for the
    database), including the KPI metadata files the readers open (``metadata_file``).
    Goal: clean <= 3x the plain read.
(b) A generated national-scale Kolada-shaped input (200 KPIs x 312 geos x 30 years x 3 genders,
    about 5.6 million rows, as bulk CSV files with CRLF and empty fields) in a temporary folder:
    clean against a plain pyarrow read, and clean's peak memory (max RSS of a subprocess).
    Goals: clean <= 3x the plain read, peak memory <= 4 GiB.

Both sides run in fresh subprocesses with their imports done before the clock starts (for
clean also the modules pandera and the readers import on first use), one
after the other, ``--repeat`` times (the machine may be shared): the best time of each side
gives the ratio, the median is printed beside it.

Run: ``uv run python benchmarks/bench_clean.py [--skip-real] [--skip-national] [--kpis 200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from ks_analysis.geo import geos  # noqa: E402
from ks_analysis.ingest.manifest import expand_files, load_sources  # noqa: E402
from ks_analysis.paths import real_data_dir  # noqa: E402

_CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, raw, sources = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
import pandas, pyarrow, pyarrow.csv, sqlite3, python_calamine  # imports are not part of the timing
sys.path.insert(0, str(Path(sys.argv[4])))
from bench_clean import plain_read
from ks_analysis.clean import run_clean
from ks_analysis.ingest.registry import get_reader
from ks_analysis.schema import empty_tidy, validate_tidy
get_reader("kolada_bulk_csv")  # reader modules are imported on first use
validate_tidy(empty_tidy())  # so are pandera's pandas backends (0.3 s, once per process)
t0 = time.perf_counter()
if mode == "clean":
    result = run_clean(raw, Path(sources) if sources else None)
    rows = int(result.manifest()["totals"]["rows_read"])
else:
    files = [Path(p) for p in json.loads(Path(sources).read_text())] if sources else sorted(raw.glob("*.csv"))
    held = [plain_read(p) for p in files]  # what was read stays in memory, as clean's result does
    rows = sum(r for r, _ in held)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "rows": rows, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _child(mode: str, raw: Path, sources: str = "") -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            mode,
            str(raw),
            sources,
            str(Path(__file__).resolve().parent),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _runs(repeat: int, *jobs: tuple[str, Path, str]) -> list[list[dict[str, float]]]:
    """Each job ``repeat`` times, interleaved (plain, clean, plain, clean, ...)."""
    results: list[list[dict[str, float]]] = [[] for _ in jobs]
    for _ in range(repeat):
        for i, job in enumerate(jobs):
            results[i].append(_child(*job))
    return results


def _best(runs: list[dict[str, float]]) -> tuple[float, float]:
    """(best, median) seconds of a job's runs."""
    secs = sorted(r["seconds"] for r in runs)
    return secs[0], secs[len(secs) // 2]


def plain_read(path: Path) -> tuple[int, object]:
    """Read a file whole without cleaning it: (rows or lines read, what was read)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            table = pacsv.read_csv(path)
            return table.num_rows, table
        except Exception:  # latin-1 PX-Web files and ';' tables: read as text
            lines = path.read_bytes().decode("latin-1").splitlines()
            return len(lines), lines
    if suffix in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        sheets = [wb.get_sheet_by_name(s).to_python() for s in wb.sheet_names]
        return sum(len(s) for s in sheets), sheets
    if suffix == ".sqlite3":
        with sqlite3.connect(path) as con:
            rows = con.execute("select * from unemployed").fetchall()
            return len(rows), rows
    return 0, None


def real_files(raw: Path, sources: Path) -> list[Path]:
    """Every file clean reads for a manifest: the listed data files and the metadata files readers open."""
    files: set[Path] = set()
    for spec in load_sources(sources):
        for f in expand_files(spec, raw):
            files.add(f)
            meta = spec.options.get("metadata_file")
            if meta and (f.parent / meta).exists():
                files.add((f.parent / meta).resolve())
    return sorted(files)


def bench_real(repeat: int) -> None:
    raw = real_data_dir()
    sources = PROJECT / "data" / "real-sources.yaml"
    if not (raw / "SOURCES.md").exists():
        print(f"(a) skipped: real data not found at {raw}")
        return
    files = real_files(raw, sources)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump([str(f) for f in files], fh)
    try:
        plain, clean = _runs(repeat, ("plain", raw, fh.name), ("clean", raw, str(sources)))
    finally:
        Path(fh.name).unlink()
    (p, p_med), (c, c_med) = _best(plain), _best(clean)
    print(
        f"(a) real data: {len(files)} files (incl. KPI metadata), {int(clean[0]['rows']):,} raw rows; best of {repeat} (median)"
    )
    print(
        f"    plain read {p:.2f} s ({p_med:.2f}); clean (read + clean) {c:.2f} s ({c_med:.2f}); ratio {c / p:.1f}x ({c_med / p_med:.1f}x) (goal <= 3x)"
    )
    print(f"    clean peak memory {max(r['max_rss_kib'] for r in clean) / 1024:.0f} MiB")


def generate_national(folder: Path, kpis: int = 200, years: int = 30, seed: int = 1) -> int:
    """Write Kolada-shaped bulk CSVs: per KPI a total file and a K/M gender file (CRLF, 5 % empty)."""
    rng = np.random.default_rng(seed)
    codes = np.array(sorted(geos()))
    year_list = np.arange(2023 - years, 2023)
    geo_col = np.repeat(codes, years)
    year_col = np.tile(year_list, len(codes)).astype(str)
    rows = 0
    for k in range(kpis):
        kpi = f"n{10000 + k:05d}"
        for gender in ("", "K", "M"):
            vals = np.round(rng.uniform(0, 100, len(geo_col)), 6).astype(str)
            vals[rng.random(len(vals)) < 0.05] = ""
            if gender:
                lines = [
                    f"{g},{y},{gender},{v}" for g, y, v in zip(geo_col, year_col, vals, strict=True)
                ]
            else:
                lines = [f"{g},{y},{v}" for g, y, v in zip(geo_col, year_col, vals, strict=True)]
            rows += len(lines)
            name = (
                f"ddf--datapoints--{kpi}--by--geo--gender--year.csv"
                if gender
                else f"ddf--datapoints--{kpi}--by--geo--year.csv"
            )
            header = f"geo,year,gender,{kpi}" if gender else f"geo,year,{kpi}"
            mode = "ab" if gender == "M" else "wb"
            with open(folder / name, mode) as fh:
                if gender != "M":
                    fh.write((header + "\r\n").encode())
                fh.write(("\r\n".join(lines) + "\r\n").encode())
    (folder / "sources.yaml").write_text(
        "sources:\n  - name: kolada\n    files: '*.csv'\n    reader: kolada_bulk_csv\n    options: {unit: '%'}\n    publication_lag: {days: 75}\n",
        encoding="utf-8",
    )
    return rows


def bench_national(kpis: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ks-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        rows = generate_national(folder, kpis=kpis)
        print(
            f"(b) generated {rows:,} rows in {len(list(folder.glob('*.csv')))} files in {time.perf_counter() - t0:.0f} s; best of {repeat} (median)"
        )
        plain, clean = _runs(repeat, ("plain", folder, ""), ("clean", folder, ""))
        (p, p_med), (c, c_med) = _best(plain), _best(clean)
        print(
            f"    plain pyarrow read {p:.2f} s ({p_med:.2f}); clean {c:.2f} s ({c_med:.2f}); ratio {c / p:.1f}x ({c_med / p_med:.1f}x) (goal <= 3x)"
        )
        rss = max(r["max_rss_kib"] for r in clean) / 1024 / 1024
        print(
            f"    clean peak memory (max RSS) {rss:.2f} GiB (goal <= 4 GiB); plain read {max(r['max_rss_kib'] for r in plain) / 1024 / 1024:.2f} GiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument(
        "--kpis", type=int, default=200, help="KPIs in the generated input (200 = national scale)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each side (best and median are printed)"
    )
    args = parser.parse_args()
    if not args.skip_real:
        bench_real(args.repeat)
    if not args.skip_national:
        bench_national(args.kpis, args.repeat)


if __name__ == "__main__":
    main()

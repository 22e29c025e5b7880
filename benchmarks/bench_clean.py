"""Benchmark clean against a plain read of the same files; prints its figures (not a test).

(a) All of the shared real data (``KS_REAL_DATA`` or ``../shared/data/real``) with
    ``data/real-sources.yaml``: ``run_clean`` (read + clean) against a plain read of the same
    files (pyarrow for CSV, calamine for spreadsheets, sqlite3 for the database), one run each.
    Goal: clean <= 3x the plain read.
(b) A generated national-scale Kolada-shaped input (200 KPIs x 312 geos x 30 years x 3 genders,
    about 5.6 million rows, as bulk CSV files with CRLF and empty fields) in a temporary folder:
    clean against a plain pyarrow read, and clean's peak memory (max RSS of a subprocess).
    Goals: clean <= 3x the plain read, peak memory <= 4 GiB.

Run: ``uv run python benchmarks/bench_clean.py [--skip-real] [--kpis 200]``
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
from ks_analysis.paths import real_data_dir  # noqa: E402
from ks_analysis.sources import expand_files, load_sources  # noqa: E402

_CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, raw, sources = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
import pandas, pyarrow, pyarrow.csv  # imports are not part of the timing
from ks_analysis.clean import run_clean
from ks_analysis.ingest import get_reader
get_reader("kolada_bulk_csv")
t0 = time.perf_counter()
if mode == "clean":
    result = run_clean(raw, Path(sources) if sources else None)
    rows = int(result.manifest()["totals"]["rows_read"])
else:
    tables = [pyarrow.csv.read_csv(p) for p in sorted(raw.glob("*.csv"))]
    rows = sum(t.num_rows for t in tables)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "rows": rows, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _child(mode: str, raw: Path, sources: str = "") -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(raw), sources], check=True, capture_output=True, text=True, cwd=PROJECT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _plain_read(path: Path) -> int:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return pacsv.read_csv(path).num_rows
        except Exception:  # latin-1 PX-Web files and ';' tables: read as text
            return len(path.read_bytes().decode("latin-1").splitlines())
    if suffix in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        return sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
    if suffix == ".sqlite3":
        with sqlite3.connect(path) as con:
            return len(con.execute("select * from unemployed").fetchall())
    return 0


def bench_real() -> None:
    raw = real_data_dir()
    sources = PROJECT / "data" / "real-sources.yaml"
    if not (raw / "SOURCES.md").exists():
        print(f"(a) skipped: real data not found at {raw}")
        return
    files = sorted({f for spec in load_sources(sources) for f in expand_files(spec, raw)})
    t0 = time.perf_counter()
    for f in files:
        _plain_read(f)
    plain = time.perf_counter() - t0
    res = _child("clean", raw, str(sources))
    print(f"(a) real data: {len(files)} files, {res['rows']:,} raw rows")
    print(f"    plain read {plain:.2f} s; clean (read + clean, in-process time) {res['seconds']:.2f} s; ratio {res['seconds'] / plain:.1f}x (goal <= 3x)")
    print(f"    clean peak memory {res['max_rss_kib'] / 1024:.0f} MiB")


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
                lines = [f"{g},{y},{gender},{v}" for g, y, v in zip(geo_col, year_col, vals, strict=True)]
            else:
                lines = [f"{g},{y},{v}" for g, y, v in zip(geo_col, year_col, vals, strict=True)]
            rows += len(lines)
            name = f"ddf--datapoints--{kpi}--by--geo--gender--year.csv" if gender else f"ddf--datapoints--{kpi}--by--geo--year.csv"
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


def bench_national(kpis: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ks-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        rows = generate_national(folder, kpis=kpis)
        print(f"(b) generated {rows:,} rows in {len(list(folder.glob('*.csv')))} files in {time.perf_counter() - t0:.0f} s")
        plain = _child("plain", folder)
        clean = _child("clean", folder)
        print(f"    plain pyarrow read {plain['seconds']:.2f} s; clean {clean['seconds']:.2f} s; ratio {clean['seconds'] / plain['seconds']:.1f}x (goal <= 3x)")
        print(f"    clean peak memory (max RSS) {clean['max_rss_kib'] / 1024 / 1024:.2f} GiB (goal <= 4 GiB); plain read {plain['max_rss_kib'] / 1024 / 1024:.2f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--kpis", type=int, default=200, help="KPIs in the generated input (200 = national scale)")
    args = parser.parse_args()
    if not args.skip_real:
        bench_real()
    if not args.skip_national:
        bench_national(args.kpis)


if __name__ == "__main__":
    main()

"""``ks-analysis clean``: raw files -> indicators.parquet (or .csv, .xlsx), rejected.csv, manifest.json."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ks_analysis.commands._util import add_example, parse_date, path_arg, progress_enabled
from ks_analysis.errors import DataFileError, ParameterError
from ks_analysis.paths import DEMO_DIR, PROCESSED_DIR, refuse_raw_output

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("clean", help="read and clean the raw data into the tidy indicator table")
    p.add_argument(
        "--raw",
        type=path_arg,
        default=DEMO_DIR,
        help="raw data folder (read-only; default: the demo data)",
    )
    p.add_argument("--sources", type=path_arg, help="sources manifest (default: RAW/sources.yaml)")
    p.add_argument(
        "--out",
        type=path_arg,
        default=PROCESSED_DIR,
        help="output folder (default: data/processed)",
    )
    p.add_argument("--as-of", help="keep only values published by this date (YYYY-MM-DD)")
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=["parquet", "csv", "xlsx"],
        help="the tidy table's format: indicators.parquet (default), .csv or .xlsx (repeatable)",
    )
    p.add_argument(
        "--excel-sv",
        action="store_true",
        help="CSV for Swedish Excel: UTF-8 with BOM, ';' and decimal comma (implies --format csv)",
    )
    add_example(
        p,
        "ks-analysis clean",
        "ks-analysis clean --format csv --excel-sv --out /tmp/clean   # opens in Swedish Excel",
        "ks-analysis clean --raw ../shared/data/real --sources data/real-sources.yaml --out /tmp/clean",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ks_analysis.clean import (  # pandas and pandera load only when cleaning
        run_clean,
        write_clean,
    )

    as_of = parse_date(args.as_of)
    formats = tuple(args.formats or (["csv"] if args.excel_sv else ["parquet"]))
    if args.excel_sv and "csv" not in formats:
        raise ParameterError(
            f"--excel-sv shapes the CSV, but --format asks for {', '.join(formats)} only; add --format csv"
        )
    refuse_raw_output(args.out, "--out", raws=[args.raw], whole_folder=True)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ParameterError(
            f"--out {args.out}: is a file, not a folder; give a folder for indicators.parquet, rejected.csv and manifest.json"
        )
    if not Path(args.raw).is_dir():
        raise DataFileError(args.raw, "raw data folder not found", fix="check the --raw path")
    result = run_clean(args.raw, args.sources, as_of=as_of, progress=progress_enabled(args))
    paths = write_clean(result, args.out, formats=formats, excel_sv=args.excel_sv)
    t = result.manifest()["totals"]
    log.info(
        "read %d rows: %d kept, %d rejected, %d missing-value markers, %d duplicates",
        t["rows_read"], t["rows_kept"], t["rows_rejected"], t["rows_missing"], t["rows_duplicate"],
    )  # fmt: skip
    if t["rows_rejected"]:
        log.info("rejected rows with reasons: %s", paths["rejected"])
    for fmt in dict.fromkeys(formats):
        print(paths[f"indicators_{fmt}"])
    return 0

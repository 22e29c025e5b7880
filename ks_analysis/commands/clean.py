"""``ks-analysis clean``: raw files -> indicators.parquet, rejected.csv, manifest.json."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ks_analysis.commands._util import add_example, parse_date, progress_enabled
from ks_analysis.errors import DataFileError, ParameterError
from ks_analysis.paths import DEMO_DIR, PROCESSED_DIR, refuse_raw_output

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("clean", help="read and clean the raw data into the tidy indicator table")
    p.add_argument(
        "--raw",
        type=Path,
        default=DEMO_DIR,
        help="raw data folder (read-only; default: the demo data)",
    )
    p.add_argument("--sources", type=Path, help="sources manifest (default: RAW/sources.yaml)")
    p.add_argument(
        "--out", type=Path, default=PROCESSED_DIR, help="output folder (default: data/processed)"
    )
    p.add_argument("--as-of", help="keep only values published by this date (YYYY-MM-DD)")
    add_example(
        p,
        "ks-analysis clean",
        "ks-analysis clean --raw ../shared/data/real --sources data/real-sources.yaml --out /tmp/clean",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ks_analysis.clean import (  # pandas and pandera load only when cleaning
        run_clean,
        write_clean,
    )

    as_of = parse_date(args.as_of)
    refuse_raw_output(args.out, "--out", raws=[args.raw], whole_folder=True)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ParameterError(
            f"--out {args.out}: is a file, not a folder; give a folder for indicators.parquet, rejected.csv and manifest.json"
        )
    if not Path(args.raw).is_dir():
        raise DataFileError(args.raw, "raw data folder not found", fix="check the --raw path")
    result = run_clean(args.raw, args.sources, as_of=as_of, progress=progress_enabled(args))
    paths = write_clean(result, args.out)
    t = result.manifest()["totals"]
    log.info(
        "read %d rows: %d kept, %d rejected, %d missing-value markers, %d duplicates",
        t["rows_read"], t["rows_kept"], t["rows_rejected"], t["rows_missing"], t["rows_duplicate"],
    )  # fmt: skip
    if t["rows_rejected"]:
        log.info("rejected rows with reasons: %s", paths["rejected"])
    print(paths["indicators"])
    return 0

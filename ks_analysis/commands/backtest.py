"""``ks-analysis backtest``: vintage-honest rolling-origin backtest of the forecast engine on the real data."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from ks_analysis.commands._util import add_example, path_arg, progress_enabled
from ks_analysis.paths import real_data_dir

log = logging.getLogger(__name__)


def default_sources(raw: Path, given: Path | None, project: Path) -> Path | None:
    """The manifest a backtest reads: ``--sources``; else the raw folder's own ``sources.yaml``
    (a folder that brings its manifest means it); else the project's ``data/real-sources.yaml``,
    which describes the shared real data (that folder has no manifest of its own)."""
    from ks_analysis.ingest.manifest import DEFAULT_NAMES  # pydantic loads only when run

    if given is not None:
        return given
    for name in DEFAULT_NAMES:
        if (raw / name).is_file():
            return raw / name
    real = project / "data" / "real-sources.yaml"
    return real if real.exists() else None


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "backtest", help="backtest the forecasts at 30 April and 31 August on the real series"
    )
    p.add_argument(
        "--raw",
        type=path_arg,
        default=None,
        help="raw data folder (default: $KS_REAL_DATA or ../shared/data/real)",
    )
    p.add_argument(
        "--sources",
        type=path_arg,
        default=None,
        help="sources manifest (default: RAW/sources.yaml where --raw has one, else the project's "
        "data/real-sources.yaml for the shared real data)",
    )
    p.add_argument(
        "--format",
        choices=["table", "json"],
        default="table",
        help="table (readable, default) or json ({runtime_s, cells, ...})",
    )
    p.add_argument(
        "--write-calibration",
        action="store_true",
        help="also write the error pools and defaults to ks_analysis/data/calibration.json",
    )
    p.add_argument(
        "--write-summary",
        action="store_true",
        help="also write the summary the report cites to ks_analysis/data/track_record.json",
    )
    add_example(
        p,
        "ks-analysis backtest --raw ../shared/data/real --sources data/real-sources.yaml",
        "ks-analysis backtest --raw ../shared/data/real --sources data/real-sources.yaml --format json",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ks_analysis.backtest import replay as bt
    from ks_analysis.errors import ParameterError
    from ks_analysis.paths import PROJECT_ROOT

    raw = args.raw or real_data_dir()
    if not raw.exists():
        raise ParameterError(
            f"--raw {raw}: folder not found; pass the real data folder, e.g. --raw ../shared/data/real"
        )
    sources = default_sources(raw, args.sources, PROJECT_ROOT)
    show = progress_enabled(args) and (args.format != "json" or sys.stderr.isatty())
    summary, scored, tuning = bt.run_and_summarise(raw, sources, progress=show)
    if args.write_calibration:
        path = bt.write_calibration(scored, summary["defaults"], tuning)
        log.info("wrote %s", path)
    if args.write_summary:
        path = bt.write_summary(summary)
        log.info("wrote %s", path)
    if args.format == "json":
        print(json.dumps(summary, indent=1, ensure_ascii=False, default=bt.json_default))
    else:
        print(bt.format_table(summary))
    return 0

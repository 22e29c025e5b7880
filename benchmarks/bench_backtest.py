"""Benchmark the forecast engine's backtest on the real series; prints its figures (not a test).

Runs the whole vintage-honest backtest (``ks_analysis.backtest.run_and_summarise``) on the shared
real data (``KS_REAL_DATA`` or ``../shared/data/real``) with ``data/real-sources.yaml`` and prints
the runtime (goal: < 2 min on 2 cores), the goal table of forecasting.md (MASE ratios, win rate,
interval coverage, Brier skill per cutoff T1/T2 and family, n per cell; cells with n < 100 are
not judged), the shock year 2020 apart, every method's MASE, and the method the rolling-origin
selection chose for each year.

Run: ``uv run python benchmarks/bench_backtest.py [--write]`` (``--write`` also refreshes the
committed calibration pools and track-record summary).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from ks_analysis.backtest import replay as bt  # noqa: E402
from ks_analysis.backtest.calibrate import calibration_content  # noqa: E402
from ks_analysis.paths import real_data_dir  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="write calibration.json and track_record.json"
    )
    args = parser.parse_args()
    raw = real_data_dir()
    if not (raw / "SOURCES.md").exists():
        print(f"real data not found at {raw}; set KS_REAL_DATA", file=sys.stderr)
        return 2
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    t0, c0 = time.perf_counter(), time.process_time()
    summary, scored, tuning = bt.run_and_summarise(raw, PROJECT / "data" / "real-sources.yaml")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"cores available: {os.cpu_count()}   backtest runtime: {summary['runtime_s']:.1f} s (wall {wall:.1f} s, "
        f"CPU {cpu:.1f} s, load average {load:.1f}; goal < 120 s on a quiet machine: CPU time is the figure when others share the cores)"
    )
    print(
        f"forecasts scored: {len(scored)}   series per family: {summary['series']}   years: {summary['years']}"
    )
    print(f"defaults chosen: {summary['defaults']}")
    print(
        f"sub-annual methods the report uses now (selection on all years): {summary.get('selected_methods')}\n"
    )
    print(bt.format_table(summary))
    print("\nGoals (forecasting.md):")
    print(bt.goal_table(summary).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nEvery method (2020 excluded):")
    cols = [
        "cutoff",
        "family",
        "method",
        "n",
        "mase",
        "mase_vs_naive_annual",
        "mase_vs_ytd_snaive",
        "coverage80",
        "coverage95",
        "brier_skill",
    ]
    print(bt.method_table(summary)[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        "\nPer indicator (effective n, MASE/naive with CI90, Brier skill, interval score new vs pool-only):"
    )
    cols = ["cutoff", "family", "indicator", "n", "effective_n", "mase_vs_naive_annual",
            "mase_vs_naive_annual_ci90", "brier_skill", "coverage80_calibrated", "interval_score80",
            "interval_score80_pool_only"]  # fmt: skip
    print(
        bt.by_indicator_table(summary)[cols].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"
        )
    )
    t1 = time.perf_counter()
    content = calibration_content(scored, tuning)
    print(
        f"\ncalibration per origin year ({', '.join(content['by_origin'])}): {time.perf_counter() - t1:.1f} s to fit"
    )
    print(
        "\nMethod chosen per evaluation year from earlier years only (the 'selected' rows above):"
    )
    print(bt.selection_table(summary).to_string())
    if args.write:
        print(bt.write_calibration(scored, summary["defaults"], tuning))
        print(bt.write_summary(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark what "Förra årets prognoser mot utfallet" adds to a report; prints JSON (not a test).

The section rebuilds last year's T1 and T2 verdicts and judges last year's outcome, in-process on
the report's own tidy table (no extra kernel, no second clean). This prints, for the demo's
``2019-T1`` report (or ``--period``), the median over ``--repeat`` runs of building the whole report
model and of the last-year part alone, and the part's share of the model's build time.

Run: ``uv run python benchmarks/bench_last_year.py [--period 2019-T1] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from ks_analysis.params import report_params  # noqa: E402
from ks_analysis.report.build import build_report, load_report_inputs, with_peers  # noqa: E402
from ks_analysis.report.followup import last_year_forecasts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--period", default="2019-T1")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    params = report_params(period=args.period)
    inputs = load_report_inputs(params)
    cat = with_peers(inputs.catalogue, params.municipality, params.peers)
    build_s, part_s = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        build_report(inputs)
        build_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        last_year_forecasts(
            inputs.current.clean.tidy, cat, params.municipality, params.period, params.as_of
        )
        part_s.append(time.perf_counter() - t)
    build, part = statistics.median(build_s), statistics.median(part_s)
    print(
        json.dumps(
            {
                "period": args.period,
                "repeat": args.repeat,
                "build_report_s": round(build, 2),
                "last_year_s": round(part, 2),
                "last_year_share_of_build": round(part / build, 3),
            }
        )
    )


if __name__ == "__main__":
    main()

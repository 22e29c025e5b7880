"""Benchmark what 'Vad som krävs' adds to judging the goals; prints its figures (not a test).

For each report (the demo's 2019-T1 and 2019-T2; with the shared real data, ``KS_REAL_DATA`` or
``../shared/data/real``, also 2019-T2 and 2022-T2 with ``data/real-sources.yaml``): the inputs are
loaded once, then ``judge_goals`` runs ``--repeat`` times without and with the what_it_takes
objects, alternating. The best time of each side gives the added seconds (the machine may be
shared; the median is printed beside it). Also printed: how many indicator entries the report
has, how many say "kräver ett utfall som inte har inträffat", and which goals have a deciding
indicator.

Run: ``uv run python benchmarks/bench_what_it_takes.py [--skip-real] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from ks_analysis.params import report_params  # noqa: E402
from ks_analysis.paths import DEMO_DIR, real_data_dir  # noqa: E402
from ks_analysis.report.build import load_report_inputs  # noqa: E402
from ks_analysis.report.goals import judge_goals  # noqa: E402


def _run(label: str, params: dict, repeat: int) -> None:
    inputs = load_report_inputs(report_params(**params))
    data, cat = inputs.current, inputs.catalogue
    muni = inputs.params.municipality

    def judge(wit: bool) -> tuple[float, list]:
        t = time.perf_counter()
        goals = judge_goals(
            data.clean.tidy, cat, muni, data.period, data.as_of, data.assessments,
            data.assessment_note, what_it_takes=wit,
        )  # fmt: skip
        return time.perf_counter() - t, goals

    without, with_ = [], []
    goals: list = []
    for _ in range(repeat):
        without.append(judge(False)[0])
        t, goals = judge(True)
        with_.append(t)
    entries = [r["what_it_takes"] for g in goals for r in g["indicators"] if r.get("what_it_takes")]
    unseen = sum(bool(e.get("unprecedented")) for e in entries)
    deciding = {g["id"]: g["what_it_takes"]["deciding"] for g in goals if g.get("what_it_takes")}
    added = min(with_) - min(without)
    print(
        f"{label}: judge_goals best {min(without):.2f} s without, {min(with_):.2f} s with "
        f"(+{added:.2f} s; medians {statistics.median(without):.2f} / "
        f"{statistics.median(with_):.2f} s over {repeat} runs); {len(entries)} indicator "
        f"entries, {unseen} not seen in the compared years; deciding per goal: {deciding}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for period in ("2019-T1", "2019-T2"):
        _run(f"demo {period}", {"period": period, "raw": DEMO_DIR}, args.repeat)
    real = real_data_dir()
    if args.skip_real or not (real / "SOURCES.md").exists():
        return
    sources = PROJECT / "data" / "real-sources.yaml"
    for period in ("2019-T2", "2022-T2"):
        _run(f"real {period}", {"period": period, "raw": real, "sources": sources}, args.repeat)


if __name__ == "__main__":
    main()

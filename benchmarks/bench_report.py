"""Benchmark: `ks-analysis report --period 2019-T1` against a floor measured in the same run.

The floor is the least any notebook report can cost here: a one-cell notebook that imports
pandas and seaborn, executed by papermill (same kernel) and rendered to HTML by nbconvert, in a
fresh Python process like the real command. Goal: report <= 1.5 x floor.

Run: uv run python benchmarks/bench_report.py [--repeat 3]
Prints one JSON object with both times (median of the repeats), the ratio and the HTML size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_SCRIPT = r"""
import sys
from pathlib import Path
import nbformat, papermill as pm
from nbconvert import HTMLExporter
from ks_analysis.publish.notebooks import ensure_kernel
out = Path(sys.argv[1])
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell("import pandas as pd\nimport seaborn as sns\npd.DataFrame({'a': [1]})")]
src = out / "floor.ipynb"
nbformat.write(nb, str(src))
pm.execute_notebook(str(src), str(out / "floor.out.ipynb"), kernel_name=ensure_kernel(), progress_bar=False)
body, _ = HTMLExporter(exclude_input=True).from_filename(str(out / "floor.out.ipynb"))
(out / "floor.html").write_text(body, encoding="utf-8")
"""


def _time(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    floors, mains = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for i in range(args.repeat):
            floors.append(_time([sys.executable, "-c", FLOOR_SCRIPT, str(tmpdir)]))
            mains.append(
                _time(
                    [
                        sys.executable,
                        "-m",
                        "ks_analysis.cli",
                        "-q",
                        "report",
                        "--period",
                        "2019-T1",
                        "--out",
                        str(tmpdir / "reports"),
                    ]
                )
            )
            print(
                f"run {i + 1}: floor {floors[-1]:.1f} s, report {mains[-1]:.1f} s", file=sys.stderr
            )
        html = tmpdir / "reports" / "0665" / "2019-T1" / "rapport.html"
        floor, report = statistics.median(floors), statistics.median(mains)
        result = {
            "floor_s": round(floor, 2),
            "report_s": round(report, 2),
            "ratio": round(report / floor, 2),
            "goal_ratio": 1.5,
            "html_bytes": html.stat().st_size,
            "floor_runs_s": [round(x, 2) for x in floors],
            "report_runs_s": [round(x, 2) for x in mains],
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the report commands against a floor measured in the same run.

The floor is the least any notebook report can cost here: a one-cell notebook that imports
pandas and seaborn, executed by papermill (same kernel) and rendered to HTML by nbconvert, in a
fresh Python process like the real command; measured with the stack's defaults and with the
Arrow allocator the command sets for itself (``ARROW_DEFAULT_MEMORY_POOL=system``), the faster
of the two counting. Every figure is a ratio to it, so that machines and
loads compare:

- ``ratio``: ``report --period 2019-T1`` on the demo data (goal <= 1.3);
- ``ratio_real``: ``report --period 2022-T2`` on the shared real data (goal <= 1.5), with its
  cleaned vintages in the cache on disk (``ks_analysis/clean/cache.py``), as every run after
  the first on the same raw files; ``ratio_real_cold``: the same with an empty cache, as the
  first run after the raw data changed;
- ``ratio_year``: ``report --year 2019``, three reports (goal <= 2.0);
- ``explore_bad_s``: seconds until ``explore N99999`` is refused (goal < 1 s), and the same
  for ``--version`` as the floor of any command (``cli_floor_s``).

Warm runs are measured: one untimed run of each report first fills the benchmark's own cache
folder (``KS_CACHE_DIR``, never the project's), and a machine that may write bytecode caches has them after the first
run. Where ``PYTHONDONTWRITEBYTECODE`` is set (as on this project's machines), nothing would
ever be cached and every process would compile its imports again, so the benchmark compiles the
environment's and the package's bytecode first (``compileall``, as ``uv sync
--compile-bytecode`` does) and says so in ``bytecode``.

Run on a quiet machine: uv run python benchmarks/bench_report.py [--repeat 3] [--no-real]
Prints one JSON object (medians of the repeats, every run, the machine's load before and after).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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


def _time(
    cmd: list[str],
    ok: tuple[int, ...] = (0, 3),
    cache: Path | None = None,
    env_extra: dict[str, str] | None = None,
) -> float:
    """Wall seconds of one command (with ``cache`` as its cache folder, ``env_extra`` set, an
    empty value unset); a code outside ``ok`` stops the benchmark with its stderr."""
    env = dict(os.environ)
    if cache:
        env["KS_CACHE_DIR"] = str(cache)
    for k, v in (env_extra or {}).items():
        if v:
            env[k] = v
        else:
            env.pop(k, None)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    took = time.perf_counter() - started
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd[2:])} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return took


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ks_analysis.cli", "-q", *args]


def _compile_bytecode() -> str:
    """Compile the environment's and the package's bytecode where Python would not cache it."""
    if not sys.flags.dont_write_bytecode:
        return "cached by Python as it runs"
    for folder in (sysconfig.get_paths()["purelib"], str(ROOT / "ks_analysis")):
        compileall.compile_dir(folder, quiet=1, workers=0)
    return "compiled first (PYTHONDONTWRITEBYTECODE is set)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-real", action="store_true", help="leave out the real 2022-T2 report")
    args = parser.parse_args()
    real = Path(os.environ.get("KS_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
    with_real = not args.no_real and (real / "SOURCES.md").exists()
    runs: dict[str, list[float]] = {
        k: []
        for k in (
            "floor_default",
            "floor_system",
            "report",
            "real",
            "real_cold",
            "year",
            "explore_bad",
            "cli",
        )
    }
    bytecode = _compile_bytecode()
    load_before = os.getloadavg()
    real_report = _cli(
        "report", "--period", "2022-T2", "--raw", str(real),
        "--sources", str(ROOT / "data" / "real-sources.yaml"),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        cache = t / "cache"
        _time(_cli("report", "--year", "2019", "--out", str(t / "y")), cache=cache)
        if with_real:
            _time([*real_report, "--out", str(t / "real")], cache=cache)
        for i in range(args.repeat):
            floor_cmd = [sys.executable, "-c", FLOOR_SCRIPT, str(t)]
            runs["floor_default"].append(
                _time(floor_cmd, env_extra={"ARROW_DEFAULT_MEMORY_POOL": ""})
            )
            runs["floor_system"].append(
                _time(floor_cmd, env_extra={"ARROW_DEFAULT_MEMORY_POOL": "system"})
            )
            runs["report"].append(
                _time(_cli("report", "--period", "2019-T1", "--out", str(t / "r")), cache=cache)
            )
            if with_real:
                runs["real"].append(_time([*real_report, "--out", str(t / "real")], cache=cache))
                runs["real_cold"].append(
                    _time([*real_report, "--out", str(t / "real")], cache=t / f"cold{i}")
                )
            runs["year"].append(
                _time(_cli("report", "--year", "2019", "--out", str(t / "y")), cache=cache)
            )
            runs["explore_bad"].append(
                _time(_cli("explore", "N99999", "--out", str(t / "x")), ok=(2,))
            )
            runs["cli"].append(_time(_cli("--version")))
            print(
                f"run {i + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in runs.items() if v),
                file=sys.stderr,
            )
        html = t / "r" / "0665" / "2019-T1" / "rapport.html"
        med = {k: statistics.median(v) for k, v in runs.items() if v}
        # The floor is the least a notebook report costs here: the faster of the stack's
        # defaults and the Arrow allocator the command sets for itself (ks_analysis/_gc.py).
        floor = min(med["floor_default"], med["floor_system"])
        result = {
            "floor_s": round(floor, 2),
            "floor_default_s": round(med["floor_default"], 2),
            "floor_system_allocator_s": round(med["floor_system"], 2),
            "report_s": round(med["report"], 2),
            "ratio": round(med["report"] / floor, 2),
            "goal_ratio": 1.3,
            "real_s": round(med["real"], 2) if with_real else None,
            "ratio_real": round(med["real"] / floor, 2) if with_real else None,
            "goal_ratio_real": 1.5,
            "real_cold_s": round(med["real_cold"], 2) if with_real else None,
            "ratio_real_cold": round(med["real_cold"] / floor, 2) if with_real else None,
            "year_s": round(med["year"], 2),
            "ratio_year": round(med["year"] / floor, 2),
            "goal_ratio_year": 2.0,
            "explore_bad_s": round(med["explore_bad"], 2),
            "goal_explore_bad_s": 1.0,
            "cli_floor_s": round(med["cli"], 2),
            "html_bytes": html.stat().st_size,
            "runs_s": {k: [round(x, 2) for x in v] for k, v in runs.items() if v},
            "bytecode": bytecode,
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``ks-analysis explore``: render the explore-one-indicator notebook to one shareable HTML file."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ks_analysis._io import locked_output, sweep_litter
from ks_analysis.commands._util import add_example, path_arg
from ks_analysis.errors import DataFileError, ParameterError
from ks_analysis.params import (
    parse_as_of,
    parse_gender,
    parse_municipality,
    parse_path,
    parse_peers,
)
from ks_analysis.paths import DEMO_DIR, NOTEBOOKS_DIR, REPORTS_DIR, refuse_raw_output

__all__ = ["add_parser", "render_exploration", "EXPLORE_NOTEBOOK"]

log = logging.getLogger(__name__)

EXPLORE_NOTEBOOK = "04-explore-indicator.ipynb"


def add_parser(sub: Any) -> None:
    """Register ``ks-analysis explore``."""
    p = sub.add_parser(
        "explore",
        help="render one indicator's series, peers, gender split, provenance and forecast as HTML",
    )
    p.add_argument("indicator", help="Kolada id (N03926) or local id (LOKAL_...)")
    p.add_argument(
        "--municipality",
        default="",
        help="Kolada code of the kommun, 4 digits (default: the goal catalogue's kommun)",
    )
    p.add_argument(
        "--peers",
        default="",
        help="comma-separated Kolada codes (default: the other kommuner of the län)",
    )
    p.add_argument(
        "--gender",
        default="T",
        choices=["T", "K", "M"],
        help="T totalt (default), K kvinnor, M män",
    )
    p.add_argument(
        "--raw", type=path_arg, default=DEMO_DIR, help="raw data folder (default: the demo data)"
    )
    p.add_argument("--sources", type=path_arg, help="sources manifest (default: RAW/sources.yaml)")
    p.add_argument(
        "--as-of", default="", help="data vintage YYYY-MM-DD (default: everything known today)"
    )
    p.add_argument(
        "--out",
        type=path_arg,
        default=REPORTS_DIR / "explore",
        help="folder for the HTML (default: reports/explore)",
    )
    add_example(
        p,
        "ks-analysis explore N03926",
        "ks-analysis explore N03926 --raw ../shared/data/real --sources data/real-sources.yaml",
        "ks-analysis explore N00669 --gender K --as-of 2022-12-31 --out /tmp/explore",
    )
    p.set_defaults(func=run)


def render_exploration(
    params: dict[str, str], out_dir: Path, notebooks_dir: Path | None = None
) -> Path:
    """Run notebook 04 with ``params`` and write ``out_dir/<indicator>-<municipality>-<gender>.html`` atomically.

    Raises:
        ParameterError: bad parameters, before any kernel starts.
        NotebookError: a cell failed; an earlier HTML file of the same name stays in place.
    """
    # papermill and nbconvert load in about a second: only once the parameters were checked
    from ks_analysis.publish.notebooks import execute_notebook, render_html, validate_parameters

    nb_dir = notebooks_dir or NOTEBOOKS_DIR
    notebook = nb_dir / EXPLORE_NOTEBOOK
    if not notebook.exists():
        raise DataFileError(
            notebook,
            "explore notebook not found",
            fix="reinstall ks-analysis (the package ships its notebooks), or in a checkout restore notebooks/ with git",
        )
    validate_parameters(notebook, params)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{params['indicator'].upper()}-{params['municipality']}-{params['gender']}.html"
    final = out_dir / name
    # One run per page at a time; what a killed run left beside it (.<name>.tmp-*) is removed first.
    with locked_output(final):
        sweep_litter(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=out_dir))
        try:
            executed = execute_notebook(notebook, tmp / EXPLORE_NOTEBOOK, params, cwd=nb_dir)
            html = render_html(
                executed,
                tmp / name,
                f"Utforska {params['indicator'].upper()} – {params['municipality']}",
            )
            os.replace(html, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def exploration_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The explore notebook's text parameters, every value checked once by :mod:`ks_analysis.params`."""
    day = parse_as_of(args.as_of)
    peers = parse_peers(args.peers)
    raw = parse_path(args.raw, "raw") or DEMO_DIR
    sources = parse_path(args.sources, "sources")
    return {
        "indicator": str(args.indicator).strip().upper(),
        "municipality": parse_municipality(args.municipality),
        "peers": ",".join(peers) if peers else "",
        "gender": parse_gender(args.gender),
        "raw": str(raw),
        "sources": str(sources) if sources else "",
        "as_of": day.isoformat() if day else "",
    }


def refuse_unknown_indicator(params: dict[str, str]) -> None:
    """Refuse an indicator that no raw file mentions, before any kernel starts (a ParameterError
    with the nearest ids the files do mention). Where the files cannot tell (a workbook that does
    not name its indicators), the notebook's cleaning decides, as before."""
    import difflib

    from ks_analysis.ingest.mentions import indicator_mentions
    from ks_analysis.paths import PROJECT_ROOT, relative_to_root

    raw = Path(params["raw"])
    sources = Path(params["sources"]) if params["sources"] else None
    ind = params["indicator"]
    if not ind.strip():
        raise ParameterError(
            "the indicator id is empty; give one, e.g. `ks-analysis explore N03926`, or find one "
            "with `ks-analysis kpi search <words>`"
        )
    m = indicator_mentions(raw, sources, ind)
    if m.found is not False:
        return
    near = difflib.get_close_matches(ind, m.ids, n=5, cutoff=0.5) or list(m.ids[:8])
    hint = f"; ids there that look alike: {', '.join(near)}" if near else ""
    raise ParameterError(
        f"indicator {ind!r} is in none of the {m.files} files the manifest lists under "
        f"{relative_to_root(raw, PROJECT_ROOT)}{hint}. "
        "Find a Kolada id with `ks-analysis kpi search <words>`"
    )


def run(args: argparse.Namespace) -> int:
    """Render the exploration of one indicator and print the HTML file's path."""
    started = time.monotonic()
    refuse_raw_output(args.out, "--out", raws=[getattr(args, "raw", None)])
    params = exploration_parameters(args)
    refuse_unknown_indicator(params)
    log.info("exploring %s for %s", params["indicator"], params["municipality"])
    path = render_exploration(params, Path(args.out).resolve())
    log.info("rendered in %.1f s (%.0f kB)", time.monotonic() - started, path.stat().st_size / 1024)
    print(path)
    return 0

"""``ks-analysis report``: the goal report of one or more periods as HTML + report.json."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from ks_analysis.commands._util import add_example, path_arg
from ks_analysis.errors import ParameterError
from ks_analysis.params import ReportParams, report_params
from ks_analysis.paths import DEMO_DIR, NOTEBOOKS_DIR, REPORTS_DIR, refuse_raw_output
from ks_analysis.periods import Period, current_period, parse_period, periods_of_year
from ks_analysis.publish.notebooks import KernelSession
from ks_analysis.report.staleness import EXIT_STALE, stale_reason

if TYPE_CHECKING:
    from ks_analysis.publish.report import ModelsAhead

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    """Register ``ks-analysis report``."""
    p = sub.add_parser(
        "report",
        help="render the goal report of a period (HTML + report.json)",
        description=(
            "Render the goal report of one or more periods. Exit codes: 0 written; 2 bad input "
            "(nothing written); 1 failed run (the last good report is kept); 3 written but stale: "
            "no steering goal has data published since the previous report's cutoff, or more than "
            "half of the steering goals cannot be assessed (one warning line is printed, also "
            "with -q, so that cron mail and systemd show it)."
        ),
    )
    p.add_argument(
        "--period",
        action="append",
        metavar="P",
        help="YYYY-T1, YYYY-T2 or YYYY-Y (repeatable); 'current' = the latest cutoff passed",
    )
    p.add_argument("--year", type=_year, help="all three periods of a year")
    p.add_argument(
        "--municipality",
        default="",
        help="Kolada code of the kommun, 4 digits (default: the goal catalogue's kommun)",
    )
    p.add_argument(
        "--raw", type=path_arg, default=DEMO_DIR, help="raw data folder (default: the demo data)"
    )
    p.add_argument("--sources", type=path_arg, help="sources manifest (default: RAW/sources.yaml)")
    p.add_argument(
        "--goals", type=path_arg, help="goal catalogue YAML (default: the packaged KS mål 2019)"
    )
    p.add_argument(
        "--assessments",
        type=path_arg,
        help="folder of self-assessments <period>.yaml (default: RAW/assessments)",
    )
    p.add_argument(
        "--as-of",
        help="data vintage YYYY-MM-DD (default: each period's cutoff); a later date writes <period>-per-<date>/ beside the regular report",
    )
    p.add_argument(
        "--peers",
        default="",
        help="comma-separated Kolada codes of the peer group (default: the catalogue's)",
    )
    p.add_argument(
        "--out", type=path_arg, default=REPORTS_DIR, help="reports folder (default: reports/)"
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also write rapport.pdf (A4) beside rapport.html, for the board's meeting system",
    )
    add_example(
        p,
        "ks-analysis report --period 2019-T1",
        "ks-analysis report --year 2019",
        "ks-analysis report --period 2019-T2 --pdf",
        "ks-analysis report --period 2019-T2 --as-of 2019-09-15   # -> reports/0665/2019-T2-per-2019-09-15/",
        "ks-analysis report --period 2022-T2 --raw ../shared/data/real --sources data/real-sources.yaml",
    )
    p.set_defaults(func=run)


def _year(text: str) -> int:
    """``--year``: four ASCII digits (int() would also read '٢٠١٩'), a year a report can be about."""
    t = text.strip()
    if not (t.isascii() and t.isdigit() and len(t) == 4 and 1900 <= int(t) <= 2200):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a year; write four digits 0-9, e.g. --year 2019"
        )
    return int(t)


def _periods(args: argparse.Namespace) -> list[Period]:
    """The periods asked for with --period (repeatable) and --year, in order, each once."""
    out: list[Period] = []
    for text in args.period or []:
        out.append(current_period() if text == "current" else parse_period(text))
    if args.year:
        out.extend(periods_of_year(args.year))
    if not out:
        raise ParameterError("give --period (e.g. --period 2019-T1) or --year")
    return list(dict.fromkeys(out))


def params_of(args: argparse.Namespace) -> list[ReportParams]:
    """One checked :class:`ReportParams` per requested period (every value parsed here, once)."""
    return [
        report_params(
            period=per,
            as_of=args.as_of,
            municipality=args.municipality,
            peers=args.peers,
            raw=args.raw,
            sources=args.sources,
            goals=args.goals,
            assessments=args.assessments,
            out=args.out,
        )
        for per in _periods(args)
    ]


def run(args: argparse.Namespace) -> int:
    """Publish the report of every requested period; print each rapport.html path."""
    all_params = params_of(args)
    refuse_raw_output(args.out, "--out", raws=[args.raw])
    stale = False
    # One kernel for every period: the package is imported and the raw folder read once.
    with KernelSession() as session:
        # The kernel boots and imports the package while this process checks each period's
        # files and builds its model (side by side on two cores); later periods' models are
        # built while the kernel runs the earlier periods' notebooks.
        session.prestart(NOTEBOOKS_DIR)
        # Imported after the kernel has started (it loads openpyxl and the renderers).
        from ks_analysis.publish.report import ModelsAhead

        with ModelsAhead(session) as ahead:
            for i, params in enumerate(all_params, start=1):
                then = all_params[i:]
                stale = _one_report(args, params, i, len(all_params), session, ahead, then) or stale
    return EXIT_STALE if stale else 0


def _one_report(
    args: argparse.Namespace,
    params: ReportParams,
    i: int,
    n: int,
    session: KernelSession,
    ahead: ModelsAhead,
    then: list[ReportParams],
) -> bool:
    """Publish one period's report in ``session`` (building the models of ``then``, the later
    periods, meanwhile); print its path; True if it is stale."""
    per, code = params.period, params.municipality
    log.info("[%d/%d] report %s for %s", i, n, per.id, code)
    from ks_analysis.publish.report import publish_report

    result = publish_report(params, pdf=args.pdf, session=session, ahead=ahead, then=then)
    log.info(
        "[%d/%d] %s done in %.1f s (%.0f kB)",
        i,
        n,
        per.id,
        result.seconds,
        result.html_bytes / 1024,
    )
    print(result.html)
    if result.pdf is not None:
        print(result.pdf)
    sys.stdout.flush()
    why = stale_reason(json.loads(result.json.read_text(encoding="utf-8")), per)
    if why:
        print(f"ks-analysis: warning: report {per.id} for {code} is stale: {why}", file=sys.stderr)
    return bool(why)

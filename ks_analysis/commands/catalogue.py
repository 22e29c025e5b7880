"""``ks-analysis goals`` and ``ks-analysis periods``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ks_analysis.commands._util import add_example
from ks_analysis.errors import ParameterError
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.periods import periods_of_year


def add_parser(sub: Any) -> None:
    p = sub.add_parser("goals", help="list the goal catalogue (areas, goals, indicators, targets)")
    p.add_argument(
        "--goals", metavar="FILE", help="goal catalogue YAML (default: the packaged KS mål 2019)"
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_example(p, "ks-analysis goals", "ks-analysis goals --format json")
    p.set_defaults(func=run_goals)

    q = sub.add_parser("periods", help="list the report periods of a year with their cutoffs")
    q.add_argument("year", help="e.g. 2019")
    q.add_argument("--format", choices=["table", "json"], default="table")
    add_example(q, "ks-analysis periods 2019")
    q.set_defaults(func=run_periods)


def run_goals(args: argparse.Namespace) -> int:
    cat = load_catalogue(args.goals)
    if args.format == "json":
        out = []
        for g in cat.goals:
            out.append(
                {
                    "id": g.id,
                    "area": g.area_title,
                    "title": g.title,
                    "kind": g.kind,
                    "ambition": g.ambition,
                    "steering_documents": list(g.steering_documents),
                    "rollup": g.rollup,
                    "indicators": [
                        {
                            "id": i.id,
                            "title": i.title,
                            "unit": i.unit,
                            "frequency": i.frequency,
                            "aggregation": i.aggregation,
                            "direction": i.direction,
                            "genders": list(i.genders),
                            "role": i.role,
                            "target": {
                                "type": i.target.type,
                                "value": i.target.value,
                                "reference": i.target.reference,
                                "tolerance": i.target.tolerance,
                                "scope": i.target.scope,
                            },
                        }
                        for i in g.indicators
                    ],
                }
            )
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"{cat.name} ({cat.decision})")
    for area in cat.areas:
        print(f"\n{area.title}")
        for g in (g for g in cat.goals if g.area == area.id):
            print(f"  Mål {g.id} [{g.kind}] {g.title}")
            if g.steering_documents:
                print(f"      Styrdokument: {', '.join(g.steering_documents)}")
            for i in g.indicators:
                genders = "/".join(i.genders)
                print(
                    f"      {i.id:<30} {i.role:<7} {i.aggregation:<5} {genders:<5} {i.target.describe_sv(i.unit, i.direction)}"
                )
            if not g.indicators:
                print("      (stödjande mål: självvärdering, ingen prognos)")
    return 0


def run_periods(args: argparse.Namespace) -> int:
    if not str(args.year).isdigit() or len(str(args.year)) != 4:
        raise ParameterError(f"year {args.year!r} must be four digits, e.g. 2019")
    periods = periods_of_year(int(args.year))
    if args.format == "json":
        print(
            json.dumps(
                [{"id": p.id, "cutoff": p.cutoff.isoformat(), "name": p.name_sv} for p in periods],
                ensure_ascii=False,
            )
        )
        return 0
    for p in periods:
        print(f"{p.id:<8} {p.cutoff.isoformat()}  {p.name_sv}")
    return 0

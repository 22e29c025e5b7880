"""``ks-analysis kolada groups CODE``: the Kolada municipality groups of a kommun, for --peers kolada-group."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ks_analysis.commands._util import add_example, note
from ks_analysis.commands.kpi import add_metadata_options, metadata_of
from ks_analysis.errors import KsAnalysisError

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("kolada", help="look things up in Kolada's metadata: a kommun's groups")
    ksub = p.add_subparsers(dest="kolada_command", metavar="ACTION", required=True)
    g = ksub.add_parser(
        "groups",
        help="the groups named after a kommun (Kolada's 'Liknande kommuner') and those it belongs to",
    )
    g.add_argument("municipality", help="kommun code, 4 digits, e.g. 0665")
    g.add_argument("--format", choices=["table", "json"], default="table")
    add_metadata_options(g)
    add_example(
        g,
        "ks-analysis kolada groups 0665",
        "ks-analysis fetch kolada --peers kolada-group G37569   # Kolada's similar kommuner of Vaggeryd",
    )
    g.set_defaults(func=run_groups)
    add_example(p, "ks-analysis kolada groups 0665")


def run_groups(args: argparse.Namespace) -> int:
    from ks_analysis import geo as geo_mod
    from ks_analysis.fetch.metadata import groups_for
    from ks_analysis.params import parse_municipality

    code = parse_municipality(args.municipality)
    name = geo_mod.geo(code).name
    meta = metadata_of(args)
    if not meta.groups:
        raise KsAnalysisError(
            f"{meta.where} holds no municipality groups; run `ks-analysis kpi update` to fetch them"
        )
    named, member = groups_for(meta, code, name)
    if args.format == "json":
        out = [
            {
                "id": grp.id,
                "title": grp.title,
                "relation": relation,
                "members": [{"id": m, "title": t} for m, t in grp.members],
            }
            for relation, groups in (("named_after", named), ("member_of", member))
            for grp in groups
        ]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(f"Groups named after {name} ({code}), e.g. Kolada's similar kommuner:")
    for grp in named:
        print(f"  {grp.id:<8} {len(grp.members):>3} members  {grp.title}")
    if not named:
        print("  (none)")
    print(f"\nGroups {name} ({code}) belongs to:")
    for grp in member:
        print(f"  {grp.id:<8} {len(grp.members):>3} members  {grp.title}")
    if not member:
        print("  (none)")
    note(
        args,
        f"{len(named) + len(member)} group(s) from {meta.where}; use one with "
        "`ks-analysis fetch kolada --peers kolada-group ID`",
    )
    return 0

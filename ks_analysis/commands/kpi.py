"""``ks-analysis kpi search|show|update``: find Kolada KPI ids for the goal catalogue."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from ks_analysis.commands._util import add_example, note, path_arg
from ks_analysis.errors import KsAnalysisError, ParameterError

__all__ = ["add_parser", "add_metadata_options", "metadata_of"]


def add_metadata_options(p: argparse.ArgumentParser) -> None:
    """--metadata, --offline, --refresh and --base-url: where the KPI catalogue and groups come from."""
    p.add_argument(
        "--metadata",
        type=path_arg,
        help="a folder of kpi-*.json/municipality_groups-*.json pages or one JSON file "
        "(default: the newest snapshot in data/raw/kolada-metadata/, else the recorded catalogue "
        "in ../shared/data/kolada_recorded/, else a fetch from the API)",
    )
    p.add_argument(
        "--offline", action="store_true", help="never fetch; fail if no catalogue is found locally"
    )
    p.add_argument(
        "--refresh",
        action="store_true",
        help="fetch Kolada's lists anew first (kept as a new snapshot, like `kpi update`)",
    )
    p.add_argument("--base-url", default=None, help="API root (default: https://api.kolada.se/v3)")


def metadata_of(args: argparse.Namespace) -> Any:
    """The KPI catalogue and groups the options ask for; notes (a fetch) go to stderr."""
    from ks_analysis.fetch.metadata import load_metadata

    if args.offline and args.refresh:
        raise ParameterError("--offline and --refresh exclude each other")
    meta = load_metadata(
        args.metadata, online=not args.offline, refresh=args.refresh, base_url=args.base_url
    )
    for text in meta.notes:
        note(args, f"ks-analysis: {text}")
    return meta


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "kpi", help="find Kolada KPI ids: search titles and descriptions, show one KPI"
    )
    ksub = p.add_subparsers(dest="kpi_command", metavar="ACTION", required=True)

    s = ksub.add_parser(
        "search",
        help="KPIs whose title or description matches every word (accent-, case- and inflection-tolerant)",
    )
    s.add_argument("text", nargs="+", help="words to look for, e.g. långtidsarbetslöshet")
    s.add_argument("--limit", type=int, default=20, help="at most this many results (default 20)")
    s.add_argument("--format", choices=["table", "json"], default="table")
    add_metadata_options(s)
    add_example(
        s,
        'ks-analysis kpi search "långtidsarbetslöshet"',
        "ks-analysis kpi search arbetsloshet --limit 5",
        "ks-analysis kpi search nystartade företag --format json",
    )
    s.set_defaults(func=run_search)

    w = ksub.add_parser(
        "show", help="one KPI: title, description, source, gender split, publication"
    )
    w.add_argument("id", help="Kolada KPI id, e.g. N03926")
    w.add_argument("--format", choices=["text", "json"], default="text")
    add_metadata_options(w)
    add_example(w, "ks-analysis kpi show N03926")
    w.set_defaults(func=run_show)

    u = ksub.add_parser(
        "update",
        help="fetch Kolada's whole KPI list and municipality groups into a new metadata snapshot",
    )
    u.add_argument(
        "--out",
        type=path_arg,
        default=None,
        help="snapshot root (default: data/raw/kolada-metadata)",
    )
    u.add_argument("--base-url", default=None, help="API root (default: https://api.kolada.se/v3)")
    u.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default: 30)")
    add_example(u, "ks-analysis kpi update")
    u.set_defaults(func=run_update)
    add_example(
        p,
        'ks-analysis kpi search "långtidsarbetslöshet"',
        "ks-analysis kpi show N03926",
        "ks-analysis kpi update",
    )


def _kpi_json(kpi: Any) -> dict[str, Any]:
    return {
        "id": kpi.id,
        "title": kpi.title,
        "description": kpi.description,
        "source": kpi.source,
        "is_divided_by_gender": kpi.is_divided_by_gender,
        "municipality_type": kpi.municipality_type,
        "operating_area": kpi.operating_area,
        "publ_period": kpi.publ_period,
        "publication_date": kpi.publication_date,
        "prel_publication_date": kpi.prel_publication_date,
    }


def run_search(args: argparse.Namespace) -> int:
    from ks_analysis.fetch.metadata import search_kpis, suggestions

    if args.limit < 1:
        raise ParameterError(f"--limit {args.limit}: give 1 or more")
    text = " ".join(args.text)
    meta = metadata_of(args)
    hits = search_kpis(meta, text, limit=args.limit)
    if args.format == "json":
        print(json.dumps([_kpi_json(h.kpi) for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        near = suggestions(meta, text)
        hint = f"; close title words: {', '.join(near)}" if near else ""
        shown = text if len(text) <= 80 else text[:77] + "..."  # a pasted page is not echoed whole
        raise KsAnalysisError(
            f"no KPI matches {shown!r} among the {len(meta.kpis)} KPIs of {meta.where}{hint}"
        )
    print(f"{'id':<7} {'gender':<6} {'latest':<6} {'next publ.':<10}  title")
    for h in hits:
        k = h.kpi
        print(
            f"{k.id:<7} {k.gender_split:<6} {k.publ_period or '?':<6} {k.publication_date or '?':<10}  {k.title}"
        )
    note(args, f"{len(hits)} KPI(s) from {meta.where}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    meta = metadata_of(args)
    kpi = meta.kpis.get(str(args.id).strip().upper())
    if kpi is None:
        raise KsAnalysisError(
            f"KPI {args.id!r} is not among the {len(meta.kpis)} KPIs of {meta.where} "
            "(it may have been withdrawn; U00408 for one is gone from v3); "
            f"search with: ks-analysis kpi search WORDS"
        )
    if args.format == "json":
        print(json.dumps(_kpi_json(kpi), ensure_ascii=False, indent=1))
        return 0
    gender = {True: "yes (T, K, M)", False: "no (T only)"}.get(kpi.is_divided_by_gender, "unknown")  # type: ignore[arg-type]
    lines = [
        f"{kpi.id}  {kpi.title}",
        "",
        *textwrap.wrap(kpi.description, 96),
        "",
        f"source:               {kpi.source or '(not named in the description)'}",
        f"gender split:         {gender}",
        f"operating area:       {kpi.operating_area or '-'}",
        f"latest period out:    {kpi.publ_period or 'unknown'}",
        f"next publication:     {kpi.publication_date or 'unknown'}"
        + (f" (preliminary {kpi.prel_publication_date})" if kpi.prel_publication_date else ""),
        f"metadata from:        {meta.where}"
        + (f", fetched {meta.fetched_at}" if meta.fetched_at else ""),
    ]
    print("\n".join(lines))
    return 0


def run_update(args: argparse.Namespace) -> int:
    from ks_analysis.fetch.metadata import fetch_metadata

    if args.timeout <= 0:
        raise ParameterError("--timeout must be > 0")
    if args.out is not None:
        from ks_analysis.paths import refuse_read_only

        refuse_read_only(
            args.out, "--out", "make it writable (chmod u+w), or give another folder with --out"
        )
    folder, meta = fetch_metadata(
        args.out, base_url=args.base_url, client_options={"timeout": args.timeout}
    )
    print(folder)
    note(args, f"ks-analysis: {len(meta.kpis)} KPIs and {len(meta.groups)} municipality groups")
    return 0

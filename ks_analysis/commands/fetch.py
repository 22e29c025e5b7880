"""``ks-analysis fetch kolada``: fetch KPIs from the Kolada API into a new dated raw snapshot."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from ks_analysis.commands._util import add_example, path_arg, progress_enabled
from ks_analysis.errors import ParameterError
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.params import parse_municipality
from ks_analysis.paths import RAW_DIR, refuse_read_only

log = logging.getLogger(__name__)

#: Kolada KPI ids in the goal catalogue (local ids such as LOKAL_... are not Kolada's).
KOLADA_KPI = re.compile(r"^[NU]\d{5}$")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "fetch", help="fetch data from an online source into a new dated raw snapshot"
    )
    fsub = p.add_subparsers(dest="source", metavar="SOURCE", parser_class=type(p), required=True)
    k = fsub.add_parser(
        "kolada",
        help="fetch KPI data for the kommun, its län, riket and peers from the Kolada API",
        description=(
            "Fetch KPI metadata and data from the Kolada API (v3) into a new folder named by the UTC "
            "fetch time under --out, keeping every response byte for byte with fetch-log.jsonl, and add "
            "the snapshot entry to sources.yaml in the parent of --out. This is the one command that "
            "writes under data/raw/: it only ever adds a new snapshot folder. See docs/kolada-fetch.md."
        ),
    )
    k.add_argument(
        "--kpi",
        nargs="+",
        metavar="ID",
        help="KPI ids (default: the goal catalogue's Kolada KPIs); an unknown id is an error",
    )
    k.add_argument(
        "--goals",
        metavar="FILE",
        help="goal catalogue for the default KPIs and units (default: the packaged KS mål 2019)",
    )
    k.add_argument(
        "--municipality",
        default=None,
        help="kommun code (default: the catalogue's, 0665); its län and riket 0000 are always fetched",
    )
    k.add_argument(
        "--peers",
        nargs="+",
        default=["lan"],
        metavar="PEERS",
        help="'lan' (default: the län's other kommuner), 'kolada-group ID' (ids: ks-analysis kolada groups 0665), 'none', or kommun codes (0604 0617 or 0604,0617)",
    )
    k.add_argument(
        "--years",
        default=f"2010-{dt.date.today().year}",
        help="years, e.g. 2010-2024 or 2018,2019 (default: 2010 to this year)",
    )
    k.add_argument(
        "--base-url",
        default=None,
        help="API root (default: Kolada's v3 API, https://api.kolada.se/v3)",
    )
    k.add_argument(
        "--out",
        type=path_arg,
        default=RAW_DIR / "kolada",
        help="snapshot root (default: data/raw/kolada); sources.yaml of its parent gets the entry",
    )
    k.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default: 30)")
    k.add_argument(
        "--retries", type=int, default=4, help="retries on HTTP 429/5xx and timeouts (default: 4)"
    )
    k.add_argument(
        "--retry-delay",
        type=float,
        default=1.0,
        help="first retry delay in seconds, doubling each time (default: 1); Retry-After wins",
    )
    k.add_argument(
        "--no-sources-update", action="store_true", help="do not add the entry to sources.yaml"
    )
    add_example(
        k,
        "ks-analysis fetch kolada                       # the catalogue's KPIs for 0665, Jönköpings län, riket and the län's kommuner",
        "ks-analysis fetch kolada --kpi N03926 --years 2015-2024 --peers 0604 0617",
        "ks-analysis fetch kolada --peers kolada-group G37569   # Liknande kommuner, övergripande, Vaggeryd, 2025 (ks-analysis kolada groups 0665)",
    )
    k.set_defaults(func=run_kolada)
    add_example(
        p,
        "ks-analysis fetch kolada",
        "ks-analysis fetch kolada --kpi N03926 --years 2015-2024",
        "ks-analysis fetch kolada --help",
    )


def parse_years(text: str) -> list[int]:
    """``2010-2012,2015`` -> [2010, 2011, 2012, 2015]; ParameterError naming the bad part otherwise.

    >>> parse_years("2010-2012,2015")
    [2010, 2011, 2012, 2015]
    """
    years: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        m = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", part)
        if not m:
            raise ParameterError(
                f"--years {text!r}: {part!r} is not a year or range; write e.g. 2010-2024 or 2018,2019"
            )
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo or lo < 1950 or hi > 2100:
            raise ParameterError(
                f"--years {text!r}: {part!r} is not a sensible range; write e.g. 2010-2024"
            )
        years += [y for y in range(lo, hi + 1) if y not in years]
    return years


def _peers(values: list[str]) -> list[str] | str:
    first = values[0].strip().lower()
    if first in ("lan", "län", "none"):
        if len(values) > 1:
            raise ParameterError(f"--peers {first} takes no further values")
        return "none" if first == "none" else "lan"
    if first == "kolada-group":
        if len(values) != 2:
            raise ParameterError(
                "--peers kolada-group needs exactly one group id, e.g. --peers kolada-group G37569 (find ids with: ks-analysis kolada groups 0665)"
            )
        return ["kolada-group", values[1].strip()]
    codes = [c.strip() for v in values for c in v.split(",") if c.strip()]
    bad = [c for c in codes if not re.fullmatch(r"\d{3,4}", c)]
    if bad:
        raise ParameterError(
            f"--peers: {', '.join(map(repr, bad))} is not a kommun code; use 'lan', 'kolada-group ID', 'none' or codes like 0604"
        )
    return [c.zfill(4) for c in codes]


def run_kolada(args: argparse.Namespace) -> int:
    cat = load_catalogue(args.goals)
    units = {i.id: i.unit for _, i in cat.indicators() if KOLADA_KPI.match(i.id) and i.unit}
    if args.kpi:
        kpis = [k.strip().upper() for v in args.kpi for k in v.split(",") if k.strip()]
        strict = True
    else:
        kpis = [i.id for _, i in cat.indicators() if KOLADA_KPI.match(i.id)]
        strict = False  # KPIs can vanish from Kolada without notice: warn and fetch the rest
    municipality = parse_municipality(args.municipality, args.goals)
    if args.retries < 0 or args.retry_delay < 0 or args.timeout <= 0:
        raise ParameterError("--retries and --retry-delay must be >= 0 and --timeout > 0")
    # fetch adds a snapshot (and its sources.yaml entry) to a raw folder by design; one made
    # read-only is refused before any request.
    fix = "make it writable (chmod -R u+w) to add a snapshot, or fetch into a raw folder of your own with --out DIR/kolada"
    refuse_read_only(args.out, "--out", fix)
    if not args.no_sources_update:
        refuse_read_only(Path(args.out).parent, "--out", fix)
    from ks_analysis.fetch.kolada import (  # pandas loads only when fetching
        DEFAULT_BASE_URL,
        fetch_kolada,
    )

    if args.base_url is None:
        args.base_url = DEFAULT_BASE_URL
    result = fetch_kolada(
        args.out,
        kpis,
        municipality=municipality,
        peers=_peers(args.peers),
        years=parse_years(args.years),
        base_url=args.base_url,
        strict_kpis=strict,
        units=units,
        client_options={
            "timeout": args.timeout,
            "max_attempts": args.retries + 1,
            "backoff": args.retry_delay,
        },
        progress=progress_enabled(args),
        update_sources=not args.no_sources_update,
    )
    log.info(
        "fetched %d KPI(s) for %d municipalities, %d years: %d requests (%d retries), %d files, %d data rows",
        len(result.kpis), len(result.municipalities), len(result.years), result.requests, result.retries, len(result.files), result.data_rows,
    )  # fmt: skip
    if result.sources_updated:
        log.info("added the snapshot entry to %s", result.sources_file)
    print(result.snapshot)
    return 0

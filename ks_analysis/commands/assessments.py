"""``ks-analysis assessments new``: start the next period's self-assessment file, pre-filled from the previous one."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from ks_analysis._config import load_yaml
from ks_analysis._io import write_atomic
from ks_analysis.commands._util import add_example, path_arg
from ks_analysis.commands._util import note as tell
from ks_analysis.errors import KsAnalysisError, ParameterError
from ks_analysis.goals.assessments import assessment_file, load_analyses, load_assessments
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.paths import refuse_raw_output, refuse_read_only
from ks_analysis.periods import Period, parse_period

__all__ = [
    "add_parser",
    "previous_assessment_period",
    "latest_earlier_assessment",
    "new_assessment_file",
]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "assessments", help="self-assessments of the supporting goals: start a new period's file"
    )
    asub = p.add_subparsers(dest="assessments_command", metavar="ACTION")
    n = asub.add_parser(
        "new",
        help="write PERIOD.yaml pre-filled from the latest earlier period's file found (never overwrites)",
    )
    n.add_argument(
        "--period",
        required=True,
        help="the period to start, e.g. 2019-T2 (pre-filled from 2019-T1; T1 from the previous year's Y)",
    )
    n.add_argument(
        "--assessments",
        type=path_arg,
        help="your assessments folder, e.g. RAW/assessments (required unless --raw is given)",
    )
    n.add_argument(
        "--raw", type=path_arg, help="your raw data folder; the file goes to RAW/assessments"
    )
    n.add_argument(
        "--from",
        dest="from_dir",
        type=path_arg,
        help="folder to look in first for an earlier period's file (then the same folder)",
    )
    n.add_argument(
        "--goals", type=path_arg, help="goal catalogue YAML (default: the packaged KS mål 2019)"
    )
    add_example(
        n,
        "ks-analysis assessments new --period 2019-T2 --assessments ~/ks-data/raw/assessments",
        "ks-analysis assessments new --period 2020-T1 --raw ~/ks-data/raw",
    )
    n.set_defaults(func=run_new)
    add_example(
        p,
        "ks-analysis assessments new --period 2019-T2 --assessments ~/ks-data/raw/assessments",
        "ks-analysis assessments new --help",
    )
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def previous_assessment_period(period: Period) -> Period:
    """The period whose file pre-fills ``period``: T2 <- T1, Y <- T2, T1 <- the previous year's Y."""
    return period.previous() or Period(period.year - 1, "Y")


def latest_earlier_assessment(folders: list[Path], period: Period) -> tuple[Path, Period] | None:
    """The file of the latest period before ``period`` among ``folders`` (first folder wins a tie).

    Files are named ``<period>.yaml`` (2019-T1.yaml); other files are ignored.
    """
    best: tuple[Path, Period] | None = None
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                found = parse_period(path.stem)
            except KsAnalysisError:
                continue
            if found.cutoff < period.cutoff and (best is None or found.cutoff > best[1].cutoff):
                best = (path, found)
    return best


def _empty_analysis(gid: int) -> dict[str, Any]:
    return {"goal": gid, "analys": "", "atgarder": [], "author": "", "date": None}


def _template(period: Period, goal_ids: list[int]) -> dict[str, Any]:
    return {
        "period": period.id,
        "goals": [
            {
                "goal": gid,
                "direction": "kan_inte_bedomas",
                "text": "",
                "activities": [],
                "author": "",
                "date": None,
                "added_values": [],
            }
            for gid in goal_ids
        ],
    }


def new_assessment_file(
    folder: Path,
    period: Period,
    goal_ids: list[int],
    *,
    from_dir: Path | None = None,
    steering_ids: list[int] | None = None,
) -> tuple[Path, str]:
    """Write ``folder/<period>.yaml`` pre-filled from the latest earlier period's file (or a template).

    The file has two sections: ``goals`` (the self-assessments of the supporting goals
    ``goal_ids``) and ``analyses`` (analysis and actions of the steering goals ``steering_ids``,
    pre-filled from the earlier file's analyses, with empty fields for a goal it has none for).

    The latest earlier file is looked for in ``from_dir`` (when given), then in ``folder``;
    usually it is the previous period's (T1 before T2), but a missing one is skipped.

    Returns:
        (the file written, a note saying what it was pre-filled from).

    Raises:
        ParameterError: if the file exists already (it is never overwritten).
        DataFileError: if the previous file is invalid (named by file, goal and field).
    """
    target = assessment_file(folder, period.id)
    if target.exists():
        raise ParameterError(
            f"{target} exists already; it is never overwritten. Edit it, or move it away first to start again"
        )
    expected = previous_assessment_period(period)
    dirs = [d for d in (from_dir, folder) if d is not None]
    latest = latest_earlier_assessment(dirs, period)
    if latest is not None:
        prev_file, prev = latest
        src_dir = prev_file.parent
        found, _ = load_assessments(src_dir, prev.id, goal_ids)
        raw = load_yaml(prev_file, what="self-assessment file") or {}
        entries = {e.get("goal"): e for e in raw.get("goals", []) if isinstance(e, dict)}
        goals = []
        for gid in goal_ids:
            a = found.get(gid)
            if a is None:
                goals.append(_template(period, [gid])["goals"][0])
                continue
            goals.append(
                {
                    "goal": gid,
                    "direction": a.direction,
                    "text": a.text,
                    "activities": list(a.activities),
                    "author": a.author,
                    "date": None,
                    "added_values": list(entries.get(gid, {}).get("added_values") or []),
                }
            )
        analyses = load_analyses(src_dir, prev.id, steering_ids or [])
        steering = [
            {
                "goal": gid,
                "analys": an.analys,
                "atgarder": list(an.atgarder),
                "author": an.author,
                "date": None,
            }
            if (an := analyses.get(gid))
            else _empty_analysis(gid)
            for gid in steering_ids or []
        ]
        data: dict[str, Any] = {"period": period.id, "goals": goals}
        if steering:
            data["analyses"] = steering
        note = f"pre-filled from {prev_file} (the latest earlier period found"
        if steering:
            note += f"; analysis and actions of {len(analyses)} of {len(steering)} steering goals"
        note += ")"
        if prev != expected:
            note += f"; {expected.id}.yaml, the previous period's, was not found"
        header = (
            f"# Självvärderingar {period.id}, förifyllda från {prev.id}: uppdatera text, riktning, aktiviteter, mervärden och datum.\n"
            f"# Under analyses: analys och åtgärder per styrande mål, förifyllda från {prev.id}: skriv periodens analys och åtgärder.\n"
        )
    else:
        data = _template(period, goal_ids)
        if steering_ids:
            data["analyses"] = [_empty_analysis(gid) for gid in steering_ids]
        note = f"from the template (no earlier period's file in {', '.join(map(str, dirs))})"
        header = (
            f"# Självvärderingar {period.id}: skriv text, riktning (positiv | oförändrad | negativ | kan_inte_bedomas), aktiviteter och datum.\n"
            "# Under analyses: skriv analys och åtgärder (atgarder) per styrande mål.\n"
        )
    header += (
        "# Mall och fält: docs/templates.md. Filen skrevs av ks-analysis assessments new "
        + dt.date.today().isoformat()
        + ".\n"
    )
    text = header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000)
    try:
        # Linked rather than renamed into place, so that a file created meanwhile is never replaced.
        write_atomic(target, text, exclusive=True)
    except FileExistsError:
        raise ParameterError(f"{target} exists already; it is never overwritten") from None
    return target, note


def run_new(args: argparse.Namespace) -> int:
    period = parse_period(args.period)
    if args.assessments:
        folder = Path(args.assessments)
    elif args.raw:
        folder = Path(args.raw) / "assessments"
    else:
        raise ParameterError(
            "give --assessments DIR (your raw folder's assessments/) or --raw DIR; the package does not guess where your files live"
        )
    what = "--assessments" if args.assessments else "--raw"
    # The new file is the analyst's own, written into their assessments folder by design (also
    # inside a raw folder, never over a file); a folder made read-only is not written.
    refuse_raw_output(folder, what, marked=False)
    refuse_read_only(
        folder,
        what,
        f"write the new file elsewhere with --assessments DIR --from {folder}, "
        "fill it in and copy it into the raw folder when it may be written (chmod u+w)",
    )
    cat = load_catalogue(args.goals)
    goal_ids = [g.id for g in cat.goals if not g.is_steering]
    steering = [g.id for g in cat.goals if g.is_steering]
    path, note = new_assessment_file(
        folder, period, goal_ids, from_dir=args.from_dir, steering_ids=steering
    )
    print(path)
    tell(args, f"{period.id}: {note}")
    return 0

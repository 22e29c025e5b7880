"""Clean: raw reader rows -> the tidy indicator table, rejected rows with reasons, and a manifest.

Nothing is lost: every raw row ends up kept, rejected (with a reason), counted as a missing-value
marker, or counted as a duplicate, and the counts per input file add up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import geo as geo_mod
from .errors import DataFileError
from .ingest import get_reader
from .paths import relative_to_root
from .schema import KEY, TIDY_COLUMNS, validate_tidy
from .sources import SourceSpec, expand_files, find_sources_file, load_sources

__all__ = [
    "CleanResult",
    "clean_indicators",
    "read_sources",
    "run_clean",
    "write_clean",
    "MISSING_MARKERS",
    "AGGREGATE_NAMES",
    "period_end",
]

log = logging.getLogger(__name__)

#: Cell contents that mean "no value" in the sources we read.
MISSING_MARKERS = {"", "..", "...", "-", ".", "–", "—", "…", "x", "X", "NaN", "nan", "None", "null", "NA", "N/A"}
#: Names of aggregate rows that are dropped on purpose (they are not a kommun).
AGGREGATE_NAMES = {"alla kommuner", "samtliga", "samtliga kommuner", "totalt", "summa", "total", "alla"}
UNKNOWN_PLACE = {"uppgift saknas", "okänd", "okänd kommun", "unknown"}
ELECTION_YEARS = {1994, 1998, 2002, 2006, 2010, 2014, 2018, 2022, 2026}
REJECTED_COLUMNS = ["source_file", "source_row", "column", "value", "reason"]
COUNT_KEYS = ["rows_read", "rows_kept", "rows_rejected", "rows_missing", "rows_duplicate"]


@dataclass
class CleanResult:
    """What clean produced: the tidy table, the rejected rows and one manifest entry per input file."""

    tidy: pd.DataFrame
    rejected: pd.DataFrame
    inputs: list[dict[str, Any]] = field(default_factory=list)
    as_of: dt.date | None = None

    def manifest(self) -> dict[str, Any]:
        totals = {k: int(sum(i[k] for i in self.inputs)) for k in COUNT_KEYS}
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "totals": totals, "inputs": self.inputs}


def period_end(period: pd.Series) -> pd.Series:
    """Last day of each canonical period ('2022' -> 2022-12-31, '2022-Q1' -> 2022-03-31, '2022-03' -> 2022-03-31)."""
    p = period.astype("str")
    year = pd.to_numeric(p.str.slice(0, 4), errors="coerce")
    month = pd.Series(12, index=p.index, dtype="float64")
    is_q = p.str.contains("-Q", regex=False)
    is_m = p.str.len().eq(7) & ~is_q
    month[is_q] = pd.to_numeric(p[is_q].str.slice(6, 7), errors="coerce") * 3
    month[is_m] = pd.to_numeric(p[is_m].str.slice(5, 7), errors="coerce")
    first = pd.to_datetime({"year": year, "month": month, "day": 1}, errors="coerce")
    return (first + pd.offsets.MonthEnd(0)).astype("datetime64[s]")


def _parse_values(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """(numbers, is_missing) for raw cells; text that is no number gives NaN with is_missing False."""
    if values.dtype.kind in "fiu":
        num = values.astype("float64")
        return num, num.isna()
    text = values.astype("object").where(values.notna(), "")
    as_str = text.map(lambda v: v if isinstance(v, str) else repr(float(v)) if isinstance(v, int | float | np.floating | np.integer) else str(v))
    stripped = as_str.str.strip()
    missing = stripped.isin(MISSING_MARKERS)
    # Thousands separators: no-break space and thin space (Swedish exports), plain spaces.
    cleaned = stripped.str.replace("\u00a0", "", regex=False).str.replace("\u202f", "", regex=False).str.replace(" ", "", regex=False)
    if decimal == ",":
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    cleaned = cleaned.str.replace("\u2212", "-", regex=False)  # Unicode minus
    num = pd.to_numeric(cleaned.where(~missing, None), errors="coerce")
    return num.astype("float64"), missing


def _resolve_names(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(code, reason) per row: codes padded and checked, names looked up once per distinct name."""
    known = geo_mod.geos()
    code = frame["municipality"].astype("object")
    code = code.where(code.notna() & (code.astype("str").str.strip() != ""), None)
    reason = pd.Series(None, index=frame.index, dtype="object")
    names = frame["municipality_name"].astype("object")
    need = code.isna() & names.notna()
    cache: dict[str, tuple[str | None, str | None]] = {}
    for name in pd.unique(names[need]):
        key = geo_mod.normalise_name(str(name))
        if key in AGGREGATE_NAMES or key.startswith("alla "):
            cache[name] = (None, f"aggregate row {name!r} dropped on purpose (not a kommun)")
        elif key in UNKNOWN_PLACE:
            cache[name] = (None, f"no kommun given ({name!r}); the row cannot be placed")
        else:
            try:
                cache[name] = (geo_mod.lookup_code(str(name)), None)
            except geo_mod.UnknownNameError as exc:
                cache[name] = (None, str(exc))
    if cache:
        looked = names[need].map(lambda n: cache[n][0])
        why = names[need].map(lambda n: cache[n][1])
        code = code.copy()
        code[need] = looked
        reason[need] = why
    code_str = code.astype("object")
    has = code_str.notna()
    padded = code_str[has].astype("str").str.strip().str.zfill(4)
    code_str[has] = padded
    bad = has & ~code_str.isin(list(known))
    reason[bad & reason.isna()] = "unknown kommun/län code " + code_str[bad].astype("str").map(repr)
    no_place = code_str.isna() & reason.isna()
    reason[no_place] = "no municipality code or name"
    return code_str, reason


def clean_indicators(
    raw: pd.DataFrame,
    specs: dict[str, SourceSpec] | None = None,
    *,
    as_of: dt.date | None = None,
) -> CleanResult:
    """Turn raw reader rows into the tidy table; does not change ``raw``.

    Args:
        raw: rows with :data:`~ks_analysis.schema.RAW_COLUMNS` plus ``spec`` (the source entry's
            name), e.g. from :func:`read_sources`.
        specs: source entries by name (publication-lag rule, precedence, revisions, options).
        as_of: keep only values published on or before this date (the vintage known then).

    Returns:
        A :class:`CleanResult`; ``inputs`` holds the counts per ``source_file``.
    """
    specs = specs or {}
    df = raw.reset_index(drop=True).copy()
    if "spec" not in df.columns:
        df["spec"] = ""
    n = len(df)
    reason = pd.Series(None, index=df.index, dtype="object")
    column = pd.Series(None, index=df.index, dtype="object")
    bad_value = pd.Series(None, index=df.index, dtype="object")

    def reject(mask: pd.Series, why: pd.Series | str, col: str, val: pd.Series | None = None) -> None:
        m = mask & reason.isna()
        if not m.any():
            return
        reason[m] = why[m] if isinstance(why, pd.Series) else why
        column[m] = col
        bad_value[m] = (val if val is not None else df[col])[m].astype("object")

    # 1. What the reader already knows is not data (aggregates, superseded definitions).
    pre = df["reject"].notna()
    reject(pre, df["reject"].astype("object"), "municipality", df["municipality"].where(df["municipality"].notna(), df["municipality_name"]))

    # 2. Places.
    code, why = _resolve_names(df)
    reject(why.notna(), why, "municipality", df["municipality"].where(df["municipality"].notna(), df["municipality_name"]))
    df["municipality"] = code

    # 3. Indicator, gender, period.
    ind = df["indicator"].astype("str").str.strip().str.upper()
    df["indicator"] = ind
    reject(~ind.str.fullmatch(r"[A-Z][A-Z0-9_]+"), "indicator id is empty or not like N03926 / LOKAL_...", "indicator")
    gender = df["gender"].astype("str").str.strip().str.upper()
    df["gender"] = gender
    reject(~gender.isin(["T", "K", "M"]), "gender must be T, K or M", "gender")
    per = df["period"].astype("str").str.strip()
    df["period"] = per
    valid_period = per.str.fullmatch(r"\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?")
    reject(~valid_period, "not a valid period (use 2022, 2022-Q1..Q4 or 2022-01..12)", "period")
    freq_from_period = np.where(per.str.contains("-Q", regex=False), "Q", np.where(per.str.len() == 7, "M", "Y"))
    df["frequency"] = freq_from_period

    # 4. Values: missing markers are counted, text that is no number is rejected.
    decimals = df["spec"].map(lambda s: (specs[s].options.get("decimal", ".") if s in specs else "."))
    values = pd.Series(np.nan, index=df.index, dtype="float64")
    missing = pd.Series(False, index=df.index)
    for dec in pd.unique(decimals):
        m = decimals == dec
        v, miss = _parse_values(df.loc[m, "value"], dec)
        values[m] = v
        missing[m] = miss
    not_number = values.isna() & ~missing
    fix = "write numbers with '.' as decimal point and no text" if True else ""
    reject(not_number & reason.isna(), f"not a number; {fix}", "value")
    unit = df["unit"].astype("object").where(df["unit"].notna(), "").astype("str")
    df["unit"] = unit
    is_share = unit.str.strip().str.startswith("%")
    reject(is_share & (values > 100), "a share above 100 %", "value")
    reject(is_share & (values < 0), "a negative share", "value")
    reject(unit.str.strip().str.startswith("antal") & (values < 0), "a negative count", "value")

    # 5. Election KPIs repeat the last election's value every year until the next election.
    for s in pd.unique(df["spec"]):
        spec = specs.get(s)
        if spec and spec.election_kpis:
            year = pd.to_numeric(per.str.slice(0, 4), errors="coerce")
            m = (df["spec"] == s) & df["indicator"].isin(spec.election_kpis) & ~year.isin(ELECTION_YEARS) & ~missing
            reject(m, "carried-forward copy of the last election's value (only election years are kept)", "period")

    # 6. Dates: period end and publication.
    df["value"] = values
    df["period_end"] = period_end(per.where(valid_period, "1900"))
    published = pd.to_datetime(df["published"], errors="coerce").astype("datetime64[s]")
    for s in pd.unique(df["spec"]):
        spec = specs.get(s)
        m = (df["spec"] == s) & published.isna()
        if spec is None or not m.any():
            continue
        if spec.fixed_date is not None:
            published[m] = pd.Timestamp(spec.fixed_date)
            continue
        lag = df.loc[m, "indicator"].map(lambda i, sp=spec: sp.lag_days(i)).astype("float64")
        published[m] = df.loc[m, "period_end"] + pd.to_timedelta(lag, unit="D")
    df["published"] = published
    if as_of is not None:
        late = df["published"] > pd.Timestamp(as_of)
        reject(late & ~missing, f"published after --as-of {as_of.isoformat()}", "published", df["published"].astype("str"))

    ok = reason.isna() & ~missing
    status = pd.Series("kept", index=df.index, dtype="object")
    status[reason.notna()] = "rejected"
    status[reason.isna() & missing] = "missing"

    # 7. Duplicates on the key: identical values collapse; revisions keep the newest; precedence decides;
    #    any other conflict rejects every row of the key, naming the rows.
    cand = df[ok].copy()
    cand["_prec"] = cand["spec"].map(lambda s: specs[s].precedence if s in specs else 0)
    cand["_rev"] = cand["spec"].map(lambda s: specs[s].revisions if s in specs else False)
    dup_mask = cand.duplicated(KEY, keep=False)
    if dup_mask.any():
        d = cand[dup_mask].sort_values(KEY + ["_prec", "published", "source_file", "source_row"], ascending=[True] * 4 + [False, True, True, True])
        for _, grp in d.groupby(KEY, sort=False):
            top = grp[grp["_prec"] == grp["_prec"].iloc[0]]
            lower = grp.index.difference(top.index)
            if top["value"].nunique() == 1:
                keep = top.index[0]  # identical: the first seen (earliest published) stands
            elif top["_rev"].all():
                # Revisions between vintages: the newest value wins, dated from when it was first seen.
                last_value = top["value"].iloc[-1]
                changed = top.index[top["value"] != last_value]
                tail = top.iloc[list(top.index).index(changed[-1]) + 1 :] if len(changed) else top
                keep = tail.index[0]
            else:
                rows = "; ".join(f"{grp.at[i, 'source_file']} row {grp.at[i, 'source_row']} = {grp.at[i, 'value']:g}" for i in top.index)
                for i in grp.index:
                    status[i] = "rejected"
                    reason[i] = f"conflicting duplicate: {rows}; correct one of them or set source precedence in the manifest"
                    column[i], bad_value[i] = "value", grp.at[i, "value"]
                continue
            for i in top.index.drop(keep):
                status[i] = "duplicate"  # an identical copy, or an older vintage superseded by a revision
            for i in lower:
                if grp.at[i, "value"] == grp.at[keep, "value"]:
                    status[i] = "duplicate"
                else:
                    status[i] = "rejected"
                    reason[i] = f"conflicts with {grp.at[keep, 'source_file']} row {grp.at[keep, 'source_row']}, whose source takes precedence"
                    column[i], bad_value[i] = "value", grp.at[i, "value"]

    kept = df[status == "kept"]
    tidy = kept[TIDY_COLUMNS].sort_values(KEY).reset_index(drop=True)
    tidy["source_row"] = tidy["source_row"].astype("int64")
    tidy = validate_tidy(tidy)
    rej_idx = status == "rejected"
    rejected = pd.DataFrame(
        {
            "source_file": df.loc[rej_idx, "source_file"].astype("str"),
            "source_row": df.loc[rej_idx, "source_row"].astype("int64"),
            "column": column[rej_idx].astype("str"),
            "value": bad_value[rej_idx].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)),
            "reason": reason[rej_idx].astype("str"),
        }
    ).sort_values(["source_file", "source_row"]).reset_index(drop=True)

    counts = pd.crosstab(df["source_file"], status).reindex(columns=["kept", "rejected", "missing", "duplicate"], fill_value=0)
    inputs = []
    for f, row in counts.iterrows():
        entry = {
            "file": str(f),
            "rows_read": int(row.sum()),
            "rows_kept": int(row["kept"]),
            "rows_rejected": int(row["rejected"]),
            "rows_missing": int(row["missing"]),
            "rows_duplicate": int(row["duplicate"]),
        }
        reasons = rejected.loc[rejected["source_file"] == f, "reason"].str.replace(r"'[^']*'", "'…'", regex=True).str.slice(0, 80).value_counts()
        entry["rejected_by_reason"] = {str(k): int(v) for k, v in reasons.items()}
        inputs.append(entry)
    assert sum(i["rows_read"] for i in inputs) == n
    return CleanResult(tidy=tidy, rejected=rejected, inputs=inputs, as_of=as_of)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sources(raw_root: Path, sources_file: Path | None = None, *, progress: bool = False) -> tuple[pd.DataFrame, dict[str, SourceSpec], list[dict[str, Any]]]:
    """Read every file a sources manifest lists.

    Returns:
        (raw rows of all files with a ``spec`` column, specs by name, one dict per file with
        ``file, sha256, reader, source``).

    Raises:
        DataFileError: for a listed file that is absent or unreadable (nothing is written).
    """
    raw_root = Path(raw_root)
    sources_file = Path(sources_file) if sources_file else find_sources_file(raw_root)
    specs = load_sources(sources_file)
    jobs: list[tuple[SourceSpec, Path]] = []
    for spec in specs:
        files = expand_files(spec, raw_root)
        if not files:
            log.warning("source %r in %s matched no files (%s)", spec.name, sources_file, ", ".join(spec.files))
        jobs.extend((spec, f) for f in files)
    listed = {f.resolve() for _, f in jobs}
    _warn_unlisted(raw_root, listed, sources_file)
    frames = []
    files_info = []
    bar = _progress(len(jobs), "reading", progress)
    for spec, f in jobs:
        rel = relative_to_root(f, raw_root)
        fn = get_reader(spec.reader, spec.manifest)
        try:
            frame = fn(f, rel=rel, **spec.options)
        except DataFileError:
            raise
        except Exception as exc:  # a reader's unexpected failure still names the file
            raise DataFileError(rel, f"could not be read by reader {spec.reader!r} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})", fix="check that the file is complete and in the format the manifest says") from exc
        frame["spec"] = spec.name
        frames.append(frame)
        files_info.append({"file": rel, "sha256": _sha256(f), "reader": spec.reader, "source": spec.name})
        bar.update(1)
    bar.close()
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return raw, {s.name: s for s in specs}, files_info


def _warn_unlisted(raw_root: Path, listed: set[Path], sources_file: Path) -> None:
    skip_names = {sources_file.name, "README.md", "SOURCES.md", ".gitkeep", "fetch-log.jsonl"}
    for p in sorted(raw_root.rglob("*")):
        if not p.is_file() or p.name in skip_names or p.name.startswith("."):
            continue
        if p.resolve() not in listed and p.resolve() != sources_file.resolve():
            if any(part in ("assessments", "sjalvvarderingar", "kommunkompassen") for part in p.relative_to(raw_root).parts):
                continue
            log.warning("%s is in the raw folder but not listed in %s; it was not read", relative_to_root(p, raw_root), sources_file.name)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", leave=False)


def run_clean(raw_root: Path, sources_file: Path | None = None, *, as_of: dt.date | None = None, progress: bool = False) -> CleanResult:
    """Read and clean everything a manifest lists; pure apart from reading the raw files."""
    raw, specs, files_info = read_sources(raw_root, sources_file, progress=progress)
    if raw.empty:
        raise DataFileError(sources_file or raw_root, "the manifest lists no readable data rows", fix="check the file globs in the manifest")
    result = clean_indicators(raw, specs, as_of=as_of)
    by_file = {i["file"]: i for i in result.inputs}
    merged = []
    for info in files_info:
        counts = by_file.get(info["file"], {k: 0 for k in COUNT_KEYS} | {"rejected_by_reason": {}})
        merged.append({**info, **{k: v for k, v in counts.items() if k != "file"}})
    result.inputs = merged
    return result


def _atomic_write(path: Path, write: Any) -> Path:
    """Write to a temporary file in the same folder, return it (to be renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    write(Path(tmp))
    return Path(tmp)


def write_clean(result: CleanResult, out_dir: Path) -> dict[str, Path]:
    """Write ``indicators.parquet``, ``rejected.csv`` and ``manifest.json`` atomically into ``out_dir``.

    All three are written to temporary files first and renamed into place only when all succeeded.
    """
    out_dir = Path(out_dir)
    targets = {
        "indicators": out_dir / "indicators.parquet",
        "rejected": out_dir / "rejected.csv",
        "manifest": out_dir / "manifest.json",
    }
    temps: dict[str, Path] = {}
    try:
        temps["indicators"] = _atomic_write(targets["indicators"], lambda p: result.tidy.to_parquet(p, index=False))
        temps["rejected"] = _atomic_write(targets["rejected"], lambda p: result.rejected.to_csv(p, index=False, columns=REJECTED_COLUMNS))
        temps["manifest"] = _atomic_write(targets["manifest"], lambda p: p.write_text(json.dumps(result.manifest(), indent=2, ensure_ascii=False), encoding="utf-8"))
    except BaseException:
        for t in temps.values():
            t.unlink(missing_ok=True)
        raise
    for key, tmp in temps.items():
        os.replace(tmp, targets[key])
    return targets


def read_tidy(path: Path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_clean`."""
    return pd.read_parquet(path)

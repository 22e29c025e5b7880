"""Clean stage: cleaned vintages kept on disk between runs, keyed by what they were made from.

Reading and cleaning a raw folder is most of what a report costs on real data (3–4 s of the
real 2022-T2 report, for 470 000 rows), and a tertial's scheduled runs, an analyst's reruns and
``report --year`` clean the same files again and again. So every vintage :func:`clean_once
<ks_analysis.clean.run.clean_once>` makes is also written to a cache folder, and a later
process that asks for the same vintage of the same content reads it back in a few hundredths
of a second instead.

The key is the content, never a date or a size: the sha256 of every file in the raw folder
(also under symlinked folders, which the manifest's globs read through; every symlink also by
where it points; one leading out of the raw folder by that only, so nothing outside the raw
root is read), of the manifest, the two paths (the log lines name them), of the package's own
code and data (so another version of the cleaning never gets an old result), the pandas and
pyarrow versions, and ``as_of``. A changed
byte anywhere is a new key. An entry is the tidy table and the rejected rows as Arrow IPC
files (zstd), the forecasts' index of the tidy table (its rows grouped by series, as numeric
arrays) and a JSON file with the manifest entries and the log lines the cleaning gave, which a
hit says again (:mod:`ks_analysis._logs`), so a cached run warns exactly as the first one did.

The folder is ``$KS_CACHE_DIR``, by default ``ks-analysis/cleaned`` in the user's cache folder
(``$XDG_CACHE_HOME``, else ``~/.cache``; not ``data/processed``, which ``clean`` replaces as a
whole); ``KS_CACHE_DIR=off`` turns the cache off. A cache folder inside a raw folder, or
holding one, is never used: the run warns and cleans without it. It keeps the
:data:`MAX_ENTRIES` most recently used entries, and removes only folders named as it names its
entries. A cache that cannot be read or written is passed over with a debug line: it only
ever saves time, and a run without it gives the same result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import _logs
from ks_analysis._io import sha256_file
from ks_analysis._memo import Memo
from ks_analysis.clean.accounting import CleanResult
from ks_analysis.errors import ParameterError
from ks_analysis.ingest import memo
from ks_analysis.ingest.manifest import find_sources_file
from ks_analysis.paths import PACKAGE_DIR, refuse_raw_output

__all__ = [
    "CACHE_ENV",
    "MAX_ENTRIES",
    "cache_dir",
    "content_key",
    "stored",
    "load",
    "store",
]

log = logging.getLogger(__name__)

CACHE_ENV = "KS_CACHE_DIR"
#: Entries kept (a report needs two vintages, ``report --year`` four); older ones are removed.
MAX_ENTRIES = 12
#: The entry layout; another layout is another key.
FORMAT = 1
_OFF = {"off", "0", "no", "false", "none"}
_TABLES = ("tidy", "rejected")


def cache_dir() -> Path | None:
    """The cache folder, or None where ``$KS_CACHE_DIR`` turns the cache off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None and env.strip().lower() in _OFF:
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ks-analysis" / "cleaned"


def _digest(path: str) -> str:
    """The sha256 of a regular file; a FIFO, socket or device is never opened (a FIFO would
    block) but keyed by its kind: the reader refuses it with its own message where the manifest
    lists it, and leaves it alone where it does not."""
    try:
        st = os.stat(path)
        return sha256_file(Path(path)) if stat.S_ISREG(st.st_mode) else f"not a file {st.st_mode:o}"
    except OSError as exc:  # unreadable: the read itself says so
        return f"unreadable {exc.errno}"


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """The package's code and data files (not its bytecode) with the library versions that
    shape the tables: another cleaning, or another reading of the same files, is another key."""
    import pyarrow

    h = hashlib.sha256(
        f"format {FORMAT} pandas {pd.__version__} pyarrow {pyarrow.__version__}".encode()
    )
    for folder, dirs, names in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            p = os.path.join(folder, name)
            h.update(
                os.path.relpath(p, PACKAGE_DIR).encode() + b"\0" + sha256_file(Path(p)).encode()
            )
    return h.hexdigest()


def _folder_key(raw_root: Path, sources_file: Path) -> str:
    """The sha256 of the raw folder's files and of the manifest, with the two paths (the log
    lines a hit says again name them). Symlinks count by where they point, as well as by what
    they hold (a symlinked folder's files as the folder's own: the manifest's globs read through
    them); nothing leading out of the raw folder is opened."""
    h = hashlib.sha256(
        f"{raw_root}\0{Path(raw_root).resolve()}\0{sources_file}\0{Path(sources_file).resolve()}\n".encode()
    )
    for e in memo.walk_raw(Path(raw_root)):
        link = f"link {e.link}" if e.link is not None else "-"
        if not e.inside:  # never read here (the reader refuses it if the manifest lists it)
            digest = f"outside, exists {os.path.exists(e.path)}"
        elif os.path.isdir(e.path):
            digest = "folder"
        else:
            digest = _digest(e.path)
        h.update(f"{e.rel}\0{link}\0{digest}\n".encode())
    h.update(b"manifest\0" + _digest(str(sources_file)).encode())
    return h.hexdigest()


_WARNED: set[str] = set()

#: Folder keys by the read key (sizes and modification times) already computed in this process.
_FOLDER_KEYS: Memo[str] = Memo(4)


def content_key(
    raw_root: Path, sources_file: Path | None, as_of: dt.date | None, read_key: Any
) -> str | None:
    """The cache key of one vintage, or None where nothing is cached (no cache folder, no raw
    folder or manifest, a file that cannot be hashed)."""
    folder_ = cache_dir()
    if folder_ is None or read_key is None:
        return None
    try:
        refuse_raw_output(
            folder_, f"the cache folder ({CACHE_ENV})", raws=[Path(raw_root)], whole_folder=True
        )
    except ParameterError as exc:
        if str(exc) not in _WARNED:  # once per process, not per vintage
            _WARNED.add(str(exc))
            log.warning("%s; cleaned vintages are not cached", exc)
        return None
    folder = _FOLDER_KEYS.get(read_key)
    if folder is None:
        folder = _folder_key_of(raw_root, sources_file)
        if folder is None:
            return None
        _FOLDER_KEYS.put(read_key, folder)
    return _vintage_key(folder, as_of)


def _folder_key_of(raw_root: Path, sources_file: Path | None) -> str | None:
    try:
        sources = Path(sources_file) if sources_file else find_sources_file(Path(raw_root))
        return _folder_key(Path(raw_root), sources)
    except Exception as exc:  # a manifest missing or unreadable: the read gives its message
        log.debug("cleaned-vintage cache passed over: %s", exc)
        return None


def _vintage_key(folder: str, as_of: dt.date | None) -> str:
    day = as_of.isoformat() if as_of else "latest"
    return hashlib.sha256(f"{_code_key()}\0{folder}\0{day}".encode()).hexdigest()


def still_current(
    raw_root: Path, sources_file: Path | None, as_of: dt.date | None, key: str | None
) -> bool:
    """Whether ``key`` is still what the raw folder's files give, hashed again now (not from
    this process's memory of their sizes and times): a file changed while it was read and
    cleaned must not be kept under either key."""
    if key is None:
        return False
    folder = _folder_key_of(raw_root, sources_file)
    return folder is not None and _vintage_key(folder, as_of) == key


def stored(key: str | None) -> bool:
    """Whether an entry is kept under ``key`` (it may still prove unreadable when loaded)."""
    folder = cache_dir()
    return key is not None and folder is not None and (folder / key / "meta.json").is_file()


def load(key: str | None) -> CleanResult | None:
    """The vintage kept under ``key``, its log lines said again; None if none is (or it is
    unreadable, which is then removed)."""
    folder = cache_dir()
    if key is None or folder is None:
        return None
    entry = folder / key
    meta_file = entry / "meta.json"
    if not meta_file.is_file():
        return None
    try:
        from pyarrow import feather

        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
            raise ValueError("another layout")
        lines = [(str(n), int(lv), str(m)) for n, lv, m in meta["log"]]
        inputs = meta["inputs"]
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise ValueError("inputs are not a list of entries")
        as_of = dt.date.fromisoformat(meta["as_of"]) if meta["as_of"] is not None else None
        tables = {t: feather.read_feather(entry / f"{t}.arrow") for t in _TABLES}
        for t in _TABLES:
            if len(tables[t]) != meta["rows"][t]:
                raise ValueError(f"{t}: {len(tables[t])} rows, {meta['rows'][t]} written")
    except Exception as exc:
        log.debug(
            "cleaned vintage %s in the cache is unreadable (%s); cleaning again", key[:12], exc
        )
        shutil.rmtree(entry, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):  # a cache on a read-only file system: used all the same
        os.utime(meta_file)  # recently used: kept longest
    _adopt_index(entry, tables["tidy"], meta.get("index"))
    _logs.say_again(lines)
    log.debug("cleaned vintage %s read from the cache", key[:12])
    return CleanResult(tables["tidy"], tables["rejected"], inputs, as_of)


def _adopt_index(entry: Path, tidy: pd.DataFrame, labels: Any) -> None:
    """Give the forecasts the tidy table's index kept beside it (grouping 546 000 rows by
    series took 0.35 s per vintage), made from its parts when first asked for; an index that
    does not fit is built from the table then."""
    from ks_analysis.forecast import series  # the forecasts' index of the table

    try:
        with np.load(entry / "index.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        log.debug("the kept index of %s is not used (%s)", entry.name[:12], exc)
        return
    series.adopt_index(tidy, lambda: series.TidyIndex.from_parts(tidy, arrays, labels))


def _index_parts(tidy: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    from ks_analysis.forecast import series

    return series.tidy_index(tidy).to_parts()


def store(key: str | None, result: CleanResult, lines: list[tuple[str, int, str]]) -> None:
    """Keep ``result`` under ``key`` (written in a temporary folder, then renamed into place),
    and remove the least recently used entries beyond :data:`MAX_ENTRIES`."""
    folder = cache_dir()
    if key is None or folder is None:
        return
    tables = {"tidy": result.tidy, "rejected": result.rejected}
    if any(
        not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 for df in tables.values()
    ):
        return  # the Arrow files keep a plain 0..n-1 index only
    try:
        from pyarrow import feather

        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", suffix=".tmp", dir=folder))
        try:
            for t, df in tables.items():
                # one record batch: read back, each column is one Arrow chunk, as cleaned
                feather.write_feather(
                    df, tmp / f"{t}.arrow", compression="zstd", chunksize=max(len(df), 1)
                )
            arrays, labels = _index_parts(result.tidy)
            np.savez(tmp / "index.npz", **arrays)  # type: ignore[arg-type]
            meta = {
                "format": FORMAT,
                "key": key,
                "as_of": result.as_of.isoformat() if result.as_of else None,
                "rows": {t: len(df) for t, df in tables.items()},
                "inputs": result.inputs,
                "log": lines,
                "index": labels,
            }
            (tmp / "meta.json").write_text(json.dumps(meta, default=_plain), encoding="utf-8")
            tmp.chmod(_folder_mode())  # mkdtemp makes 0700; a shared cache follows the umask
            os.replace(tmp, folder / key)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (folder / key / "meta.json").is_file():
                raise
            # another process kept the same vintage meanwhile: theirs is as good
        _prune(folder)
    except Exception as exc:
        log.debug("cleaned vintage not kept in the cache (%s)", exc)


def _folder_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value; anything else JSON has no type for is refused, so
    that a manifest entry never comes back from the cache as other than it went in."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    raise TypeError(f"{type(value).__name__} is not kept in the cache")


#: A temporary entry folder older than this was left by a run that stopped; it is removed.
_STALE_TMP_S = 3600


_ENTRY = re.compile(r"[0-9a-f]{64}")
_TMP = re.compile(r"\.[0-9a-f]{12}\..+\.tmp")


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond :data:`MAX_ENTRIES`, and temporary entry
    folders of stopped runs. Only folders named as this module names them are touched, so a
    cache folder that holds other things (``KS_CACHE_DIR=$HOME``) loses none of them."""
    entries = []
    now = dt.datetime.now().timestamp()
    for p in folder.iterdir():
        if p.is_symlink() or not p.is_dir():
            continue
        if _TMP.fullmatch(p.name):
            if now - p.stat().st_mtime > _STALE_TMP_S:
                shutil.rmtree(p, ignore_errors=True)
        elif _ENTRY.fullmatch(p.name) and (p / "meta.json").is_file():
            entries.append((p.stat().st_mtime_ns, (p / "meta.json").stat().st_mtime_ns, p))
    for *_, p in sorted(entries, key=lambda e: e[1], reverse=True)[MAX_ENTRIES:]:
        shutil.rmtree(p, ignore_errors=True)

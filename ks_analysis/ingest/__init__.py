"""Readers: one small function per source format, from a file to raw observation rows.

Every reader has the signature ``read_x(path: Path, *, rel: str, **options) -> pd.DataFrame``
and returns the columns of :data:`ks_analysis.schema.RAW_COLUMNS`, one row per value cell it
read (missing markers included, so that clean can count them), with ``source_file = rel`` and
``source_row`` the 1-based row a person sees in a spreadsheet or editor. Readers only read:
they never write, and they raise :class:`~ks_analysis.errors.DataFileError` for a file they
cannot read at all (wrong format, truncated, missing columns). Row-level problems (text in a
number column, an unknown kommun name) are left to ``clean``, which rejects the row with a reason.

Readers register themselves by name with :func:`~ks_analysis.ingest.registry.reader`; sources
manifests refer to that name. Modules: ``manifest`` (sources.yaml), ``read`` (read a manifest's
files), ``registry`` (readers by name), ``frame`` (building raw frames), and one module per
source format (``kolada_bulk``, ``kolada_snapshot`` with ``kolada_pages``, ``kolada_web``, ``tables``, ``scb_csv``,
``agencies``, ``local``).
"""

__all__ = [
    "manifest",
    "read",
    "registry",
    "frame",
    "kolada_bulk",
    "kolada_snapshot",
    "kolada_pages",
    "kolada_web",
    "tables",
    "scb_csv",
    "agencies",
    "local",
]

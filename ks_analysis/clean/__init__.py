"""Clean: raw reader rows -> the tidy indicator table, rejected rows with reasons, and a manifest.

Nothing is lost: every raw row ends up kept, rejected (with a reason), counted as a missing-value
marker, or counted as a duplicate, and the counts per input file add up.

Modules, in the order a row meets them: ``rules`` (one function per cleaning rule and the
pipeline :func:`clean_indicators`), ``places`` (codes and names to kommun codes), ``duplicates``
(rows sharing a key), ``accounting`` (row status, rejections, counts, the manifest), ``write``
(the outputs), ``run`` (read a manifest's files and clean them); ``_columnar`` holds the fast
array helpers and ``quality`` the analyst's data-quality summaries.
"""

from ks_analysis.clean.accounting import CleanResult
from ks_analysis.clean.rules import clean_indicators
from ks_analysis.clean.run import clean_once, clean_sources, run_clean
from ks_analysis.clean.write import read_tidy, write_clean

__all__ = [
    "clean_indicators",
    "run_clean",
    "clean_sources",
    "clean_once",
    "write_clean",
    "read_tidy",
    "CleanResult",
]

"""The report's chart theme is seaborn's, without importing seaborn in the report's kernel."""

from __future__ import annotations

from typing import Any

import matplotlib as mpl

from ks_analysis.report import charts


def _settings(apply: Any) -> dict[str, Any]:
    """matplotlib's settings after ``apply()`` on its defaults (the process's own left as they were)."""
    with mpl.rc_context():
        mpl.rcdefaults()
        apply()
        return dict(mpl.rcParams)


def test_the_kept_theme_is_what_the_installed_seaborn_sets() -> None:
    """data/chart_theme.json gives every setting seaborn.set_theme(whitegrid, notebook, 0.9)
    gives, but seaborn's colormap (only seaborn registers it, the report draws no images).
    After a seaborn upgrade that changes its theme, run charts.write_theme()."""
    import seaborn as sns

    def ours() -> None:
        for key, value in charts._theme_rc().items():
            mpl.rcParams[key] = value

    kept, theirs = _settings(ours), _settings(lambda: sns.set_theme(**charts.THEME_CALL))
    defaults = _settings(lambda: None)
    assert {k for k in theirs if kept[k] != theirs[k]} == {"image.cmap"}
    # and the theme changes something: 30-odd settings, the colour cycle among them
    changed = {k for k in kept if kept[k] != defaults[k]}
    assert len(changed) > 25 and "axes.prop_cycle" in changed

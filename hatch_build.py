"""Hatchling build hook: the wheel carries the notebooks and the demo data inside the package.

In the repository the notebooks live in ``notebooks/`` (where JupyterLab opens them) and the demo
data in ``data/raw/demo/`` (where ``ks-analysis demo`` writes it). A wheel installed elsewhere has
neither, so a regular wheel gets copies at ``ks_analysis/notebooks/`` and ``ks_analysis/data/demo/``
(``ks_analysis.paths`` picks them when the package is not in a checkout). Editable installs (``uv
sync``) get no copies: they read the repository's own folders.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Repository folder -> place inside the wheel.
BUNDLED = {
    "notebooks": "ks_analysis/notebooks",
    "data/raw/demo": "ks_analysis/data/demo",
}


class BundleHook(BuildHookInterface):  # type: ignore[type-arg]
    """Add the notebooks and the demo data to a regular (non-editable) wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        for source, target in BUNDLED.items():
            build_data["force_include"][f"{self.root}/{source}"] = target

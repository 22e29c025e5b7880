"""The installed package's version, from its metadata (one place for ``--version`` and the User-Agent)."""

from __future__ import annotations

import importlib.metadata

__all__ = ["package_version"]


def package_version() -> str:
    """``0.1.0`` as installed; ``0+unknown`` for a plain checkout that was never installed."""
    try:
        return importlib.metadata.version("ks-analysis")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"

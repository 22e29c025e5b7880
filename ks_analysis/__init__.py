"""ks-analysis."""

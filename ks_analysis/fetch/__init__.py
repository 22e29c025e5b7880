"""Fetch: the one writer of raw snapshots (the Kolada API client and its dated snapshots)."""

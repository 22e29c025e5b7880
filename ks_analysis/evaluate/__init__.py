"""Evaluate: judge indicators and goals against their targets, and flag results that stand out."""

"""Subcommands of ``ks-analysis``; each module has ``add_parser(subparsers)``."""

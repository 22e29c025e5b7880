"""``ks-analysis demo``: (re)generate the seeded demo dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..demo import DEMO_SEED, generate_demo
from ..errors import ParameterError
from ..paths import DEMO_DIR, RAW_DIR
from ._util import add_example


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="write the seeded demo dataset (made-up data)")
    p.add_argument("--out", type=Path, required=True, help="folder to write to (must be empty or the demo folder)")
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    add_example(p, "ks-analysis demo --out /tmp/demo")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out.resolve()
    raw = RAW_DIR.resolve()
    # data/raw is read-only for the package; the demo folder is the one exception, since the
    # demo generator is what made it.
    if out != DEMO_DIR.resolve() and (out == raw or raw in out.parents):
        raise ParameterError(f"--out {args.out}: the package never writes under data/raw (except the demo folder); choose another folder")
    files = generate_demo(out, seed=args.seed)
    print(f"{len(files)} files written to {out}")
    return 0

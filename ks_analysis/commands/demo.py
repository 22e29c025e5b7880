"""``ks-analysis demo``: (re)generate the seeded demo dataset."""

from __future__ import annotations

import argparse
from typing import Any

from ks_analysis.commands._util import add_example, path_arg
from ks_analysis.demo import DEMO_SEED, generate_demo
from ks_analysis.errors import ParameterError
from ks_analysis.paths import DEMO_DIR, IN_CHECKOUT, refuse_raw_output


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="write the seeded demo dataset (made-up data)")
    p.add_argument(
        "--out",
        type=path_arg,
        required=True,
        help="folder to write to (must be empty or the demo folder)",
    )
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    add_example(p, "ks-analysis demo --out /tmp/demo")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out.resolve()
    # data/raw is read-only for the package; the demo folder is the one exception, since the
    # demo generator is what made it.
    refuse_raw_output(args.out, "--out", allow_demo=True)
    if not IN_CHECKOUT and out == DEMO_DIR.resolve():
        raise ParameterError(
            f"--out {args.out}: is the installed package's own demo data; write the demo elsewhere, e.g. --out demo"
        )
    if out != DEMO_DIR.resolve():
        if out.exists() and not out.is_dir():
            raise ParameterError(
                f"--out {args.out}: is a file, not a folder; choose an empty or new folder"
            )
        if out.is_dir() and any(out.iterdir()):
            raise ParameterError(
                f"--out {args.out}: the folder is not empty and the demo would overwrite files in it; "
                "choose an empty or new folder"
            )
    if out == DEMO_DIR.resolve():
        files = generate_demo(out, seed=args.seed)
    else:  # built beside --out and swapped in whole: a failure (disk full) leaves no half demo
        from ks_analysis._io import output_folder

        with output_folder(out, doing="writing the demo data") as tmp:
            files = [out / p.relative_to(tmp) for p in generate_demo(tmp, seed=args.seed)]
    print(f"{len(files)} files written to {out}")
    return 0

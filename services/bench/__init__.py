"""``venuecode bench <name>``: the benchmarks of issue 8, each beside its physical limit in one run.

One module each: ``checkin``, ``ingest``, ``contacts`` and ``status``. They
start what they need, run bounded loads on loopback, print a table, and write
JSON and a PNG plot to the git-ignored ``bench-results/``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

BENCHMARKS = ("checkin", "ingest", "contacts", "status")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="venuecode bench", description=__doc__)
    names = top.add_subparsers(dest="name", required=True)
    for name in BENCHMARKS:
        module = importlib.import_module(f"services.bench.{name}")
        sub = names.add_parser(name, help=(module.__doc__ or "").splitlines()[0])
        sub.add_argument(
            "--out", default="bench-results", help="where JSON and PNG go (default bench-results/)"
        )
        module.add_arguments(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    module = importlib.import_module(f"services.bench.{args.name}")
    try:
        import uvloop

        uvloop.run(module.run(args))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

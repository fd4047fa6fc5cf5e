"""``venuecode bench <name>``: the benchmarks of issue 8, each beside its physical limit in one run.

``checkin``, ``ingest`` and ``status`` live here, one module each; ``contacts``
is ``tests/bench/bench_contacts.py`` (the tracing engineer's), called when it
offers a ``main``. Results go to the git-ignored ``bench-results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCHMARKS = ("checkin", "ingest", "status", "contacts")
CONTACTS_MODULE = "tests.bench.bench_contacts"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="venuecode bench", description=__doc__)
    names = top.add_subparsers(dest="name", required=True)
    for name in BENCHMARKS[:3]:
        module = importlib.import_module(f"services.bench.{name}")
        sub = names.add_parser(name, help=(module.__doc__ or "").splitlines()[0])
        sub.add_argument(
            "--out", default="bench-results", help="where JSON and PNG go (default bench-results/)"
        )
        module.add_arguments(sub)
    names.add_parser(
        "contacts", help="tests/bench/bench_contacts.py (the tracing engineer's); its options follow"
    )
    return top


def _contacts(rest: Sequence[str]) -> int:
    """Run the tracing engineer's contacts benchmark with ``rest`` as its arguments."""
    # ``tests`` is not installed: the console script finds it in the checkout it runs from.
    if str(Path.cwd()) not in sys.path:
        sys.path.append(str(Path.cwd()))
    try:
        module = importlib.import_module(CONTACTS_MODULE)
    except ModuleNotFoundError:
        print(
            "venuecode bench: tests/bench/bench_contacts.py not found; run from the checkout", file=sys.stderr
        )
        return 1
    main = getattr(module, "main", None)
    if main is None:
        print(
            f"venuecode bench: {CONTACTS_MODULE} has no main(); run it as its docstring says", file=sys.stderr
        )
        return 1
    try:
        result: Any = main(list(rest)) if inspect.signature(main).parameters else main()
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["contacts"]:  # its own options, --help included, go to its own parser
        return _contacts(given[1:])
    args = parser().parse_args(given)
    module = importlib.import_module(f"services.bench.{args.name}")
    try:
        import uvloop

        uvloop.run(module.run(args))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

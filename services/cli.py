"""The ``venuecode`` command: dev, serve, migrate, topics, dlq, grant-role and posters.

Every command finds Postgres, Redis and Kafka the way ``venuecode dev`` does:
the ``VENUECODE_*`` URLs when set, else the servers of a running ``make run``,
else embedded servers started for the command's duration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from services.dev import SERVICES
from services.devstack import export, infrastructure
from services.embedded import EmbeddedError
from shared.events import DLQ_SUFFIX, StaffRole
from shared.progress import progress
from shared.settings import InfraSettings, KafkaSettings

log = logging.getLogger("venuecode.cli")


def _app_module(service: str) -> Any:
    return importlib.import_module(f"services.{service}.app")


def migrations_of(service: str) -> tuple[str, Path] | None:
    """The schema and migrations folder of a service, or None when it keeps no tables."""
    module = _app_module(service)
    folder = getattr(module, "MIGRATIONS", None)
    if folder is None or not Path(folder).is_dir():
        return None
    return str(getattr(module, "SCHEMA", service)), Path(folder)


async def migrate_all(infra: InfraSettings, services: Sequence[str] = SERVICES) -> dict[str, list[int]]:
    """Apply every service's missing migrations; returns the numbers applied per schema."""
    from shared import db

    applied: dict[str, list[int]] = {}
    found = [f for f in map(migrations_of, services) if f is not None]
    files = {schema: len(db.migration_files(folder)) for schema, folder in found}
    pool = await db.create_pool(infra.postgres.model_copy(update={"min_size": 1, "max_size": 2}))
    try:
        # A migration is one transaction, so the bar moves a schema's files at a time.
        with progress("migrations", total=sum(files.values()), unit="file") as bar:
            for schema, folder in found:
                applied[schema] = await db.migrate(pool, schema, folder)
                bar.update(files[schema])
    finally:
        await pool.close()
    return applied


def _call(function: Callable[..., Any], *args: Any) -> Any:
    result = function(*args)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def _registry_command(name: str) -> Callable[..., Any]:
    try:
        module = importlib.import_module("services.registry.commands")
    except ModuleNotFoundError as exc:
        raise SystemExit(f"venuecode: the registry does not offer {name} yet") from exc
    function: Callable[..., Any] = getattr(module, name)
    return function


def cmd_dev(args: argparse.Namespace) -> int:
    from services.dev import run

    return run(port=args.port, host=args.host)


def cmd_serve(args: argparse.Namespace) -> int:
    from shared.logging import configure_logging
    from shared.web import run_server

    infra = InfraSettings()
    configure_logging(infra.log_level)
    with infrastructure(infra.state_dir, owner=False) as urls:
        export(urls)  # the workers inherit the environment
        run_server(
            f"services.{args.service}.app:create_app", host=args.host, port=args.port, workers=args.workers
        )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    infra = InfraSettings()
    with infrastructure(infra.state_dir, owner=False) as urls:
        export(urls)
        applied = asyncio.run(migrate_all(InfraSettings()))
    for schema, numbers in applied.items():
        print(f"{schema}: {'applied ' + ', '.join(map(str, numbers)) if numbers else 'up to date'}")
    return 0


@contextlib.contextmanager
def kafka_only() -> Iterator[KafkaSettings]:
    """The Kafka settings of a command that needs only the broker: a given bootstrap is used as
    it is (an init container has nothing else); otherwise the servers are found as for every command."""
    infra = InfraSettings()
    with contextlib.ExitStack() as stack:
        if infra.kafka_bootstrap is None:
            export(stack.enter_context(infrastructure(infra.state_dir, owner=False)))
        yield InfraSettings().kafka


def cmd_topics(args: argparse.Namespace) -> int:
    """``topics create`` makes what is missing; both then check and fail naming each problem."""
    from shared import topics

    with kafka_only() as kafka:
        if args.action == "create":
            for name in asyncio.run(topics.create(kafka)):
                print(f"created {name}")
        problems = asyncio.run(topics.check(kafka))
    for problem in problems:
        print(f"venuecode topics: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{len(topics.every_topic())} topics as configured")
    return 0


def _since(text: str) -> datetime:
    """An ISO 8601 instant; one without a zone is UTC."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def cmd_dlq(args: argparse.Namespace) -> int:
    """``dlq list`` prints each parked message of a topic; ``dlq replay`` sends them back to it."""
    from shared import dlq

    name = args.topic.removesuffix(DLQ_SUFFIX)
    with kafka_only() as kafka:
        if args.action == "list":
            messages = asyncio.run(dlq.parked(kafka, name, args.since))
        else:
            messages = asyncio.run(dlq.replay(kafka, name, args.since))
    for message in messages:
        print(message.line())
    verb = "parked on" if args.action == "list" else "replayed to"
    print(f"{len(messages)} message(s) {verb} {name}{DLQ_SUFFIX if args.action == 'list' else ''}")
    return 0


def cmd_grant_role(args: argparse.Namespace) -> int:
    grant_role = _registry_command("grant_role")
    infra = InfraSettings()
    with infrastructure(infra.state_dir, owner=False) as urls:
        export(urls)
        result = _call(grant_role, InfraSettings(), args.id_number, args.role)
    print(f"granted {args.role} to person {result}")
    return 0


def cmd_posters(args: argparse.Namespace) -> int:
    bulk_posters = _registry_command("bulk_posters")
    infra = InfraSettings()
    args.out.mkdir(parents=True, exist_ok=True)
    with infrastructure(infra.state_dir, owner=False) as urls:
        export(urls)
        result = _call(bulk_posters, InfraSettings(), args.csv, args.out)
    print(f"{result} posters written to {args.out}")
    return 0


# The documents in docs/asyncapi/ name the compose broker, so they read the same wherever made.
ASYNCAPI_BOOTSTRAP = "kafka:9092"


def asyncapi_of(service: str) -> dict[str, Any]:
    """A service's AsyncAPI document as FastStream generates it from the code (no I/O)."""
    config = importlib.import_module(f"services.{service}.config")
    infra = InfraSettings(kafka_bootstrap=ASYNCAPI_BOOTSTRAP, kafka_namespace="")
    app = _app_module(service).create_app(config.Settings(infra=infra))
    document: dict[str, Any] = app.state.asyncapi()
    return document


def asyncapi_text(document: dict[str, Any]) -> str:
    import json

    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def cmd_asyncapi(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = args.out / f"{service}.json"
        path.write_text(asyncapi_text(asyncapi_of(service)))
        print(f"wrote {path}")
    return 0


def cmd_rotate_pii_key(args: argparse.Namespace) -> int:
    rotate_pii_key = _registry_command("rotate_pii_key")
    infra = InfraSettings()
    with infrastructure(infra.state_dir, owner=False) as urls:
        export(urls)
        done = _call(rotate_pii_key, InfraSettings(), args.batch, args.pause)
    state = "finished" if done.finished else f"not finished: {done.remaining} still under an old key"
    print(f"re-encrypted {done.resealed} identity numbers; {state}")
    return 0 if done.finished else 2


def cmd_bench(args: argparse.Namespace) -> int:
    from services import bench  # lazily: matplotlib and the load generator only for benchmarks

    return bench.main([args.name, *args.options])


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="venuecode", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="all four services on one port, on embedded servers if needed")
    dev.add_argument("--port", type=int, default=None, help="default 8000 (VENUECODE_DEV_PORT)")
    dev.add_argument("--host", default=None, help="default 127.0.0.1 (VENUECODE_DEV_HOST)")
    dev.set_defaults(handler=cmd_dev)

    serve = commands.add_parser("serve", help="one service alone, as behind the production gateway")
    serve.add_argument("service", choices=SERVICES)
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply every service's database migrations")
    migrate.set_defaults(handler=cmd_migrate)

    topics = commands.add_parser("topics", help="create or check every topic and .dlq twin (settings)")
    topics.add_argument("action", choices=("create", "check"))
    topics.set_defaults(handler=cmd_topics)

    dead = commands.add_parser("dlq", help="list a topic's parked messages, or replay them after a fix")
    dead.add_argument("action", choices=("list", "replay"))
    dead.add_argument("topic", help="the topic, e.g. venuecode.status-commands.v1 (its .dlq is read)")
    dead.add_argument(
        "--since", type=_since, default=None, help="only messages parked at or after (ISO 8601)"
    )
    dead.set_defaults(handler=cmd_dlq)

    grant = commands.add_parser("grant-role", help="grant a staff role to a registered person")
    grant.add_argument("--id-number", required=True, help="the person's identity number")
    grant.add_argument("--role", required=True, choices=get_args(StaffRole))
    grant.set_defaults(handler=cmd_grant_role)

    posters = commands.add_parser("posters", help="venue posters (PDF) for every venue listed in a CSV")
    posters.add_argument("--csv", required=True, type=Path)
    posters.add_argument("--out", required=True, type=Path)
    posters.set_defaults(handler=cmd_posters)
    asyncapi = commands.add_parser("asyncapi", help="write each service's AsyncAPI document (Kafka contract)")
    asyncapi.add_argument("--out", type=Path, default=Path("docs/asyncapi"))
    asyncapi.set_defaults(handler=cmd_asyncapi)
    rotate = commands.add_parser(
        "rotate-pii-key", help="re-encrypt identity numbers under VENUECODE_PII_KEY (resumable)"
    )
    rotate.add_argument("--batch", type=int, default=500, help="rows per transaction")
    rotate.add_argument("--pause", type=float, default=0.0, help="seconds between batches (a throttle)")
    rotate.set_defaults(handler=cmd_rotate_pii_key)
    bench = commands.add_parser("bench", help="issue 8 benchmarks: checkin, ingest, status, contacts")
    bench.add_argument("name", help="checkin, ingest, status or contacts; then its options (--help)")
    bench.add_argument("options", nargs=argparse.REMAINDER)
    bench.set_defaults(handler=cmd_bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        code: int = args.handler(args)
    except EmbeddedError as exc:
        print(f"venuecode: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())

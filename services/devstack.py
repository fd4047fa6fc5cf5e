"""The servers of ``venuecode dev``, found again by the CLI: the URLs each command uses, from the
environment, from a running dev runner (``stack.json``), or from embedded servers it starts
(``services.embedded``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.embedded import EmbeddedError, EmbeddedStack, alive, port_is_free

ENV_URLS = {
    "postgres": "VENUECODE_POSTGRES_URL",
    "redis": "VENUECODE_REDIS_URL",
    "kafka": "VENUECODE_KAFKA_BOOTSTRAP",
}
STACK_FILE = "stack.json"
# The Kafka port a developer expects; another free one is taken when it is busy.
PREFERRED_KAFKA_PORT = 9092


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def running_stack(state_dir: Path) -> dict[str, Any] | None:
    """What a running ``venuecode dev`` wrote to ``state_dir/stack.json``, or None when none runs."""
    path = Path(state_dir) / STACK_FILE
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record.get("pid"), int) or not alive(record["pid"]):
        return None
    return record


def reap_orphans(state_dir: Path) -> None:
    """Stop the servers of a runner that was killed without cleaning up (kill -9)."""
    path = Path(state_dir) / STACK_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if isinstance(record.get("pid"), int) and alive(record["pid"]):
        return
    for pid in record.get("server_pids", []):
        # Only a process that still is our server: pids are reused.
        if isinstance(pid, int) and alive(pid) and any(n in _cmdline(pid) for n in ("redis", "tansu")):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def infrastructure(state_dir: Path, *, owner: bool) -> Iterator[dict[str, str]]:
    """The three URLs, as ``venuecode dev`` and the CLI resolve them.

    A URL from the environment wins. Otherwise the CLI (``owner=False``) reuses
    the servers of a running ``venuecode dev``; failing that, embedded servers
    are started under ``state_dir`` for as long as the block runs. The dev runner
    (``owner=True``) records its servers in ``stack.json`` for the CLI to find.
    """
    state_dir = Path(state_dir)
    given = {name: os.environ.get(var) for name, var in ENV_URLS.items()}
    urls = {name: value for name, value in given.items() if value}
    missing = [name for name in ENV_URLS if name not in urls]
    if not missing:
        yield urls
        return
    running = running_stack(state_dir)
    if running is not None:
        if owner:
            raise EmbeddedError(
                f"venuecode dev already runs (pid {running['pid']}) with the data in {state_dir}"
            )
        yield {name: urls.get(name) or str(running[name]) for name in ENV_URLS}
        return
    reap_orphans(state_dir)
    kafka_port = PREFERRED_KAFKA_PORT if owner and port_is_free(PREFERRED_KAFKA_PORT) else None
    stack = EmbeddedStack(
        state_dir,
        postgres="postgres" in missing,
        redis="redis" in missing,
        kafka="kafka" in missing,
        kafka_port=kafka_port,
    )
    record_path = state_dir / STACK_FILE
    with stack:
        found = {
            "postgres": stack.postgres_url,
            "redis": stack.redis_url,
            "kafka": stack.kafka_bootstrap,
        }
        resolved = {name: urls.get(name) or found[name] for name in ENV_URLS}
        if owner:
            record = {"pid": os.getpid(), "server_pids": stack.pids(), **resolved}
            record_path.write_text(json.dumps(record, indent=2))
        try:
            yield resolved
        finally:
            if owner:
                record_path.unlink(missing_ok=True)


def export(urls: dict[str, str]) -> None:
    """Put the URLs where every service's settings read them."""
    for name, var in ENV_URLS.items():
        os.environ[var] = urls[name]

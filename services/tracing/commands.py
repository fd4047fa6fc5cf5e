"""Status commands to the status service: the one way tracing changes a person's colour."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel

from shared.events import StatusCommand, StatusSet

# Commands are sent this many at a time: each waits for acks=all, and
# a few hundred in flight keep one producer busy without flooding it.
PUBLISH_CHUNK = 500


class Sender(Protocol):
    """What sends events under a key (``shared.kafka.Publisher``; a recording fake in unit tests)."""

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None: ...


def command_key(command: StatusCommand) -> bytes:
    """A person's commands share a partition, so they apply in order; an alert's revert goes
    under the alert (the status service ignores a set of an alert it already reverted)."""
    subject = command.data.person_id if isinstance(command, StatusSet) else command.data.alert_id
    return str(subject).encode()


async def send_commands(sender: Sender, commands: Sequence[StatusCommand]) -> None:
    """Send each command under its subject's key, ``PUBLISH_CHUNK`` in flight at a time."""
    for start in range(0, len(commands), PUBLISH_CHUNK):
        chunk = commands[start : start + PUBLISH_CHUNK]
        await asyncio.gather(*(sender.send([c], key=command_key(c)) for c in chunk))

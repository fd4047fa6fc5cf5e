"""The transactional outbox: events are stored with the change they describe, sent after commit.

``stage`` writes the events in the caller's unit of work; ``send`` publishes them once the
transaction has committed and marks them sent. If the broker does not acknowledge, the answer is
503 but the rows stay unsent, and ``relay_round`` (a job of the lifespan) sends them later, so no
committed change is ever missing from ``venuecode.registry.v1``. Delivery is at least once:
consumers deduplicate by ``event_id``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from services.registry.store import Store, Unit
from shared.events import REGISTRY_EVENT_ADAPTER, RegistryEvent, decode, encode
from shared.kafka import Publisher
from shared.metrics import OUTBOX_BACKLOG

# Rows younger than this are left to the request that wrote them, so the relay does not race it.
RELAY_MIN_AGE_S = 2.0
RELAY_BATCH = 100
# Sent rows are kept a week for debugging a consumer ("was it ever sent?"), then pruned hourly.
SENT_RETENTION_S = 7 * 24 * 3600
PRUNE_EVERY_S = 3600


@dataclass(frozen=True)
class Staged:
    key: bytes
    events: tuple[RegistryEvent, ...]
    outbox_ids: tuple[int, ...]


class Outbox:
    """The registry's events on their way to ``publisher.topic`` (``venuecode.registry.v1``)."""

    def __init__(self, store: Store, publisher: Publisher) -> None:
        self._store = store
        self._publisher = publisher
        self._last_prune = 0.0

    async def stage(self, unit: Unit, key: bytes, events: Sequence[RegistryEvent]) -> Staged:
        ids = await unit.outbox.add(self._publisher.topic, key, [encode(e).decode() for e in events])
        return Staged(key, tuple(events), tuple(ids))

    async def send(self, *batches: Staged) -> None:
        """Publish committed batches in order; raises ``Unavailable`` (503) if the broker fails.

        Rows of the same key that an earlier failed publish left unsent go first, so a change
        never overtakes an older one of the same subject (an unlink its link); a row the relay
        sends too is a duplicate, which consumers drop by ``event_id``.
        """
        for batch in batches:
            if batch.outbox_ids:
                earlier = await self._store.outbox.unsent_before(
                    self._publisher.topic, batch.key, min(batch.outbox_ids)
                )
                for row in earlier:
                    await self._publisher.send([decode(row.payload, REGISTRY_EVENT_ADAPTER)], key=row.key)
                    await self._store.outbox.mark_sent([row.outbox_id])
            await self._publisher.send(list(batch.events), key=batch.key)
            await self._store.outbox.mark_sent(batch.outbox_ids)

    async def relay_once(self, min_age_s: float = RELAY_MIN_AGE_S) -> int:
        """Send rows a failed request left behind; returns how many were sent."""
        async with self._store.unit() as unit:
            rows = await unit.outbox.claim_unsent(min_age_s, RELAY_BATCH)
            OUTBOX_BACKLOG.labels("registry").set(len(rows))
            # Rows of one key stay in their order; a failed publish leaves them all unsent.
            for row in rows:
                await self._publisher.send([decode(row.payload, REGISTRY_EVENT_ADAPTER)], key=row.key)
                await unit.outbox.mark_sent([row.outbox_id])
        return len(rows)

    async def prune(self, older_than_s: float = SENT_RETENTION_S) -> int:
        return await self._store.outbox.prune(older_than_s)

    async def relay_round(self) -> int:
        """One round of the relay job (``shared.jobs``, once per platform): send what failed
        requests left, and prune sent rows once an hour; returns how many it sent."""
        sent = await self.relay_once()
        if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
            await self.prune()
            self._last_prune = time.monotonic()
        return sent

"""``venuecode rotate-pii-key``: re-encrypt every identity number under the current PII key.

Run it after every service was deployed with the new ``VENUECODE_PII_KEY``, the old key in
``VENUECODE_PII_PREVIOUS_KEYS`` and the digest key pinned in ``VENUECODE_PII_DIGEST_KEY``
(docs/operations.md): from then on the services seal new numbers with the new key and read
both, and digests do not change. The command walks ``registry.people`` in person-id order, a
batch per transaction; each batch's rows are locked, re-sealed and written with the progress
row, so a run killed at any point resumes after its last committed batch and a row written by
a service meanwhile is never overwritten with a stale value. A final count in SQL says whether
anything is left under an old key (a service still on the old configuration); only then is the
rotation marked finished and the old key safe to remove.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from services.registry.store import Store
from shared.pii import Vault

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class Rekeyed:
    resealed: int  # over every run of this rotation
    remaining: int  # rows still under another key after the walk (0 when finished)
    finished: bool


async def _one_batch(store: Store, vault: Vault, after: UUID | None, batch: int) -> UUID | None:
    """Re-seal one batch after ``after``; the last person id walked, or None at the end."""
    async with store.unit() as unit:
        rows = await unit.rekey.lock_ciphers(after, batch)
        if not rows:
            return None
        stale = [
            (person_id, vault.reseal(cipher)) for person_id, cipher in rows if not vault.is_current(cipher)
        ]
        if stale:
            await unit.rekey.write_ciphers(stale)
        last = rows[-1][0]
        await unit.rekey.advance(vault.key_id, last, len(stale))
        return last


async def rotate(
    store: Store,
    vault: Vault,
    *,
    batch: int = DEFAULT_BATCH,
    pause_s: float = 0.0,
    on_batch: Callable[[int], None] | None = None,
) -> Rekeyed:
    """Walk every person once (resuming a killed run) and re-seal what an old key sealed."""
    after = await store.rekey.resume_after(vault.key_id)
    walked = 0
    while (last := await _one_batch(store, vault, after, batch)) is not None:
        after, walked = last, walked + 1
        if on_batch is not None:
            on_batch(walked)
        if pause_s:
            await asyncio.sleep(pause_s)  # a throttle: the services share the database
    async with store.unit() as unit:
        remaining = await unit.rekey.remaining(vault.key_id)
        resealed = await unit.rekey.finish(vault.key_id, remaining)
    return Rekeyed(resealed, remaining, remaining == 0)

"""Operator commands behind ``venuecode grant-role``, ``posters`` and ``rotate-pii-key``.

Each opens and closes its own Postgres pool (and, for grant-role, its own Kafka producer), so
it runs beside the services or alone; both apply the registry's migrations first.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import get_args
from uuid import UUID

from services.registry import rekey
from services.registry.models import Venue
from services.registry.posters import poster_pdf
from services.registry.service import ID_KINDS
from services.registry.service import grant_role as grant
from services.registry.store import Store
from shared import db
from shared.events import REGISTRY_TOPIC, StaffRole
from shared.kafka import Publisher, ensure_topics, make_router
from shared.keys import load_keys
from shared.outbox import Outbox
from shared.pii import Vault
from shared.progress import progress
from shared.settings import InfraSettings
from shared.tokens import TokenSigner

MIGRATIONS = Path(__file__).parent / "migrations"


class CommandFailed(SystemExit):
    """A command that cannot do what was asked: the message is printed and the exit status is 1."""


@asynccontextmanager
async def _store(infra: InfraSettings) -> AsyncIterator[Store]:
    pool = await db.create_pool(infra.postgres)
    try:
        await db.migrate(pool, "registry", MIGRATIONS)
        yield Store(pool)
    finally:
        await pool.close()


async def grant_role(infra: InfraSettings, id_number: str, role: str) -> UUID:
    """Grant ``role`` to the account holding ``id_number`` (any document kind); its person_id."""
    if role not in get_args(StaffRole):
        raise CommandFailed(f"venuecode: the role must be one of {', '.join(get_args(StaffRole))}")
    staff_role: StaffRole = role  # type: ignore[assignment]
    keys = load_keys(infra)
    vault = Vault(keys.pii, keys.pii_hmac, keys.pii_previous)
    await ensure_topics(infra.kafka, [REGISTRY_TOPIC])
    router = make_router(infra.kafka, "registry-cli")
    async with _store(infra) as store:
        found = await store.people.accounts_by_digests(
            [vault.id_digest(kind, id_number) for kind in ID_KINDS]
        )
        if len(found) != 1:
            raise CommandFailed("venuecode: no single registered account has this identity number")
        person_id = found[0].person_id
        await router.broker.start()
        try:
            outbox = Outbox("registry", store.outbox, [Publisher(router, infra.kafka, REGISTRY_TOPIC)])
            await grant(store, outbox, person_id, staff_role, None)
        finally:
            await router.broker.stop()
    return person_id


async def rotate_pii_key(infra: InfraSettings, batch: int, pause_s: float) -> rekey.Rekeyed:
    """Re-encrypt every identity number under the current key (services/registry/rekey.py)."""
    keys = load_keys(infra)
    if keys.pii_digest is None and keys.pii_previous:
        raise CommandFailed(
            "venuecode: pin the digest key first: VENUECODE_PII_DIGEST_KEY must be the old key's"
            " (docs/operations.md, Rotate keys), or every digest would change"
        )
    vault = Vault(keys.pii, keys.pii_hmac, keys.pii_previous)
    async with _store(infra) as store:
        with progress(f"re-encrypting identity numbers ({batch} a batch)", unit="batch") as bar:
            return await rekey.rotate(
                store, vault, batch=batch, pause_s=pause_s, on_batch=lambda _walked: bar.update(1)
            )


def _write_poster(target: Path, venue: Venue, url: str, issued: date) -> None:
    target.write_bytes(poster_pdf(venue, url, issued))


async def _venue_of(store: Store, row: dict[str, str]) -> Venue | None:
    if (row.get("venue_id") or "").strip():
        try:
            venue_id = UUID(row["venue_id"].strip())
        except ValueError:
            return None
        return await store.venues.by_id(venue_id)
    region_code, name = (row.get("region_code") or "").strip(), (row.get("name") or "").strip()
    if region_code and name:
        return await store.venues.by_region_name(region_code, name)
    return None


async def bulk_posters(infra: InfraSettings, csv_path: Path, out_dir: Path) -> int:
    """One A4 poster PDF per venue listed in the CSV (``venue_id``, or ``region_code`` and ``name``).

    Rows naming no known venue are reported on stderr and skipped; returns how many PDFs were written.
    """
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    signer = TokenSigner(load_keys(infra).tokens)
    base = infra.public_base_url.rstrip("/")
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    issued = datetime.now(UTC).date()
    written = 0
    async with _store(infra) as store:
        with progress("posters", total=len(rows), unit="poster") as bar:
            for index, row in enumerate(rows, start=1):
                venue = await _venue_of(store, row)
                if venue is None:
                    bar.note(f"row {index}: no such venue, skipped")
                else:
                    url = f"{base}/c/{signer.venue_token(venue.venue_id, venue.poster_version)}"
                    target = out_dir / f"venue-{venue.venue_id}-v{venue.poster_version}.pdf"
                    await asyncio.to_thread(_write_poster, target, venue, url, issued)
                    written += 1
                bar.update()
    return written

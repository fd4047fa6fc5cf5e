"""``venuecode rotate-pii-key`` (issue 17): killed midway while the registry runs, then resumed.

Before, during and after, every identity number decrypts to itself, sign-in (a digest lookup)
keeps working and new accounts are sealed with the new key; at the end every number is sealed
with the new key, each re-sealed exactly once over both runs, and the old key can go.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
from pydantic import SecretStr

from services.registry.app import create_app
from services.registry.config import Settings
from shared.keys import derived_digest_key
from shared.pii import Vault
from shared.settings import InfraSettings
from tests.integration.registry.conftest import sign_up
from tests.unit.registry.idgen import mainland_id
from tests.unit.test_pii_rotation import version_1_blob
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[3]
PEOPLE = 240  # people sealed with the old key, written straight into the table
BATCH = 10


def _env(infra: InfraSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUECODE_")}
    assert infra.pii_key is not None
    assert infra.pii_digest_key is not None
    env.update(
        VENUECODE_ENV="test",
        VENUECODE_POSTGRES_URL=infra.postgres_url or "",
        VENUECODE_REDIS_URL=infra.redis_url or "",
        VENUECODE_KAFKA_BOOTSTRAP=infra.kafka_bootstrap or "",
        VENUECODE_KAFKA_NAMESPACE=infra.kafka_namespace,
        VENUECODE_STATE_DIR=str(infra.state_dir),
        VENUECODE_PII_KEY=infra.pii_key.get_secret_value(),
        VENUECODE_PII_PREVIOUS_KEYS=json.dumps([k.get_secret_value() for k in infra.pii_previous_keys]),
        VENUECODE_PII_DIGEST_KEY=infra.pii_digest_key.get_secret_value(),
    )
    return env


def _command(infra: InfraSettings, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "rotate-pii-key", "--batch", str(BATCH), *extra],
        cwd=ROOT,
        env=_env(infra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _blobs(conn: asyncpg.Connection) -> dict[str, bytes]:
    return {
        str(r["person_id"]): bytes(r["id_cipher"])
        for r in await conn.fetch("SELECT person_id, id_cipher FROM registry.people")
    }


async def _fill(conn: asyncpg.Connection, vault: Vault) -> dict[str, str]:
    """PEOPLE family members without accounts, sealed with the old key (every tenth in the first
    blob format, as rows written before blobs named their key); person id -> number."""
    numbers = {}
    rows = []
    for n in range(PEOPLE):
        number = mainland_id()
        person_id = f"0192f0c8-0000-7000-8000-{n:012d}"
        numbers[person_id] = number
        blob = version_1_blob(vault.cipher_key, number) if n % 10 == 0 else vault.encrypt(number)
        rows.append(
            (
                person_id,
                "mainland_id",
                blob,
                vault.id_digest("mainland_id", number),
                "1101**********002X",
                f"人{n}",
                "人*",
                vault.name_digest(f"人{n}"),
            )
        )
    await conn.executemany(
        "INSERT INTO registry.people (person_id, id_kind, id_cipher, id_digest, masked_id, name,"
        " masked_name, name_digest) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)",
        rows,
    )
    return numbers


async def test_a_rotation_killed_midway_resumes_and_finishes_while_the_registry_runs(infra, serve) -> None:
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    digest = derived_digest_key(bytes.fromhex(old)).hex()  # the old key's digest key, pinned
    before = infra.model_copy(update={"pii_key": SecretStr(old)})
    during = infra.model_copy(
        update={
            "pii_key": SecretStr(new),
            "pii_previous_keys": [SecretStr(old)],
            "pii_digest_key": SecretStr(digest),
        }
    )
    old_vault = Vault(bytes.fromhex(old), bytes.fromhex(digest))
    rotating = Vault(bytes.fromhex(new), bytes.fromhex(digest), (bytes.fromhex(old),))

    async with serve(create_app(Settings(infra=before))) as client:
        early = await sign_up(client, "早註冊")
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        numbers = await _fill(conn, old_vault)
        numbers[early.person_id] = early.id_number
        async with serve(create_app(Settings(infra=during))) as client:
            run = _command(during, "--pause", "0.05")
            try:

                async def midway() -> bool:
                    assert run.poll() is None, run.communicate()
                    resealed = await conn.fetchval("SELECT resealed FROM registry.pii_rekey_progress")
                    return bool((resealed or 0) >= 5 * BATCH)

                await eventually(midway, timeout_s=60, what="the rotation re-sealed five batches")
                run.send_signal(signal.SIGKILL)
                run.wait(10)
            finally:
                if run.poll() is None:
                    run.kill()
            assert run.returncode == -signal.SIGKILL

            # Midway: some numbers under each key, every one readable, digests still find people.
            blobs = await _blobs(conn)
            current = sum(rotating.is_current(b) for b in blobs.values())
            assert 0 < current < len(numbers), current
            assert {p: rotating.decrypt(blobs[p]) for p in numbers} == numbers
            assert await conn.fetchval("SELECT finished_at FROM registry.pii_rekey_progress") is None
            signed = await client.post(
                "/api/registry/v1/sessions", json={"id_number": early.id_number, "password": "correct horse"}
            )
            assert signed.status_code == 200, signed.text
            late = await sign_up(client, "晚註冊")  # a new account while the rotation is half done
            numbers[late.person_id] = late.id_number
            assert rotating.is_current((await _blobs(conn))[late.person_id])

            finish = _command(during)
            out, err = finish.communicate(timeout=120)
            assert finish.returncode == 0, (out, err)
            assert "finished" in out

        # After: the old key is gone from the configuration and nothing needs it.
        after = Vault(bytes.fromhex(new), bytes.fromhex(digest))
        blobs = await _blobs(conn)
        assert all(after.is_current(b) for b in blobs.values())
        assert {p: after.decrypt(blobs[p]) for p in numbers} == numbers
        # Each of the old key's numbers was re-sealed once over the two runs: none twice, none missed.
        assert await conn.fetchval("SELECT resealed FROM registry.pii_rekey_progress") == PEOPLE + 1
        done = infra.model_copy(update={"pii_key": SecretStr(new), "pii_digest_key": SecretStr(digest)})
        async with serve(create_app(Settings(infra=done))) as client:
            signed = await client.post(
                "/api/registry/v1/sessions", json={"id_number": early.id_number, "password": "correct horse"}
            )
            assert signed.status_code == 200, signed.text
    finally:
        await conn.close()

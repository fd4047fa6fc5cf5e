"""Hostile input sizes: oversized bodies are refused before parsing (413), and every text field
of every request schema has a length limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shared.web import MAX_BODY_BYTES
from tests.people import born_years_ago, mainland_id

SERVICES = ("registry", "checkin", "status", "tracing")
# One state-changing endpoint per service, each reachable without a valid body.
TARGETS = {
    "registry": "/api/registry/v1/accounts",
    "checkin": "/api/checkin/v1/scans",
    "status": "/api/status/v1/assisted-lookups",
    "tracing": "/api/tracing/v1/contact-queries",
}
# Strings whose values are closed sets or fixed formats need no length limit: the validator
# refuses anything else before the value is used. Anything else must carry maxLength.
BOUNDED_FORMATS = {"uuid", "date-time", "date"}
# Parameters (not body fields) whose length is enforced in code rather than in the schema.
JUSTIFIED = {
    # services/checkin/api.py _idempotency_key: 1 to MAX_IDEMPOTENCY_KEY (100) printable
    # characters, else 400; the schema could say so with Header(max_length=100).
    "POST /api/checkin/v1/scans ?Idempotency-Key[anyOf0]",
    # services/tracing: RFC 3339 timestamps parsed before use, anything else is 422.
    *(
        f"GET /api/tracing/v1/{path} ?{name}[anyOf0]"
        for path in ("venues/{venue_id}/presence", "me/visits", "audit")
        for name in ("from", "to")
    ),
}


def oversized_account() -> tuple[str, bytes]:
    number = mainland_id(born_years_ago(30))
    padding = "x" * MAX_BODY_BYTES
    body = (
        f'{{"name": "大文", "id_kind": "mainland_id", "id_number": "{number}", "phone": "13800138000",'
        f' "password": "correct horse battery", "padding": "{padding}"}}'
    )
    return number, body.encode()


@pytest.mark.parametrize("service", SERVICES)
async def test_an_oversized_body_is_refused_with_413(origin: str, service: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        answer = await client.post(
            TARGETS[service],
            content=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 413


async def test_a_chunked_body_that_grows_too_large_is_refused(origin: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"{"
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b" " * 4096
        yield b"}"

    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        answer = await client.post(
            TARGETS["registry"], content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 413


async def test_the_refused_body_was_never_parsed(origin: str) -> None:
    """A valid account padded past the limit: refused, and no account exists afterwards."""
    number, body = oversized_account()
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        refused = await client.post(
            TARGETS["registry"], content=body, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 413
        signed_in = await client.post(
            "/api/registry/v1/sessions", json={"id_number": number, "password": "correct horse battery"}
        )
    assert signed_in.status_code == 401


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def unbounded_strings(document: dict[str, Any], schema: dict[str, Any], where: str) -> Iterator[str]:
    """Every string in a request schema that has no maxLength, enum, const or bounded format."""
    schema = _resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for index, option in enumerate(schema.get(key, [])):
            yield from unbounded_strings(document, option, f"{where}[{key}{index}]")
    kind = schema.get("type")
    if kind == "string":
        bounded = (
            "maxLength" in schema
            or "enum" in schema
            or "const" in schema
            or schema.get("format") in BOUNDED_FORMATS
        )
        if not bounded:
            yield where
    elif kind == "object":
        for name, prop in schema.get("properties", {}).items():
            yield from unbounded_strings(document, prop, f"{where}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield from unbounded_strings(document, extra, f"{where}.*")
    elif kind == "array":
        yield from unbounded_strings(document, schema.get("items", {}), f"{where}[]")


@pytest.mark.parametrize("service", SERVICES)
async def test_every_text_field_of_every_request_has_a_length_limit(origin: str, service: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        document = (await client.get(f"/api/{service}/openapi.json")).json()
    found: list[str] = []
    bodies = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media, spec in content.items():
                bodies += 1
                found += unbounded_strings(document, spec["schema"], f"{method.upper()} {path} {media}")
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "header"):
                    found += unbounded_strings(
                        document, parameter.get("schema", {}), f"{method.upper()} {path} ?{parameter['name']}"
                    )
    assert bodies > 0 or service == "status"
    unjustified = [f for f in found if f not in JUSTIFIED]
    assert unjustified == [], f"text fields without maxLength in {service}: {unjustified}"

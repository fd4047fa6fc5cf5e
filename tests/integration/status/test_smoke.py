"""A first check: the app starts, reads registry events and answers a health code."""

from __future__ import annotations

from tests.integration.status.conftest import StatusHarness


async def test_health_code_of_registered_person(harness: StatusHarness) -> None:
    person = await harness.register()
    answer = await harness.client.get("/api/status/v1/health-code", headers=harness.auth(person.person_id))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["colour"] == "green"
    assert body["masked_name"] == person.masked_name

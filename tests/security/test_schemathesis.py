"""Hostile input: schemathesis against each service's OpenAPI document on the live platform.

Bounded and deterministic (hypothesis ``derandomize``, a fixed number of cases
per operation), authenticated as a real account that holds every staff role and
is bound to a venue, so the calls get past authorisation into the rules. The
checks: no 5xx, and every answer matches the schema the service publishes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.settings import InfraSettings
from tests.e2e.test_story import Person
from tests.people import born_years_ago, mainland_id

SERVICES = ("registry", "checkin", "status", "tracing")
# Up to 30 cases an operation (hypothesis stops sooner when an input space is small): a few
# hundred calls per service, a minute or two in all here.
CASES_PER_OPERATION = 30


async def _fuzzer(infra: InfraSettings, origin: str) -> str:
    """A real account with every staff role, administering and inspecting a venue; its token."""
    from services.registry.commands import grant_role

    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        fuzzer = await Person(client, "模糊測", mainland_id(born_years_ago(40))).register()
        venue = await fuzzer.call(
            "POST",
            "/api/registry/v1/venues",
            json={"region_code": "440106", "name": f"模糊測試館{uuid.uuid4().hex[:6]}"},
        )
        assert venue.status_code == 201, venue.text
        bound = await fuzzer.call(
            "POST",
            "/api/registry/v1/inspector-bindings",
            json={"declaration_code": venue.json()["declaration_code"]},
        )
        assert bound.status_code == 201, bound.text
        for role in ("operator", "epidemiologist", "health_authority"):
            await grant_role(infra, fuzzer.id_number, role)
        await fuzzer.sign_in()
        return fuzzer.token


@pytest.fixture(scope="module")
def fuzz_headers(module_infra: InfraSettings, origin: str) -> dict[str, str]:
    # Runs the async set-up on its own loop: the test itself is synchronous (schemathesis calls block).
    token = asyncio.run(_fuzzer(module_infra, origin))
    return {"Authorization": f"Bearer {token}"}


def _fuzz(operation: Any, headers: dict[str, str], seen: Counter[tuple[str, int]]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=CASES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        answer = case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance], timeout=30
        )
        seen[(f"{operation.method.upper()} {operation.path}", answer.status_code)] += 1

    run()


# Schemathesis's own strategies use ``random``; hypothesis warns about it, nothing to fix here.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@pytest.mark.parametrize("service", SERVICES)
def test_no_server_error_and_every_answer_matches_the_schema(
    service: str, origin: str, fuzz_headers: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_url(f"{origin}/api/{service}/openapi.json")
    failures: list[str] = []
    seen: Counter[tuple[str, int]] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an unloadable operation fails here
        operations += 1
        try:
            _fuzz(operation, fuzz_headers, seen)
        except Exception as exc:  # every operation runs; all findings are reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    statuses = Counter[int]()
    for (_, code), n in seen.items():
        statuses[code] += n
    calls = statuses.total()
    print(f"schemathesis {service}: {operations} operations, {calls} calls, {sorted(statuses.items())}")
    # The token got the calls past authorisation: some succeeded, and only a sign-in with a
    # generated password was refused as unauthenticated.
    assert statuses.total() >= 100
    assert any(code < 300 for _, code in seen)
    assert {op for op, code in seen if code == 401} <= {"POST /api/registry/v1/sessions"}

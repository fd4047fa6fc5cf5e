"""The whole story through the one origin: four services and their subscribers on real servers."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from shared.settings import InfraSettings
from tests.lifespans import all_running
from tests.people import born_years_ago, mainland_id
from tests.qr import qr_text
from tests.waiting import eventually

ORIGIN = "http://testserver"


def compose(infra: InfraSettings) -> list[tuple[tuple[str, ...], FastAPI]]:
    from services.checkin.app import create_app as checkin_app
    from services.checkin.config import Settings as CheckinSettings
    from services.registry.app import create_app as registry_app
    from services.registry.config import Settings as RegistrySettings
    from services.status.app import create_app as status_app
    from services.status.config import Settings as StatusSettings
    from services.tracing.app import create_app as tracing_app
    from services.tracing.config import Settings as TracingSettings

    return [
        (("/api/checkin", "/checkin", "/c/"), checkin_app(CheckinSettings(infra=infra))),
        (("/api/status", "/status"), status_app(StatusSettings(infra=infra))),
        (("/api/tracing", "/tracing"), tracing_app(TracingSettings(infra=infra))),
        (("/api/registry", "/registry", "/"), registry_app(RegistrySettings(infra=infra))),
    ]


class OneOrigin(httpx.AsyncBaseTransport):
    """Routes each request to the service that owns its path, as the gateway does."""

    def __init__(self, apps: list[tuple[tuple[str, ...], FastAPI]]) -> None:
        self._routes = [(prefixes, httpx.ASGITransport(app=app)) for prefixes, app in apps]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for prefixes, transport in self._routes:
            if any(path.startswith(p) for p in prefixes):
                return await transport.handle_async_request(request)
        raise AssertionError(f"no service for {path}")


@asynccontextmanager
async def platform(infra: InfraSettings) -> AsyncIterator[httpx.AsyncClient]:
    apps = compose(infra)
    async with (
        all_running([app for _, app in apps]),
        httpx.AsyncClient(transport=OneOrigin(apps), base_url=ORIGIN, timeout=30) as client,
    ):
        yield client


class Person:
    def __init__(self, client: httpx.AsyncClient, name: str, id_number: str) -> None:
        self.client, self.name, self.id_number = client, name, id_number
        self.person_id = ""
        self.token = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST as a patient client: a gateway's per-address limit (429) is waited out."""
        for _ in range(20):
            answer = await self.client.post(path, json=body)
            if answer.status_code != 429:
                return answer
            await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
        return answer

    async def register(self) -> Person:
        answer = await self.post(
            "/api/registry/v1/accounts",
            {
                "name": self.name,
                "id_kind": "mainland_id",
                "id_number": self.id_number,
                "phone": "13800138000",
                "password": "correct horse battery",
            },
        )
        assert answer.status_code == 201, answer.text
        self.person_id = answer.json()["person_id"]
        await self.sign_in()
        return self

    async def sign_in(self) -> None:
        answer = await self.post(
            "/api/registry/v1/sessions",
            {"id_number": self.id_number, "password": "correct horse battery"},
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        # Only the bearer header authenticates this client; cookies are for pages.
        self.client.cookies.clear()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        self.client.cookies.clear()
        return response


async def test_the_whole_story(infra: InfraSettings) -> None:
    async with platform(infra) as client:
        await whole_story(client, infra)


async def whole_story(client: httpx.AsyncClient, infra: InfraSettings) -> None:
    """The story, through any client that reaches the one origin (in-process or a real gateway)."""
    now = datetime.now(UTC)

    # An administrator registers a venue and gets its declaration code.
    admin = await Person(client, "陳大文", mainland_id(born_years_ago(40))).register()
    venue = await admin.call(
        "POST",
        "/api/registry/v1/venues",
        json={"region_code": "440106", "name": "天河城購物中心", "category": "supermarket"},
    )
    assert venue.status_code == 201, venue.text
    venue_id, declaration_code = venue.json()["venue_id"], venue.json()["declaration_code"]

    # An inspector binds with the code and downloads the poster; the QR gives the check-in URL.
    inspector = await Person(client, "李小龍", mainland_id(born_years_ago(30))).register()
    bound = await inspector.call(
        "POST", "/api/registry/v1/inspector-bindings", json={"declaration_code": declaration_code}
    )
    assert bound.status_code == 201, bound.text
    png = await inspector.call("GET", f"/api/registry/v1/venues/{venue_id}/code", params={"format": "png"})
    assert png.status_code == 200
    url = qr_text(png.content)
    assert url.startswith(f"{infra.public_base_url}/c/")
    venue_token = urlsplit(url).path.removeprefix("/c/")

    # A citizen checks in themself and a child.
    citizen = await Person(client, "黃美玲", mainland_id(born_years_ago(35))).register()
    child = await citizen.call(
        "POST",
        "/api/registry/v1/dependents",
        json={
            "name": "黃小明",
            "id_kind": "mainland_id",
            "id_number": mainland_id(born_years_ago(8)),
            "relation": "child",
        },
    )
    assert child.status_code == 201, child.text
    child_id = child.json()["person_id"]

    async def scan(person: Person, key: str, person_ids: list[str] | None = None) -> httpx.Response:
        body: dict[str, Any] = {"venue_token": venue_token}
        if person_ids is not None:
            body["person_ids"] = person_ids
        return await person.call("POST", "/api/checkin/v1/scans", json=body, headers={"Idempotency-Key": key})

    async def family_scan() -> httpx.Response | None:
        answer = await scan(citizen, "family-1", [citizen.person_id, child_id])
        # Registry events reach checkin asynchronously: venue and guardianship first.
        return answer if answer.status_code == 201 else None

    family = await eventually(family_scan, timeout_s=30)
    rows = family.json()["checkins"]
    assert {r["person_id"] for r in rows} == {citizen.person_id, child_id}
    assert family.json()["venue"] == {"venue_id": venue_id, "name": "天河城購物中心"}
    assert all(r["colour"] in {"green", "unknown"} for r in rows)
    again = await scan(citizen, "family-1", [citizen.person_id, child_id])
    assert again.status_code == 200
    assert again.json() == family.json()

    # Another person is reverse-scanned with fever by the inspector.
    elder = await Person(client, "何伯", mainland_id(born_years_ago(72))).register()

    async def elder_code() -> httpx.Response | None:
        answer = await elder.call("GET", "/api/status/v1/health-code")
        return answer if answer.status_code == 200 else None

    code = (await eventually(elder_code, timeout_s=30)).json()

    async def inspect() -> httpx.Response | None:
        answer = await inspector.call(
            "POST",
            "/api/checkin/v1/inspections",
            json={
                "venue_id": venue_id,
                "health_code_token": code["token"],
                "temperature_band": "fever",
                "fever_acknowledged": True,
            },
        )
        return answer if answer.status_code == 201 else None

    inspected = (await eventually(inspect, timeout_s=30)).json()
    assert inspected["person_id"] == elder.person_id
    assert "*" in inspected["masked_id"]

    # Staff roles: the first operator from the command line, then the others through the API.
    from services.registry.commands import grant_role

    operator = await Person(client, "周運營", mainland_id(born_years_ago(45))).register()
    await grant_role(infra, operator.id_number, "operator")
    await operator.sign_in()
    authority = await Person(client, "衛生局", mainland_id(born_years_ago(50))).register()
    epidemiologist = await Person(client, "流調員", mainland_id(born_years_ago(33))).register()
    for person, role in ((authority, "health_authority"), (epidemiologist, "epidemiologist")):
        granted = await operator.call(
            "POST", "/api/registry/v1/role-grants", json={"person_id": person.person_id, "role": role}
        )
        assert granted.status_code == 201, granted.text
        await person.sign_in()

    # A health authority marks a case red; the case checks in and is answered red.
    case = await Person(client, "張三豐", mainland_id(born_years_ago(28))).register()

    async def mark_red() -> httpx.Response | None:
        answer = await authority.call(
            "PUT",
            f"/api/status/v1/persons/{case.person_id}/status",
            json={"colour": "red", "reason": "confirmed_case"},
        )
        return answer if answer.status_code == 200 else None

    marked = (await eventually(mark_red, timeout_s=30)).json()
    assert marked["colour"] == "red"
    case_scan = await scan(case, "case-1")
    assert case_scan.status_code == 201, case_scan.text
    assert case_scan.json()["checkins"][0]["colour"] == "red"
    assert case_scan.json()["checkins"][0]["reason"] == "confirmed_case"

    # An epidemiologist's contact query finds everyone who overlapped.
    window = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    expected = {citizen.person_id, child_id, elder.person_id}

    async def contacts() -> dict[str, Any] | None:
        answer = await epidemiologist.call(
            "POST", "/api/tracing/v1/contact-queries", json={"person_id": case.person_id, **window}
        )
        assert answer.status_code == 201, answer.text
        found = {c["person_id"] for c in answer.json()["contacts"]}
        return answer.json() if expected <= found else None

    query = await eventually(contacts, timeout_s=30)
    found = {c["person_id"] for c in query["contacts"]}
    assert case.person_id not in found
    assert all(c["depth"] == 1 and c["venue_id"] == venue_id for c in query["contacts"])
    query_id = query["query_id"]

    # The notification turns them yellow close_contact.
    notified = await epidemiologist.call(
        "POST",
        f"/api/tracing/v1/contact-queries/{query_id}/notifications",
        json={"colour": "yellow", "reason": "close_contact"},
    )
    assert notified.status_code == 202, notified.text

    async def citizen_yellow() -> bool:
        answer = await citizen.call("GET", "/api/status/v1/health-code")
        return answer.status_code == 200 and answer.json()["colour"] == "yellow"

    await eventually(citizen_yellow, timeout_s=30)

    async def child_yellow() -> bool:
        answer = await citizen.call("GET", "/api/status/v1/health-code", params={"person_id": child_id})
        body = answer.json()
        return answer.status_code == 200 and (body["colour"], body["reason"]) == (
            "yellow",
            "close_contact",
        )

    await eventually(child_yellow, timeout_s=30)

    # The CSV holds them.
    exported = await epidemiologist.call("GET", f"/api/tracing/v1/contact-queries/{query_id}.csv")
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    ids = {row["person_id"] for row in csv.DictReader(io.StringIO(text))}
    assert expected <= ids

    # The audit log records it all.
    audit = await operator.call(
        "GET",
        "/api/tracing/v1/audit",
        params={
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        },
    )
    assert audit.status_code == 200, audit.text
    actions = " ".join(str(entry) for entry in audit.json()["entries"])
    for action in ("query", "export", "notif"):
        assert action in actions, (action, actions)
    assert str(uuid.UUID(query_id)) in actions

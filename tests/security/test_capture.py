"""Capture on every path (issue 17): refusals, duplicates, wrong logins, lookups that miss, family
links and every document kind leak no identity number and no unmasked name into the logs, the
topics or the problem details; two-character names are checked too."""

from __future__ import annotations

import random
from typing import Any

import httpx

from shared.settings import InfraSettings
from tests.e2e.test_story import Person, platform
from tests.people import born_years_ago, mainland_id
from tests.security.test_personal_data import Everything, all_logs, every_message
from tests.waiting import clear_of_window_edge, eventually

__all__ = ["all_logs"]  # the fixture, used by name
PASSWORD = "correct horse battery"


def numbers_of_every_kind(rng: random.Random) -> dict[str, str]:
    """One valid number per document kind, random enough never to occur by chance in a log."""
    digits = "".join(rng.choice("0123456789") for _ in range(10))
    return {
        "mainland_id": mainland_id(born_years_ago(33)),
        "hk_macao_permit": "H" + digits,
        "taiwan_permit": "".join(rng.choice("0123456789") for _ in range(10)),
        "passport": "EA" + "".join(rng.choice("0123456789") for _ in range(7)),
    }


class Recorder:
    """Every answer the paths got, so their problem details can be searched too."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[httpx.Response] = []

    async def call(self, method: str, path: str, token: str = "", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await self.client.request(method, path, headers=headers, **kwargs)
        self.client.cookies.clear()
        self.answers.append(answer)
        return answer

    async def register(self, name: str, kind: str, number: str) -> httpx.Response:
        body = {
            "name": name,
            "id_kind": kind,
            "id_number": number,
            "phone": "13800138000",
            "password": PASSWORD,
        }
        return await self.call("POST", "/api/registry/v1/accounts", json=body)

    async def sign_in(self, number: str, password: str = PASSWORD) -> httpx.Response:
        return await self.call(
            "POST", "/api/registry/v1/sessions", json={"id_number": number, "password": password}
        )


async def every_path(http: Recorder, kinds: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """Walk the paths; returns the extra numbers it used, by what they were."""
    extra = {
        "bad check digit": kinds["mainland_id"][:17] + ("0" if kinds["mainland_id"][17] != "0" else "1"),
        "unknown elder": mainland_id(born_years_ago(77)),
        "adult without an account": mainland_id(born_years_ago(40)),
        "child": mainland_id(born_years_ago(6)),
    }
    # Registrations of every kind, then the same identities again (409), then rejected ones (422).
    for kind, number in kinds.items():
        assert (await http.register(names[kind], kind, number)).status_code == 201, kind
        assert (await http.register(names[kind], kind, number)).status_code == 409, kind
    rejected = await http.register(names["mainland_id"], "mainland_id", extra["bad check digit"])
    assert rejected.status_code == 422
    short = await http.call(
        "POST",
        "/api/registry/v1/accounts",
        json={
            "name": names["passport"],
            "id_kind": "passport",
            "id_number": kinds["passport"],
            "phone": "1",
            "password": "x",
        },
    )
    assert short.status_code in (409, 422)
    # Wrong logins on every kind, an unknown number, and a lock-out (all in one minute's window).
    await clear_of_window_edge(60)
    for number in (*kinds.values(), extra["unknown elder"]):
        assert (await http.sign_in(number, "wrong horse")).status_code == 401
    for _ in range(5):
        await http.sign_in(kinds["taiwan_permit"], "wrong again")
    assert (await http.sign_in(kinds["taiwan_permit"])).status_code == 429
    signed = await http.sign_in(kinds["mainland_id"])
    assert signed.status_code == 200
    token = signed.json()["access_token"]
    passport_token = (await http.sign_in(kinds["passport"])).json()["access_token"]

    # Family links: a child (active), an adult with an account (pending, accepted, revoked), an
    # adult without one (refused), a wrong name for a known identity (409), an unlink.
    family = "/api/registry/v1/dependents"

    def member(name: str, kind: str, number: str) -> dict[str, Any]:
        return {"json": {"name": name, "id_kind": kind, "id_number": number, "relation": "other"}}

    child = await http.call("POST", family, token, **member(names["child"], "mainland_id", extra["child"]))
    assert child.status_code == 201, child.text
    asked = await http.call("POST", family, token, **member(names["passport"], "passport", kinds["passport"]))
    assert asked.json()["state"] == "pending", asked.text
    me = signed.json()["person_id"]
    assert (
        await http.call("POST", f"/api/registry/v1/guardians/{me}/accept", passport_token)
    ).status_code == 200
    assert (await http.call("DELETE", f"/api/registry/v1/guardians/{me}", passport_token)).status_code == 204
    adult = member(names["adult"], "mainland_id", extra["adult without an account"])
    assert (await http.call("POST", family, token, **adult)).status_code == 403
    wrong_name = member(names["hk_macao_permit"], "passport", kinds["passport"])
    assert (await http.call("POST", family, token, **wrong_name)).status_code == 409
    assert (await http.call("DELETE", f"{family}/{child.json()['person_id']}", token)).status_code == 204

    # Assisted lookups that miss: unknown, wrong name, not mainland, not a child or an elder.
    lookups = "/api/status/v1/assisted-lookups"
    for body, status in (
        ({"name": names["elder"], "id_number": extra["unknown elder"]}, 404),
        ({"name": names["elder"], "id_number": kinds["hk_macao_permit"]}, 422),
        ({"name": names["mainland_id"], "id_number": kinds["mainland_id"]}, 403),
    ):
        answer = await http.call("POST", lookups, token, json=body)
        assert answer.status_code == status, (status, answer.text)
    return extra


async def test_every_path_leaks_no_identity_number_or_name(
    infra: InfraSettings, all_logs: Everything
) -> None:
    rng = random.Random()
    kinds = numbers_of_every_kind(rng)
    # Two-character names too: masked they keep one character (林*), so the pair must not appear.
    names = {
        "mainland_id": "林一",
        "hk_macao_permit": "歐陽美玲",
        "taiwan_permit": "Chen Wei-Ting",
        "passport": "Maria Gonzalez",
        "child": "何丁",
        "adult": "趙成年",
        "elder": "錢長者",
    }
    async with platform(infra) as client:
        http = Recorder(client)
        extra = await every_path(http, kinds, names)

        # The registry's events reached the topic before it is read.
        watcher = await Person(client, "觀察", mainland_id(born_years_ago(30))).register()

        async def status_heard() -> bool:
            return (await watcher.call("GET", "/api/status/v1/health-code")).status_code == 200

        await eventually(status_heard, timeout_s=30)

    numbers = {**kinds, **extra}
    logs = "\n".join(all_logs.lines)
    assert len(all_logs.lines) > 50  # the capture really saw the services talk
    messages = b"\n".join(await every_message(infra)).decode("utf-8", "replace")
    assert "guardian.unlinked" in messages
    problems = "\n".join(a.text for a in http.answers if a.status_code >= 400)
    assert "problem" in problems or "title" in problems
    places = {"the logs": logs, "a topic": messages, "a problem detail": problems}
    for what, number in numbers.items():
        for form in (number, number.lower()):
            for place, text in places.items():
                assert form not in text, f"the {what} number in {place}"
    for name in names.values():
        for place, text in places.items():
            assert name not in text, f"unmasked name {name} in {place}"

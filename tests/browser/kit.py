"""Helpers of the browser tests: accounts over the API, signed-in browser contexts, screenshot colours."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.async_api import BrowserContext, Page

from tests.people import born_years_ago, mainland_id
from tests.waiting import eventually

PASSWORD = "correct horse battery"
# shared/static/venuecode.css: --green and --red, the backgrounds of body.colour-green and -red.
GREEN = (0x0A, 0x7D, 0x34)
RED = (0xD4, 0x19, 0x1F)
# Anti-aliased text edges and the header's border blend into the background; a few
# units per channel still tell the code colours apart.
TOLERANCE = 12


class Account:
    """A registered person talking to the platform's real HTTP port."""

    def __init__(self, origin: str, name: str, years: int) -> None:
        self.origin, self.name = origin, name
        self.id_number = mainland_id(born_years_ago(years))
        self.person_id = ""
        self.token = ""
        self.cookies: dict[str, str] = {}

    @classmethod
    async def register(cls, origin: str, name: str, years: int = 35) -> Account:
        account = cls(origin, name, years)
        answer = await account.call(
            "POST",
            "/api/registry/v1/accounts",
            json={
                "name": name,
                "id_kind": "mainland_id",
                "id_number": account.id_number,
                "phone": "13800138000",
                "password": PASSWORD,
            },
        )
        assert answer.status_code == 201, answer.text
        account.person_id = answer.json()["person_id"]
        await account.sign_in()
        return account

    async def sign_in(self) -> None:
        """A fresh token (roles are read at sign-in) and the page cookies the registry sets."""
        async with httpx.AsyncClient(base_url=self.origin, timeout=30) as client:
            answer = await client.post(
                "/api/registry/v1/sessions", json={"id_number": self.id_number, "password": PASSWORD}
            )
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        self.cookies = dict(answer.cookies)
        assert {"vc_session", "vc_csrf"} <= set(self.cookies), self.cookies

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with httpx.AsyncClient(base_url=self.origin, timeout=30) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    async def into(self, context: BrowserContext) -> None:
        """Sign the browser in as this person with the cookies of an API sign-in."""
        await context.add_cookies(
            [{"name": name, "value": value, "url": self.origin} for name, value in self.cookies.items()]
        )

    async def health_code(self) -> dict[str, Any]:
        """This person's health code once status knows them (person.registered arrives by Kafka)."""

        async def known() -> dict[str, Any] | None:
            answer = await self.call("GET", "/api/status/v1/health-code")
            return answer.json() if answer.status_code == 200 else None

        found: dict[str, Any] = await eventually(known, timeout_s=60)
        return found


def share_of(png: bytes, colour: tuple[int, int, int], tolerance: int = TOLERANCE) -> float:
    """The fraction of a screenshot's pixels that are ``colour``."""
    data = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    red, green, blue = colour
    total = len(data) // 3
    matching = sum(
        1
        for i in range(0, len(data), 3)
        if abs(data[i] - red) <= tolerance
        and abs(data[i + 1] - green) <= tolerance
        and abs(data[i + 2] - blue) <= tolerance
    )
    return matching / total


@dataclass(frozen=True)
class Screenshot:
    """A saved screenshot: its pixels, and a short name in assertion messages."""

    name: str
    png: bytes = field(repr=False)

    def share(self, colour: tuple[int, int, int], tolerance: int = TOLERANCE) -> float:
        return share_of(self.png, colour, tolerance)


async def shoot(page: Page, folder: Path, name: str, *, full_page: bool = False) -> Screenshot:
    """A screenshot of what the person sees, kept under artifacts/screenshots/ for the run."""
    png = await page.screenshot(path=folder / f"{name}.png", full_page=full_page, animations="disabled")
    return Screenshot(name, png)

"""A reprinted paper code revokes the earlier card at checkin too: status and checkin on real servers,
joined only by paper_code.issued on the status topic."""

from __future__ import annotations

import base64
import re
import zlib
from uuid import UUID

import httpx
from fastapi import FastAPI
from PIL import Image

from services.status.app import create_app as create_status_app
from services.status.config import Settings as StatusSettings
from shared.settings import InfraSettings
from tests.integration.checkin.conftest import Serve
from tests.integration.checkin.kit import World, bearer, body_of, paper_serial, recorded
from tests.qr import qr_text
from tests.waiting import eventually

INSPECTIONS = "/api/checkin/v1/inspections"
# reportlab draws each dark QR module of the card as one filled rectangle: "n x y w h re f*".
_MODULE = re.compile(rb"n ([\d.]+) ([\d.]+) ([\d.]+) [\d.]+ re f\*")


def card_token(pdf: bytes) -> str:
    """The token in the QR of a printed card, read back as a scanner would read the paper."""
    stream = re.search(rb"stream\r?\n(.*?)~>", pdf, re.S)
    assert stream is not None, "no page content in the card"
    content = zlib.decompress(base64.a85decode(stream.group(1).replace(b"\n", b"")))
    cells = [(float(x), float(y), float(w)) for x, y, w in _MODULE.findall(content)]
    assert cells, "no QR modules on the card"
    size = cells[0][2]
    left, top = min(x for x, _, _ in cells), max(y for _, y, _ in cells)
    modules = {(round((x - left) / size), round((top - y) / size)) for x, y, _ in cells}
    span = max(max(c, r) for c, r in modules) + 1
    scale, quiet = 8, 4
    image = Image.new("L", ((span + 2 * quiet) * scale,) * 2, 255)
    for column, row in modules:
        corner = ((column + quiet) * scale, (row + quiet) * scale)
        image.paste(0, (*corner, corner[0] + scale, corner[1] + scale))
    return qr_text(image)


async def test_printing_a_second_paper_code_refuses_the_first_card_at_inspections(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings, serve: Serve
) -> None:
    status_app = create_status_app(StatusSettings(infra=infra))
    async with serve(status_app) as status:
        # Status learns the guardianship and the binding from the registry events the world sent.
        store = status_app.state.services.store
        await eventually(lambda: store.guards(world.citizen, world.child))
        await eventually(lambda: store.is_inspector(world.inspector))
        cards: list[str] = []
        for _ in range(2):
            printed = await status.get(
                "/api/status/v1/paper-code",
                params={"person_id": str(world.child)},
                headers=bearer(infra, world.citizen),
            )
            assert printed.status_code == 200, printed.text
            cards.append(card_token(printed.content))
        first, second = cards
        assert first != second
        verified = await status.post(
            "/api/status/v1/health-codes/verify",
            json={"token": first},
            headers=bearer(infra, world.inspector),
        )
        assert verified.status_code == 410

        async def second_card_known() -> bool:
            return await paper_serial(app, world.child) == 2

        await eventually(second_card_known)

    def inspect(token: str) -> dict[str, object]:
        return {"venue_id": str(world.venue_id), "health_code_token": token, "temperature_band": "normal"}

    headers = bearer(infra, world.inspector)
    refused = await client.post(INSPECTIONS, json=inspect(first), headers=headers)
    assert refused.status_code == 410, refused.text
    assert refused.headers["content-type"] == verified.headers["content-type"] == "application/problem+json"
    assert body_of(refused)["type"] == body_of(verified)["type"]
    assert await recorded(infra) == []

    accepted = await client.post(INSPECTIONS, json=inspect(second), headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert body_of(accepted)["person_id"] == str(world.child)
    [event] = await recorded(infra)
    assert (event.data.method, event.data.person_id) == ("paper_code", UUID(str(world.child)))

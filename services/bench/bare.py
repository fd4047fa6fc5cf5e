"""The limit beside ``POST /api/checkin/v1/scans``: the same server stack, the same body, no I/O.

The app is built by ``shared.web.service_app`` (problem+json, security headers,
body limit, metrics middleware), authenticates the bearer token, parses the
same ``ScanRequest`` and opens the venue token exactly like the checkin
service, then answers a body of the same shape without touching Postgres,
Redis or Kafka. The gap between the two is what the I/O costs.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Header, Request

from services.checkin.api import _idempotency_key, scan_answer
from services.checkin.models import RecordedCheckin, ScanAnswer, ScanRequest, ScanResult, Venue
from services.checkin.service import checkin_id_for
from shared.auth import AccessTokens, CurrentPrincipal
from shared.errors import InvalidValue
from shared.i18n import language_of
from shared.keys import load_keys
from shared.settings import InfraSettings
from shared.tokens import InvalidToken, TokenSigner
from shared.web import run_server, service_app

NAME = "bench"
SCANS_PATH = f"/api/{NAME}/v1/scans"


def create_app(infra: InfraSettings | None = None) -> FastAPI:
    settings = infra or InfraSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = load_keys(settings)  # files read once at start, as open_runtime does
        app.state.access_tokens = AccessTokens(keys.jwt, settings.jwt_audience, settings.access_token_ttl_s)
        app.state.signer = TokenSigner(keys.tokens)
        yield

    app = service_app(NAME, lifespan)

    # The same response model as the real route, so both answer through the same serialiser.
    @app.post(SCANS_PATH, status_code=201)
    async def scan(
        body: ScanRequest,
        request: Request,
        principal: CurrentPrincipal,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> ScanAnswer:
        key = _idempotency_key(idempotency_key)
        signer: TokenSigner = request.app.state.signer
        try:
            claim = signer.open_venue_token(body.venue_token)
        except InvalidToken as exc:
            raise InvalidValue("venue_token", "This is not a genuine venue code.") from exc
        person = principal.person_id
        checkin = RecordedCheckin(
            checkin_id_for(person, key, person),
            person,
            "張*明",
            "4401**********123X",
            "green",
            "none",
            "self_scan",
            datetime.now(UTC),
        )
        result = ScanResult(
            Venue(claim.venue_id, "Bench venue", claim.poster_version, uuid.UUID(int=0)), (checkin,)
        )
        return scan_answer(result, language_of(request))

    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the bare app exactly as ``venuecode serve`` serves a service."""
    parser = argparse.ArgumentParser(prog="python -m services.bench.bare")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    run_server("services.bench.bare:create_app", host=args.host, port=args.port, workers=args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

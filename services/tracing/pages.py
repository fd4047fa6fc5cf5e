"""The epidemiologist console page (the data comes from the API through the page's JS)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/tracing/console")
async def console(request: Request) -> HTMLResponse:
    return HTMLResponse("console")

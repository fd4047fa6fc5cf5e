"""HTTP routes of the tracing service: parse, authorise, call the service, answer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/tracing/v1", tags=["tracing"])

"""HTTP routes of the status service: parse, authorise, call the service, answer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/status/v1", tags=["status"])

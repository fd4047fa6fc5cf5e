"""HTTP routes of the checkin service: parse, authorise, call the service, answer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/checkin/v1", tags=["checkin"])

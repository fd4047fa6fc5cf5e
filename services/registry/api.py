"""HTTP routes of the registry service: parse, authorise, call the service, answer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/registry/v1", tags=["registry"])

"""The check-in pages: the poster's phone page and the inspector's reverse-scan page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

"""The status pages: the person's health code, assisted lookup and the health authority's form."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

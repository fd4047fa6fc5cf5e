"""The registry's pages: home, register, sign in, family, venue administrator and inspector."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

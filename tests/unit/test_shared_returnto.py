"""The return address is kept only when it is a path on this origin (no open redirect)."""

from __future__ import annotations

import pytest

from shared.returnto import NEXT_MAX, safe_next, with_next


@pytest.mark.parametrize(
    "kept",
    [
        "/",
        "/c/eyJhbGciOi.abc-DEF_123",
        "/registry/family?tab=guardians",
        "/tracing/visits#latest",
        "/c/%2F%2Fevil.example",  # encoded slashes stay a path on this origin
    ],
)
def test_paths_on_this_origin_are_kept(kept: str) -> None:
    assert safe_next(kept) == kept


@pytest.mark.parametrize(
    "refused",
    [
        None,
        "",
        "c/relative",
        "//evil.example/c/x",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",  # a browser drops the tab: //evil.example
        "/\n/evil.example",
        "/ c",
        "/c/\x7f",
        "http:/evil.example",
    ],
)
def test_anything_a_browser_could_read_as_elsewhere_falls_back(refused: str | None) -> None:
    assert safe_next(refused) == "/"
    assert safe_next(refused, "/registry/login") == "/registry/login"


def test_the_length_bound_both_sides() -> None:
    at_bound = "/" + "a" * (NEXT_MAX - 1)
    assert safe_next(at_bound) == at_bound
    assert safe_next(at_bound + "a") == "/"


def test_with_next_carries_only_a_safe_target() -> None:
    assert with_next("/registry/register", "/c/abc") == "/registry/register?next=/c/abc"
    assert with_next("/registry/register", "/c/a b?x=1&y=2") == "/registry/register"
    assert with_next("/registry/register", "/c/ab?x=1&y=2") == "/registry/register?next=/c/ab%3Fx%3D1%26y%3D2"
    assert with_next("/registry/register", "//evil.example") == "/registry/register"
    assert with_next("/registry/register", "/") == "/registry/register"
    assert with_next("/registry/register", None) == "/registry/register"

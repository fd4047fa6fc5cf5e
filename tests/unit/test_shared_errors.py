"""shared.errors: every Problem renders as RFC 9457 problem+json with its status and headers."""

from __future__ import annotations

import json

import pytest
from fastapi.exceptions import RequestValidationError

from shared.errors import (
    PROBLEM_JSON,
    TYPE_BASE,
    Conflict,
    Forbidden,
    Gone,
    InvalidValue,
    Malformed,
    NotFound,
    PayloadTooLarge,
    Problem,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    problem_response,
    validation_problem,
)


class VenueAlreadyAdministered(Conflict):
    title, slug = "The venue already has an administrator", "venue-already-administered"


@pytest.mark.parametrize(
    ("problem", "status"),
    [
        (Malformed(), 400),
        (Unauthorized(), 401),
        (Forbidden(), 403),
        (NotFound(), 404),
        (Conflict(), 409),
        (Gone(), 410),
        (PayloadTooLarge(), 413),
        (ValidationFailed(), 422),
        (RateLimited(3), 429),
        (Problem(), 500),
        (Unavailable(), 503),
    ],
)
def test_status_and_body(problem: Problem, status: int) -> None:
    response = problem_response(problem)
    body = json.loads(response.body)
    assert response.status_code == status
    assert response.media_type == PROBLEM_JSON
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert body["status"] == status
    assert body["type"].startswith(TYPE_BASE)
    assert set(body) >= {"type", "title", "status", "detail"}


def test_named_error_keeps_its_own_slug_and_detail() -> None:
    body = VenueAlreadyAdministered("Venue 1 has one.").body()
    assert body == {
        "type": TYPE_BASE + "venue-already-administered",
        "title": "The venue already has an administrator",
        "status": 409,
        "detail": "Venue 1 has one.",
    }


def test_invalid_value_names_the_field() -> None:
    body = InvalidValue("id_number", "the check character does not match").body()
    assert body["status"] == 422
    assert body["errors"] == [{"field": "id_number", "message": "the check character does not match"}]


def test_retry_after_and_www_authenticate_headers() -> None:
    assert problem_response(RateLimited(0)).headers["retry-after"] == "1"
    assert problem_response(RateLimited(30)).headers["retry-after"] == "30"
    assert problem_response(Unavailable("down", 5)).headers["retry-after"] == "5"
    assert problem_response(Unauthorized()).headers["www-authenticate"] == "Bearer"


def test_validation_errors_map_to_400_or_422() -> None:
    invalid_json = RequestValidationError([{"type": "json_invalid", "loc": ("body", 1), "msg": "bad"}])
    assert validation_problem(invalid_json).status_code == 400
    not_object = RequestValidationError([{"type": "model_attributes_type", "loc": ("body",), "msg": "x"}])
    assert validation_problem(not_object).status_code == 400
    field = RequestValidationError(
        [{"type": "greater_than_equal", "loc": ("body", "people", 0, "age"), "msg": "too small"}]
    )
    problem = validation_problem(field)
    assert problem.status_code == 422
    assert problem.body()["errors"] == [{"field": "people.0.age", "message": "too small"}]

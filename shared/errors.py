"""The error hierarchy every service raises, and its RFC 9457 problem+json rendering.

A rule that says no raises a named subclass (``VenueAlreadyAdministered``);
``install_problem_handlers`` turns every error, including FastAPI's own 404,
405 and validation errors, into ``application/problem+json``. A 5xx never
carries a stack trace.

Problems are raised with English text; the answer's ``title``, ``detail`` and each
``errors[].message`` are written in the request's language from the catalogue
(``shared/messages.py``); ``type``, ``status`` and ``errors[].field`` stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisClusterException, RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.i18n import Language, language_of
from shared.messages import catalogue

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://venuecode.example/problems/"

log = logging.getLogger("venuecode.errors")


class FieldError(dict[str, str]):
    """One ``{field, message}`` entry of a validation problem.

    ``message`` is English; ``code`` and ``params`` name its catalogue entry when it is not
    found by its text (pydantic's messages, by their error type).
    """

    def __init__(
        self, field: str, message: str, code: str | None = None, params: dict[str, object] | None = None
    ) -> None:
        super().__init__(field=field, message=message)
        self.code = code
        self.params = params or {}

    def text(self, language: Language) -> str:
        """The message in ``language``."""
        if language == "en" or self.code is None:
            return catalogue().translate(self["message"], language)
        return catalogue().message(self.code, language, self.params)


class Problem(Exception):
    """Base of every error that becomes an answer."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.status_code = status or self.status
        self.errors = list(errors)
        self.headers = headers or {}

    def body(self, language: Language = "en") -> dict[str, Any]:
        """The problem+json body, its texts in ``language``."""
        words = catalogue()
        errors = [FieldError(e["field"], e.text(language)) for e in self.errors]
        english = [(e["field"], e["message"]) for e in self.errors]
        if errors and self.detail == words.field_errors(english, "en"):
            # A detail made of the field errors: made again of the translated ones.
            detail = words.field_errors([(e["field"], e["message"]) for e in errors], language)
        else:
            detail = words.translate(self.detail, language)
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": words.translate(self.title, language),
            "status": self.status_code,
            "detail": detail,
        }
        if errors:
            body["errors"] = errors
        return body


class Malformed(Problem):
    status, title, slug = 400, "Malformed request", "malformed"


class Unauthorized(Problem):
    status, title, slug = 401, "Not authenticated", "unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(Problem):
    status, title, slug = 403, "Not allowed", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(Problem):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class Conflict(Problem):
    status, title, slug = 409, "Conflict with a rule", "conflict"


class Gone(Problem):
    status, title, slug = 410, "No longer valid", "gone"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Request body too large", "payload-too-large"


class ValidationFailed(Problem):
    status, title, slug = 422, "Invalid value", "invalid-value"


class InvalidValue(ValidationFailed):
    """One field's value breaks a rule: 422 naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[FieldError(field, message)])


class RateLimited(Problem):
    status, title, slug = 429, "Too many requests", "rate-limited"

    def __init__(self, retry_after_s: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_s))})
        self.retry_after_s = max(1, retry_after_s)


class Unavailable(Problem):
    status, title, slug = 503, "A dependency is unavailable", "unavailable"

    def __init__(self, detail: str | None = None, retry_after_s: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


# The detail of a 503 for a Redis error that reached the problem handlers.
CACHE_DOWN = "A service this request needs is unavailable for a moment; retry shortly."


# The body of every error answer, as ``Problem.body`` writes it (RFC 9457 problem details).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_REASONS = {
    400: "Malformed request (not JSON, not an object, a required header missing)",
    401: "Not authenticated",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflicts with a rule",
    410: "No longer valid (expired, revoked, reissued)",
    413: "Request body too large",
    422: "Invalid value (the field is named)",
    429: "Too many requests (see Retry-After)",
    503: "A dependency is unavailable (retry; see Retry-After)",
}


def problems(*statuses: int) -> dict[int | str, Any]:
    """OpenAPI ``responses`` for a route: each error status it answers, as problem+json."""
    return {
        status: {
            "description": _REASONS.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


def problem_response(problem: Problem, language: Language = "en") -> JSONResponse:
    """The problem as a problem+json answer, its texts in ``language``."""
    return JSONResponse(
        problem.body(language),
        status_code=problem.status_code,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


def _field_of(loc: Sequence[int | str]) -> str:
    # FastAPI puts where the value came from first ("body", "query", "header").
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return Malformed("The body is not valid JSON.")
    if any(e.get("loc", ("",))[0] == "body" and len(e.get("loc", ())) == 1 for e in errors) and any(
        e.get("type") in {"model_attributes_type", "dict_type", "missing"} for e in errors
    ):
        return Malformed("The body must be a JSON object.")
    fields = [_field_error(e) for e in errors]
    detail = catalogue().field_errors([(f["field"], f["message"]) for f in fields], "en")
    return ValidationFailed(detail, errors=fields)


def _field_error(error: Any) -> FieldError:
    """A pydantic error as a field error: pydantic's English, and its catalogue entry by type
    (``pydantic.<type>``, else ``pydantic.invalid``) for the other languages."""
    kind = str(error.get("type", ""))
    code = f"pydantic.{kind}" if f"pydantic.{kind}" in catalogue().messages else "pydantic.invalid"
    params: dict[str, object] = dict(error.get("ctx") or {})
    if kind == "value_error" and "error" in params:
        params["error"] = str(params["error"])  # a validator's own message, itself translated
    return FieldError(_field_of(error.get("loc", ())), str(error.get("msg", "invalid")), code, params)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error this app can answer becomes problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, language_of(request))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc), language_of(request))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        by_status: dict[int, type[Problem]] = {
            400: Malformed,
            401: Unauthorized,
            403: Forbidden,
            404: NotFound,
            405: MethodNotAllowed,
            413: PayloadTooLarge,
        }
        kind = by_status.get(exc.status_code)
        if kind is None:
            problem = Problem(str(exc.detail), status=exc.status_code)
        else:
            problem = kind(str(exc.detail)) if kind is not Unauthorized else Unauthorized()
        response = problem_response(problem, language_of(request))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def on_cache_down(request: Request, exc: Exception) -> JSONResponse:
        # A Redis call that no service degrades on its own (a rate limit's counter, say): Redis is a
        # dependency, so the caller is asked to retry (503 with Retry-After, as API.md says), never
        # given a 500. Seen under a busy machine: connects to Redis timed out in a burst of
        # assisted lookups. Rate limits stay closed: nothing is done that the limit did not count.
        log.warning("cache unavailable", extra={"path": request.url.path, "error_type": type(exc).__name__})
        return problem_response(Unavailable(CACHE_DOWN), language_of(request))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the type and place only: messages may quote personal data from the request.
        log.error(
            "unhandled error",
            extra={"path": request.url.path, "error_type": type(exc).__name__},
            exc_info=False,
        )
        return problem_response(Problem("An unexpected error occurred."), language_of(request))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RedisError, on_cache_down)
    app.add_exception_handler(RedisClusterException, on_cache_down)
    app.add_exception_handler(Exception, on_unexpected)

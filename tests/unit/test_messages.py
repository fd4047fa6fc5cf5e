"""The message catalogue (shared/messages.py): every problem title and every English message the
code raises has its three languages, the Chinese ones hold no English, and answers come out
in the request's language with their machine-readable parts unchanged."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.errors import InvalidValue, Problem, install_problem_handlers
from shared.i18n import LANGUAGES
from shared.messages import Catalogue, catalogue

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("checkin", "registry", "status", "tracing")
# Exceptions whose text ends up in an answer's detail or errors[].message.
CARRIERS = {"InvalidIdentity", "InvalidDeclarationCode", "BadStatusCommand"}
# Names and notations a Chinese sentence may keep as they are.
TECHNICAL = re.compile(r"Idempotency-Key|CSRF|JSON|RFC|UTC|UUID|GB/T|GB")
PLACEHOLDER = re.compile(r"\{\w+\}")


def _problem_types() -> Iterator[type[Problem]]:
    for service in SERVICES:
        importlib.import_module(f"services.{service}.app")
    pending: list[type[Problem]] = [Problem]
    while pending:
        kind = pending.pop()
        yield kind
        pending.extend(kind.__subclasses__())


def _template(node: ast.expr) -> str | None:
    """A string literal as written; an f-string with each ``{expression}`` as ``7``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "7" for v in node.values)  # type: ignore[misc]
    return None


def _raised_texts() -> list[tuple[str, str]]:
    """(where, text) of every English text given to a problem or a carrier in the code."""
    names = {kind.__name__ for kind in _problem_types()} | CARRIERS
    # A named InvalidValue takes the field first, like InvalidValue itself.
    field_problems = {kind.__name__ for kind in _problem_types() if issubclass(kind, InvalidValue)}
    found: list[tuple[str, str]] = []
    files = [*ROOT.glob("shared/*.py"), *(p for s in SERVICES for p in ROOT.glob(f"services/{s}/*.py"))]
    for path in sorted(files):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            args = list(node.args)
            if name == "__init__":  # super().__init__("...") inside a named problem
                owner = next(
                    (c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and node in ast.walk(c)),
                    "",
                )
                name = owner if owner in names else ""
                if name in field_problems:  # super().__init__(field, message): the field is no text
                    args = args[1:]
            if name not in names:
                continue
            if name in ("InvalidValue", "FieldError", "RateLimited"):
                args = args[1:]  # the field, or the seconds to wait
            texts = [_template(a) for a in args[:1]]
            texts += [_template(k.value) for k in node.keywords if k.arg == "detail"]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            found += [(where, text) for text in texts if text]
    return found


def test_every_entry_has_three_languages_with_the_same_placeholders() -> None:
    words = catalogue()
    assert len(words.messages) > 150
    for code, text in words.messages.items():
        assert set(text) == set(LANGUAGES), code
        assert all(text[language].strip() for language in LANGUAGES), code
        english = set(PLACEHOLDER.findall(text["en"]))
        for language in ("zh-Hant", "zh-Hans"):
            assert set(PLACEHOLDER.findall(text[language])) <= english, (code, language)


def test_no_english_in_the_chinese_messages() -> None:
    for code, text in catalogue().messages.items():
        for language in ("zh-Hant", "zh-Hans"):
            plain = TECHNICAL.sub("", PLACEHOLDER.sub("", text[language]))
            words = re.findall(r"[A-Za-z]{2,}", plain)
            assert not words, (code, language, text[language])
            if PLACEHOLDER.sub("", text[language]).strip():  # not only a value passed through
                assert re.search(r"[\u4e00-\u9fff]", text[language]), (code, language)


def test_every_problem_type_has_its_title_in_the_catalogue() -> None:
    # The code's own problems (tests define some of their own).
    kinds = [k for k in _problem_types() if k.__module__.split(".")[0] in ("services", "shared")]
    assert len(kinds) > 30
    missing = [
        f"{k.__module__}.{k.__name__}: {k.title}" for k in kinds if catalogue().code_of(k.title) is None
    ]
    assert not missing, "\n".join(missing)


def test_every_message_the_code_raises_is_in_the_catalogue() -> None:
    texts = _raised_texts()
    assert len(texts) > 80
    missing = [f"{where}: {text}" for where, text in texts if catalogue().code_of(text) is None]
    assert not missing, "add these to shared/catalogue/*.toml:\n" + "\n".join(missing)


def test_every_field_an_answer_names_has_a_label() -> None:
    """Every field of a request body, query or path of the four APIs, and every InvalidValue's."""
    names: set[str] = set()
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app").create_app(
            importlib.import_module(f"services.{service}.config").Settings()
        )
        spec: dict[str, Any] = app.openapi()
        schemas = spec.get("components", {}).get("schemas", {})
        for operations in spec["paths"].values():
            for operation in operations.values():
                names |= {p["name"] for p in operation.get("parameters", [])}
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                ref = body.get("schema", {}).get("$ref", "")
                names |= set(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
    for path in ROOT.glob("services/*/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "InvalidValue" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
    assert {"phone", "id_number", "venue_token", "from"} <= names
    unlabelled = sorted(n for n in names if catalogue().field_label(n, "zh-Hans") == n)
    assert not unlabelled, unlabelled


def test_a_field_error_reads_in_chinese_and_keeps_its_field() -> None:
    problem = InvalidValue("phone", "a phone number is 6 to 15 digits, optionally after +")
    hant, hans, en = (problem.body(language) for language in ("zh-Hant", "zh-Hans", "en"))
    assert hant["detail"] == "手機號碼：手機號碼為 6 至 15 位數字，前面可加 +"
    assert hans["detail"] == "手机号码：手机号码为 6 至 15 位数字，前面可加 +"
    assert hans["title"] == "填写的内容无效"
    assert hans["errors"] == [{"field": "phone", "message": "手机号码为 6 至 15 位数字，前面可加 +"}]
    assert en["detail"] == "phone: a phone number is 6 to 15 digits, optionally after +"
    assert en["title"] == "Invalid value"
    assert (hans["type"], hans["status"]) == (en["type"], en["status"])


def test_values_inside_a_message_are_translated_too() -> None:
    words = catalogue()
    nested = "only a mainland resident ID can be looked up: the check character does not match (GB 11643)"
    assert words.translate(nested, "zh-Hant") == "只能查詢居民身份證：校驗碼不符（GB 11643）"
    assert words.translate("No venue alert has this id.", "zh-Hans") == "没有此编号的场所预警。"
    assert words.translate("The alert is withdrawn; only a pending alert can be approved.", "zh-Hans") == (
        "此预警已撤回；只有待批准的预警可以批准。"
    )
    assert words.translate("a name has at most 64 characters", "zh-Hans") == "姓名最多 64 个字"
    # Text that is not in the catalogue is left as it is, never lost.
    assert words.translate("something new", "zh-Hans") == "something new"


def test_the_most_literal_entry_wins(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        '[any]\nen = "No {what} has this id."\nzh-Hant = "沒有{what}"\nzh-Hans = "没有{what}"\n'
        '[venue]\nen = "No venue has this id."\nzh-Hant = "沒有場所"\nzh-Hans = "没有场所"\n',
        encoding="utf-8",
    )
    words = Catalogue(tmp_path)
    assert words.code_of("No venue has this id.") == ("x.venue", {})
    assert words.code_of("No query has this id.") == ("x.any", {"what": "query"})


class _Form(BaseModel):
    phone: str = Field(max_length=4)
    depth: int = Field(ge=1, le=2)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/form")
    async def form(body: _Form) -> dict[str, str]:
        return {}

    @app.get("/refused")
    async def refused() -> dict[str, str]:
        raise InvalidValue("id_number", "the check character does not match (GB 11643)")

    @app.get("/cache-down/{kind}")
    async def cache_down(kind: str) -> dict[str, str]:
        # What redis-py raises when a connect times out, and what its cluster client raises when
        # no node covers a slot; the texts name a host, which must not reach the caller.
        if kind == "timeout":
            raise RedisTimeoutError("Timeout connecting to server 10.1.2.3:6379")
        raise RedisClusterException("Cluster slot 42 is not covered by 10.1.2.3:7001")

    return app


async def _ask(method: str, path: str, headers: dict[str, str], json: object = None) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.request(method, path, headers=headers, json=json)
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        # A browser speaking none of the three: Simplified Chinese.
        ({"Accept-Language": "fr-FR,fr;q=0.9"}, "证件号码：校验码不符（GB 11643）"),
        ({}, "证件号码：校验码不符（GB 11643）"),
        ({"Accept-Language": "zh-HK"}, "證件號碼：校驗碼不符（GB 11643）"),
        (
            {"Accept-Language": "fr", "Cookie": "vc_lang=en"},
            "id_number: the check character does not match (GB 11643)",
        ),
    ],
)
async def test_a_service_answers_in_the_request_language(headers: dict[str, str], detail: str) -> None:
    body = await _ask("GET", "/refused", headers)
    assert body["detail"] == detail
    assert [e["field"] for e in body["errors"]] == ["id_number"]


@pytest.mark.parametrize("kind", ["timeout", "cluster"])
async def test_a_redis_error_no_service_handled_is_a_503_to_retry_not_a_500(kind: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get(f"/cache-down/{kind}", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "2"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "https://venuecode.example/problems/unavailable",
        "title": "服务暂时无法使用",
        "status": 503,
        "detail": "本次请求所需的服务暂时无法使用，请稍后再试。",
    }


async def test_pydantic_errors_name_the_field_in_chinese() -> None:
    bad = {"phone": "1234567", "depth": 3}
    hans = await _ask("POST", "/form", {"Accept-Language": "zh-CN"}, bad)
    assert hans["errors"] == [
        {"field": "phone", "message": "最多 4 个字符"},
        {"field": "depth", "message": "应不大于 2"},
    ]
    assert hans["detail"] == "手机号码：最多 4 个字符；追踪层数：应不大于 2"
    missing = await _ask("POST", "/form", {"Accept-Language": "zh-TW"}, {})
    assert missing["detail"] == "手機號碼：此項必須填寫；追蹤層數：此項必須填寫"
    # English keeps pydantic's words and the machine-readable paths.
    en = await _ask("POST", "/form", {"Accept-Language": "en"}, bad)
    assert [e["field"] for e in en["errors"]] == ["phone", "depth"]
    assert en["detail"] == (
        "phone: String should have at most 4 characters; depth: Input should be less than or equal to 2"
    )

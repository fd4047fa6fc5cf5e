"""The AsyncAPI documents: docs/asyncapi/ holds what the code generates, each service serves its
own, and every event of the contract is there on its topic with its key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from services.cli import asyncapi_of, asyncapi_text
from services.dev import SERVICES
from shared.events import Event

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
# API.md "Events", transcribed: each topic, a word its key must name, and the types on it.
CONTRACT: dict[str, tuple[tuple[str, ...], set[str]]] = {
    "venuecode.registry.v1": (
        ("person", "venue"),
        {
            "person.registered",
            "guardian.linked",
            "venue.registered",
            "venue.renamed",
            "venue.poster_reissued",
            "inspector.bound",
            "inspector.unbound",
            "role.granted",
        },
    ),
    "venuecode.checkins.v1": (("venue_id",), {"checkin.recorded", "checkout.recorded"}),
    "venuecode.status.v1": (("person",), {"status.changed"}),
    "venuecode.status-commands.v1": (("person",), {"status.set"}),
}


@pytest.fixture(scope="module")
def generated() -> dict[str, dict[str, Any]]:
    return {service: asyncapi_of(service) for service in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_the_committed_document_is_what_the_code_generates(
    service: str, generated: dict[str, dict[str, Any]]
) -> None:
    committed = (DOCS / f"{service}.json").read_text()
    assert committed == asyncapi_text(generated[service]), (
        f"docs/asyncapi/{service}.json is stale: run `venuecode asyncapi` and commit the result"
    )


def resolve(document: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        return resolve(document, document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
    return node


def event_types(document: dict[str, Any], node: Any, seen: set[int] | None = None) -> set[str]:
    """Every ``type`` constant reachable from a schema: the events a payload admits."""
    seen = set() if seen is None else seen
    node = resolve(document, node)
    if id(node) in seen:
        return set()
    seen.add(id(node))
    found: set[str] = set()
    if isinstance(node, dict):
        const = node.get("properties", {}).get("type", {}).get("const")
        if isinstance(const, str):
            found.add(const)
        for key, value in node.items():
            if key != "mapping":
                found |= event_types(document, value, seen)
    elif isinstance(node, list):
        for value in node:
            found |= event_types(document, value, seen)
    return found


def channels(generated: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, set[str], str]]:
    """(service, topic, send or receive, event types, key description) for every channel."""
    rows = []
    for service, document in generated.items():
        actions = {
            op["channel"]["$ref"].rsplit("/", 1)[-1]: op["action"] for op in document["operations"].values()
        }
        for name, channel in document["channels"].items():
            for ref in channel["messages"].values():
                message = document["components"]["messages"][ref["$ref"].rsplit("/", 1)[-1]]
                key = message["bindings"]["kafka"]["key"]["description"]
                types = event_types(document, message["payload"])
                rows.append((service, channel["address"], actions[name], types, key))
    return rows


def test_every_event_of_the_contract_is_on_its_topic_with_its_key(
    generated: dict[str, dict[str, Any]],
) -> None:
    rows = channels(generated)
    for topic, (key_words, types) in CONTRACT.items():
        sent = [r for r in rows if r[1] == topic and r[2] == "send"]
        assert sent, f"no service declares that it publishes {topic}"
        for service, _, _, found, key in sent:
            assert types <= found, (service, topic, types - found)
            assert all(word in key for word in key_words), (topic, key)
        for service, _, _, found, key in (r for r in rows if r[1] == topic and r[2] == "receive"):
            assert found & types, (service, topic)
            assert all(word in key for word in key_words), (topic, key)
    # Every topic a service consumes is also one that some service publishes.
    assert {r[1] for r in rows if r[2] == "receive"} <= {r[1] for r in rows if r[2] == "send"}


def test_every_event_class_is_published_somewhere(generated: dict[str, dict[str, Any]]) -> None:
    declared = {model.model_fields["type"].default for model in get_args(get_args(Event)[0])}
    published = set().union(*(r[3] for r in channels(generated) if r[2] == "send"))
    assert declared == published


async def test_each_service_serves_its_document(generated: dict[str, dict[str, Any]]) -> None:
    from services.cli import _app_module

    for service in SERVICES:
        app = _app_module(service).create_app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            answer = await client.get(f"/api/{service}/asyncapi.json")
        assert answer.status_code == 200
        served = answer.json()
        assert served["info"]["title"] == f"venuecode {service}"
        assert served["channels"].keys() == generated[service]["channels"].keys()
        assert json.dumps(served["components"]["schemas"], sort_keys=True) == json.dumps(
            generated[service]["components"]["schemas"], sort_keys=True
        )

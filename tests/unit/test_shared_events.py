"""shared.events: golden JSON files pin the wire format of every event type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.events import (
    CHECKIN_EVENT_ADAPTER,
    EVENT_ADAPTER,
    REGISTRY_EVENT_ADAPTER,
    STATUS_EVENT_ADAPTER,
    CheckinEvent,
    CheckinRecorded,
    Event,
    PaperCodeIssued,
    RegistryEvent,
    StatusEvent,
    StatusSet,
    decode,
    encode,
)

GOLDEN = Path(__file__).parent.parent / "data" / "events"


def _classes(union: Any) -> list[type[BaseModel]]:
    members = get_args(get_args(union)[0])  # Annotated[Union[...], discriminator]
    return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]


EVENT_TYPES = {cls.model_fields["type"].default: cls for cls in _classes(Event)}


def _golden(event_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / f"{event_type}.json").read_text())
    return loaded


def test_every_event_type_has_a_golden_file_and_no_file_is_stale() -> None:
    assert len(EVENT_TYPES) == 17
    files = {p.name.removesuffix(".json") for p in GOLDEN.glob("*.json")}
    assert files == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_golden_parses_and_reserialises_identically(event_type: str) -> None:
    raw = (GOLDEN / f"{event_type}.json").read_bytes()
    event = decode(raw, EVENT_ADAPTER)
    assert type(event) is EVENT_TYPES[event_type]
    assert event.version == 1
    assert json.loads(encode(event)) == json.loads(raw)
    assert set(json.loads(raw)) == {"event_id", "type", "version", "occurred_at", "producer", "data"}


def test_topic_adapters_accept_their_own_and_refuse_the_others() -> None:
    registry_types = {cls.model_fields["type"].default for cls in _classes(RegistryEvent)}
    checkin_types = {cls.model_fields["type"].default for cls in _classes(CheckinEvent)}
    status_types = {cls.model_fields["type"].default for cls in _classes(StatusEvent)}
    assert status_types == {"status.changed", "paper_code.issued"}
    for event_type in EVENT_TYPES:
        raw = json.dumps(_golden(event_type))
        for adapter, accepted in (
            (REGISTRY_EVENT_ADAPTER, registry_types),
            (CHECKIN_EVENT_ADAPTER, checkin_types),
            (STATUS_EVENT_ADAPTER, status_types),
        ):
            if event_type in accepted:
                decode(raw, adapter)
            else:
                with pytest.raises(ValidationError):
                    decode(raw, adapter)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_unknown_version_is_rejected(event_type: str) -> None:
    document = _golden(event_type) | {"version": 2}
    with pytest.raises(ValidationError):
        decode(json.dumps(document), EVENT_ADAPTER)


def test_unknown_type_is_rejected() -> None:
    document = _golden("checkin.recorded") | {"type": "checkin.teleported"}
    with pytest.raises(ValidationError):
        decode(json.dumps(document), EVENT_ADAPTER)
    with pytest.raises(ValidationError):
        decode(json.dumps({k: v for k, v in document.items() if k != "type"}), EVENT_ADAPTER)


def test_unknown_extra_fields_are_ignored() -> None:
    document = _golden("checkin.recorded")
    document["trace_id"] = "abc"
    document["data"] = document["data"] | {"device": "kiosk-7"}
    event = decode(json.dumps(document), EVENT_ADAPTER)
    assert isinstance(event, CheckinRecorded)
    assert "trace_id" not in json.loads(encode(event))
    assert "device" not in json.loads(encode(event))["data"]


def test_missing_required_field_is_rejected() -> None:
    document = _golden("status.changed")
    del document["data"]["colour"]
    with pytest.raises(ValidationError):
        decode(json.dumps(document), EVENT_ADAPTER)


def test_events_are_frozen_and_new_ones_get_v7_ids() -> None:
    event = decode(json.dumps(_golden("venue.renamed")), EVENT_ADAPTER)
    with pytest.raises(ValidationError):
        event.producer = "someone"  # type: ignore[misc]
    fresh = TypeAdapter(EVENT_TYPES["venue.renamed"]).validate_python(
        {"data": _golden("venue.renamed")["data"]}
    )
    assert fresh.event_id.version == 7
    assert fresh.occurred_at.tzinfo is not None


def test_paper_code_issued_carries_a_person_and_a_serial_only() -> None:
    """No personal data: the person is an id, the card a number; checkin keeps the highest one."""
    event = decode(json.dumps(_golden("paper_code.issued")), STATUS_EVENT_ADAPTER)
    assert isinstance(event, PaperCodeIssued)
    assert event.data.serial == 3
    assert set(json.loads(encode(event))["data"]) == {"person_id", "serial"}


def test_status_set_of_before_venue_alerts_still_decodes() -> None:
    """alert_id was added by addition: a command without it is a command of no alert."""
    document = _golden("status.set")
    del document["data"]["alert_id"]
    event = decode(json.dumps(document), EVENT_ADAPTER)
    assert isinstance(event, StatusSet)
    assert event.data.alert_id is None
